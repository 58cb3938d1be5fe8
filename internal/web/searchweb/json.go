package searchweb

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/search"
)

// The search API answers thousands of requests a second; encoding/json spends more on
// reflection over a result than the rest of the HTTP round trip. AppendSearchJSON writes the
// same bytes json.Marshal would (json_test.go checks it) by hand.

// AppendSearchJSON appends the JSON body of GET /api/v1/search for res to dst: query and
// category as asked, imageURL turning profile image keys into URLs (nil: none). The load
// tool of bench/search serves it too.
func AppendSearchJSON(dst []byte, query, category string, res *search.Result, imageURL func(string) string) []byte {
	if imageURL == nil {
		imageURL = func(string) string { return "" }
	}
	out := apiResult{Query: query, Category: category, Terms: res.Terms, Next: res.Next,
		Live: apiHits(res.Live, imageURL), Channels: apiHits(res.Channels, imageURL), Past: apiHits(res.Past, imageURL)}
	if out.Terms == nil {
		out.Terms = []string{}
	}
	return out.appendJSON(dst)
}

func (r *apiResult) appendJSON(b []byte) []byte {
	b = append(b, `{"query":`...)
	b = appendString(b, r.Query)
	if r.Category != "" {
		b = append(b, `,"category":`...)
		b = appendString(b, r.Category)
	}
	b = append(b, `,"terms":`...)
	b = appendStrings(b, r.Terms)
	for _, sec := range []struct {
		name string
		hits []apiHit
	}{{`,"live":`, r.Live}, {`,"channels":`, r.Channels}, {`,"past":`, r.Past}} {
		b = append(b, sec.name...)
		if sec.hits == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for i := range sec.hits {
			if i > 0 {
				b = append(b, ',')
			}
			b = sec.hits[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if r.Next != "" {
		b = append(b, `,"next":`...)
		b = appendString(b, r.Next)
	}
	return append(b, '}')
}

func (h *apiHit) appendJSON(b []byte) []byte {
	b = append(b, `{"url":`...)
	b = appendString(b, h.URL)
	b = append(b, `,"handle":`...)
	b = appendString(b, h.Handle)
	b = append(b, `,"display_name":`...)
	b = appendString(b, h.DisplayName)
	if h.ProfileURL != "" {
		b = append(b, `,"profile_url":`...)
		b = appendString(b, h.ProfileURL)
	}
	if h.SessionID != 0 {
		b = append(b, `,"session_id":`...)
		b = strconv.AppendInt(b, h.SessionID, 10)
	}
	if h.Title != "" {
		b = append(b, `,"title":`...)
		b = appendString(b, h.Title)
	}
	if len(h.Tags) > 0 {
		b = append(b, `,"tags":`...)
		b = appendStrings(b, h.Tags)
	}
	if c := h.Category; c != nil {
		b = append(b, `,"category":{"slug":`...)
		b = appendString(b, c.Slug)
		b = append(b, `,"name_ko":`...)
		b = appendString(b, c.NameKO)
		b = append(b, `,"name_en":`...)
		b = appendString(b, c.NameEN)
		b = append(b, '}')
	}
	if h.StartedAt != nil {
		b = append(b, `,"started_at":"`...)
		b = h.StartedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	if h.Introduction != "" {
		b = append(b, `,"introduction":`...)
		b = appendString(b, h.Introduction)
	}
	b = append(b, `,"live":`...)
	b = strconv.AppendBool(b, h.Live)
	b = append(b, `,"viewers":`...)
	b = strconv.AppendInt(b, int64(h.Viewers), 10)
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped the way encoding/json does by default:
// quotes, backslashes and control characters, <, > and & (HTML-safe), U+2028 and U+2029, and
// invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
