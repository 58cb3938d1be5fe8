package mail

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	stdmail "net/mail"
	"strings"
	"testing"
	"time"
)

const koreanSubject = "[Freely] 이메일 주소를 확인해 주세요 / Confirm your e-mail address"

// A body with the things relays mangle: Korean text, a line longer than 76 characters, a
// line that is a single dot, and a link.
var testBody = "안녕하세요, 민지님.\n" +
	"아래 링크를 열어 주세요:\n" +
	"http://localhost:8080/verify?token=" + strings.Repeat("abcdef0123", 12) + "\n" +
	".\n" +
	"감사합니다.\n"

func parseReceived(t *testing.T, data string) (*stdmail.Message, string, string) {
	t.Helper()
	msg, err := stdmail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	if msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("transfer encoding %q", msg.Header.Get("Content-Transfer-Encoding"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return msg, subject, strings.ReplaceAll(string(body), "\r\n", "\n")
}

func newSender(t *testing.T, f *fakeSMTP, opts SMTPOptions) *SMTP {
	t.Helper()
	opts.Host, opts.Port = "127.0.0.1", f.port()
	if opts.From == "" {
		opts.From = "Freely 알림 <no-reply@freely.example>"
	}
	s, err := NewSMTP(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPDeliversWithoutTLS(t *testing.T) {
	t.Parallel()
	f := &fakeSMTP{t: t}
	f.start()
	s := newSender(t, f, SMTPOptions{})
	if err := s.Send(t.Context(), "minji@example.com", koreanSubject, testBody); err != nil {
		t.Fatal(err)
	}
	got := f.next()
	if got.from != "no-reply@freely.example" || got.to != "minji@example.com" || got.overTLS {
		t.Errorf("envelope %+v", got)
	}
	msg, subject, body := parseReceived(t, got.data)
	if subject != koreanSubject {
		t.Errorf("subject %q", subject)
	}
	if body != testBody {
		t.Errorf("body changed in transit:\n%q\nwant\n%q", body, testBody)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Freely 알림" || from[0].Address != "no-reply@freely.example" {
		t.Errorf("From %v %v", from, err)
	}
	for _, h := range []string{"Date", "Message-Id", "Mime-Version", "To"} {
		if msg.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestSMTPUpgradesWithSTARTTLSAndAuthenticates(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := newTLSPair(t)
	f := &fakeSMTP{t: t, tls: serverTLS, user: "mailer", pass: "s3cret"}
	f.start()
	s := newSender(t, f, SMTPOptions{Username: "mailer", Password: "s3cret", TLS: TLSStartTLS, TLSConfig: clientTLS})
	if err := s.Send(t.Context(), "Minji <minji@example.com>", "hello", "body\n"); err != nil {
		t.Fatal(err)
	}
	got := f.next()
	if !got.overTLS || got.authUser != "mailer" || got.to != "minji@example.com" {
		t.Errorf("received %+v, want TLS and authenticated", got)
	}

	wrong := newSender(t, f, SMTPOptions{Username: "mailer", Password: "wrong", TLSConfig: clientTLS})
	if err := wrong.Send(t.Context(), "minji@example.com", "x", "y"); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: %v", err)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := newTLSPair(t)
	f := &fakeSMTP{t: t, tls: serverTLS, implicit: true}
	f.start()
	s := newSender(t, f, SMTPOptions{TLS: TLSImplicit, TLSConfig: clientTLS})
	if err := s.Send(t.Context(), "minji@example.com", "hello", "body"); err != nil {
		t.Fatal(err)
	}
	if got := f.next(); !got.overTLS {
		t.Error("not over TLS")
	}
}

func TestSMTPRefusals(t *testing.T) {
	t.Parallel()
	serverTLS, _ := newTLSPair(t)

	plain := &fakeSMTP{t: t, user: "u", pass: "p", rejectTo: "gone@example.com"}
	plain.start()
	if err := newSender(t, plain, SMTPOptions{TLS: TLSStartTLS}).Send(t.Context(), "a@example.com", "x", "y"); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("starttls required but not offered: %v", err)
	}
	if err := newSender(t, plain, SMTPOptions{}).Send(t.Context(), "gone@example.com", "x", "y"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("rejected recipient: %v", err)
	}

	// A certificate the client does not trust stops delivery.
	untrusted := &fakeSMTP{t: t, tls: serverTLS}
	untrusted.start()
	if err := newSender(t, untrusted, SMTPOptions{}).Send(t.Context(), "a@example.com", "x", "y"); err == nil {
		t.Error("delivered over TLS to an untrusted certificate")
	}

	select {
	case m := <-plain.received:
		t.Errorf("a refused message was delivered: %+v", m)
	case m := <-untrusted.received:
		t.Errorf("a refused message was delivered: %+v", m)
	default:
	}
}

func TestSMTPGivesUpOnASilentServer(t *testing.T) {
	t.Parallel()
	f := &fakeSMTP{t: t, silent: true}
	f.start()
	s := newSender(t, f, SMTPOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, "a@example.com", "x", "y")
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("Send to a silent server: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Send took %s after its deadline", time.Since(start))
	}
}

func TestBadInputIsRefusedBeforeConnecting(t *testing.T) {
	t.Parallel()
	f := &fakeSMTP{t: t}
	f.start()
	s := newSender(t, f, SMTPOptions{})
	sink := NewSink()
	logMailer := NewLogMailer(slog.New(slog.DiscardHandler))
	for _, tc := range []struct{ to, subject string }{
		{"a@example.com\r\nBcc: victim@example.com", "x"},
		{"a@example.com", "hi\r\nBcc: victim@example.com"},
		{"not an address", "x"},
		{"", "x"},
	} {
		for name, m := range map[string]interface {
			Send(ctx context.Context, to, subject, body string) error
		}{"smtp": s, "sink": sink, "log": logMailer} {
			if err := m.Send(t.Context(), tc.to, tc.subject, "body"); err == nil {
				t.Errorf("%s accepted to=%q subject=%q", name, tc.to, tc.subject)
			}
		}
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("sink recorded %d refused messages", n)
	}
}

func TestNewSMTPValidatesOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []SMTPOptions{
		{Host: "", Port: 25, From: "a@example.com"},
		{Host: "h", Port: 0, From: "a@example.com"},
		{Host: "h", Port: 25, From: "nobody"},
		{Host: "h", Port: 25, From: "a@example.com", TLS: "ssl"},
	} {
		if _, err := NewSMTP(opts); err == nil {
			t.Errorf("NewSMTP(%+v) accepted", opts)
		}
	}
}

func TestLogMailerWritesTheLink(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := NewLogMailer(slog.New(slog.NewJSONHandler(&buf, nil)))
	if err := m.Send(t.Context(), "minji@example.com", koreanSubject, testBody); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"level":"INFO"`, `"to":"minji@example.com"`, "verify?token=" + strings.Repeat("abcdef0123", 12), "확인해"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q: %s", want, out)
		}
	}
}

func TestSinkNext(t *testing.T) {
	t.Parallel()
	s := NewSink()
	ctx := t.Context()
	// Sent before anyone waits: still returned.
	if err := s.Send(ctx, "Minji@Example.com", "first", "1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, "other@example.com", "other", "x"); err != nil {
		t.Fatal(err)
	}
	m, err := s.Next(ctx, "minji@example.com")
	if err != nil || m.Subject != "first" {
		t.Fatalf("Next = %+v, %v", m, err)
	}

	// Sent while a test waits.
	got := make(chan Message, 1)
	go func() {
		m, err := s.Next(ctx, "minji@example.com")
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	if err := s.Send(ctx, "minji@example.com", "second", "2"); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Subject != "second" || m.To != "minji@example.com" {
		t.Errorf("waiting Next = %+v", m)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Next(short, "minji@example.com"); err == nil {
		t.Error("Next returned without a new message")
	}
	if m, err := s.Next(ctx, "OTHER@example.com"); err != nil || m.Subject != "other" {
		t.Errorf("other address: %+v %v", m, err)
	}
	if n := len(s.Messages()); n != 3 {
		t.Errorf("Messages holds %d, want 3", n)
	}
}
