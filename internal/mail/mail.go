// Package mail delivers the platform's e-mail (verification and password-reset links). It
// holds three implementations of the one-method Mailer that the account service declares:
// SMTP for production, LogMailer for development without a mail server, and Sink for tests.
// It takes options, never the config package, and imports no other Freely package.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	stdmail "net/mail"
	"strings"
	"time"
)

// Message is one plain-text e-mail.
type Message struct {
	To      string
	Subject string
	Body    string
}

// checkMessage refuses input that could forge headers or is not an address.
func checkMessage(to, subject string) (*stdmail.Address, error) {
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(subject, "\r\n") {
		return nil, fmt.Errorf("mail: recipient or subject contains a line break")
	}
	addr, err := stdmail.ParseAddress(to)
	if err != nil {
		return nil, fmt.Errorf("mail: recipient %q: %w", to, err)
	}
	return addr, nil
}

// compose renders a UTF-8 plain-text message: the subject as RFC 2047 encoded words when it
// is not ASCII (Korean subjects), the body quoted-printable so long lines and non-ASCII text
// survive any relay.
func compose(from, to *stdmail.Address, subject, body string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.BEncoding.Encode("UTF-8", subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, fmt.Errorf("mail: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("mail: encode body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

func messageID(fromAddr string) string {
	domain := "localhost"
	if _, d, ok := strings.Cut(fromAddr, "@"); ok && d != "" {
		domain = d
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read does not fail (Go 1.24+)
	return "<" + hex.EncodeToString(rnd[:]) + "@" + domain + ">"
}
