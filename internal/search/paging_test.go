package search

import (
	"context"
	"slices"
	"testing"
)

// windowStore holds one section of documents, all matching, and records how many it was
// asked for each time.
type windowStore struct {
	Store
	docs  []Candidate // newest first
	asked []int
}

func (ws *windowStore) Candidates(_ context.Context, m Match, limit int) ([]Candidate, error) {
	ws.asked = append(ws.asked, limit)
	var out []Candidate
	for _, c := range ws.docs {
		if (m.BeforeID == 0 || c.DocID < m.BeforeID) && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

// TestPagingFollowsPageSizeWithoutRepeatsOrGaps pages through a section with page sizes
// that change from one request to the next (the API lets a client do that): the windows
// follow the page size, and every document comes exactly once.
func TestPagingFollowsPageSizeWithoutRepeatsOrGaps(t *testing.T) {
	t.Parallel()
	ws := &windowStore{}
	for id := int64(300); id > 0; id-- {
		// Viewers out of step with age, so ranking reorders every window.
		ws.docs = append(ws.docs, Candidate{DocID: id, ChannelID: id, Viewers: int(id*7919) % 101})
	}
	s := &Service{store: ws, window: DefaultWindow}
	ctx := context.Background()
	m := Match{Section: SectionPast, CategoryID: 1}

	var seen []int64
	at := pagePos{}
	limits := []int{8, 24, 5, 50, 12, 3, 24, 7}
	for i := 0; ; i++ {
		limit := limits[i%len(limits)]
		ws.asked = nil
		page, next, err := s.section(ctx, m, at, limit, s.windowFor(limit), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > limit {
			t.Fatalf("page %d: %d documents for a limit of %d", i, len(page), limit)
		}
		for _, n := range ws.asked {
			if n > DefaultWindow || n < MinWindow {
				t.Fatalf("page %d (limit %d) fetched a window of %d", i, limit, n)
			}
		}
		if at.offset == 0 && ws.asked[0] != s.windowFor(limit) {
			t.Errorf("page %d: first window %d for a limit of %d, want %d", i, ws.asked[0], limit, s.windowFor(limit))
		}
		for _, c := range page {
			seen = append(seen, c.DocID)
		}
		if next == nil {
			break
		}
		// Through the cursor, as a client would send it back.
		fp := queryFingerprint(nil, 1)
		if at, err = decodeCursor(encodeCursor(SectionPast, *next, fp), SectionPast, fp); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(seen)
	for i, id := range seen {
		if id != int64(i+1) || len(seen) != len(ws.docs) {
			t.Fatalf("paged %d documents, want each of %d once; sorted: %v", len(seen), len(ws.docs), seen)
		}
	}

	// Ranking happens within a window of twice the page: the first page of 8 is the best
	// of the newest 16.
	ws.asked = nil
	page, _, err := s.section(ctx, m, pagePos{}, 8, s.windowFor(8), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(ws.docs[:16])
	rank(nil, want)
	if !slices.Equal(ids(page), ids(want[:8])) || !slices.Equal(ws.asked, []int{16}) {
		t.Errorf("first page of 8: %v (windows %v), want %v from one window of 16", ids(page), ws.asked, ids(want[:8]))
	}
}
