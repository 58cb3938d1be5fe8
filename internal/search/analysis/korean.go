package analysis

import (
	"strings"
	"unicode/utf8"

	"github.com/ikawaha/kagome/v2/tokenizer"
	"golang.org/x/text/unicode/norm"
)

// posUser is the part of speech given to user-dictionary words (they are names).
const posUser = "NNP"

// mecab-ko-dic feature columns (see the kagome-dict-ko package).
const (
	featType       = 4 // "Compound", "Inflect", "Preanalysis" or "*"
	featExpression = 7 // "개발/NNG/*+자/NNG/*"
)

// contentPOS are the mecab-ko-dic parts of speech kept as terms. The package comment says
// why the others are dropped.
var contentPOS = map[string]bool{
	"NNG": true, // general noun
	"NNP": true, // proper noun
	"NR":  true, // numeral
	"VV":  true, // verb stem
	"VA":  true, // adjective stem
	"XR":  true, // root (잔잔, 섹시)
	"SH":  true, // Hanja
	"SL":  true, // foreign letters (only from dictionary entries; Latin runs bypass kagome)
	"SN":  true, // number
}

// appendKorean analyses one run of Hangul syllables.
func (a *Analyzer) appendKorean(out []Term, text string) []Term {
	for _, t := range a.tok.Analyze(text, tokenizer.Normal) {
		switch t.Class {
		case tokenizer.USER:
			term := Term{Text: t.Surface}
			if x := t.UserExtra(); x != nil && len(x.Tokens) > 1 {
				term.Parts = x.Tokens
			}
			out = append(out, term)
		case tokenizer.UNKNOWN:
			// A word the dictionary does not know (a nickname, new slang): keep it whole.
			out = append(out, Term{Text: t.Surface})
		case tokenizer.KNOWN:
			pos, kind, expr := a.features.entry(t.ID)
			out = appendKnown(out, t.Surface, pos, kind, expr)
		}
	}
	return out
}

// appendKnown turns a dictionary token (its surface, first part of speech, kind and
// expression) into terms. A plain token is kept when its part of speech is content. A
// compound noun is kept whole with its content parts. An inflected or pre-analysed token (a
// stem glued to endings: 먹었, 예쁜) contributes its content morphemes (먹, 예쁘) — the
// surface form with the ending attached would only match that one form.
func appendKnown(out []Term, surface, pos string, kind entryKind, expr string) []Term {
	if pos == "" {
		return out
	}
	switch kind {
	case kindCompound:
		if !contentPOS[firstPOS(pos)] {
			return out
		}
		term := Term{Text: surface}
		for _, m := range morphemes(expr) {
			if contentPOS[m.pos] {
				term.Parts = append(term.Parts, m.text)
			}
		}
		if len(term.Parts) < 2 {
			term.Parts = nil
		}
		return append(out, term)
	case kindInflect, kindPreanalysis:
		for _, m := range morphemes(expr) {
			if contentPOS[m.pos] {
				out = append(out, Term{Text: m.text})
			}
		}
		return out
	}
	if contentPOS[pos] || (mimeticPOS[pos] && reduplicated(surface)) {
		out = append(out, Term{Text: surface})
	}
	return out
}

// mimeticPOS are the parts of speech mecab-ko-dic gives sound and shape words (두근두근/MAG,
// 몽글몽글/MAG): adverbs and interjections are dropped, but these name a mood or a sound
// that streamers put in titles and tags, so they are kept when reduplicated.
var mimeticPOS = map[string]bool{"MAG": true, "IC": true}

// reduplicated tells a word made of one part said twice (두근두근, 소곤소곤), the form of
// Korean sound and shape words, from ordinary adverbs (진짜, 그냥). A part of one syllable,
// or of one syllable repeated (하하하하), is laughter or a stammer, not a word.
func reduplicated(word string) bool {
	half := len(word) / 2
	if half == 0 || word[:half] != word[half:] {
		return false
	}
	first, n := utf8.DecodeRuneInString(word)
	for _, r := range word[n:half] {
		if r != first {
			return true
		}
	}
	return false
}

// firstPOS returns the first tag of a joined tag such as "VV+EP".
func firstPOS(pos string) string {
	first, _, _ := strings.Cut(pos, "+")
	return first
}

type morpheme struct{ text, pos string }

// morphemes parses a mecab-ko-dic expression "갔/VV/*+았/EP/*". Morpheme texts are written
// with conjoining jamo when they are not whole syllables (ᆫ, ᄆ); NFC recomposes what it can.
func morphemes(expr string) []morpheme {
	if expr == "" || expr == "*" {
		return nil
	}
	var out []morpheme
	for _, m := range strings.Split(expr, "+") {
		fields := strings.Split(m, "/")
		if len(fields) < 2 || fields[0] == "" {
			continue
		}
		text := norm.NFC.String(fields[0])
		if !syllablesOnly(text) {
			// A lone ending such as ᆫ: never content, and not a searchable word.
			continue
		}
		out = append(out, morpheme{text: text, pos: fields[1]})
	}
	return out
}

func syllablesOnly(s string) bool {
	for _, r := range s {
		if classify(r) != runHangul {
			return false
		}
	}
	return s != ""
}
