package search

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/gencache"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search/analysis"
	"github.com/freelylive/freely/internal/store"
)

// Store is the index storage the service queries (store/sqlstore implements it for SQLite
// and PostgreSQL). Documents are written by the stores of channels and live sessions, in
// the transactions that change them, not through this interface.
type Store interface {
	// Candidates returns up to limit documents matching m, newest document first, leaving
	// out channels that are suspended. Score is left 0.
	Candidates(ctx context.Context, m Match, limit int) ([]Candidate, error)
	// Hits returns what result cards show for the documents with the given IDs (Section,
	// Score and, for live sessions, Viewers are the caller's). IDs no longer indexed, and
	// documents of suspended channels, are missing from the map.
	Hits(ctx context.Context, docIDs []int64) (map[int64]Hit, error)
	// DocFreq returns how many documents hold each of tokens (missing tokens: 0).
	DocFreq(ctx context.Context, tokens []string) (map[string]int, error)
	// DocCount returns how many documents the index holds.
	DocCount(ctx context.Context) (int, error)
	// CategoryBySlug returns the category, store.ErrNotFound if none has the slug.
	CategoryBySlug(ctx context.Context, slug string) (*channel.Category, error)
	// SuggestionData returns what autocomplete suggests from.
	SuggestionData(ctx context.Context) (*SuggestionData, error)
	// Generation returns the index generation: a number that changes whenever a committed
	// write may have changed what a query matches, how it ranks (viewer counts aside) or
	// what its result cards show. Rankings and cards read under one generation stay valid
	// while it is current. Every search asks first, so it should not cost a round trip
	// when nothing changed.
	Generation(ctx context.Context) (int64, error)
	// AnalyzePending analyses up to limit documents that were stored before the analyzer
	// was ready, or under another analysis.Version, and returns how many it analysed.
	AnalyzePending(ctx context.Context, limit int) (int, error)
}

// BatchStore is a Store that can also fetch the first windows of several sections in one
// round trip; Search uses it when more than one section has to be ranked.
type BatchStore interface {
	Store
	// CandidatesBatch returns Candidates(ctx, ms[i], limit) for every i.
	CandidatesBatch(ctx context.Context, ms []Match, limit int) ([][]Candidate, error)
}

// Limits of a query.
const (
	// MaxQueryRunes is the longest query text accepted.
	MaxQueryRunes = 200
	// MaxQueryTerms: terms after this many are ignored (every term must match, so more
	// would only narrow the result further).
	MaxQueryTerms = 16
	// DefaultLimit is the page size of a section when the query does not say.
	DefaultLimit = 12
	// MaxLimit caps the page size of a section.
	MaxLimit = 50
	// A section ranks the newest WindowPages × page size matching documents (at least
	// MinWindow, at most the service's window cap, DefaultWindow unless Options.Window
	// says otherwise): twice a page leaves the ranking as many documents to pass over as
	// it shows, while every candidate read costs a few microseconds of database work, the
	// largest part of a search. Pages of the site (8 or 24 a section) and of the API (12
	// unless asked) thus read 16–48 rows a section instead of a fixed 50.
	WindowPages = 2
	// MinWindow is the smallest window, so that tiny pages still rank among a few pages.
	MinWindow = 16
	// DefaultWindow is the default cap on a section's window.
	DefaultWindow = 50
	// MaxWindow caps Options.Window.
	MaxWindow = 1000
)

// Options configures a Service.
type Options struct {
	Store    Store
	Analyzer *analysis.Analyzer
	Logger   *slog.Logger
	// LiveViewers, when set, returns the current viewers of a live channel (from the live
	// directory); live hits show it and rank by it. Otherwise peak viewers are used.
	LiveViewers func(channelID int64) (viewers int, ok bool)
	// Window overrides DefaultWindow, the cap on a section's window (capped at MaxWindow).
	Window int
	// Bus, when set, is watched for live events so autocomplete picks up new broadcasts at
	// once instead of at the next periodic refresh.
	Bus bus.Bus
	// RefreshInterval is how often autocomplete is rebuilt from the store and pending
	// documents are analysed; default 30 s.
	RefreshInterval time.Duration
	// RankCache is how many ranked pages the service keeps for reuse while the index
	// generation does not change: 0 for DefaultRankCache, negative to keep none (and no
	// whole results, result cards, category filters or analysed queries either).
	RankCache int
}

// DefaultRankCache is the default size of the ranked-page cache: a page of a section is
// at most 12 compact entries by default, about half a kilobyte.
const DefaultRankCache = 40_000

// Sizes of the other caches: result cards (a few hundred bytes each) kept with the ranked
// pages, analysed query texts, and category filters.
const (
	cardCacheSize     = 40_000
	termCacheSize     = 20_000
	categoryCacheSize = 1_000
	// A whole result is up to 3 × 12 cards (their text shared with the card cache).
	resultCacheSize = 4_000
)

// Service answers searches and autocomplete. Create it with New and run Run in the
// background for autocomplete refreshes and pending analysis.
type Service struct {
	store   Store
	an      *analysis.Analyzer
	log     *slog.Logger
	viewers func(int64) (int, bool)
	window  int // cap of a section's window
	bus     bus.Bus
	refresh time.Duration

	df    *dfCache
	ac    *Autocomplete
	pages *pageCache
	cards *cardCache
	// terms keeps analysed query texts (analysis does not depend on the index: its
	// generation is always 0); categories keeps category filters under the index
	// generation, which category changes raise.
	terms      *gencache.Cache[string, []analysis.Term]
	categories *gencache.Cache[string, int64]
	// results keeps whole results of the most asked queries, so a popular search costs
	// the generation check and little else.
	results *gencache.Cache[string, *Result]

	stats serviceStats
}

// serviceStats are the counters behind Stats.
type serviceStats struct {
	searches, resultHits, storeSections, storeCards atomic.Uint64
}

// Stats counts what searches cost since the service started: how many were answered, how
// many of those came whole from the result cache, and what the others read from the index
// store. Operators watch them on /metrics; the benchmark prints them.
type Stats struct {
	Searches      uint64 // searches answered (refused queries not counted)
	ResultHits    uint64 // answered whole from the result cache
	StoreSections uint64 // sections ranked from the store (their page was not cached)
	StoreCards    uint64 // result cards read from the store (not cached)
}

// Stats returns the counters so far.
func (s *Service) Stats() Stats {
	return Stats{
		Searches:      s.stats.searches.Load(),
		ResultHits:    s.stats.resultHits.Load(),
		StoreSections: s.stats.storeSections.Load(),
		StoreCards:    s.stats.storeCards.Load(),
	}
}

// New returns a Service. Autocomplete answers (empty) at once and fills in with the first
// refresh Run does.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Analyzer == nil {
		return nil, errors.New("search: a store and an analyzer are required")
	}
	s := &Service{
		store:   opts.Store,
		an:      opts.Analyzer,
		log:     opts.Logger,
		viewers: opts.LiveViewers,
		window:  opts.Window,
		bus:     opts.Bus,
		refresh: opts.RefreshInterval,
		df:      newDFCache(opts.Store, 5*time.Minute),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.window <= 0 {
		s.window = DefaultWindow
	}
	s.window = min(s.window, MaxWindow)
	if s.refresh <= 0 {
		s.refresh = 30 * time.Second
	}
	s.ac = NewAutocomplete(opts.Store.SuggestionData)
	if opts.RankCache >= 0 {
		s.pages = newPageCache(cmp.Or(opts.RankCache, DefaultRankCache))
		s.cards = newCardCache(cardCacheSize)
		s.categories = gencache.New[string, int64](categoryCacheSize)
		s.terms = gencache.New[string, []analysis.Term](termCacheSize)
		s.results = gencache.New[string, *Result](resultCacheSize)
	}
	return s, nil
}

// Query is a search request. Text is the user's text, untrusted.
type Query struct {
	Text string
	// Category is a category slug to filter by, "" for every category.
	Category string
	// Section asks for one section only ("" for all three); paging needs it.
	Section Section
	// Limit is the page size per section: 0 for DefaultLimit, capped at MaxLimit.
	Limit int
	// Cursor continues a previous page of Section (Result.Next); "" for the first page.
	Cursor string
}

// Result holds one page per section, best first.
type Result struct {
	Live     []Hit
	Channels []Hit
	Past     []Hit
	// Next is the cursor of the next page when Query.Section was given and more results
	// exist, else "".
	Next string
	// Terms are the analysed words of the query, for highlighting.
	Terms []string
	// Generation is the index generation the result was read under (0 when the service
	// caches nothing): while it is current, a hit's card (all but Viewers) stays the same
	// for its DocID.
	Generation int64
}

// Search answers a query: the sections it asks for, ranked as the package comment says. A
// bad query gives one of the package's errors, never an internal failure. The result may be
// shared with other callers asking the same: it must not be modified.
func (s *Service) Search(ctx context.Context, q Query) (*Result, error) {
	if utf8.RuneCountInString(q.Text) > MaxQueryRunes {
		return nil, ErrQueryTooLong
	}
	sections := Sections
	if q.Section != "" {
		if !validSection(q.Section) {
			return nil, ErrUnknownSection
		}
		sections = []Section{q.Section}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	var gen int64
	if s.pages != nil {
		var err error
		if gen, err = s.store.Generation(ctx); err != nil {
			return nil, fmt.Errorf("search: index generation: %w", err)
		}
	}
	key := resultKey(q, limit)
	if res, ok := s.results.Get(key, gen); ok {
		s.stats.searches.Add(1)
		s.stats.resultHits.Add(1)
		return s.withViewers(res), nil
	}
	res, err := s.search(ctx, q, sections, limit, gen)
	if err != nil {
		return nil, err
	}
	s.stats.searches.Add(1)
	s.results.Put(key, res, gen)
	return s.withViewers(res), nil
}

// resultKey identifies a whole result in the cache: the query as asked, the limit as
// applied.
func resultKey(q Query, limit int) string {
	return q.Text + "\x00" + q.Category + "\x00" + string(q.Section) + "\x00" + strconv.Itoa(limit) + "\x00" + q.Cursor
}

// withViewers returns res with the current viewers of its live hits: the order of a cached
// page may be as old as its generation, its counts are not. res, which may be cached,
// stays as it was.
func (s *Service) withViewers(res *Result) *Result {
	if s.viewers == nil || len(res.Live) == 0 {
		return res
	}
	fresh := *res
	fresh.Live = slices.Clone(res.Live)
	for i := range fresh.Live {
		if v, ok := s.viewers(fresh.Live[i].ChannelID); ok {
			fresh.Live[i].Viewers = v
		}
	}
	return &fresh
}

// search answers q under the index generation gen, from the cached pages and cards where
// it can.
func (s *Service) search(ctx context.Context, q Query, sections []Section, limit int, gen int64) (*Result, error) {
	window := s.windowFor(limit)
	terms, err := s.analyse(ctx, q.Text)
	if err != nil {
		return nil, fmt.Errorf("analyse query: %w", err)
	}
	if len(terms) > MaxQueryTerms {
		terms = terms[:MaxQueryTerms]
	}
	var categoryID int64
	if q.Category != "" {
		if categoryID, err = s.categoryID(ctx, q.Category, gen); err != nil {
			return nil, err
		}
	}
	groups := groupsOf(terms)
	if len(groups) == 0 && categoryID == 0 {
		return nil, ErrEmptyQuery
	}

	fingerprint := queryFingerprint(groups, categoryID)
	var at pagePos
	if q.Cursor != "" {
		if q.Section == "" {
			return nil, ErrBadCursor
		}
		if at, err = decodeCursor(q.Cursor, q.Section, fingerprint); err != nil {
			return nil, err
		}
	}

	res := &Result{Generation: gen}
	for _, t := range terms {
		res.Terms = append(res.Terms, t.Text)
	}
	pages := make([][]Candidate, len(sections))
	nexts := make([]*pagePos, len(sections))
	var todo []int // sections not in the cache
	keys := make([]string, len(sections))
	for i, sec := range sections {
		keys[i] = pageKey(sec, fingerprint, at, limit, window)
		var ok bool
		if pages[i], nexts[i], ok = s.pages.get(keys[i], gen); !ok {
			todo = append(todo, i)
		}
	}
	s.stats.storeSections.Add(uint64(len(todo)))
	var first [][]Candidate // first windows of the sections in todo, fetched together
	if bs, ok := s.store.(BatchStore); ok && len(todo) > 1 {
		ms := make([]Match, len(todo))
		for j, i := range todo {
			ms[j] = Match{Section: sections[i], CategoryID: categoryID, Groups: groups, BeforeID: at.beforeID}
		}
		w := window
		if at.offset > 0 && at.window > 0 {
			w = at.window // as section would fetch it
		}
		if first, err = bs.CandidatesBatch(ctx, ms, w); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
	}
	for j, i := range todo {
		m := Match{Section: sections[i], CategoryID: categoryID, Groups: groups}
		var first1 []Candidate
		if first != nil {
			first1 = first[j]
		}
		if pages[i], nexts[i], err = s.section(ctx, m, at, limit, window, first1); err != nil {
			return nil, err
		}
		s.pages.put(keys[i], gen, pages[i], nexts[i])
	}
	var ids []int64
	for i, sec := range sections {
		page, next := pages[i], nexts[i]
		for _, c := range page {
			ids = append(ids, c.DocID)
		}
		if next != nil && q.Section != "" {
			res.Next = encodeCursor(sec, *next, fingerprint)
		}
	}
	if len(ids) == 0 {
		return res, nil
	}
	cards, missing := s.cards.get(ids, gen)
	if len(missing) > 0 {
		s.stats.storeCards.Add(uint64(len(missing)))
		fresh, err := s.store.Hits(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("search: load results: %w", err)
		}
		s.cards.put(fresh, gen)
		for id, h := range fresh {
			cards[id] = h
		}
	}
	for i, sec := range sections {
		var hits []Hit
		for _, c := range pages[i] {
			h, ok := cards[c.DocID]
			if !ok {
				continue // deleted between the two reads
			}
			h.Section, h.DocID, h.Score, h.Viewers = sec, c.DocID, c.Score, c.Viewers
			hits = append(hits, h)
		}
		switch sec {
		case SectionLive:
			res.Live = hits
		case SectionChannels:
			res.Channels = hits
		case SectionPast:
			res.Past = hits
		}
	}
	return res, nil
}

// analyse returns the terms of a query text, from the cache when the text was analysed
// before (popular searches repeat; analysis is a tenth of a cached search's work).
func (s *Service) analyse(ctx context.Context, text string) ([]analysis.Term, error) {
	if terms, ok := s.terms.Get(text, 0); ok {
		return terms, nil
	}
	terms, err := s.an.Terms(ctx, text)
	if err != nil {
		return nil, err
	}
	s.terms.Put(text, terms, 0)
	return terms, nil
}

// categoryID returns the ID of the category with the slug, cached under the index
// generation gen (0 when the service caches nothing).
func (s *Service) categoryID(ctx context.Context, slug string, gen int64) (int64, error) {
	if id, ok := s.categories.Get(slug, gen); ok {
		return id, nil
	}
	c, err := s.store.CategoryBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrUnknownCategory
	}
	if err != nil {
		return 0, fmt.Errorf("search: category %q: %w", slug, err)
	}
	s.categories.Put(slug, c.ID, gen)
	return c.ID, nil
}

// pagePos is where a page starts: offset into the ranking of the window of documents older
// than beforeID (0: the newest window), and that window's size when offset is not 0 (the
// rest of a window is only the same rest when the window is the same size, whatever the
// page size of the next request).
type pagePos struct {
	beforeID int64
	offset   int
	window   int
}

// windowFor returns the window a section ranks for pages of limit documents.
func (s *Service) windowFor(limit int) int {
	return min(s.window, max(MinWindow, WindowPages*limit))
}

// pageKey identifies a ranked page in the cache.
func pageKey(sec Section, fingerprint string, at pagePos, limit, window int) string {
	return string(sec) + "|" + fingerprint + "|" + strconv.FormatInt(at.beforeID, 10) + "|" +
		strconv.Itoa(at.offset) + "|" + strconv.Itoa(at.window) + "|" + strconv.Itoa(limit) +
		"|" + strconv.Itoa(window)
}

// section returns one page of a section and where the next page starts (nil at the end).
// Documents are ranked window by window: the newest window matches, then the next older
// window, and so on, so every page costs at most a window or two whatever its depth, and
// pages never repeat or skip a document. A window begun by an earlier page (at.offset > 0)
// keeps its size; new windows take window. first, when not nil, is the window at at,
// already fetched.
func (s *Service) section(ctx context.Context, m Match, at pagePos, limit, window int, first []Candidate) ([]Candidate, *pagePos, error) {
	var page []Candidate
	for {
		m.BeforeID = at.beforeID
		if at.offset == 0 || at.window <= 0 {
			at.window = window
		}
		cands := first
		first = nil
		if cands == nil {
			var err error
			if cands, err = s.store.Candidates(ctx, m, at.window); err != nil {
				return nil, nil, fmt.Errorf("search %s: %w", m.Section, err)
			}
		}
		if err := s.rank(ctx, m, cands); err != nil {
			return nil, nil, err
		}
		if at.offset < len(cands) {
			end := min(len(cands), at.offset+limit-len(page))
			page = append(page, cands[at.offset:end]...)
			at.offset = end
		}
		full := len(cands) == at.window
		switch {
		case at.offset < len(cands) && len(page) == limit:
			return page, &at, nil // more in this window
		case !full:
			return page, nil, nil // this window was the last
		}
		// The window is used up and older documents may match: continue with those.
		at = pagePos{beforeID: minDocID(cands), window: window}
		if len(page) == limit {
			return page, &at, nil
		}
	}
}

// rank ranks a window of documents m matches.
func (s *Service) rank(ctx context.Context, m Match, cands []Candidate) error {
	var err error
	if m.Section == SectionLive && s.viewers != nil {
		for i := range cands {
			if v, ok := s.viewers(cands[i].ChannelID); ok {
				cands[i].Viewers = v
			}
		}
	}
	var sc *scorer
	if len(m.Groups) > 0 {
		df, total := map[string]int(nil), 0
		if len(m.Groups) > 1 {
			// One group's IDF scales every score alike and cannot change the order.
			if df, total, err = s.df.get(ctx, firstTokens(m.Groups)); err != nil {
				return fmt.Errorf("search %s: document frequencies: %w", m.Section, err)
			}
		}
		sc = newScorer(m.Groups, cands, df, total)
	}
	rank(sc, cands)
	return nil
}

func minDocID(cands []Candidate) int64 {
	lowest := cands[0].DocID
	for _, c := range cands[1:] {
		lowest = min(lowest, c.DocID)
	}
	return lowest
}

func firstTokens(groups []Group) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g[0][0]
	}
	return out
}

func validSection(s Section) bool {
	for _, v := range Sections {
		if s == v {
			return true
		}
	}
	return false
}

// queryFingerprint identifies what a query matches, so a cursor is refused for another one.
func queryFingerprint(groups []Group, categoryID int64) string {
	h := fnv.New64a()
	for _, g := range groups {
		for _, alt := range g {
			h.Write([]byte(strings.Join(alt, "\x00")))
			h.Write([]byte{1})
		}
		h.Write([]byte{2})
	}
	h.Write([]byte(strconv.FormatInt(categoryID, 10)))
	return strconv.FormatUint(h.Sum64(), 36)
}

func encodeCursor(sec Section, at pagePos, fingerprint string) string {
	if at.offset == 0 {
		at.window = 0 // a new window takes the size of the request that begins it
	}
	raw := fmt.Sprintf("3|%s|%d|%d|%d|%s", sec, at.beforeID, at.offset, at.window, fingerprint)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// cursorV2Window is the window of every section before windows followed the page size;
// cursors of that version (without a window) still continue where they left off.
const cursorV2Window = 50

func decodeCursor(cursor string, sec Section, fingerprint string) (pagePos, error) {
	if len(cursor) > 120 {
		return pagePos{}, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return pagePos{}, ErrBadCursor
	}
	parts := strings.Split(string(raw), "|")
	window, err3 := cursorV2Window, error(nil)
	switch {
	case len(parts) == 5 && parts[0] == "2":
	case len(parts) == 6 && parts[0] == "3":
		window, err3 = strconv.Atoi(parts[4])
		parts = append(parts[:4], parts[5])
	default:
		return pagePos{}, ErrBadCursor
	}
	if parts[1] != string(sec) || parts[4] != fingerprint {
		return pagePos{}, ErrBadCursor
	}
	before, err1 := strconv.ParseInt(parts[2], 10, 64)
	offset, err2 := strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil || err3 != nil || before < 0 || offset < 0 || before == 0 && offset == 0 {
		return pagePos{}, ErrBadCursor
	}
	if offset == 0 {
		window = 0
	} else if window <= offset || window > MaxWindow {
		return pagePos{}, ErrBadCursor
	}
	return pagePos{beforeID: before, offset: offset, window: window}, nil
}

// Autocomplete returns up to limit suggestions for what the user has typed so far (see
// Autocomplete.Suggest).
func (s *Service) Autocomplete(prefix string, limit int) []Suggestion {
	return s.ac.Suggest(prefix, limit)
}

// RefreshAutocomplete rebuilds autocomplete now (after seeding data, in tests); Run does it
// by itself otherwise.
func (s *Service) RefreshAutocomplete(ctx context.Context) error { return s.ac.Rebuild(ctx) }

// InvalidateAutocomplete asks Run to rebuild autocomplete soon (a channel was renamed, a
// broadcast started). Calls are coalesced.
func (s *Service) InvalidateAutocomplete() { s.ac.Invalidate() }

// Run keeps the service fresh until ctx ends: it builds autocomplete at once and rebuilds
// it every RefreshInterval and shortly after each invalidation or live event, and once the
// analyzer is ready it analyses documents stored while it was loading. It returns nil when
// ctx ends.
func (s *Service) Run(ctx context.Context) error {
	var events <-chan bus.Message
	if s.bus != nil {
		sub, err := s.bus.Subscribe(ctx, live.TopicLive)
		if err != nil {
			return fmt.Errorf("search: subscribe to live events: %w", err)
		}
		defer sub.Close()
		events = sub.C()
	}
	ticker := time.NewTicker(s.refresh)
	defer ticker.Stop()
	ready := s.an.Ready()

	// A burst of events (many broadcasts starting at once) rebuilds once per gap, and the
	// gap grows with the cost of a rebuild, so invalidations never take more than about a
	// tenth of a core however large the site.
	var lastBuild time.Time
	gap := autocompleteMinGap
	var debounce <-chan time.Time
	rebuild := func() {
		lastBuild = time.Now()
		if err := s.ac.Rebuild(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("search: rebuild autocomplete", "err", err)
		}
		gap = max(autocompleteMinGap, 10*time.Since(lastBuild))
	}
	rebuild()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ready:
			ready = nil
			s.analyzePending(ctx)
		case <-ticker.C:
			rebuild()
			if ready == nil {
				s.analyzePending(ctx)
			}
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			s.ac.Invalidate()
		case <-s.ac.invalidated:
			if wait := gap - time.Since(lastBuild); wait > 0 {
				if debounce == nil {
					debounce = time.After(wait)
				}
				continue
			}
			rebuild()
		case <-debounce:
			debounce = nil
			rebuild()
		}
	}
}

// autocompleteMinGap is the shortest time between two rebuilds caused by invalidations.
const autocompleteMinGap = 2 * time.Second

// analyzePending works through documents stored before the analyzer was ready.
func (s *Service) analyzePending(ctx context.Context) {
	total := 0
	for ctx.Err() == nil {
		n, err := s.store.AnalyzePending(ctx, 500)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("search: analyse pending documents", "err", err)
			}
			return
		}
		total += n
		if n == 0 {
			break
		}
	}
	if total > 0 {
		s.log.Info("search: analysed pending documents", "count", total)
	}
}
