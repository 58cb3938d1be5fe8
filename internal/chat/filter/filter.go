// Package filter finds profanity and slurs in chat text, Korean first: it sees through the
// usual ways of dodging a word list (jamo spelling ㅅㅂ, symbols, digits or spaces between
// syllables, look-alike digits and Latin letters, Hangul typed with the keyboard in Latin mode,
// stretched letters) while an allow list keeps innocent words (시발점, "starting point") clean.
// It is pure text processing and imports nothing from the rest of Freely.
package filter

import (
	"bufio"
	"embed"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mode is how a channel treats a message containing a listed word.
type Mode string

const (
	ModeOff   Mode = "off"   // deliver as sent
	ModeMask  Mode = "mask"  // replace the word's characters with *
	ModeBlock Mode = "block" // refuse the message
)

// Valid reports whether m is one of the modes.
func (m Mode) Valid() bool { return m == ModeOff || m == ModeMask || m == ModeBlock }

// Limits on owner-added words.
const (
	MaxWordRunes = 20
	// maxPatternRunes bounds a word's skeleton; matching keeps its states in a uint64.
	maxPatternRunes = 60
	// minKeyboardRunes: a word is looked for in Latin-typed Hangul only when its skeleton is
	// at least this long; shorter ones turn up by chance inside English words.
	minKeyboardRunes = 4
)

//go:embed words/*.txt
var wordFiles embed.FS

// Match is one listed word found in a text. Start and End are byte offsets into the text;
// Word is the list entry that matched.
type Match struct {
	Start, End int
	Word       string
}

// Filter holds a compiled word list and allow list. It is immutable and safe for concurrent
// use.
type Filter struct {
	words   []string
	allowed []string
	passes  [numPasses]map[rune][]pattern // by first skeleton letter
	allow   map[rune][][]rune             // folded allow-list words by first letter
}

type pattern struct {
	runes []rune
	word  string
}

var (
	defaultOnce   sync.Once
	defaultFilter *Filter
)

// Default returns the filter built from the word lists shipped with Freely.
func Default() *Filter {
	defaultOnce.Do(func() {
		words := append(readList("words/ko.txt"), readList("words/en.txt")...)
		f, err := New(words, readList("words/allow.txt"))
		if err != nil {
			panic(fmt.Sprintf("filter: shipped word list: %v", err)) // a build error, caught by tests
		}
		defaultFilter = f
	})
	return defaultFilter
}

func readList(name string) []string {
	data, err := wordFiles.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("filter: read %s: %v", name, err))
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// New compiles a filter for words, leaving alone any match that lies inside an occurrence of
// an allowed word. It refuses words that cannot be matched safely (see CheckWord).
func New(words, allowed []string) (*Filter, error) {
	f := &Filter{words: slices.Clone(words), allowed: slices.Clone(allowed), allow: make(map[rune][][]rune)}
	for p := range f.passes {
		f.passes[p] = make(map[rune][]pattern)
	}
	for _, w := range words {
		if err := f.addWord(w); err != nil {
			return nil, err
		}
	}
	for _, w := range allowed {
		a := analyse(w)
		var folded []rune
		for _, at := range a.atoms {
			if at.class != clIgnored {
				folded = append(folded, at.r)
			}
		}
		if len(folded) == 0 {
			return nil, fmt.Errorf("allowed word %q is empty", w)
		}
		f.allow[folded[0]] = append(f.allow[folded[0]], folded)
	}
	return f, nil
}

// With returns a filter with f's lists plus words and allowed (a channel owner's additions).
func (f *Filter) With(words, allowed []string) (*Filter, error) {
	if len(words) == 0 && len(allowed) == 0 {
		return f, nil
	}
	return New(append(slices.Clone(f.words), words...), append(slices.Clone(f.allowed), allowed...))
}

// CheckWord reports why word cannot be added to a filter, or nil. A word must be one run of
// Hangul (syllables, or consonants alone such as ㅅㅂ) or of Latin letters, of at most
// MaxWordRunes characters, reading as at least two letters.
func CheckWord(word string) error {
	_, err := compileWord(word)
	return err
}

type compiled struct {
	runes  []rune
	passes []pass
}

func compileWord(word string) (compiled, error) {
	if utf8.RuneCountInString(word) > MaxWordRunes {
		return compiled{}, fmt.Errorf("word %q: longer than %d characters", word, MaxWordRunes)
	}
	a := analyse(word)
	var hangul, jamoVowel, latin, other bool
	for _, at := range a.atoms {
		switch at.class {
		case clSyllable:
			hangul = true
		case clJamo:
			if isCompatVowel(at.r) {
				jamoVowel = true
			}
		case clLatin, clDigit:
			latin = true
		case clIgnored:
		default:
			other = true
		}
	}
	var p pass
	var passes []pass
	switch {
	case other || (latin && (hangul || jamoVowel)):
		return compiled{}, fmt.Errorf("word %q: use one word of Hangul or of Latin letters, without spaces or symbols", word)
	case latin:
		p, passes = passLatin, []pass{passLatin}
	case hangul || jamoVowel:
		p, passes = passHangul, []pass{passHangul, passLookalike, passKeyboard}
	default:
		p, passes = passInitials, []pass{passInitials}
	}
	var sk skeleton
	sk.build(a.atoms, p)
	if slices.Contains(sk.runes, barrier) || slices.Contains(sk.spaced, true) {
		return compiled{}, fmt.Errorf("word %q: must be a single word", word)
	}
	if len(sk.runes) < 2 {
		return compiled{}, fmt.Errorf("word %q: too short to match safely", word)
	}
	if len(sk.runes) > maxPatternRunes {
		return compiled{}, fmt.Errorf("word %q: too long", word)
	}
	return compiled{runes: slices.Clone(sk.runes), passes: passes}, nil
}

func (f *Filter) addWord(word string) error {
	c, err := compileWord(word)
	if err != nil {
		return err
	}
	for _, p := range c.passes {
		if p == passKeyboard && len(c.runes) < minKeyboardRunes {
			continue
		}
		first := c.runes[0]
		f.passes[p][first] = append(f.passes[p][first], pattern{runes: c.runes, word: word})
	}
	return nil
}

// Find returns the listed words in text, ordered by position, overlapping ones merged. text
// should be NFC (chat messages are cleaned before they get here).
func (f *Filter) Find(text string) []Match {
	if text == "" {
		return nil
	}
	a := analyse(text)
	allowed := f.allowedSpans(a)
	var found []Match
	var sk skeleton
	for p := range numPasses {
		set := f.passes[p]
		if len(set) == 0 {
			continue
		}
		sk.build(a.atoms, p)
		for i, r := range sk.runes {
			if r == barrier || !sk.firstOfAtom(i) {
				continue
			}
			cands := set[r]
			if plain := plainOf(r); plain != r {
				cands = append(cands[:len(cands):len(cands)], set[plain]...)
			}
			for _, pat := range cands {
				end := matchAt(&sk, i, pat.runes)
				if end < 0 || !a.acceptable(&sk, p, i, end) || sk.mostlyLookalike(i, end) {
					continue
				}
				from, to := sk.atom[i], sk.atom[end]
				if covered(allowed, from, to) {
					continue
				}
				found = append(found, Match{
					Start: a.sources[a.atoms[from].src].start,
					End:   a.sources[a.atoms[to].src].end,
					Word:  pat.word,
				})
			}
		}
	}
	return merge(found)
}

// matchAt returns the index of the last skeleton letter of the longest match of pat starting
// at i, or -1. A letter may repeat the one before it any number of times (시이이발 reads
// ㅅㅣㅣㅣㅂㅏㄹ, fuuuck), and a match must end where its atom ends (whole syllables only).
func matchAt(sk *skeleton, i int, pat []rune) int {
	n := len(pat)
	states := uint64(1) // bit k: the first k letters of pat are matched
	best := -1
	for j := i; j < len(sk.runes); j++ {
		u := sk.runes[j]
		if u == barrier {
			break
		}
		var next uint64
		for s := states; s != 0; s &= s - 1 {
			k := bits.TrailingZeros64(s)
			if k < n && sameLetter(pat[k], u) {
				next |= 1 << (k + 1)
			}
			if k > 0 && sameLetter(pat[k-1], u) {
				next |= 1 << k
			}
		}
		if next == 0 {
			break
		}
		states = next
		if states&(1<<n) != 0 && sk.lastOfAtom(j) {
			best = j
		}
	}
	return best
}

// acceptable applies the word-boundary rules, because ordinary neighbouring words often read
// as a listed one once what separates them is ignored. A match that spans whitespace must be
// words of its own ("시 발" alone, not the 시 발 in "이 시 발표"). In Latin text a match that
// skips symbols must start a word (f.u.c.k, but not the c/unt in "src/untested").
func (a *analysis) acceptable(sk *skeleton, p pass, i, end int) bool {
	if slices.Contains(sk.spaced[i+1:end+1], true) {
		if p == passKeyboard {
			return false
		}
		return a.boundaryBefore(int(sk.atom[i])) && a.boundaryAfter(int(sk.atom[end]))
	}
	if p == passKeyboard {
		// Latin-typed Hangul counts only as a whole word with nothing skipped: English is full
		// of letter runs that read as jamo ("protolib" holds rotol, 개세이 on the keyboard).
		return !slices.Contains(sk.gap[i+1:end+1], true) &&
			a.boundaryBefore(int(sk.atom[i])) && a.boundaryAfter(int(sk.atom[end]))
	}
	if p == passLatin && slices.Contains(sk.gap[i+1:end+1], true) {
		return a.boundaryBefore(int(sk.atom[i]))
	}
	return true
}

func (a *analysis) boundaryBefore(at int) bool {
	src := a.atoms[at].src
	for k := at - 1; k >= 0; k-- {
		c := a.atoms[k].class
		if c == clIgnored {
			continue
		}
		if a.atoms[k].src == src { // an earlier part of the same character
			return false
		}
		return !c.isWord()
	}
	return true
}

func (a *analysis) boundaryAfter(at int) bool {
	src := a.atoms[at].src
	for k := at + 1; k < len(a.atoms); k++ {
		c := a.atoms[k].class
		if c == clIgnored {
			continue
		}
		if a.atoms[k].src == src {
			return false
		}
		return !c.isWord()
	}
	return true
}

// allowedSpans returns the atom ranges [from, to] covered by allowed words.
func (f *Filter) allowedSpans(a *analysis) [][2]int32 {
	if len(f.allow) == 0 {
		return nil
	}
	text := make([]rune, 0, len(a.atoms))
	idx := make([]int32, 0, len(a.atoms))
	for i, at := range a.atoms {
		if at.class != clIgnored {
			text = append(text, at.r)
			idx = append(idx, int32(i))
		}
	}
	var spans [][2]int32
	for i, r := range text {
		for _, w := range f.allow[r] {
			if i+len(w) <= len(text) && slices.Equal(text[i:i+len(w)], w) {
				spans = append(spans, [2]int32{idx[i], idx[i+len(w)-1]})
			}
		}
	}
	return spans
}

func covered(spans [][2]int32, from, to int32) bool {
	for _, s := range spans {
		if s[0] <= from && to <= s[1] {
			return true
		}
	}
	return false
}

// merge sorts matches and joins overlapping ones.
func merge(ms []Match) []Match {
	if len(ms) < 2 {
		return ms
	}
	slices.SortFunc(ms, func(x, y Match) int {
		if x.Start != y.Start {
			return x.Start - y.Start
		}
		return y.End - x.End
	})
	out := ms[:1]
	for _, m := range ms[1:] {
		last := &out[len(out)-1]
		if m.Start < last.End {
			last.End = max(last.End, m.End)
			continue
		}
		out = append(out, m)
	}
	return out
}

// Contains reports whether text holds a listed word.
func (f *Filter) Contains(text string) bool { return len(f.Find(text)) > 0 }

// Mask returns text with every character of every listed word replaced by *, spaces kept,
// and whether anything was replaced.
func (f *Filter) Mask(text string) (string, bool) {
	ms := f.Find(text)
	if len(ms) == 0 {
		return text, false
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, m := range ms {
		b.WriteString(text[prev:m.Start])
		for _, r := range text[m.Start:m.End] {
			if r == ' ' {
				b.WriteRune(r)
			} else {
				b.WriteByte('*')
			}
		}
		prev = m.End
	}
	b.WriteString(text[prev:])
	return b.String(), true
}
