package mail

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
)

// LogMailer writes each message to the log at INFO instead of sending it. It stands in for
// SMTP when none is configured, so the sign-up and reset flows stay real in development: the
// link is read from the log.
type LogMailer struct {
	logger *slog.Logger
}

// NewLogMailer returns a mailer that logs to logger.
func NewLogMailer(logger *slog.Logger) *LogMailer {
	return &LogMailer{logger: logger}
}

// Send logs the message, body included.
func (m *LogMailer) Send(ctx context.Context, to, subject, body string) error {
	rcpt, err := checkMessage(to, subject)
	if err != nil {
		return err
	}
	m.logger.InfoContext(ctx, "mail not sent (SMTP is not configured); its text follows",
		"to", rcpt.Address, "subject", subject, "body", body)
	return nil
}

// Sink records messages for tests and lets a test wait for the next message to an address.
// Safe for concurrent use.
type Sink struct {
	mu      sync.Mutex
	all     []Message
	unread  map[string][]Message // by lower-cased address, not yet returned by Next
	arrived chan struct{}        // closed and replaced on every Send
}

// NewSink returns an empty sink.
func NewSink() *Sink {
	return &Sink{unread: make(map[string][]Message), arrived: make(chan struct{})}
}

// Send records the message.
func (s *Sink) Send(ctx context.Context, to, subject, body string) error {
	rcpt, err := checkMessage(to, subject)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	msg := Message{To: rcpt.Address, Subject: subject, Body: body}
	key := strings.ToLower(rcpt.Address)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, msg)
	s.unread[key] = append(s.unread[key], msg)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

// Next returns the oldest message to address that Next has not returned yet, waiting for
// one to arrive if there is none; it fails when ctx ends. Messages sent before the call count,
// so a test cannot miss a mail by asking too late.
func (s *Sink) Next(ctx context.Context, address string) (Message, error) {
	key := strings.ToLower(strings.TrimSpace(address))
	for {
		s.mu.Lock()
		if q := s.unread[key]; len(q) > 0 {
			msg := q[0]
			s.unread[key] = q[1:]
			s.mu.Unlock()
			return msg, nil
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return Message{}, errors.Join(errors.New("mail: no message to "+address), ctx.Err())
		}
	}
}

// Messages returns every message sent so far, in order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.all...)
}
