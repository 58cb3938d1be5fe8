package channel

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/form"
)

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	if fes := form.FieldErrors(err); len(fes) > 0 {
		return fes[0].Code
	}
	return "not a field error: " + err.Error()
}

func TestNewStreamKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		k := NewStreamKey()
		if !strings.HasPrefix(k, StreamKeyPrefix) || len(k) != len(StreamKeyPrefix)+43 {
			t.Fatalf("key %q has the wrong shape", k)
		}
		raw, err := base64.RawURLEncoding.DecodeString(k[len(StreamKeyPrefix):])
		if err != nil || len(raw) != 32 {
			t.Fatalf("key %q does not carry 32 bytes: %v", k, err)
		}
		if !wellFormedStreamKey(k) {
			t.Fatalf("own key %q not well-formed", k)
		}
		if seen[k] {
			t.Fatalf("key repeated after %d draws", i)
		}
		seen[k] = true
	}
	for _, bad := range []string{"", "live_", "live_short", "xxxx_" + strings.Repeat("A", 43), "live_" + strings.Repeat("!", 43)} {
		if wellFormedStreamKey(bad) {
			t.Errorf("wellFormedStreamKey(%q) = true", bad)
		}
	}
}

// TestStreamKeyBitsLookRandom is a coarse sanity check on the randomness: over many keys
// every bit position is set about half the time.
func TestStreamKeyBitsLookRandom(t *testing.T) {
	t.Parallel()
	const n = 2000
	var ones [256]int
	for i := 0; i < n; i++ {
		raw, _ := base64.RawURLEncoding.DecodeString(NewStreamKey()[len(StreamKeyPrefix):])
		for b := 0; b < 256; b++ {
			if raw[b/8]&(1<<(b%8)) != 0 {
				ones[b]++
			}
		}
	}
	for b, c := range ones {
		// 2000 fair coin flips: mean 1000, sd ≈ 22; 6 sd either side.
		if c < 866 || c > 1134 {
			t.Errorf("bit %d set %d of %d times", b, c, n)
		}
	}
}

func TestNormalizeHandle(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want, code string }{
		{"minsu_99", "minsu_99", ""},
		{"  MinSu ", "minsu", ""},
		{"abc", "abc", ""},
		{strings.Repeat("a", 24), strings.Repeat("a", 24), ""},
		{"ab", "", "handle_invalid"},
		{strings.Repeat("a", 25), "", "handle_invalid"},
		{"min-su", "", "handle_invalid"},
		{"min su", "", "handle_invalid"},
		{"민수민수", "", "handle_invalid"},
		{"ｍｉｎｓｕ", "", "handle_invalid"},
		{"../etc", "", "handle_invalid"},
		{"", "", "handle_invalid"},
		{"admin", "", "handle_reserved"},
		{"API", "", "handle_reserved"},
		{"hls", "", "handle_reserved"},
		{"live", "", "handle_reserved"},
		{"login", "", "handle_reserved"},
		{"static", "", "handle_reserved"},
		{"assets", "", "handle_reserved"},
		{"media", "", "handle_reserved"},
		{"settings", "", "handle_reserved"},
		{"dashboard", "", "handle_reserved"},
		{"search", "", "handle_reserved"},
	}
	for _, c := range cases {
		got, err := NormalizeHandle(c.in)
		if codeOf(err) != c.code || got != c.want {
			t.Errorf("NormalizeHandle(%q) = %q, %v; want %q, code %q", c.in, got, err, c.want, c.code)
		}
	}
}

func TestNormalizeTag(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want, code string }{
		{"롤", "롤", ""},
		{"  #LoL ", "lol", ""},
		{"##Valorant", "valorant", ""},
		{"＃발로란트", "발로란트", ""},
		{"League   of\tLegends", "league of legends", ""},
		{"\u1112\u1161\u11AB\u1100\u1173\u11AF", "한글", ""},
		{"ISTP", "istp", ""},
		{"👨\u200D💻", "👨\u200D💻", ""},
		{strings.Repeat("가", 30), strings.Repeat("가", 30), ""},
		{strings.Repeat("가", 31), "", "tag_too_long"},
		{"", "", "tag_invalid"},
		{"   ", "", "tag_invalid"},
		{"#", "", "tag_invalid"},
		{"a\u200Bb", "", "tag_invalid"},
		{"a\x00b", "", "tag_invalid"},
		{"x\u202E", "", "tag_invalid"},
		{"\xff", "", "tag_invalid"},
	}
	for _, c := range cases {
		got, err := NormalizeTag(c.in)
		if codeOf(err) != c.code || got != c.want {
			t.Errorf("NormalizeTag(%q) = %q, %v; want %q, code %q", c.in, got, err, c.want, c.code)
		}
	}
}

func TestNormalizeTags(t *testing.T) {
	t.Parallel()
	got, err := NormalizeTags([]string{"롤", "#LoL", "lol", " 롤 ", "리그오브레전드"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "롤,lol,리그오브레전드" {
		t.Errorf("NormalizeTags = %q", got)
	}
	ten := make([]string, 0, 12)
	for i := 0; i < 10; i++ {
		ten = append(ten, string(rune('a'+i))+"tag")
	}
	if _, err := NormalizeTags(append(ten, "atag", "#ATAG")); err != nil {
		t.Errorf("ten distinct tags with duplicates refused: %v", err)
	}
	if _, err := NormalizeTags(append(ten, "eleventh")); codeOf(err) != "too_many_tags" {
		t.Errorf("eleven tags: %v", err)
	}
	if _, err := NormalizeTags([]string{"ok", "bad\x01"}); codeOf(err) != "tag_invalid" {
		t.Errorf("bad tag in list: %v", err)
	}
	if got, err := NormalizeTags(nil); err != nil || len(got) != 0 {
		t.Errorf("NormalizeTags(nil) = %v, %v", got, err)
	}
}

func TestDisplayNameAndIntroduction(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want, code string }{
		{"  민수의   방송국 ", "민수의 방송국", ""},
		{"🎮 Game Night 🎮", "🎮 Game Night 🎮", ""},
		{strings.Repeat("가", 30), strings.Repeat("가", 30), ""},
		{strings.Repeat("가", 31), "", "display_name_invalid"},
		{"", "", "display_name_invalid"},
		{"line\nbreak", "line break", ""},
		{"zero\u200Bwidth", "", "display_name_invalid"},
		{"ctrl\x07", "", "display_name_invalid"},
	} {
		got, err := normalizeDisplayName(c.in)
		if codeOf(err) != c.code || got != c.want {
			t.Errorf("normalizeDisplayName(%q) = %q, %v; want %q, code %q", c.in, got, err, c.want, c.code)
		}
	}
	for _, c := range []struct{ in, want, code string }{
		{"안녕하세요!\r\n매일 밤 9시 방송\r\n\t#롤", "안녕하세요!\n매일 밤 9시 방송\n\t#롤", ""},
		{"  \n ", "", ""},
		{strings.Repeat("가", 1000), strings.Repeat("가", 1000), ""},
		{strings.Repeat("가", 1001), "", "intro_too_long"},
		{strings.Repeat("x", 20000), "", "intro_too_long"},
		{"bell\x07", "", "intro_invalid"},
		{"rtl\u202Eoverride", "", "intro_invalid"},
		{"\xff", "", "intro_invalid"},
	} {
		got, err := normalizeIntroduction(c.in)
		if codeOf(err) != c.code || got != c.want {
			t.Errorf("normalizeIntroduction(%q) = %q, %v; want %q, code %q", c.in, got, err, c.want, c.code)
		}
	}
}
