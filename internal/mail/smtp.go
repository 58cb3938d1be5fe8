package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	stdmail "net/mail"
	"net/smtp"
	"strconv"
	"time"
)

// TLS modes of SMTPOptions.TLS.
const (
	TLSAuto     = "auto"     // STARTTLS when the server offers it, plain otherwise
	TLSStartTLS = "starttls" // refuse to send unless the server offers STARTTLS
	TLSImplicit = "tls"      // TLS from the first byte (submissions port 465)
)

// defaultTimeout bounds one delivery when the caller's context has no deadline, so a mail
// server that stops answering cannot hold a request forever.
const defaultTimeout = 30 * time.Second

// SMTPOptions configure the SMTP sender.
type SMTPOptions struct {
	Host string
	Port int
	// Username and Password enable PLAIN authentication. net/smtp refuses to send them over
	// an unencrypted connection unless the server is on localhost.
	Username string
	Password string
	// From is the sender, e.g. "Freely <no-reply@example.com>".
	From string
	// TLS is TLSAuto (when empty), TLSStartTLS or TLSImplicit.
	TLS string
	// TLSConfig verifies the server; nil means the system roots with ServerName = Host.
	TLSConfig *tls.Config
	// LocalName is the name given in EHLO; empty means "localhost".
	LocalName string
	// Timeout bounds one delivery when the context has no deadline; zero means 30s.
	Timeout time.Duration
}

// SMTP sends each message over a new connection to the configured server. Mail is rare
// (sign-ups, resets), so there is no pool to go stale.
type SMTP struct {
	opts SMTPOptions
	from *stdmail.Address
	addr string
	tls  *tls.Config
}

// NewSMTP checks the options and returns a sender.
func NewSMTP(opts SMTPOptions) (*SMTP, error) {
	if opts.Host == "" {
		return nil, errors.New("mail: SMTP host is empty")
	}
	if opts.Port < 1 || opts.Port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d is not 1-65535", opts.Port)
	}
	from, err := stdmail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", opts.From, err)
	}
	switch opts.TLS {
	case "":
		opts.TLS = TLSAuto
	case TLSAuto, TLSStartTLS, TLSImplicit:
	default:
		return nil, fmt.Errorf("mail: TLS mode %q: want auto, starttls or tls", opts.TLS)
	}
	if opts.LocalName == "" {
		opts.LocalName = "localhost"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	tlsCfg := &tls.Config{}
	if opts.TLSConfig != nil {
		tlsCfg = opts.TLSConfig.Clone()
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = opts.Host
	}
	if tlsCfg.MinVersion == 0 {
		tlsCfg.MinVersion = tls.VersionTLS12
	}
	return &SMTP{
		opts: opts,
		from: from,
		addr: net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)),
		tls:  tlsCfg,
	}, nil
}

// Send delivers one message. It returns when the server has accepted the message for
// delivery, or with an error when it has not; ctx cancellation aborts the conversation.
func (m *SMTP) Send(ctx context.Context, to, subject, body string) error {
	rcpt, err := checkMessage(to, subject)
	if err != nil {
		return err
	}
	msg, err := compose(m.from, rcpt, subject, body, time.Now())
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.opts.Timeout)
		defer cancel()
	}
	if err := m.deliver(ctx, rcpt.Address, msg); err != nil {
		// The connection's deadline can fire a moment before the context's own timer.
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		} else if deadline, _ := ctx.Deadline(); !time.Now().Before(deadline) {
			err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
		}
		return fmt.Errorf("mail: send to %s via %s: %w", rcpt.Address, m.addr, err)
	}
	return nil
}

func (m *SMTP) deliver(ctx context.Context, rcpt string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// net/smtp has no context support: a deadline bounds the conversation, and cancelling
	// ctx moves it to now, which fails the pending read or write at once.
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	if m.opts.TLS == TLSImplicit {
		tc := tls.Client(conn, m.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, m.opts.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(m.opts.LocalName); err != nil {
		return err
	}
	if m.opts.TLS != TLSImplicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tls); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if m.opts.TLS == TLSStartTLS {
			return errors.New("server does not offer STARTTLS, which smtp.tls=starttls requires")
		}
	}
	if m.opts.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("server does not offer AUTH, but a user name is configured")
		}
		if err := c.Auth(smtp.PlainAuth("", m.opts.Username, m.opts.Password, m.opts.Host)); err != nil {
			return fmt.Errorf("authenticate as %s: %w", m.opts.Username, err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil { // the server's answer to the message
		return err
	}
	// The message is accepted; a failed QUIT changes nothing for the sender.
	_ = c.Quit()
	return nil
}
