package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// DefaultMaxGraphemes is the default length limit of a chat message, counted in grapheme
// clusters (what a reader sees as one character: 한, é, 👍🏽 and 👨‍👩‍👧 each count once).
const DefaultMaxGraphemes = 300

// maxMarksPerCluster caps combining marks on one character: enough for any real script,
// too few for "Zalgo" text that paints over neighbouring lines.
const maxMarksPerCluster = 4

// bytesPerGrapheme bounds the work done on hostile input before counting: no real grapheme
// cluster needs more bytes than this once marks are capped.
const bytesPerGrapheme = 64

// TextRules is the shape every message must have after cleaning.
type TextRules struct {
	MaxGraphemes int // 0 means DefaultMaxGraphemes
}

func (r TextRules) maxGraphemes() int {
	if r.MaxGraphemes <= 0 {
		return DefaultMaxGraphemes
	}
	return r.MaxGraphemes
}

// Clean returns the text as it will be stored and shown: NFC-normalised, with control
// characters, invisible format characters (zero-width spaces and joiners, bidirectional
// overrides and isolates, tag characters, Hangul fillers, soft hyphens) removed, every run of
// whitespace turned into one space, trimmed, and combining marks capped per character. It
// refuses text that is empty after cleaning (CodeEmpty) or longer than the limit (CodeTooLong).
// A zero-width joiner is kept only between emoji, where it builds one picture (👨‍👩‍👧).
func (r TextRules) Clean(s string) (string, error) {
	limit := r.maxGraphemes()
	if len(s) > limit*bytesPerGrapheme {
		return "", &Refusal{Code: CodeTooLong, Limit: limit}
	}
	s = strings.ToValidUTF8(s, "")
	s = norm.NFC.String(s)
	s = stripInvisible(s)
	s = capMarks(s)
	if s == "" {
		return "", refuse(CodeEmpty)
	}
	if uniseg.GraphemeClusterCount(s) > limit {
		return "", &Refusal{Code: CodeTooLong, Limit: limit}
	}
	return s, nil
}

// stripInvisible drops control and invisible characters and collapses whitespace.
func stripInvisible(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	var prev rune // last rune written
	for i, r := range s {
		switch {
		case isBlank(r):
			pendingSpace = b.Len() > 0
			continue
		case r == '\u200d':
			next, _ := utf8.DecodeRuneInString(s[i+len("\u200d"):])
			if !pendingSpace && isEmojiPart(prev) && isEmojiPart(next) {
				break // keep: it joins two emoji into one picture
			}
			continue
		case isInvisible(r):
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// isBlank reports characters that show as empty space, including the ones used to fake an
// empty message or an empty nickname (Hangul fillers, the blank Braille pattern).
func isBlank(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0', '\u2800':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Zs, r)
}

// isInvisible reports characters that are not shown but change how text around them is read
// or compared: controls, format characters (bidi overrides, zero-width characters, tags),
// private-use characters and other default-ignorable code points. Variation selectors stay:
// they choose between emoji and text presentation.
func isInvisible(r rune) bool {
	switch {
	case r >= 0xfe00 && r <= 0xfe0f:
		return false
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r):
		return true
	case r == 0x034f, r == 0x17b4, r == 0x17b5, r >= 0x180b && r <= 0x180f,
		r >= 0xfff0 && r <= 0xfff8, r >= 0x1bca0 && r <= 0x1bca3, r >= 0xe0000 && r <= 0xe0fff:
		return true
	case r == utf8.RuneError:
		return true
	}
	return false
}

// isEmojiPart reports characters that appear inside emoji ZWJ sequences.
func isEmojiPart(r rune) bool {
	switch {
	case r >= 0x1f000 && r <= 0x1faff, r >= 0x2600 && r <= 0x27bf, r >= 0x2b00 && r <= 0x2bff,
		r == 0xfe0f, r == 0x2640, r == 0x2642, r == 0x2695, r == 0x2696, r == 0x2708, r == 0x2764:
		return true
	}
	return false
}

func isMark(r rune) bool {
	return r != 0xfe0f && r != 0xfe0e && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r))
}

// capMarks keeps at most maxMarksPerCluster combining marks on each grapheme cluster.
func capMarks(s string) string {
	needed := false
	marks := 0
	for _, r := range s {
		if isMark(r) {
			marks++
			if marks > maxMarksPerCluster {
				needed = true
				break
			}
		} else {
			marks = 0
		}
	}
	if !needed {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		n := 0
		for _, r := range g.Runes() {
			if isMark(r) {
				n++
				if n > maxMarksPerCluster {
					continue
				}
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
