package account

import (
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

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 60) + ".com"
	cases := []struct{ in, want, code string }{
		{"  Minsu.Kim@Example.COM ", "minsu.kim@example.com", ""},
		{"a+tag@sub.example.co.kr", "a+tag@sub.example.co.kr", ""},
		{"o'reilly@example.org", "o'reilly@example.org", ""},
		{"", "", "email_invalid"},
		{"plain", "", "email_invalid"},
		{"@example.com", "", "email_invalid"},
		{"a@b", "", "email_invalid"},
		{"a@localhost", "", "email_invalid"},
		{"a@example.c", "", "email_invalid"},
		{"a@1.2.3.4", "", "email_invalid"},
		{"a b@example.com", "", "email_invalid"},
		{".a@example.com", "", "email_invalid"},
		{"a..b@example.com", "", "email_invalid"},
		{"a@-example.com", "", "email_invalid"},
		{"a@exa_mple.com", "", "email_invalid"},
		{"a@example..com", "", "email_invalid"},
		{"\"q\"@example.com", "", "email_invalid"},
		{"a@b@example.com", "", "email_invalid"},
		{"김@example.com", "", "email_invalid"},
		{"a\x00@example.com", "", "email_invalid"},
		{strings.Repeat("a", 65) + "@example.com", "", "email_invalid"},
		{long, "", "email_invalid"},
	}
	for _, c := range cases {
		got, err := NormalizeEmail(c.in)
		if codeOf(err) != c.code || got != c.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, code %q", c.in, got, err, c.want, c.code)
		}
	}
}

func TestNormalizeNickname(t *testing.T) {
	t.Parallel()
	decomposed := "\u1112\u1161\u11AB\u1100\u1173\u11AF" // 한글 as conjoining jamo
	cases := []struct{ in, want, code string }{
		{"데모스트리머001", "데모스트리머001", ""},
		{"  minsu_99 ", "minsu_99", ""},
		{decomposed, "한글", ""},
		{"Café", "Café", ""},
		{"cafe\u0301", "café", ""},
		{"가나", "가나", ""},
		{strings.Repeat("가", 20), strings.Repeat("가", 20), ""},
		{"가", "", "nickname_invalid"},
		{strings.Repeat("가", 21), "", "nickname_invalid"},
		{"two words", "", "nickname_invalid"},
		{"dash-name", "", "nickname_invalid"},
		{"emoji👍", "", "nickname_invalid"},
		{"zero\u200Bwidth", "", "nickname_invalid"},
		{"joiner\u200Dx", "", "nickname_invalid"},
		{"bidi\u202Eabc", "", "nickname_invalid"},
		{"tab\tx", "", "nickname_invalid"},
		{"\u3164\u3164", "", "nickname_invalid"},
		{"ab\u3164", "", "nickname_invalid"},
		{"z" + strings.Repeat("\u0301", 6), "", "nickname_invalid"},
		{"", "", "nickname_invalid"},
		{"\xff\xfe", "", "nickname_invalid"},
		{"Admin", "", "nickname_reserved"},
		{"ad_min", "", "nickname_reserved"},
		{"ＡＤＭＩＮ", "", "nickname_reserved"},
		{"관리자", "", "nickname_reserved"},
		{"운영자", "", "nickname_reserved"},
		{"FREELY", "", "nickname_reserved"},
		{"admin2", "admin2", ""},
	}
	for _, c := range cases {
		got, err := NormalizeNickname(c.in)
		if codeOf(err) != c.code || got != c.want {
			t.Errorf("NormalizeNickname(%q) = %q, %v; want %q, code %q", c.in, got, err, c.want, c.code)
		}
	}
}

func TestNicknameKey(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"Freely", "FREELY", "freely", "ＦＲＥＥＬＹ", " freely "},
		{"한글", "\u1112\u1161\u11AB\u1100\u1173\u11AF"},
		{"Straße", "STRASSE"},
	}
	for _, group := range same {
		for _, n := range group[1:] {
			if NicknameKey(n) != NicknameKey(group[0]) {
				t.Errorf("NicknameKey(%q)=%q differs from NicknameKey(%q)=%q", n, NicknameKey(n), group[0], NicknameKey(group[0]))
			}
		}
	}
	if NicknameKey("민수") == NicknameKey("민서") {
		t.Error("different nicknames share a key")
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	cases := []struct{ pw, email, code string }{
		{"correct horse", "a@example.com", ""},
		{"비밀번호는여덟자", "a@example.com", ""}, // 8 Hangul code points
		{"  spaced  ", "", ""},
		{"short", "", "password_too_short"},
		{"비밀번호", "", "password_too_short"},
		{strings.Repeat("x", 128), "", ""},
		{strings.Repeat("x", 129), "", "password_too_long"},
		{"minsu@example.com", "minsu@example.com", "password_same_as_email"},
		{"MINSU@example.com", "minsu@example.com", "password_same_as_email"},
		{"bad\xffutf8x", "", "password_invalid"},
	}
	for _, c := range cases {
		if got := codeOf(CheckPassword(c.pw, c.email)); got != c.code {
			t.Errorf("CheckPassword(%q, %q) code %q, want %q", c.pw, c.email, got, c.code)
		}
	}
}
