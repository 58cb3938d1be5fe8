package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is a small ESMTP server for tests: enough of RFC 5321 (EHLO, STARTTLS, AUTH PLAIN,
// MAIL, RCPT, DATA, QUIT) to receive what the client sends and record it.
type fakeSMTP struct {
	t        *testing.T
	ln       net.Listener
	tls      *tls.Config // offered by STARTTLS (or spoken from the start when implicit)
	implicit bool
	noTLS    bool   // do not offer STARTTLS
	user     string // AUTH PLAIN credentials; empty offers no AUTH
	pass     string
	rejectTo string // RCPT for this address gets 550
	silent   bool   // accept connections but never greet

	received chan received
	wg       sync.WaitGroup
}

type received struct {
	from, to string
	data     string
	overTLS  bool
	authUser string
}

// newTLSPair returns a server certificate for 127.0.0.1 and a client config that trusts it.
func newTLSPair(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{RootCAs: pool}
}

// start listens on 127.0.0.1:0 and serves until the test ends.
func (f *fakeSMTP) start() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	f.ln = ln
	f.received = make(chan received, 10)
	f.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Go(func() { f.serve(conn) })
		}
	})
	f.t.Cleanup(func() {
		ln.Close()
		f.wg.Wait()
	})
}

func (f *fakeSMTP) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	// Whatever happens, the test's end releases the connection.
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if f.silent {
		buf := make([]byte, 1)
		conn.Read(buf) // until the client gives up
		return
	}
	overTLS := false
	if f.implicit {
		conn = tls.Server(conn, f.tls)
		overTLS = true
	}
	tp := textproto.NewConn(conn)
	reply := func(format string, args ...any) { tp.PrintfLine(format, args...) }
	reply("220 fake ESMTP")

	var msg received
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-fake greets " + arg, "250-8BITMIME"}
			if !f.noTLS && !overTLS && f.tls != nil {
				lines = append(lines, "250-STARTTLS")
			}
			if f.user != "" {
				lines = append(lines, "250-AUTH PLAIN")
			}
			lines = append(lines, "250 SIZE 1000000")
			for _, l := range lines {
				reply("%s", l)
			}
		case "STARTTLS":
			reply("220 go ahead")
			tc := tls.Server(conn, f.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, overTLS = tc, true
			tp = textproto.NewConn(conn)
			msg = received{}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != f.user || parts[2] != f.pass {
				reply("535 authentication failed")
				continue
			}
			msg.authUser = parts[1]
			reply("235 ok")
		case "MAIL":
			msg.from = addrOf(arg)
			reply("250 ok")
		case "RCPT":
			to := addrOf(arg)
			if to == f.rejectTo {
				reply("550 no such user here")
				continue
			}
			msg.to = to
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg.data, msg.overTLS = string(data), overTLS
			f.received <- msg
			msg = received{authUser: msg.authUser}
			reply("250 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

func addrOf(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// next returns the next received message or fails.
func (f *fakeSMTP) next() received {
	f.t.Helper()
	select {
	case m := <-f.received:
		return m
	case <-time.After(10 * time.Second):
		f.t.Fatal("the fake SMTP server received nothing")
		return received{}
	}
}
