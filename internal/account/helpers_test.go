package account_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/form"
)

// clock is a manual time source shared by the service under test and its assertions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type mail struct{ To, Subject, Body string }

// recordingMailer keeps every message; fail makes Send return an error instead.
type recordingMailer struct {
	mu   sync.Mutex
	sent []mail
	fail error
}

func (m *recordingMailer) Send(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, mail{to, subject, body})
	return nil
}

func (m *recordingMailer) all() []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail(nil), m.sent...)
}

var linkRE = regexp.MustCompile(`(https?://\S+)\?token=([A-Za-z0-9_-]+)`)

// lastLink returns the base and token of the link in the newest mail to addr.
func (m *recordingMailer) lastLink(t *testing.T, addr string) (base, token string) {
	t.Helper()
	mails := m.all()
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].To == addr {
			sm := linkRE.FindStringSubmatch(mails[i].Body)
			if sm == nil {
				t.Fatalf("mail to %s has no link:\n%s", addr, mails[i].Body)
			}
			return sm[1], sm[2]
		}
	}
	t.Fatalf("no mail to %s among %d", addr, len(mails))
	return "", ""
}

// diskBlob is the real local-directory blob store in the test's temp dir.
func diskBlob(t *testing.T) *disk.Store {
	t.Helper()
	b, err := disk.New(disk.Options{Dir: t.TempDir(), URLPrefix: "/media/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// codes lists "field:code" of every FieldError in err, in order.
func codes(err error) []string {
	var out []string
	for _, fe := range form.FieldErrors(err) {
		out = append(out, fe.Field+":"+fe.Code)
	}
	return out
}

func wantCodes(t *testing.T, err error, want ...string) {
	t.Helper()
	got := codes(err)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("field errors %v (err %v), want %v", got, err, want)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// pngBytes encodes an opaque w×h test image.
func pngBytes(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
