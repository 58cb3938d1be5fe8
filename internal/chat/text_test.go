package chat

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCleanAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "안녕하세요", "안녕하세요"},
		{"trimmed and collapsed", "  안녕   하세요 \t\n", "안녕 하세요"},
		{"NFC from conjoining jamo", "\u1112\u1161\u11ab", "한"},
		{"NFC from decomposed latin", "cafe\u0301", "café"},
		{"zero-width space", "시\u200b발", "시발"},
		{"zero-width non-joiner and word joiner", "a\u200cb\u2060c", "abc"},
		{"BOM", "\ufeffhi", "hi"},
		{"bidi override", "abc\u202edcba\u202c", "abcdcba"},
		{"bidi isolates and marks", "\u2066x\u2069\u200e\u200fy\u061c", "xy"},
		{"tag characters", "hi\U000E0041\U000E0042", "hi"},
		{"soft hyphen", "ab\u00adcd", "abcd"},
		{"hangul filler alone between words", "a\u3164b", "a b"},
		{"braille blank", "a\u2800\u2800b", "a b"},
		{"control characters", "a\x00b\x07c\x1bd\x7f", "abcd"},
		{"private use", "a\ue000b", "ab"},
		{"invalid utf-8 dropped", "a\xffb", "ab"},
		{"combining grapheme joiner", "a\u034fb", "ab"},
		{"emoji zwj sequence kept", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
		{"emoji with variation selector kept", "❤\ufe0f", "❤\ufe0f"},
		{"zwj between letters dropped", "a\u200db", "ab"},
		{"ideographic space", "가\u3000나", "가 나"},
		{"exactly limit", strings.Repeat("가", DefaultMaxGraphemes), strings.Repeat("가", DefaultMaxGraphemes)},
		{"zalgo capped", "e" + strings.Repeat("\u0301", 20), "\u00e9" + strings.Repeat("\u0301", maxMarksPerCluster)}, // NFC folds the first mark into é
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := TextRules{}.Clean(tt.in)
			if err != nil {
				t.Fatalf("Clean(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules TextRules
		in    string
		code  Code
	}{
		{"empty", TextRules{}, "", CodeEmpty},
		{"only spaces", TextRules{}, "   \t\n ", CodeEmpty},
		{"only invisible", TextRules{}, "\u200b\u200d\u202e\ufeff", CodeEmpty},
		{"only hangul fillers", TextRules{}, "\u3164\u3164\uffa0", CodeEmpty},
		{"over default limit", TextRules{}, strings.Repeat("가", DefaultMaxGraphemes+1), CodeTooLong},
		{"over custom limit", TextRules{MaxGraphemes: 5}, "abcdef", CodeTooLong},
		{"huge input refused before work", TextRules{MaxGraphemes: 5}, strings.Repeat("a", 10000), CodeTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.rules.Clean(tt.in)
			var r *Refusal
			if !errors.As(err, &r) || r.Code != tt.code {
				t.Fatalf("Clean(%q) = %q, %v; want refusal %s", tt.in, got, err, tt.code)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("refusal %s should match ErrInvalid", r.Code)
			}
			if r.TextKO() == "" || r.TextEN() == "" {
				t.Fatalf("refusal %s has no text", r.Code)
			}
		})
	}
}

// Graphemes, not bytes or runes, are what the limit counts.
func TestCleanCountsGraphemes(t *testing.T) {
	t.Parallel()
	family := "👨\u200d👩\u200d👧\u200d👦" // 7 runes, one picture
	in := strings.Repeat(family, 10)
	if _, err := (TextRules{MaxGraphemes: 10}).Clean(in); err != nil {
		t.Fatalf("10 family emoji within a 10-character limit: %v", err)
	}
	if _, err := (TextRules{MaxGraphemes: 9}).Clean(in); err == nil {
		t.Fatal("10 family emoji accepted by a 9-character limit")
	}
	hangul := strings.Repeat("\u1112\u1161\u11ab", 10) // 30 conjoining jamo, 10 syllables
	if _, err := (TextRules{MaxGraphemes: 10}).Clean(hangul); err != nil {
		t.Fatalf("10 syllables within a 10-character limit: %v", err)
	}
}

func TestRefusalTexts(t *testing.T) {
	t.Parallel()
	codes := []Code{CodeNotLoggedIn, CodeNotVerified, CodeBanned, CodeTimedOut, CodeFollowersOnly,
		CodeFollowTooRecent, CodeVerifiedOnly, CodeEmpty, CodeTooLong, CodeRateLimited, CodeSlowMode, CodeDuplicate,
		CodeProfanity, CodeForbidden, CodeTargetProtected, CodeNotFound, CodeInvalid, CodeUnavailable, CodeInternal}
	internalKO := (&Refusal{Code: CodeInternal}).TextKO()
	for _, c := range codes {
		r := &Refusal{Code: c, Limit: 300, RetryAfter: 1500e6}
		if c != CodeInternal && r.TextKO() == internalKO {
			t.Errorf("%s falls back to the generic Korean text", c)
		}
		if r.TextKO() == "" || r.TextEN() == "" {
			t.Errorf("%s: missing text", c)
		}
	}
	r := &Refusal{Code: CodeSlowMode, RetryAfter: 1500e6}
	if !strings.Contains(r.TextKO(), "2초") || !strings.Contains(r.TextEN(), "2 s") {
		t.Errorf("slow-mode wait rounds up to whole seconds: %q / %q", r.TextKO(), r.TextEN())
	}
	if !errors.Is(r, ErrLimited) || errors.Is(r, ErrForbidden) {
		t.Error("slow mode is a limit, not a permission")
	}
	fr := &Refusal{Code: CodeFollowTooRecent, RetryAfter: 200 * time.Second, MinFollowAge: 10 * time.Minute}
	if ko, en := fr.TextKO(), fr.TextEN(); !strings.Contains(ko, "팔로우한 지 10분이 지나야") || !strings.Contains(ko, "3분 20초 후") ||
		!strings.Contains(en, "followed for 10 minutes") || !strings.Contains(en, "in 3 minutes 20 seconds") {
		t.Errorf("follow too recent: %q / %q", ko, en)
	}
	if !errors.Is(fr, ErrLimited) || errors.Is(fr, ErrForbidden) {
		t.Error("a follow too recent is a wait, not a permission")
	}
	if !errors.Is(refuse(CodeBanned), ErrForbidden) {
		t.Error("banned is a permission refusal")
	}
	inner := errors.New("disk full")
	ir := internalError("save", inner)
	if !errors.Is(ir, inner) || !errors.Is(ir, ErrInternal) || strings.Contains(ir.TextEN(), "disk") {
		t.Error("internal refusal must wrap its cause and keep it out of the sender's text")
	}
}

func TestWaitTexts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d      time.Duration
		ko, en string
	}{
		{0, "1초", "1 second"},
		{1500 * time.Millisecond, "2초", "2 seconds"},
		{59 * time.Second, "59초", "59 seconds"},
		{60 * time.Second, "1분", "1 minute"},
		{200 * time.Second, "3분 20초", "3 minutes 20 seconds"},
		{3599 * time.Second, "59분 59초", "59 minutes 59 seconds"},
		{3600*time.Second + time.Millisecond, "1시간 1분", "1 hour 1 minute"}, // rounds up, never shorter
		{86399 * time.Second, "24시간", "24 hours"},
		{90*24*time.Hour - time.Second, "90일", "90 days"},
		{26 * time.Hour, "1일 2시간", "1 day 2 hours"},
	} {
		if ko, en := waitKO(tt.d), waitEN(tt.d); ko != tt.ko || en != tt.en {
			t.Errorf("wait %v: %q / %q, want %q / %q", tt.d, ko, en, tt.ko, tt.en)
		}
	}
	for s, want := range map[string]string{"10분": "10분이", "30초": "30초가", "1시간": "1시간이", "2일": "2일이"} {
		if got := withIGa(s); got != want {
			t.Errorf("withIGa(%q) = %q, want %q", s, got, want)
		}
	}
}
