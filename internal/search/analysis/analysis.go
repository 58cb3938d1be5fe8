// Package analysis turns Korean (and mixed Korean/Latin) text into search terms: the
// morphological analysis behind both indexing and queries. It wraps kagome with the
// mecab-ko-dic dictionary (the dictionary behind Elasticsearch's nori), an embedded user
// dictionary of game titles and streaming slang and a synonym table, and it owns 초성
// (initial-consonant) matching. It imports no SQL, HTTP or configuration package.
//
// What a text becomes:
//
//   - Everything is width-folded, NFC-normalised and lower-cased first (Normalize).
//   - Hangul runs go through kagome. Content morphemes are kept: general and proper nouns
//     (NNG, NNP), numerals (NR), verb and adjective stems (VV, VA — the stem, 먹 for 먹었습니다),
//     roots (XR), Hanja (SH) and words the dictionary does not know. Particles (J*), endings
//     (E*), suffixes and prefixes (XS*, XPN), copulas (VCP, VCN), auxiliaries (VX), dependent
//     nouns and counters (NNB, NNBC: 것, 중, 년), pronouns (NP), determiners (MM), adverbs
//     (MAG, MAJ) and interjections (IC) are dropped: they occur everywhere and find nothing.
//   - Compound nouns are kept whole AND decompounded, like nori's "mixed" mode:
//     개발자 → 개발자 (+ 개발, 자); 홍길동입니다 → 홍길동 (+ 홍, 길동).
//   - Letter/digit runs of other scripts are split on everything else; a run mixing letters
//     and digits is also decompounded (diablo2 → diablo2 + diablo, 2).
//   - Han/kana runs are kept whole. Emoji, symbols, punctuation and stray jamo (ㅋㅋ, ㅠㅠ)
//     separate words and are dropped.
//
// The dictionary takes seconds to load, so New starts loading it in the background and
// returns at once. Callers that need terms wait for it (Terms and IndexTokens block until it
// is ready or their context ends) rather than falling back to a cruder tokenizer: a fallback
// would index and query with different tokens than the real analyzer, and the mismatch
// would silently hide documents. Callers that must not wait (a write transaction) use
// TryIndexTokens and record the document as pending analysis instead.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ko "github.com/ikawaha/kagome-dict-ko"
	"github.com/ikawaha/kagome-dict/dict"
	"github.com/ikawaha/kagome/v2/tokenizer"
)

// Version identifies the analysis rules (tokenizer, dictionaries, synonym table). Stored
// tokens produced under another version are re-analysed: bump it whenever a change would
// turn some text into different tokens.
const Version = 2

// Term is one word of analysed text. A query matches a document when, for every term of the
// query, the document holds the term's Text or all of its Parts.
type Term struct {
	// Text is the word as the index knows it: a noun, a verb stem, a lower-cased Latin word.
	Text string
	// Parts are the pieces a compound decompounds into (개발자 → 개발, 자), nil for a simple
	// word.
	Parts []string
}

// Options configures an Analyzer.
type Options struct {
	// Logger receives the load time of the dictionary; nil discards it.
	Logger *slog.Logger
	// Hold, when not nil, delays the load until it is closed. Tests use it to exercise
	// callers while the analyzer is not ready.
	Hold <-chan struct{}
}

// ErrLoad is returned (wrapped) by every call when the dictionary failed to load.
var ErrLoad = errors.New("analysis: dictionary failed to load")

// Analyzer analyses text. It is safe for concurrent use.
type Analyzer struct {
	ready chan struct{}
	// Set before ready is closed, read-only afterwards.
	err      error
	tok      *tokenizer.Tokenizer
	features *dictFeatures
	synonyms map[string][]string
	loadTime time.Duration
}

// New returns an Analyzer whose dictionary loads in the background; Ready is closed when it
// can analyse. The load runs once per process (the dictionary is shared).
func New(opts Options) *Analyzer {
	if opts.Hold == nil {
		return newAnalyzer(opts, loadKoreanDict)
	}
	return newAnalyzer(opts, func() (*dict.Dict, error) {
		<-opts.Hold
		return loadKoreanDict()
	})
}

func loadKoreanDict() (d *dict.Dict, err error) {
	// The dictionary package panics when its embedded data is unreadable.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("load mecab-ko-dic: %v", r)
		}
	}()
	return ko.Dict(), nil
}

// newAnalyzer starts the load with the given dictionary loader (tests substitute one that
// waits, to see the analyzer before it is ready).
func newAnalyzer(opts Options, load func() (*dict.Dict, error)) *Analyzer {
	a := &Analyzer{ready: make(chan struct{})}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The goroutine ends by itself when the load finishes; nothing can cancel a load midway,
	// and the result is needed for the life of the process.
	go func() {
		defer close(a.ready)
		start := time.Now()
		err := a.load(load)
		a.loadTime = time.Since(start)
		if err != nil {
			a.err = fmt.Errorf("%w: %v", ErrLoad, err)
			logger.Error("search analyzer failed to load", "err", err)
			return
		}
		logger.Info("search analyzer ready", "load_time", a.loadTime.Round(time.Millisecond))
	}()
	return a
}

func (a *Analyzer) load(loadDict func() (*dict.Dict, error)) error {
	words, err := parseUserDict(userDictData)
	if err != nil {
		return err
	}
	ud, err := kagomeUserDict(words)
	if err != nil {
		return err
	}
	groups, err := parseSynonyms(synonymData)
	if err != nil {
		return err
	}
	d, err := loadDict()
	if err != nil {
		return err
	}
	if a.features, err = compactFeatures(d); err != nil {
		return fmt.Errorf("compact dictionary features: %w", err)
	}
	tok, err := tokenizer.New(d, tokenizer.UserDict(ud), tokenizer.OmitBosEos())
	if err != nil {
		return fmt.Errorf("create tokenizer: %w", err)
	}
	a.tok = tok
	syn, err := a.expandSynonyms(groups)
	if err != nil {
		return err
	}
	a.synonyms = syn
	return nil
}

// expandSynonyms maps every word of a synonym group to the tokens of the group's other
// words (whole and parts), so indexing one adds the others.
func (a *Analyzer) expandSynonyms(groups [][]string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, g := range groups {
		tokens := make([][]string, len(g))
		for i, w := range g {
			terms := a.terms(w)
			if len(terms) != 1 || terms[0].Text != w {
				return nil, fmt.Errorf("synonym %q analyses to %v, want the word itself: add it to the user dictionary", w, terms)
			}
			tokens[i] = append([]string{w}, terms[0].Parts...)
		}
		for i, w := range g {
			for j := range g {
				if j != i {
					out[w] = append(out[w], tokens[j]...)
				}
			}
		}
	}
	return out, nil
}

// Ready is closed once the analyzer can answer without waiting (or failed to load; Wait
// then returns the error).
func (a *Analyzer) Ready() <-chan struct{} { return a.ready }

// Wait blocks until the dictionary is loaded or ctx ends.
func (a *Analyzer) Wait(ctx context.Context) error {
	select {
	case <-a.ready:
		return a.err
	case <-ctx.Done():
		return fmt.Errorf("wait for search analyzer: %w", ctx.Err())
	}
}

// LoadDuration reports how long the dictionary took to load (0 until Ready).
func (a *Analyzer) LoadDuration() time.Duration {
	select {
	case <-a.ready:
		return a.loadTime
	default:
		return 0
	}
}

// Terms analyses text into terms in text order, waiting for the dictionary. Text with no
// word in it (emoji, punctuation) gives no terms and no error.
func (a *Analyzer) Terms(ctx context.Context, text string) ([]Term, error) {
	if err := a.Wait(ctx); err != nil {
		return nil, err
	}
	return a.terms(text), nil
}

// IndexTokens returns the tokens to store for text: every term whole, its parts, and the
// synonyms of each (롤 adds 리그오브레전드 and lol). It waits for the dictionary.
func (a *Analyzer) IndexTokens(ctx context.Context, text string) ([]string, error) {
	if err := a.Wait(ctx); err != nil {
		return nil, err
	}
	return a.indexTokens(text), nil
}

// TryIndexTokens is IndexTokens without waiting: ok is false while the dictionary is still
// loading (or failed to load).
func (a *Analyzer) TryIndexTokens(text string) (tokens []string, ok bool) {
	select {
	case <-a.ready:
		if a.err != nil {
			return nil, false
		}
		return a.indexTokens(text), true
	default:
		return nil, false
	}
}

func (a *Analyzer) indexTokens(text string) []string {
	terms := a.terms(text)
	out := make([]string, 0, 2*len(terms))
	add := func(tok string) {
		out = append(out, tok)
		out = append(out, a.synonyms[tok]...)
	}
	for _, t := range terms {
		add(t.Text)
		for _, p := range t.Parts {
			add(p)
		}
	}
	return out
}

// MaxTermRunes caps the length of a term (and of each part): a 5,000-letter "word" is noise,
// and index backends limit their token size. Queries are cut the same way, so a long word
// still finds itself.
const MaxTermRunes = 64

// terms analyses text; the tokenizer must be loaded.
func (a *Analyzer) terms(text string) []Term {
	var out []Term
	for _, r := range segment(Normalize(text)) {
		switch r.kind {
		case runHangul:
			out = a.appendKorean(out, r.text)
		case runAlnum:
			out = append(out, alnumTerm(r.text))
		case runIdeo:
			out = append(out, Term{Text: r.text})
		}
	}
	for i := range out {
		out[i].Text = truncateRunes(out[i].Text, MaxTermRunes)
		for j, p := range out[i].Parts {
			out[i].Parts[j] = truncateRunes(p, MaxTermRunes)
		}
	}
	return out
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
