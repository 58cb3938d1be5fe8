package filter

// Hangul arithmetic and the two-set (두벌식) keyboard layout. Everything here works on
// Hangul Compatibility Jamo (U+3131–U+3163), the letters people type on their own (ㅅㅂ).

const (
	syllableBase  = 0xac00
	syllableLast  = 0xd7a3
	vowelsPerInit = 21
	finalsPerVow  = 28
)

var (
	initials = []rune("ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ")
	vowels   = []rune("ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ")
	finals   = []rune(" ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ") // index 0: no final
)

func isSyllable(r rune) bool { return r >= syllableBase && r <= syllableLast }

// isCompatJamo reports the modern compatibility letters ㄱ…ㅣ.
func isCompatJamo(r rune) bool { return r >= 0x3131 && r <= 0x3163 }

func isCompatVowel(r rune) bool { return r >= 0x314f && r <= 0x3163 }

// decompose splits a syllable into initial, vowel and final (0 for none) compatibility jamo.
func decompose(s rune) (l, v, t rune) {
	i := int(s - syllableBase)
	l = initials[i/(vowelsPerInit*finalsPerVow)]
	v = vowels[(i%(vowelsPerInit*finalsPerVow))/finalsPerVow]
	if ti := i % finalsPerVow; ti > 0 {
		t = finals[ti]
	}
	return l, v, t
}

// conjoiningToCompat maps the conjoining jamo that NFC could not compose into a syllable
// (U+1100 block) to their compatibility forms; it returns 0 for archaic letters.
func conjoiningToCompat(r rune) rune {
	switch {
	case r >= 0x1100 && r <= 0x1112:
		return initials[r-0x1100]
	case r >= 0x1161 && r <= 0x1175:
		return vowels[r-0x1161]
	case r >= 0x11a8 && r <= 0x11c2:
		return finals[r-0x11a8+1]
	}
	return 0
}

// halfwidthJamo maps the halfwidth Hangul letters (U+FFA1–U+FFDC) to compatibility jamo, or
// returns 0. (NFKC would turn some of them into archaic conjoining letters instead.)
func halfwidthJamo(r rune) rune {
	switch {
	case r >= 0xffa1 && r <= 0xffbe:
		return 0x3131 + r - 0xffa1
	case r >= 0xffc2 && r <= 0xffc7:
		return 0x314f + r - 0xffc2
	case r >= 0xffca && r <= 0xffcf:
		return 0x3155 + r - 0xffca
	case r >= 0xffd2 && r <= 0xffd7:
		return 0x315b + r - 0xffd2
	case r >= 0xffda && r <= 0xffdc:
		return 0x3161 + r - 0xffda
	}
	return 0
}

// foldJamo rewrites one compatibility jamo into the letters it is compared as, so spellings
// that read the same compare the same: ㅐ/ㅔ and ㅒ/ㅖ merge (as in speech), and compound
// letters split into the keys that type them on a two-set keyboard (ㅘ→ㅗㅏ, ㅄ→ㅂㅅ), which
// is also how Latin-typed Hangul arrives. Tense consonants stay: see sameLetter.
func foldJamo(r rune, emit func(rune)) {
	switch r {
	case 'ㅐ':
		emit('ㅔ')
	case 'ㅒ':
		emit('ㅖ')
	case 'ㅘ':
		emit('ㅗ')
		emit('ㅏ')
	case 'ㅙ':
		emit('ㅗ')
		emit('ㅔ')
	case 'ㅚ':
		emit('ㅗ')
		emit('ㅣ')
	case 'ㅝ':
		emit('ㅜ')
		emit('ㅓ')
	case 'ㅞ':
		emit('ㅜ')
		emit('ㅔ')
	case 'ㅟ':
		emit('ㅜ')
		emit('ㅣ')
	case 'ㅢ':
		emit('ㅡ')
		emit('ㅣ')
	case 'ㄳ':
		emit('ㄱ')
		emit('ㅅ')
	case 'ㄵ':
		emit('ㄴ')
		emit('ㅈ')
	case 'ㄶ':
		emit('ㄴ')
		emit('ㅎ')
	case 'ㄺ':
		emit('ㄹ')
		emit('ㄱ')
	case 'ㄻ':
		emit('ㄹ')
		emit('ㅁ')
	case 'ㄼ':
		emit('ㄹ')
		emit('ㅂ')
	case 'ㄽ':
		emit('ㄹ')
		emit('ㅅ')
	case 'ㄾ':
		emit('ㄹ')
		emit('ㅌ')
	case 'ㄿ':
		emit('ㄹ')
		emit('ㅍ')
	case 'ㅀ':
		emit('ㄹ')
		emit('ㅎ')
	case 'ㅄ':
		emit('ㅂ')
		emit('ㅅ')
	default:
		emit(r)
	}
}

// plainOf returns the plain consonant of a tense one (ㅆ→ㅅ), or r itself.
func plainOf(r rune) rune {
	switch r {
	case 'ㄲ':
		return 'ㄱ'
	case 'ㄸ':
		return 'ㄷ'
	case 'ㅃ':
		return 'ㅂ'
	case 'ㅆ':
		return 'ㅅ'
	case 'ㅉ':
		return 'ㅈ'
	}
	return r
}

// sameLetter reports whether text letter t matches pattern letter p. Tensing is the commonest
// way to spell a word harder (씨발, 씨빨 for 시발), so a plain consonant in a word also
// matches its tense form in the text; the reverse would turn innocent words into listed ones
// (샹 is not 썅, 십년 "ten years" is not 씹년, 족발이 is not 쪽바리), so it does not hold.
func sameLetter(p, t rune) bool { return p == t || plainOf(t) == p }

// keyboardJamo maps a Latin letter to the jamo on the same key of the two-set layout, so
// "tlqkf" (시발 typed with the input method off) reads as ㅅㅣㅂㅏㄹ. Shifted keys give the
// tense consonants and ㅒ/ㅖ; foldJamo folds them back, so case does not matter in the end.
func keyboardJamo(r rune) rune {
	switch r {
	case 'Q':
		return 'ㅃ'
	case 'W':
		return 'ㅉ'
	case 'E':
		return 'ㄸ'
	case 'R':
		return 'ㄲ'
	case 'T':
		return 'ㅆ'
	case 'O':
		return 'ㅒ'
	case 'P':
		return 'ㅖ'
	}
	if r >= 'A' && r <= 'Z' {
		r += 'a' - 'A'
	}
	if r < 'a' || r > 'z' {
		return 0
	}
	return keyboardLayout[r-'a']
}

// keyboardLayout is the jamo on the keys a…z of the two-set layout.
var keyboardLayout = []rune("ㅁㅠㅊㅇㄷㄹㅎㅗㅑㅓㅏㅣㅡㅜㅐㅔㅂㄱㄴㅅㅕㅍㅈㅌㅛㅋ")

// hangulLookalike maps the digits and Latin letters people put in place of a jamo: 1, l, i
// and | for ㅣ, 0 and o for ㅇ, 7 for ㄱ. It returns 0 for anything else.
func hangulLookalike(r rune) rune {
	switch r {
	case '1', 'l', 'i', '|', '!':
		return 'ㅣ'
	case '0', 'o':
		return 'ㅇ'
	case '7':
		return 'ㄱ'
	}
	return 0
}

// latinLookalike maps digits and symbols used in place of Latin letters (sh1t, 4ss, $hit).
func latinLookalike(r rune) rune {
	switch r {
	case '1', '!', '|':
		return 'i'
	case '0':
		return 'o'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	}
	return 0
}

// confusable folds Cyrillic and Greek letters that look like Latin ones (аss with a Cyrillic а).
func confusable(r rune) rune {
	switch r {
	case 'а', 'α':
		return 'a'
	case 'в', 'β':
		return 'b'
	case 'с', 'ϲ':
		return 'c'
	case 'е', 'ε':
		return 'e'
	case 'һ':
		return 'h'
	case 'і', 'ι', 'ӏ':
		return 'i'
	case 'ј':
		return 'j'
	case 'к', 'κ':
		return 'k'
	case 'м':
		return 'm'
	case 'н', 'η':
		return 'n'
	case 'о', 'ο', 'σ':
		return 'o'
	case 'р', 'ρ':
		return 'p'
	case 'ѕ':
		return 's'
	case 'т', 'τ':
		return 't'
	case 'υ', 'μ':
		return 'u'
	case 'ν':
		return 'v'
	case 'ш', 'ω':
		return 'w'
	case 'х', 'χ':
		return 'x'
	case 'у', 'γ':
		return 'y'
	}
	return r
}
