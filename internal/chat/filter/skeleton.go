package filter

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The filter compares words on a "skeleton": the text reduced to the letters that decide
// how it reads, with the tricks used to dodge filters undone. Text is first split into atoms
// (one per character after compatibility folding); each pass then turns the atoms into a
// skeleton its own way, and a listed word matches when its skeleton appears in the text's.

type class uint8

const (
	clIgnored     class = iota // invisible: format characters, combining marks
	clSpace                    // whitespace
	clSep                      // punctuation, symbols, emoji: skipped when inside a word
	clDigit                    // 0-9
	clLatin                    // a-z (after folding)
	clSyllable                 // a precomposed Hangul syllable
	clJamo                     // a Hangul letter typed on its own
	clOtherLetter              // any other letter (Han, kana, …): ends a word
)

// atom is one character after folding. src indexes the input character it came from.
type atom struct {
	r     rune // folded, lower case
	raw   rune // before lower-casing: the keyboard reading needs the shift state
	class class
	src   int32
}

// span is the byte range of one input character.
type span struct{ start, end int }

type analysis struct {
	atoms   []atom
	sources []span
}

// analyse folds every character of text (NFKC per character, lower case, Cyrillic and Greek
// look-alikes) into atoms, remembering where each came from so matches map back to bytes.
func analyse(text string) *analysis {
	a := &analysis{atoms: make([]atom, 0, len(text)), sources: make([]span, 0, len(text))}
	var buf []byte
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		src := int32(len(a.sources))
		a.sources = append(a.sources, span{start: i, end: i + size})
		i += size
		if r < 0x80 || isSyllable(r) || isCompatJamo(r) {
			a.add(r, src)
			continue
		}
		if hw := halfwidthJamo(r); hw != 0 {
			a.add(hw, src)
			continue
		}
		buf = norm.NFKC.AppendString(buf[:0], string(r))
		for _, f := range string(buf) {
			a.add(f, src)
		}
	}
	return a
}

func (a *analysis) add(raw rune, src int32) {
	if isSyllable(raw) {
		a.atoms = append(a.atoms, atom{r: raw, raw: raw, class: clSyllable, src: src})
		return
	}
	raw = confusable(raw)
	r := unicode.ToLower(raw)
	c := classify(r)
	if c == clJamo {
		if cj := conjoiningToCompat(r); cj != 0 {
			r = cj
		}
	}
	a.atoms = append(a.atoms, atom{r: r, raw: raw, class: c, src: src})
}

func classify(r rune) class {
	switch {
	case r >= 'a' && r <= 'z':
		return clLatin
	case r >= '0' && r <= '9':
		return clDigit
	case isSyllable(r):
		return clSyllable
	case isCompatJamo(r), conjoiningToCompat(r) != 0:
		return clJamo
	case r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0:
		return clIgnored // Hangul fillers: invisible
	case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || r == 0x2800:
		return clSpace
	case unicode.IsLetter(r):
		return clOtherLetter
	case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) ||
		unicode.Is(unicode.Cc, r):
		return clIgnored
	}
	return clSep
}

// isWord reports atoms that belong to a word (for boundary checks).
func (c class) isWord() bool {
	return c == clDigit || c == clLatin || c == clSyllable || c == clJamo || c == clOtherLetter
}

// pass is one way of reading the atoms.
type pass uint8

const (
	// passHangul reads Hangul syllables and typed jamo; digits and symbols between letters
	// are skipped (시1발, 시.발), Latin letters end a word.
	passHangul pass = iota
	// passLookalike is passHangul with digits and Latin letters that look like jamo read as
	// those jamo (ㅅ1발, ㅅl발).
	passLookalike
	// passInitials reads only consonants typed on their own (ㅅㅂ, ㅅ.ㅂ); any syllable or
	// vowel ends the run, so the initials hidden inside ordinary words never match.
	passInitials
	// passKeyboard reads Latin letters as the jamo on the same key (tlqkf = 시발).
	passKeyboard
	// passLatin reads Latin letters with digit and symbol look-alikes (sh1t, $hit).
	passLatin
	numPasses
)

// barrier separates runs that must not match as one word; no pattern contains it.
const barrier rune = 0

// skeleton is a text as one pass reads it. atom[i] is the atom the i-th letter came from
// (-1 for barriers); spaced[i] is true when whitespace was skipped right before it.
type skeleton struct {
	runes  []rune
	atom   []int32
	spaced []bool
	silent []bool // a typed ㅇ that is silent when a vowel follows (dropped in finish)
	alike  []bool // read from a look-alike digit or symbol, not a letter
	gap    []bool // a symbol or digit was skipped right before it

	pendingGap bool
}

func (s *skeleton) reset() {
	s.runes, s.atom, s.spaced, s.silent, s.alike, s.gap = s.runes[:0], s.atom[:0], s.spaced[:0], s.silent[:0], s.alike[:0], s.gap[:0]
}

func (s *skeleton) emit(r rune, at int32, spaced, silent, alike bool) {
	s.runes = append(s.runes, r)
	s.atom = append(s.atom, at)
	s.spaced = append(s.spaced, spaced)
	s.silent = append(s.silent, silent)
	s.alike = append(s.alike, alike)
	s.gap = append(s.gap, s.pendingGap)
	s.pendingGap = false
}

func (s *skeleton) brk() {
	if n := len(s.runes); n > 0 && s.runes[n-1] != barrier {
		s.emit(barrier, -1, false, false, false)
	}
}

// mostlyLookalike reports whether more than half the letters in [i, end] came from digits
// or symbols: "socks5h://127" holds s,h,i,t that way, and is not a word.
func (s *skeleton) mostlyLookalike(i, end int) bool {
	n := 0
	for _, a := range s.alike[i : end+1] {
		if a {
			n++
		}
	}
	return 2*n > end+1-i
}

// build reads atoms as pass p.
func (s *skeleton) build(atoms []atom, p pass) {
	s.reset()
	s.pendingGap = false
	spaced := false
	for i, a := range atoms {
		at := int32(i)
		alike := false
		out := func(r rune) {
			foldJamo(r, func(f rune) {
				s.emit(f, at, spaced, false, alike)
				spaced = false
			})
		}
		switch a.class {
		case clIgnored:
			continue
		case clSpace:
			spaced = len(s.runes) > 0
			s.pendingGap = false
			continue
		case clSep, clDigit:
			var r rune
			switch p {
			case passLookalike:
				r = hangulLookalike(a.r)
			case passLatin:
				r = latinLookalike(a.r)
			}
			if r != 0 {
				alike = true
				out(r)
			} else if len(s.runes) > 0 {
				s.pendingGap = true
			}
			continue // otherwise skipped: it does not end a word
		case clLatin:
			switch p {
			case passLatin:
				s.emit(a.r, at, spaced, false, false)
				spaced = false
			case passKeyboard:
				if j := keyboardJamo(a.raw); j == 'ㅇ' {
					s.emit(j, at, spaced, true, false)
					spaced = false
				} else {
					out(j)
				}
			case passLookalike:
				if r := hangulLookalike(a.r); r != 0 {
					alike = true
					out(r)
				} else {
					s.brk()
				}
			default:
				s.brk()
			}
		case clSyllable:
			if p != passHangul && p != passLookalike {
				s.brk()
				continue
			}
			l, v, t := decompose(a.r)
			if l != 'ㅇ' { // a syllable-initial ㅇ is silent: 시이발 reads as 시ㅣ발
				out(l)
			}
			out(v)
			if t != 0 {
				out(t)
			}
		case clJamo:
			switch p {
			case passHangul, passLookalike:
				if a.r == 'ㅇ' {
					s.emit(a.r, at, spaced, true, false)
					spaced = false
				} else {
					out(a.r)
				}
			case passInitials:
				if isCompatVowel(a.r) {
					s.brk()
				} else {
					out(a.r)
				}
			default:
				s.brk()
			}
		default:
			s.brk()
		}
	}
	s.finish()
}

// finish drops typed ㅇ letters that a vowel follows directly: on a two-set keyboard (and to
// a reader) that ㅇ is the silent initial of a syllable, as in a precomposed one.
func (s *skeleton) finish() {
	n := 0
	for i := range s.runes {
		if s.silent[i] && i+1 < len(s.runes) && !s.spaced[i+1] && isCompatVowel(s.runes[i+1]) {
			if s.spaced[i] {
				s.spaced[i+1] = true
			}
			continue
		}
		s.runes[n], s.atom[n], s.spaced[n], s.silent[n], s.alike[n], s.gap[n] = s.runes[i], s.atom[i], s.spaced[i], s.silent[i], s.alike[i], s.gap[i]
		n++
	}
	s.runes, s.atom, s.spaced, s.silent, s.alike, s.gap = s.runes[:n], s.atom[:n], s.spaced[:n], s.silent[:n], s.alike[:n], s.gap[:n]
}

// firstOfAtom and lastOfAtom say whether skeleton letter i begins or ends what its atom
// produced: a match must cover whole syllables, so 세미나 never matches a word read ㅔㅁㅣ.
func (s *skeleton) firstOfAtom(i int) bool { return i == 0 || s.atom[i-1] != s.atom[i] }
func (s *skeleton) lastOfAtom(i int) bool {
	return i == len(s.runes)-1 || s.atom[i+1] != s.atom[i]
}
