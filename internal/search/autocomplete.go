package search

import (
	"container/heap"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/search/analysis"
)

// SuggestionKind says what a suggestion points at.
type SuggestionKind string

const (
	SuggestionTitle    SuggestionKind = "title"    // a live broadcast's title; Handle is its channel
	SuggestionChannel  SuggestionKind = "channel"  // a channel; Handle opens it
	SuggestionTag      SuggestionKind = "tag"      // a tag; searching Text finds it
	SuggestionCategory SuggestionKind = "category" // a category; Slug filters by it
)

// Suggestion is one autocomplete entry. It holds nothing private.
type Suggestion struct {
	Kind   SuggestionKind
	Text   string // what the dropdown shows (a title, a channel name, a tag, a category name)
	Handle string // SuggestionTitle, SuggestionChannel: the channel's handle
	Slug   string // SuggestionCategory: the category's slug
	Live   bool   // the broadcast, or the channel, is live now
}

// SuggestionData is the material autocomplete is built from.
type SuggestionData struct {
	// Sessions: every live session and the newest ended ones (their tags count as well).
	Sessions []SuggestSession
	// Channels: every channel that is not suspended.
	Channels []SuggestChannel
	// Categories: every category.
	Categories []channel.Category
}

// SuggestSession is a session as autocomplete sees it.
type SuggestSession struct {
	Handle     string
	Title      string
	Tags       []string
	CategoryID int64
	Live       bool
	Viewers    int
}

// SuggestChannel is a channel as autocomplete sees it.
type SuggestChannel struct {
	Handle      string
	DisplayName string
	Live        bool
}

// Limits of autocomplete.
const (
	DefaultSuggestions = 8
	MaxSuggestions     = 20
	// maxKeyWords: a text is findable by a prefix of any of its first words.
	maxKeyWords = 8
	// maxKeyRunes: keys are cut to this length; nobody types more into a search box
	// before picking a suggestion.
	maxKeyRunes = 24
)

// Autocomplete suggests titles, channels, tags and categories for a prefix, including
// 초성 prefixes (ㄹㅅㅌ → 로스트아크) and syllables still being typed (로 → 롤체). It answers
// from an immutable in-memory index, so lookups take microseconds and never touch the
// database.
//
// Staying in sync: the index is rebuilt from the store (SuggestionData) by Rebuild, which
// Service.Run calls at start, every RefreshInterval, and soon after Invalidate — which the
// service calls on every live.* bus event (from any node) and which writers can call after
// commits (a channel renamed). "Soon" is at least two seconds after the previous rebuild and
// at least ten times as long as it took (a few seconds on a site with 50,000 channels), so
// bursts of events cost a bounded share of a core. A suggestion therefore lags the database
// by a few seconds, and never by more than RefreshInterval. Searching itself never lags: it reads the index
// tables, written in the same transactions as the data.
type Autocomplete struct {
	source      func(context.Context) (*SuggestionData, error)
	index       atomic.Pointer[acIndex]
	invalidated chan struct{}
}

// NewAutocomplete returns an empty Autocomplete that builds from source.
func NewAutocomplete(source func(context.Context) (*SuggestionData, error)) *Autocomplete {
	a := &Autocomplete{source: source, invalidated: make(chan struct{}, 1)}
	a.index.Store(buildIndex(nil))
	return a
}

// Invalidate marks the index stale; Service.Run rebuilds it. It never blocks.
func (a *Autocomplete) Invalidate() {
	select {
	case a.invalidated <- struct{}{}:
	default:
	}
}

// Rebuild reads the source and swaps in a new index. Lookups continue on the old one
// meanwhile.
func (a *Autocomplete) Rebuild(ctx context.Context) error {
	data, err := a.source(ctx)
	if err != nil {
		return fmt.Errorf("autocomplete data: %w", err)
	}
	a.index.Store(buildIndex(data))
	return nil
}

// Len reports how many suggestions the index holds.
func (a *Autocomplete) Len() int { return len(a.index.Load().entries) }

// Suggest returns up to limit suggestions (DefaultSuggestions for 0, capped at
// MaxSuggestions) whose text has a word starting with prefix, most relevant first: live
// titles and channels by viewers, then tags and categories by how many broadcasts use them.
// Spacing, case and width are ignored.
func (a *Autocomplete) Suggest(prefix string, limit int) []Suggestion {
	if limit <= 0 {
		limit = DefaultSuggestions
	}
	limit = min(limit, MaxSuggestions)
	if len(prefix) > 4*maxKeyRunes*4 {
		return nil
	}
	q := analysis.Key(prefix)
	if q == "" {
		return nil
	}
	if r := []rune(q); len(r) > maxKeyRunes {
		q = string(r[:maxKeyRunes])
	}
	return a.index.Load().suggest(q, limit)
}

type acEntry struct {
	s      Suggestion
	weight int
}

// acIndex is an immutable index: every key (the text from one of its word starts, in Key
// form) sorted, with a max-tree over the weights so the best entries of a key range come
// out without scanning it.
type acIndex struct {
	entries []acEntry
	text    keyIndex // Key form
	cho     keyIndex // ChoseongKey form; ref points into text
}

type keyIndex struct {
	keys  []string
	ref   []int32 // text: entry; cho: position in text
	order maxTree
}

// Weights: live things first, by viewers; then tags and categories by use.
const (
	weightLive = 1_000_000
)

func buildIndex(data *SuggestionData) *acIndex {
	b := &indexBuilder{seen: map[string]int{}, spellings: map[int]map[string]int{}}
	if data != nil {
		b.add(data)
		b.pickSpellings()
	}
	return b.build()
}

type indexBuilder struct {
	entries []acEntry
	seen    map[string]int // kind + key → entry
	// spellings counts how often each spelling of an accumulated entry occurs (Vtuber,
	// vtuber, ｖtuber are one tag); the most common is shown.
	spellings map[int]map[string]int
}

// upsert adds a suggestion or raises the weight of the same one. Accumulating entries (tags)
// add up their weights; others keep the heaviest.
func (b *indexBuilder) upsert(s Suggestion, weight int, accumulate bool) {
	key := string(s.Kind) + "\x00" + analysis.Key(s.Text)
	if s.Kind == SuggestionChannel {
		key += "\x00" + s.Handle
	}
	i, ok := b.seen[key]
	if !ok {
		i = len(b.entries)
		b.seen[key] = i
		b.entries = append(b.entries, acEntry{s: s, weight: weight})
	} else {
		e := &b.entries[i]
		if accumulate {
			e.weight += weight
		} else if weight > e.weight {
			e.weight, e.s = weight, s
		}
		e.s.Live = e.s.Live || s.Live
	}
	if accumulate {
		if b.spellings[i] == nil {
			b.spellings[i] = map[string]int{}
		}
		b.spellings[i][s.Text] += weight
	}
}

// pickSpellings shows each accumulated entry in its most used spelling (ties: the smallest
// string, so builds are repeatable).
func (b *indexBuilder) pickSpellings() {
	for i, counts := range b.spellings {
		best, bestN := "", -1
		for text, n := range counts {
			if n > bestN || n == bestN && text < best {
				best, bestN = text, n
			}
		}
		b.entries[i].s.Text = best
	}
}

func (b *indexBuilder) add(data *SuggestionData) {
	liveByCategory := map[int64]int{}
	for _, s := range data.Sessions {
		w := 1
		if s.Live {
			w = 20
			liveByCategory[s.CategoryID]++
			if strings.TrimSpace(s.Title) != "" {
				b.upsert(Suggestion{Kind: SuggestionTitle, Text: s.Title, Handle: s.Handle, Live: true}, weightLive+s.Viewers, false)
			}
		}
		for _, t := range s.Tags {
			b.upsert(Suggestion{Kind: SuggestionTag, Text: t}, w, true)
		}
	}
	for _, c := range data.Channels {
		w := 10
		if c.Live {
			w = weightLive
		}
		b.upsert(Suggestion{Kind: SuggestionChannel, Text: c.DisplayName, Handle: c.Handle, Live: c.Live}, w, false)
	}
	for _, c := range data.Categories {
		w := 5 + 20*liveByCategory[c.ID]
		b.upsert(Suggestion{Kind: SuggestionCategory, Text: c.NameKO, Slug: c.Slug}, w, false)
		if c.NameEN != "" && !strings.EqualFold(c.NameEN, c.NameKO) {
			b.upsert(Suggestion{Kind: SuggestionCategory, Text: c.NameEN, Slug: c.Slug}, w, false)
		}
	}
}

type keyRef struct {
	key   string
	entry int32
}

func (b *indexBuilder) build() *acIndex {
	var refs []keyRef
	for i, e := range b.entries {
		for _, k := range wordStartKeys(e.s.Text) {
			refs = append(refs, keyRef{k, int32(i)})
		}
		if e.s.Kind == SuggestionChannel {
			if k := analysis.Key(e.s.Handle); k != "" {
				refs = append(refs, keyRef{cutRunes(k, maxKeyRunes), int32(i)})
			}
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].key < refs[j].key })
	idx := &acIndex{entries: b.entries}
	idx.text.keys = make([]string, len(refs))
	idx.text.ref = make([]int32, len(refs))
	weights := make([]int, len(refs))
	for i, r := range refs {
		idx.text.keys[i], idx.text.ref[i] = r.key, r.entry
		weights[i] = b.entries[r.entry].weight
	}
	idx.text.order = newMaxTree(weights)

	cho := make([]keyRef, len(refs))
	for i, r := range refs {
		cho[i] = keyRef{analysis.Choseong(r.key), int32(i)}
	}
	sort.Slice(cho, func(i, j int) bool { return cho[i].key < cho[j].key })
	idx.cho.keys = make([]string, len(cho))
	idx.cho.ref = make([]int32, len(cho))
	choWeights := make([]int, len(cho))
	for i, r := range cho {
		idx.cho.keys[i], idx.cho.ref[i] = r.key, r.entry
		choWeights[i] = weights[r.entry]
	}
	idx.cho.order = newMaxTree(choWeights)
	return idx
}

// wordStartKeys returns the Key form of text from each of its first word starts.
func wordStartKeys(text string) []string {
	words := strings.FieldsFunc(analysis.Normalize(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var keys []string
	for i := 0; i < len(words) && i < maxKeyWords; i++ {
		k := analysis.Key(strings.Join(words[i:], ""))
		if k == "" {
			continue
		}
		keys = append(keys, cutRunes(k, maxKeyRunes))
	}
	return keys
}

func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func (idx *acIndex) suggest(q string, limit int) []Suggestion {
	ki, ranges := &idx.text, analysis.TextKeyRanges(q)
	if analysis.HasJamo(q) {
		ki, ranges = &idx.cho, []analysis.KeyRange{analysis.ChoseongKeyRange(q)}
	}
	h := &rangeHeap{tree: &ki.order}
	for _, r := range ranges {
		lo := sort.SearchStrings(ki.keys, r.Lo)
		hi := sort.SearchStrings(ki.keys, r.Hi)
		h.push(lo, hi)
	}
	var out []Suggestion
	taken := map[int32]bool{}
	// Every popped position matches the ranges; MatchPrefix rejects the few that only
	// share the range (a syllable whose final consonant did not move on). The cap bounds
	// the work for a pathological query.
	for pops := 0; h.Len() > 0 && len(out) < limit && pops < 20*MaxSuggestions+200; pops++ {
		top := heap.Pop(h).(rangeTop)
		h.push(top.lo, top.pos)
		h.push(top.pos+1, top.hi)
		textPos := top.pos
		if ki == &idx.cho {
			textPos = int(ki.ref[top.pos])
		}
		entry := idx.text.ref[textPos]
		if taken[entry] || !analysis.MatchPrefix(idx.text.keys[textPos], q) {
			continue
		}
		taken[entry] = true
		out = append(out, idx.entries[entry].s)
	}
	return out
}

// maxTree is a segment tree answering "position of the largest weight in [lo, hi)".
type maxTree struct {
	n      int
	weight []int
	node   []int32 // node[i]: position of the max of its span; leaves at n…2n-1
}

func newMaxTree(weights []int) maxTree {
	n := len(weights)
	t := maxTree{n: n, weight: weights, node: make([]int32, 2*n)}
	for i := range n {
		t.node[n+i] = int32(i)
	}
	for i := n - 1; i > 0; i-- {
		t.node[i] = t.better(t.node[2*i], t.node[2*i+1])
	}
	return t
}

// better prefers the larger weight, then the earlier position (stable results).
func (t *maxTree) better(a, b int32) int32 {
	if t.weight[b] > t.weight[a] || t.weight[b] == t.weight[a] && b < a {
		return b
	}
	return a
}

// argmax returns the position of the largest weight in [lo, hi), which must not be empty.
func (t *maxTree) argmax(lo, hi int) int {
	best := int32(lo)
	for l, r := lo+t.n, hi+t.n; l < r; l, r = l/2, r/2 {
		if l&1 == 1 {
			best = t.better(best, t.node[l])
			l++
		}
		if r&1 == 1 {
			r--
			best = t.better(best, t.node[r])
		}
	}
	return int(best)
}

type rangeTop struct {
	lo, hi, pos int
	weight      int
}

// rangeHeap yields positions of a key index in weight order, splitting ranges as it goes.
type rangeHeap struct {
	tree  *maxTree
	items []rangeTop
}

func (h *rangeHeap) push(lo, hi int) {
	if lo >= hi {
		return
	}
	pos := h.tree.argmax(lo, hi)
	heap.Push(h, rangeTop{lo: lo, hi: hi, pos: pos, weight: h.tree.weight[pos]})
}

func (h *rangeHeap) Len() int { return len(h.items) }
func (h *rangeHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return a.weight > b.weight || a.weight == b.weight && a.pos < b.pos
}
func (h *rangeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *rangeHeap) Push(x any)    { h.items = append(h.items, x.(rangeTop)) }
func (h *rangeHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
