package chat

import (
	"testing"
	"time"
)

func TestSenderLimits(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type send struct {
		at     time.Duration
		user   int64
		text   string
		slow   time.Duration
		exempt bool
		want   Code // "" for accepted
	}
	tests := []struct {
		name   string
		limits SendLimits
		sends  []send
	}{
		{"burst then refused then refilled", SendLimits{Rate: 1, Burst: 3}, []send{
			{0, 1, "a", 0, false, ""},
			{0, 1, "b", 0, false, ""},
			{0, 1, "c", 0, false, ""},
			{0, 1, "d", 0, false, CodeRateLimited},
			{999 * time.Millisecond, 1, "d", 0, false, CodeRateLimited},
			{time.Second, 1, "d", 0, false, ""},
		}},
		{"buckets are per user", SendLimits{Rate: 1, Burst: 1}, []send{
			{0, 1, "a", 0, false, ""},
			{0, 1, "b", 0, false, CodeRateLimited},
			{0, 2, "a", 0, false, ""},
		}},
		{"duplicate within window", SendLimits{Rate: 100, Burst: 100, DuplicateWindow: 30 * time.Second}, []send{
			{0, 1, "안녕", 0, false, ""},
			{time.Second, 1, "안녕", 0, false, CodeDuplicate},
			{2 * time.Second, 1, "  안녕 ", 0, false, CodeDuplicate},
			{3 * time.Second, 1, "HELLO", 0, false, ""},
			{4 * time.Second, 1, "hello", 0, false, CodeDuplicate},
			{5 * time.Second, 2, "안녕", 0, false, ""},
			{31 * time.Second, 1, "안녕", 0, false, ""},
		}},
		{"duplicate alternating two texts", SendLimits{Rate: 100, Burst: 100}, []send{
			{0, 1, "a", 0, false, ""},
			{time.Second, 1, "b", 0, false, ""},
			{2 * time.Second, 1, "a", 0, false, CodeDuplicate},
			{3 * time.Second, 1, "b", 0, false, CodeDuplicate},
		}},
		{"duplicate suppression off", SendLimits{Rate: 100, Burst: 100, DuplicateWindow: -1}, []send{
			{0, 1, "a", 0, false, ""},
			{time.Second, 1, "a", 0, false, ""},
		}},
		{"slow mode", SendLimits{Rate: 100, Burst: 100}, []send{
			{0, 1, "a", 10 * time.Second, false, ""},
			{9 * time.Second, 1, "b", 10 * time.Second, false, CodeSlowMode},
			{10 * time.Second, 1, "c", 10 * time.Second, false, ""},
			{11 * time.Second, 2, "c", 10 * time.Second, false, ""},
		}},
		{"slow mode exempts moderators", SendLimits{Rate: 100, Burst: 100}, []send{
			{0, 1, "a", 10 * time.Second, true, ""},
			{time.Second, 1, "b", 10 * time.Second, true, ""},
		}},
		{"refused message does not start the slow-mode clock", SendLimits{Rate: 100, Burst: 100}, []send{
			{0, 1, "a", 10 * time.Second, false, ""},
			{5 * time.Second, 1, "a", 10 * time.Second, false, CodeSlowMode},
			{10 * time.Second, 1, "b", 10 * time.Second, false, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newSenderLimits(tt.limits)
			for i, s := range tt.sends {
				r := l.admit(s.user, s.text, at(s.at), s.slow, s.exempt)
				got := Code("")
				if r != nil {
					got = r.Code
				}
				if got != s.want {
					t.Fatalf("send %d (%q by %d at %v): got %q, want %q", i, s.text, s.user, s.at, got, s.want)
				}
				if r != nil && (r.Code == CodeRateLimited || r.Code == CodeSlowMode) && r.RetryAfter <= 0 {
					t.Fatalf("send %d: %s without a wait", i, r.Code)
				}
			}
		})
	}
}

func TestSenderLimitsSlowModeWait(t *testing.T) {
	t.Parallel()
	l := newSenderLimits(SendLimits{Rate: 100, Burst: 100})
	t0 := time.Now()
	if r := l.admit(1, "a", t0, 30*time.Second, false); r != nil {
		t.Fatal(r)
	}
	r := l.admit(1, "b", t0.Add(12*time.Second), 30*time.Second, false)
	if r == nil || r.RetryAfter != 18*time.Second {
		t.Fatalf("want slow mode with 18 s wait, got %+v", r)
	}
}

func TestSenderLimitsForget(t *testing.T) {
	t.Parallel()
	l := newSenderLimits(SendLimits{})
	t0 := time.Now()
	l.admit(1, "a", t0, 0, false)
	l.admit(2, "a", t0.Add(9*time.Minute), 0, false)
	l.forget(t0.Add(senderIdleForget+time.Second), 0)
	if _, ok := l.users[1]; ok {
		t.Error("idle sender kept")
	}
	if _, ok := l.users[2]; !ok {
		t.Error("recent sender forgotten")
	}
}
