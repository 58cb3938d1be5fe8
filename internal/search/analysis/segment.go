package analysis

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Normalize returns text in the form every other step works on: full-width Latin and
// half-width Hangul folded to their ordinary widths (ｖｔｕｂｅｒ → vtuber), NFC-composed (so
// decomposed jamo sequences become syllables) and lower-cased.
func Normalize(text string) string {
	if alreadyNormal(text) {
		return text
	}
	return strings.ToLower(norm.NFC.String(width.Fold.String(text)))
}

// alreadyNormal is Normalize's fast path: text made only of ASCII without capitals, Hangul
// syllables and compatibility jamo (most Korean titles and names) is unchanged by it.
func alreadyNormal(text string) bool {
	for _, r := range text {
		switch {
		case r < 0x80:
			if r >= 'A' && r <= 'Z' {
				return false
			}
		case r >= 0xAC00 && r <= 0xD7A3, r >= 0x3131 && r <= 0x318E:
		default:
			return false
		}
	}
	return true
}

// runKind says how a run of characters is analysed.
type runKind uint8

const (
	// runHangul: Hangul syllables, analysed morphologically.
	runHangul runKind = iota + 1
	// runAlnum: letters of alphabetic scripts (Latin, Greek, Cyrillic, …) and digits, split
	// into letter and digit pieces only when mixed.
	runAlnum
	// runIdeo: Han ideographs and kana, kept whole (Korean text rarely holds them; a Japanese
	// or Chinese title stays findable by its exact run).
	runIdeo
	// runMark: a combining mark, glued onto the run before it.
	runMark runKind = 255
)

// run is a maximal stretch of characters of one kind.
type run struct {
	kind runKind
	text string
}

// classify returns the kind of run r belongs to, or 0 for characters that only separate
// words: spaces, punctuation, symbols, emoji, Hangul compatibility jamo (ㅋㅋ, ㅠㅠ and the
// ㅣ used as a divider) and anything else that carries no searchable word.
func classify(r rune) runKind {
	switch {
	case r >= 0xAC00 && r <= 0xD7A3:
		return runHangul
	case r < 0x80:
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			return runAlnum
		}
		return 0
	case unicode.In(r, unicode.Hangul):
		// Jamo that did not compose into a syllable: chat noise, never a word.
		return 0
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
		return runIdeo
	case unicode.IsLetter(r) || unicode.Is(unicode.Nd, r):
		return runAlnum
	case unicode.Is(unicode.Mn, r):
		// A combining mark left after NFC (no precomposed form) belongs to the letter
		// before it; the caller glues it onto the current run.
		return runMark
	}
	return 0
}

// segment splits normalised text into runs. A combining mark extends the run before it and
// is dropped when there is none.
func segment(text string) []run {
	var runs []run
	start, cur := -1, runKind(0)
	flush := func(end int) {
		if start >= 0 {
			runs = append(runs, run{kind: cur, text: text[start:end]})
		}
		start, cur = -1, 0
	}
	for i, r := range text {
		k := classify(r)
		if k == runMark {
			if start >= 0 {
				continue
			}
			k = 0
		}
		if k != cur {
			flush(i)
			if k != 0 {
				start, cur = i, k
			}
		}
	}
	flush(len(text))
	return runs
}

// alnumTerm turns a run of letters and digits into a term: "diablo2" is indexed whole and as
// "diablo" and "2", so the queries "diablo2" and "diablo 2" find each other.
func alnumTerm(s string) Term {
	var parts []string
	start := 0
	digit := func(r rune) bool { return unicode.IsDigit(r) }
	prev := false
	for i, r := range s {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		d := digit(r)
		if i > 0 && d != prev {
			parts = append(parts, s[start:i])
			start = i
		}
		prev = d
	}
	if start == 0 {
		return Term{Text: s}
	}
	parts = append(parts, s[start:])
	return Term{Text: s, Parts: parts}
}
