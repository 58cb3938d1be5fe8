package searchweb

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/gencache"
	"github.com/freelylive/freely/internal/search"
)

// The search API answers thousands of requests a second; encoding/json spends more on
// reflection over a result than the rest of the HTTP round trip. Encoder writes the same
// bytes json.Marshal would for the apiResult of json_test.go (the test checks it) by hand,
// straight from the hits.

// Encoder writes search responses, keeping the JSON of each card (everything but its live
// flag and viewers) under the index generation of the result it came in: escaping the text
// of 36 cards was a tenth of a search's CPU, and popular cards come back in search after
// search. It is safe for concurrent use.
type Encoder struct {
	imageURL func(string) string
	cards    *gencache.Cache[int64, []byte]
}

// encodedCards is how many cards an Encoder keeps (a few hundred bytes each).
const encodedCards = 40_000

// NewEncoder returns an Encoder turning profile image keys into URLs with imageURL (nil:
// none).
func NewEncoder(imageURL func(string) string) *Encoder {
	return &Encoder{imageURL: imageURL, cards: gencache.New[int64, []byte](encodedCards)}
}

// Append appends the JSON body of GET /api/v1/search for res to dst: query and category
// as asked.
func (e *Encoder) Append(dst []byte, query, category string, res *search.Result) []byte {
	return appendResult(dst, query, category, res, e.imageURL, e.cards)
}

// bodyBuffers recycles response buffers: a page of results is 8–16 KB, and allocating
// (and growing) one per request was the largest share of the API's garbage.
var bodyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 16<<10)
	return &b
}}

// maxPooledBody is the largest buffer kept for reuse (a 50-a-section page is about 60 KB).
const maxPooledBody = 128 << 10

// Write answers with the JSON body of GET /api/v1/search for res, encoded into a recycled
// buffer. The load tool of bench/search serves it too.
func (e *Encoder) Write(rw http.ResponseWriter, cacheControl, query, category string, res *search.Result) {
	buf := bodyBuffers.Get().(*[]byte)
	body := e.Append((*buf)[:0], query, category, res)
	writeBody(rw, cacheControl, append(body, '\n'))
	if cap(body) <= maxPooledBody {
		*buf = body[:0]
		bodyBuffers.Put(buf)
	}
}

// appendResult writes res as the API's JSON object, imageURL turning profile image keys
// into URLs (nil: none), taking the cards' JSON from cards when it is not nil and res says
// under which generation it was read.
func appendResult(b []byte, query, category string, res *search.Result, imageURL func(string) string, cards *gencache.Cache[int64, []byte]) []byte {
	b = append(b, `{"query":`...)
	b = appendString(b, query)
	if category != "" {
		b = append(b, `,"category":`...)
		b = appendString(b, category)
	}
	b = append(b, `,"terms":`...)
	if res.Terms == nil {
		b = append(b, "[]"...)
	} else {
		b = appendStrings(b, res.Terms)
	}
	if res.Generation == 0 {
		cards = nil // nothing says when a card changes
	}
	for _, sec := range []struct {
		name string
		hits []search.Hit
	}{{`,"live":`, res.Live}, {`,"channels":`, res.Channels}, {`,"past":`, res.Past}} {
		b = append(b, sec.name...)
		b = append(b, '[') // an empty section is [], never null
		for i := range sec.hits {
			if i > 0 {
				b = append(b, ',')
			}
			h := &sec.hits[i]
			if cards != nil && h.DocID != 0 {
				card, ok := cards.Get(h.DocID, res.Generation)
				if !ok {
					card = appendCard(nil, h, imageURL)
					cards.Put(h.DocID, card, res.Generation)
				}
				b = append(b, card...)
			} else {
				b = appendCard(b, h, imageURL)
			}
			b = append(b, `,"live":`...)
			b = strconv.AppendBool(b, h.Live)
			b = append(b, `,"viewers":`...)
			b = strconv.AppendInt(b, int64(h.Viewers), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if res.Next != "" {
		b = append(b, `,"next":`...)
		b = appendString(b, res.Next)
	}
	return append(b, '}')
}

// appendCard writes h as the API's hit object up to (not including) its live flag and
// viewers, which the caller appends with the closing brace.
func appendCard(b []byte, h *search.Hit, imageURL func(string) string) []byte {
	b = append(b, `{"url":"/c/`...)
	b = appendStringBody(b, url.PathEscape(h.Handle))
	b = append(b, `","handle":`...)
	b = appendString(b, h.Handle)
	b = append(b, `,"display_name":`...)
	b = appendString(b, h.DisplayName)
	if imageURL != nil {
		if u := imageURL(h.ProfileKey); u != "" {
			b = append(b, `,"profile_url":`...)
			b = appendString(b, u)
		}
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
	if !h.StartedAt.IsZero() {
		b = append(b, `,"started_at":"`...)
		b = h.StartedAt.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	if h.Introduction != "" {
		b = append(b, `,"introduction":`...)
		b = appendString(b, h.Introduction)
	}
	return b
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

// jsonSafe marks the ASCII bytes written as they are.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

// appendString appends s as a JSON string escaped the way encoding/json does by default:
// quotes, backslashes and control characters, <, > and & (HTML-safe), U+2028 and U+2029, and
// invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringBody(b, s)
	return append(b, '"')
}

// appendStringBody is appendString without the quotes.
func appendStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
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
		// Hangul and most other text: three bytes led by E1–EC, always valid with two
		// continuation bytes and never U+2028/U+2029 (led by E2, decoded below).
		if c >= 0xE1 && c <= 0xEC && c != 0xE2 && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			i += 3
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
	return append(b, s[start:]...)
}
