package search

import (
	"context"
	"testing"

	"github.com/freelylive/freely/internal/search/analysis/analysistest"
)

// genStore is a windowStore with cards and an index generation the test moves, counting
// the candidate and card reads.
type genStore struct {
	windowStore
	gen   int64
	hits  int
	cands int
}

func (gs *genStore) Candidates(ctx context.Context, m Match, limit int) ([]Candidate, error) {
	gs.cands++
	return gs.windowStore.Candidates(ctx, m, limit)
}

func (gs *genStore) Hits(_ context.Context, ids []int64) (map[int64]Hit, error) {
	gs.hits++
	out := map[int64]Hit{}
	for _, id := range ids {
		out[id] = Hit{ChannelID: id, Title: "방송", Live: true}
	}
	return out, nil
}

func (gs *genStore) Generation(context.Context) (int64, error) { return gs.gen, nil }

// TestResultCacheFollowsGenerationWithFreshViewers asks the same query again: the second
// answer reads nothing but the generation, yet shows the viewers of now; a new generation
// reads again; the result handed out first is never changed.
func TestResultCacheFollowsGenerationWithFreshViewers(t *testing.T) {
	t.Parallel()
	gs := &genStore{gen: 1}
	for id := int64(30); id > 0; id-- {
		gs.docs = append(gs.docs, Candidate{DocID: id, ChannelID: id, Live: true})
	}
	viewers := 10
	s, err := New(Options{Store: gs, Analyzer: analysistest.Ready(t), LiveViewers: func(int64) (int, bool) { return viewers, true }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q := Query{Text: "방송", Section: SectionLive, Limit: 5}
	first, err := s.Search(ctx, q)
	if err != nil || len(first.Live) != 5 || first.Live[0].Viewers != 10 {
		t.Fatalf("first search: %+v, %v", first, err)
	}
	reads := gs.cands + gs.hits

	viewers = 20
	second, err := s.Search(ctx, q)
	if err != nil || len(second.Live) != 5 {
		t.Fatalf("second search: %+v, %v", second, err)
	}
	if gs.cands+gs.hits != reads {
		t.Errorf("the same query under the same generation read the store again")
	}
	if second.Live[0].Viewers != 20 {
		t.Errorf("cached result shows %d viewers, want the current 20", second.Live[0].Viewers)
	}
	if first.Live[0].Viewers != 10 {
		t.Errorf("refreshing viewers changed a result already handed out: %d", first.Live[0].Viewers)
	}
	if other, err := s.Search(ctx, Query{Text: "방송", Section: SectionLive, Limit: 6}); err != nil || len(other.Live) != 6 {
		t.Errorf("another limit answered from the cache: %d hits, %v", len(other.Live), err)
	}

	gs.gen = 2
	reads = gs.cands + gs.hits
	if _, err := s.Search(ctx, q); err != nil {
		t.Fatal(err)
	}
	if gs.cands == 0 || gs.cands+gs.hits == reads {
		t.Error("a new generation was answered from the cache")
	}
}

// TestStatsCountWhatSearchesRead: a fresh search ranks its section and reads its cards from
// the store, the same search again is a result-cache hit, another page size reuses the
// cards, a refused query counts nothing.
func TestStatsCountWhatSearchesRead(t *testing.T) {
	t.Parallel()
	gs := &genStore{gen: 1}
	for id := int64(30); id > 0; id-- {
		gs.docs = append(gs.docs, Candidate{DocID: id, ChannelID: id, Live: true})
	}
	s, err := New(Options{Store: gs, Analyzer: analysistest.Ready(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q := Query{Text: "방송", Section: SectionLive, Limit: 5}
	for range 2 {
		if _, err := s.Search(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Search(ctx, Query{Text: "방송", Section: SectionLive, Limit: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(ctx, Query{Text: "ㅋㅋ"}); err == nil {
		t.Fatal("a query of no words was answered")
	}
	want := Stats{Searches: 3, ResultHits: 1, StoreSections: 2, StoreCards: 5}
	if got := s.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}
