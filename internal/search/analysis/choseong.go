package analysis

import (
	"strings"
	"unicode/utf8"
)

// 초성 (initial-consonant) matching. Korean users search by typing only the first consonant
// of each syllable (ㄹㅅㅌㅇㅋ for 로스트아크), and while they type, the last syllable is still
// being composed: "로" may become "롤", and "롯" may turn out to be "로" followed by "스".
// Keys and matching here handle both.

const (
	syllableBase  = 0xAC00
	syllableLast  = 0xD7A3
	jungCount     = 21
	jongCount     = 28
	perInitial    = jungCount * jongCount // 588 syllables share an initial
	compatJamoLo  = 0x3131                // ㄱ
	compatJamoHi  = 0x318E                // last compatibility jamo
	compatConsEnd = 0x314E                // ㅎ, the last consonant
)

// initials are the 19 initial consonants in syllable order, as compatibility jamo (the
// characters a keyboard types).
var initials = []rune("ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ")

// finals are the 27 final consonants (index 1…27; 0 is none) as compatibility jamo.
var finals = []rune(" ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")

// jongSplit says, for a final consonant, which final stays when its last consonant moves on
// to start the next syllable (롯 → 로+ㅅ, 닭 → 달+ㄱ): [kept final index, moved consonant].
var jongSplit = func() map[int][2]rune {
	m := map[int][2]rune{}
	compound := map[rune][2]rune{
		'ㄳ': {'ㄱ', 'ㅅ'}, 'ㄵ': {'ㄴ', 'ㅈ'}, 'ㄶ': {'ㄴ', 'ㅎ'}, 'ㄺ': {'ㄹ', 'ㄱ'},
		'ㄻ': {'ㄹ', 'ㅁ'}, 'ㄼ': {'ㄹ', 'ㅂ'}, 'ㄽ': {'ㄹ', 'ㅅ'}, 'ㄾ': {'ㄹ', 'ㅌ'},
		'ㄿ': {'ㄹ', 'ㅍ'}, 'ㅀ': {'ㄹ', 'ㅎ'}, 'ㅄ': {'ㅂ', 'ㅅ'},
	}
	for i := 1; i < jongCount; i++ {
		if c, ok := compound[finals[i]]; ok {
			m[i] = [2]rune{rune(finalIndex(c[0])), c[1]}
		} else {
			m[i] = [2]rune{0, finals[i]}
		}
	}
	return m
}()

func finalIndex(c rune) int {
	for i, f := range finals {
		if i > 0 && f == c {
			return i
		}
	}
	return 0
}

func isSyllable(r rune) bool { return r >= syllableBase && r <= syllableLast }

// IsJamo reports whether r is a compatibility jamo (what a keyboard types on its own: ㄹ, ㅏ).
func IsJamo(r rune) bool { return r >= compatJamoLo && r <= compatJamoHi }

func isConsonantJamo(r rune) bool { return r >= compatJamoLo && r <= compatConsEnd }

// initialOf returns the initial consonant of a syllable as a compatibility jamo.
func initialOf(r rune) rune { return initials[(r-syllableBase)/perInitial] }

// Key is the form autocomplete compares: normalised, with everything but letters, digits,
// syllables and jamo removed ("로스트 아크!" → "로스트아크"), so spacing never matters.
func Key(s string) string {
	s = Normalize(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if classify(r) != 0 && classify(r) != runMark || IsJamo(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Choseong returns text with every Hangul syllable replaced by its initial consonant
// ("로스트 아크" → "ㄹㅅㅌ ㅇㅋ"); everything else is kept as normalised.
func Choseong(text string) string {
	return choseongOf(Normalize(text))
}

func choseongOf(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if isSyllable(r) {
			r = initialOf(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ChoseongKey is Choseong of Key: the initial-consonant form autocomplete indexes.
func ChoseongKey(s string) string { return choseongOf(Key(s)) }

// HasJamo reports whether s holds a compatibility consonant, which makes it an 초성 query
// ("ㄹㅅㅌ", or mixed: "로ㅅㅌ").
func HasJamo(s string) bool {
	for _, r := range s {
		if isConsonantJamo(r) {
			return true
		}
	}
	return false
}

// MatchPrefix reports whether the key query (see Key) matches the start of the key text:
// rune by rune, a syllable matches itself, a consonant jamo matches any syllable starting
// with it, and the last query rune may still be under composition — a syllable without a
// final consonant matches any final (로 → 롤), and one with a final matches the syllable
// without it followed by a syllable starting with that consonant (롯 → 로스).
func MatchPrefix(text, query string) bool {
	for query != "" {
		q, qn := utf8.DecodeRuneInString(query)
		t, tn := utf8.DecodeRuneInString(text)
		if text == "" {
			return false
		}
		query = query[qn:]
		last := query == ""
		switch {
		case q == t:
		case isConsonantJamo(q) && isSyllable(t) && initialOf(t) == q:
		case last && isSyllable(q) && isSyllable(t):
			return matchComposing(q, t, text[tn:])
		default:
			return false
		}
		text = text[tn:]
	}
	return true
}

// matchComposing matches the last, possibly unfinished query syllable q against the text
// syllable t followed by rest.
func matchComposing(q, t rune, rest string) bool {
	qOff, tOff := int(q-syllableBase), int(t-syllableBase)
	if qOff/jongCount != tOff/jongCount {
		return false // different initial or vowel
	}
	qJong, tJong := qOff%jongCount, tOff%jongCount
	if qJong == 0 {
		return true // 로 matches 로, 롤, 롯, …
	}
	split := jongSplit[qJong]
	if tJong != int(split[0]) {
		return false
	}
	next, _ := utf8.DecodeRuneInString(rest)
	return next == split[1] || isSyllable(next) && initialOf(next) == split[1]
}

// KeyRange is a half-open range [Lo, Hi) of keys in byte order.
type KeyRange struct{ Lo, Hi string }

// prefixRange covers every key starting with p: 0xFF never occurs in UTF-8, so every such
// key sorts before p+"\xff".
func prefixRange(p string) KeyRange { return KeyRange{Lo: p, Hi: p + "\xff"} }

// TextKeyRanges returns the ranges of sorted text keys (Key) that can match the key query q
// (which holds no jamo), so an index can look them up instead of scanning. Candidates
// still need MatchPrefix.
func TextKeyRanges(q string) []KeyRange {
	last, n := utf8.DecodeLastRuneInString(q)
	if q == "" {
		return nil
	}
	head := q[:len(q)-n]
	if !isSyllable(last) {
		return []KeyRange{prefixRange(q)}
	}
	off := int(last - syllableBase)
	jong := off % jongCount
	if jong == 0 {
		// Any final: the 28 syllables from last on are contiguous.
		return []KeyRange{{Lo: q, Hi: head + string(last+jongCount)}}
	}
	kept := last - rune(jong) + jongSplit[jong][0]
	return []KeyRange{prefixRange(q), prefixRange(head + string(kept))}
}

// ChoseongKeyRange returns the range of sorted choseong keys (ChoseongKey) that can match
// the key query q; candidates still need MatchPrefix against their text key.
func ChoseongKeyRange(q string) KeyRange { return prefixRange(choseongOf(Key(q))) }
