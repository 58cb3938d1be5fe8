package i18n

import (
	"strings"
	"testing"
)

// fieldCodes are the FieldError codes the account and channel services return; every one
// needs a message in every language.
var fieldCodes = []string{
	"email_invalid", "email_taken", "nickname_taken", "nickname_invalid", "handle_taken",
	"handle_invalid", "handle_reserved", "password_too_short", "password_too_long",
	"image_too_large", "image_type", "image_invalid", "intro_too_long", "too_many_categories",
	"category_unknown", "display_name_invalid",
}

func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for l, ids := range c.Missing() {
		if len(ids) > 0 {
			t.Errorf("%s lacks %d messages: %v", l, len(ids), ids)
		}
	}
	for _, code := range fieldCodes {
		for _, l := range Langs {
			id := "field." + code
			if got := c.T(l, id); got == id || got == "" {
				t.Errorf("no %s message for field code %q", l, code)
			}
		}
	}
}

func TestVerbsMatchAcrossLanguages(t *testing.T) {
	t.Parallel()
	// A message whose translations disagree on fmt verbs renders %!(EXTRA …) in one language.
	for id, ko := range korean {
		en := english[id]
		if strings.Count(ko, "%") != strings.Count(en, "%") {
			t.Errorf("%s: verb count differs: ko %q, en %q", id, ko, en)
		}
	}
}

func TestT(t *testing.T) {
	t.Parallel()
	c, err := New(map[Lang]map[string]string{Korean: {"x.only_ko": "한국어만"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T(Korean, "nav.login"); got != "로그인" {
		t.Errorf("ko nav.login = %q", got)
	}
	if got := c.T(English, "nav.login"); got != "Log in" {
		t.Errorf("en nav.login = %q", got)
	}
	if got := c.T(English, "x.only_ko"); got != "한국어만" {
		t.Errorf("fallback to Korean = %q", got)
	}
	if got := c.T(English, "no.such.id"); got != "no.such.id" {
		t.Errorf("missing id = %q, want the id itself", got)
	}
	if got := c.T(English, "search.query", "<b>"); got != "Query: <b>" {
		t.Errorf("args = %q", got)
	}
	if !c.Has("nav.login") || c.Has("no.such.id") {
		t.Error("Has is wrong")
	}
}

func TestNewRejectsBadExtras(t *testing.T) {
	t.Parallel()
	if _, err := New(map[Lang]map[string]string{Korean: {"nav.login": "덮어쓰기"}}); err == nil {
		t.Error("replacing a built-in message was accepted")
	}
	if _, err := New(map[Lang]map[string]string{"fr": {"x": "y"}}); err == nil {
		t.Error("unsupported language was accepted")
	}
}

func TestChoose(t *testing.T) {
	t.Parallel()
	cases := []struct {
		query, cookie, accept string
		want                  Lang
	}{
		{"", "", "", Korean},
		{"en", "ko", "ko-KR", English},
		{"EN-us", "", "", English},
		{"fr", "en", "", English},
		{"", "en", "ko", English},
		{"", "xx", "en-US,en;q=0.9", English},
		{"", "", "en-GB,ko;q=0.5", English},
		{"", "", "ko-KR,ko;q=0.9,en-US;q=0.8", Korean},
		{"", "", "fr-FR,de;q=0.9", Korean},
		{"", "", ";;;garbage===", Korean},
		{"", "", "ja, en;q=0.1", English},
	}
	for _, c := range cases {
		if got := Choose(c.query, c.cookie, c.accept); got != c.want {
			t.Errorf("Choose(%q, %q, %q) = %s, want %s", c.query, c.cookie, c.accept, got, c.want)
		}
	}
}

func FuzzChoose(f *testing.F) {
	for _, s := range []string{"", "ko-KR,ko;q=0.9", "en;q=0.1,*", "x;q=NaN", strings.Repeat("a-", 100)} {
		f.Add("", "", s)
	}
	f.Fuzz(func(t *testing.T, q, c, a string) {
		got := Choose(q, c, a)
		if _, ok := Parse(string(got)); !ok {
			t.Fatalf("Choose returned unsupported %q", got)
		}
	})
}
