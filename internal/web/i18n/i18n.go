// Package i18n holds the web layer's message catalog and chooses the language of a request.
// Messages are keyed by a stable ID ("nav.login", "error.email_taken"); Korean is the default
// language and English the fallback. It imports nothing from the rest of Freely.
package i18n

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported UI language.
type Lang string

const (
	Korean  Lang = "ko"
	English Lang = "en"
)

// Default is the language used when the request says nothing we support.
const Default = Korean

// Langs lists the supported languages, default first.
var Langs = []Lang{Korean, English}

// Parse returns the supported language named by s ("ko", "en", "ko-KR", ...) and whether
// s named one.
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i > 0 {
		s = s[:i]
	}
	for _, l := range Langs {
		if string(l) == s {
			return l, true
		}
	}
	return Default, false
}

var matcher = language.NewMatcher([]language.Tag{language.Korean, language.English})

// Choose picks the language of a request: an explicit choice (the ?lang= parameter) wins,
// then the remembered choice (the language cookie), then the Accept-Language header, then
// Default.
func Choose(query, cookie, acceptLanguage string) Lang {
	if l, ok := Parse(query); ok {
		return l
	}
	if l, ok := Parse(cookie); ok {
		return l
	}
	if acceptLanguage == "" {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Langs[idx]
}

// Catalog maps message IDs to text per language. The zero value is not usable; use New.
// A Catalog is read-only after construction and safe for concurrent use.
type Catalog struct {
	msgs map[Lang]map[string]string
}

// New returns a catalog holding the built-in messages plus extra (language → ID → text),
// which later features use to add their own. Extra messages may not replace built-in ones.
func New(extra ...map[Lang]map[string]string) (*Catalog, error) {
	c := &Catalog{msgs: map[Lang]map[string]string{}}
	for _, l := range Langs {
		c.msgs[l] = map[string]string{}
	}
	for id, text := range korean {
		c.msgs[Korean][id] = text
	}
	for id, text := range english {
		c.msgs[English][id] = text
	}
	for _, set := range extra {
		for l, msgs := range set {
			if _, ok := c.msgs[l]; !ok {
				return nil, fmt.Errorf("i18n: unsupported language %q", l)
			}
			for id, text := range msgs {
				if _, dup := c.msgs[l][id]; dup {
					return nil, fmt.Errorf("i18n: message %q (%s) defined twice", id, l)
				}
				c.msgs[l][id] = text
			}
		}
	}
	return c, nil
}

// Has reports whether id exists in the default language.
func (c *Catalog) Has(id string) bool {
	_, ok := c.msgs[Default][id]
	return ok
}

// T returns the message id in lang, falling back to English, then Korean, then the ID itself
// (so a missing message shows up on the page instead of vanishing). Args fill fmt verbs.
func (c *Catalog) T(lang Lang, id string, args ...any) string {
	text, ok := c.msgs[lang][id]
	if !ok {
		text, ok = c.msgs[English][id]
	}
	if !ok {
		text, ok = c.msgs[Korean][id]
	}
	if !ok {
		return id
	}
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
}

// Missing returns, per language, the IDs that exist in some language but not in that one.
// Tests use it to keep the languages complete.
func (c *Catalog) Missing() map[Lang][]string {
	all := map[string]bool{}
	for _, msgs := range c.msgs {
		for id := range msgs {
			all[id] = true
		}
	}
	out := map[Lang][]string{}
	for _, l := range Langs {
		for id := range all {
			if _, ok := c.msgs[l][id]; !ok {
				out[l] = append(out[l], id)
			}
		}
		sort.Strings(out[l])
	}
	return out
}
