package channel

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"

	"github.com/freelylive/freely/internal/form"
)

// Input limits, counted in grapheme clusters (what a person sees as one character).
const (
	MinHandleLen       = 3
	MaxHandleLen       = 24
	MaxDisplayNameLen  = 30
	MaxIntroductionLen = 1000
	MaxTagLen          = 30
	MaxTags            = 10
)

// StreamKeyPrefix starts every stream key, so a leaked key is recognisable in logs and by
// secret scanners.
const StreamKeyPrefix = "live_"

// NewStreamKey returns a fresh secret stream key: the prefix and 32 bytes (256 bits) from the
// system's cryptographic random source, base64url-encoded. It is never derived from an id.
func NewStreamKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand.Read does not fail on supported platforms (it panics itself on Go ≥1.24
		// if the source is broken); refusing to invent a weak key is the only safe answer.
		panic("channel: no randomness for stream key: " + err.Error())
	}
	return StreamKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// streamKeyLen is the length of every key NewStreamKey makes.
var streamKeyLen = len(StreamKeyPrefix) + base64.RawURLEncoding.EncodedLen(32)

// wellFormedStreamKey lets ingest refuse garbage before touching the database.
func wellFormedStreamKey(key string) bool {
	if len(key) != streamKeyLen || !strings.HasPrefix(key, StreamKeyPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(key[len(StreamKeyPrefix):])
	return err == nil
}

// reservedHandles would collide with the site's own paths (/{handle} is the channel page) or
// let someone pose as the site.
var reservedHandles = map[string]bool{
	"about": true, "account": true, "admin": true, "api": true, "assets": true, "auth": true,
	"categories": true, "category": true, "channel": true, "channels": true, "dashboard": true,
	"directory": true, "favicon": true, "following": true, "freely": true, "healthz": true,
	"help": true, "hls": true, "home": true, "live": true, "login": true, "logout": true,
	"media": true, "metrics": true, "moderator": true, "new": true, "notices": true,
	"official": true, "privacy": true, "profile": true, "readyz": true, "register": true,
	"replay": true, "replays": true, "reset": true, "robots": true, "root": true, "rtmp": true,
	"search": true, "settings": true, "signin": true, "signup": true, "sitemap": true,
	"static": true, "staff": true, "support": true, "system": true, "tag": true, "tags": true,
	"terms": true, "uploads": true, "user": true, "users": true, "verify": true, "vod": true,
	"watch": true, "ws": true, "www": true,
}

// NormalizeHandle trims and lower-cases a channel handle and checks it: 3–24 characters of
// [a-z0-9_], not a reserved word. Errors are *form.FieldError on "handle" with code
// handle_invalid or handle_reserved.
func NormalizeHandle(s string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	if len(h) < MinHandleLen || len(h) > MaxHandleLen {
		return "", form.New("handle", "handle_invalid")
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "", form.New("handle", "handle_invalid")
		}
	}
	if reservedHandles[h] {
		return "", form.New("handle", "handle_reserved")
	}
	return h, nil
}

// NormalizeTag trims, NFC-normalises and case-folds a hashtag, strips leading '#' and collapses
// runs of inner white space to one space. Empty tags, tags over 30 grapheme clusters and tags
// with control or format (zero-width) characters are refused with a *form.FieldError on
// "tags" (tag_invalid, tag_too_long).
func NormalizeTag(s string) (string, error) {
	t := strings.TrimLeft(strings.TrimSpace(s), "#＃")
	if !utf8.ValidString(t) || len(t) > 4*4*MaxTagLen {
		return "", form.New("tags", "tag_invalid")
	}
	t = strings.ToLower(norm.NFC.String(strings.Join(strings.Fields(t), " ")))
	if t == "" || hasControl(t, false) {
		return "", form.New("tags", "tag_invalid")
	}
	if uniseg.GraphemeClusterCount(t) > MaxTagLen {
		return "", form.New("tags", "tag_too_long")
	}
	return t, nil
}

// NormalizeTags normalises each tag, drops duplicates (keeping first-seen order) and refuses
// more than MaxTags distinct tags (too_many_tags).
func NormalizeTags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, raw := range in {
		t, err := NormalizeTag(raw)
		if err != nil {
			return nil, err
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) > MaxTags {
			return nil, form.New("tags", "too_many_tags")
		}
	}
	return out, nil
}

// normalizeDisplayName: NFC, trimmed, inner white space collapsed, 1–30 grapheme clusters,
// no control or format characters.
func normalizeDisplayName(s string) (string, error) {
	if !utf8.ValidString(s) || len(s) > 4*4*MaxDisplayNameLen {
		return "", form.New("display_name", "display_name_invalid")
	}
	d := norm.NFC.String(strings.Join(strings.Fields(s), " "))
	if d == "" || hasControl(d, false) || uniseg.GraphemeClusterCount(d) > MaxDisplayNameLen {
		return "", form.New("display_name", "display_name_invalid")
	}
	return d, nil
}

// normalizeIntroduction: NFC, line endings made "\n", trimmed; at most 1,000 grapheme
// clusters; line breaks and tabs allowed, other control and format characters refused
// (intro_invalid, intro_too_long).
func normalizeIntroduction(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", form.New("introduction", "intro_invalid")
	}
	// A generous byte bound first, so counting clusters never walks megabytes.
	if len(s) > 16*MaxIntroductionLen {
		return "", form.New("introduction", "intro_too_long")
	}
	in := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	in = norm.NFC.String(strings.TrimSpace(in))
	if hasControl(in, true) {
		return "", form.New("introduction", "intro_invalid")
	}
	if uniseg.GraphemeClusterCount(in) > MaxIntroductionLen {
		return "", form.New("introduction", "intro_too_long")
	}
	return in, nil
}

// hasControl reports control (Cc) and format (Cf: zero-width space, joiners, direction
// overrides, BOM) characters. With multiline, '\n' and '\t' are allowed. ZERO WIDTH JOINER is
// allowed between two emoji-ish symbols so family and profession emoji keep working.
func hasControl(s string, multiline bool) bool {
	rs := []rune(s)
	for i, r := range rs {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if r == '\u200D' && i > 0 && i+1 < len(rs) && isSymbol(rs[i-1]) && isSymbol(rs[i+1]) {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}

func isSymbol(r rune) bool {
	return unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == '\uFE0F'
}
