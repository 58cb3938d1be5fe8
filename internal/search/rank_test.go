package search

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"

	"github.com/freelylive/freely/internal/search/analysis"
)

// testCand is a candidate with its tokens, counted for a query by counted.
type testCand struct {
	c          Candidate
	name, tags []string
}

func cand(id int64, viewers int, live bool, name, tags []string) testCand {
	return testCand{Candidate{DocID: id, Viewers: viewers, Live: live}, name, tags}
}

// counted returns the candidates as a store would for a match of groups.
func counted(groups []Group, tcs ...testCand) []Candidate {
	ct := NewCounter(Match{Groups: groups})
	out := make([]Candidate, len(tcs))
	for i, tc := range tcs {
		out[i] = tc.c
		ct.countTokens(&out[i], FieldName, tc.name)
		ct.countTokens(&out[i], FieldTags, tc.tags)
	}
	return out
}

func ids(cands []Candidate) []int64 {
	out := make([]int64, len(cands))
	for i, c := range cands {
		out[i] = c.DocID
	}
	return out
}

func TestRankPrefersTitleThenViewersThenRecency(t *testing.T) {
	t.Parallel()
	groups := []Group{{{"롤"}}}
	cands := counted(groups,
		cand(1, 5, false, []string{"방송", "중"}, []string{"롤"}),           // tag only
		cand(2, 1, false, []string{"롤", "솔랭", "방송"}, nil),               // title, few viewers
		cand(3, 90, false, []string{"롤", "솔랭", "방송"}, nil),              // title, many viewers
		cand(4, 90, false, []string{"롤", "자랭", "방송"}, nil),              // same score and viewers, newer
		cand(5, 1000, false, []string{"수다"}, []string{"잡담", "일상", "롤"}), // tag among many, popular
	)
	rank(newScorer(groups, cands, nil, 0), cands)
	// Title matches first; among them (equal scores) viewers, then the newest. A tag that is
	// one of three counts for less than a sole tag, by more than the 10 % band.
	if got, want := ids(cands), []int64{4, 3, 2, 1, 5}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	for _, c := range cands {
		if c.Score <= 0 {
			t.Errorf("doc %d has score %v", c.DocID, c.Score)
		}
	}
}

func TestRankUsesIDFAcrossTerms(t *testing.T) {
	t.Parallel()
	// Both documents hold both words; the rare word in the title wins.
	groups := []Group{{{"롤"}}, {{"한국어"}}}
	cands := counted(groups,
		cand(1, 0, false, []string{"한국어", "방송"}, []string{"롤"}),
		cand(2, 0, false, []string{"롤", "방송"}, []string{"한국어"}),
	)
	df := map[string]int{"롤": 10, "한국어": 9000}
	rank(newScorer(groups, cands, df, 10000), cands)
	if got := ids(cands); got[0] != 2 {
		t.Errorf("order = %v, want the rare word in the title first", got)
	}
}

func TestGroupFrequencyOfDecompoundedAlternative(t *testing.T) {
	t.Parallel()
	groups := []Group{{{"개발자"}, {"개발", "자"}}}
	g := tokenPositions(groups)[0]
	freq := func(name ...string) int {
		c := counted(groups, cand(1, 0, false, name, nil))[0]
		return groupFreq(g, c.Freq, FieldName)
	}
	if n := freq("개발", "자", "개발"); n != 1 {
		t.Errorf("parts: %d, want 1 (the rarer part)", n)
	}
	if n := freq("개발자", "개발", "자", "개발자"); n != 2 {
		t.Errorf("whole: %d, want 2", n)
	}
	if n := freq("개발"); n != 0 {
		t.Errorf("one part only: %d, want 0", n)
	}
}

func TestRankWithoutTermsOrdersByLiveViewersRecency(t *testing.T) {
	t.Parallel()
	cands := counted(nil,
		cand(1, 50, false, nil, nil),
		cand(2, 10, true, nil, nil),
		cand(3, 10, true, nil, nil),
		cand(4, 99, true, nil, nil),
	)
	rank(nil, cands)
	if got, want := ids(cands), []int64{4, 3, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestGroupsOf(t *testing.T) {
	t.Parallel()
	got := groupsOf([]analysis.Term{
		{Text: "개발자", Parts: []string{"개발", "자"}},
		{Text: "롤"},
		{Text: "롤"},
	})
	want := []Group{{{"개발자"}, {"개발", "자"}}, {{"롤"}}}
	if len(got) != len(want) {
		t.Fatalf("groups = %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("groups = %v, want %v", got, want)
		}
		for j := range want[i] {
			if !slices.Equal(got[i][j], want[i][j]) {
				t.Fatalf("groups = %v, want %v", got, want)
			}
		}
	}
	m := Match{Groups: got}
	if toks := m.Tokens(); !slices.Equal(toks, []string{"개발자", "개발", "자", "롤"}) {
		t.Errorf("Tokens = %v", toks)
	}
}

func TestCursorRoundTripAndTampering(t *testing.T) {
	t.Parallel()
	fp := queryFingerprint([]Group{{{"롤"}}}, 0)
	for _, at := range []pagePos{{offset: 24, window: 48}, {beforeID: 9000, offset: 0}, {beforeID: 77, offset: 12, window: 16}} {
		c := encodeCursor(SectionPast, at, fp)
		if got, err := decodeCursor(c, SectionPast, fp); err != nil || got != at {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", at, got, err)
		}
	}
	c := encodeCursor(SectionPast, pagePos{offset: 24, window: 48}, fp)
	// A cursor from before windows followed the page size continues in a window of 50.
	v2 := base64.RawURLEncoding.EncodeToString([]byte("2|past|77|12|" + fp))
	if got, err := decodeCursor(v2, SectionPast, fp); err != nil || got != (pagePos{beforeID: 77, offset: 12, window: 50}) {
		t.Errorf("version 2 cursor: %+v, %v", got, err)
	}
	other := queryFingerprint([]Group{{{"로아"}}}, 0)
	for _, bad := range []struct {
		cursor string
		sec    Section
		fp     string
	}{
		{c, SectionLive, fp},    // another section
		{c, SectionPast, other}, // another query
		{encodeCursor(SectionPast, pagePos{offset: -1}, fp), SectionPast, fp},
		{encodeCursor(SectionPast, pagePos{beforeID: -5, offset: 1}, fp), SectionPast, fp},
		{encodeCursor(SectionPast, pagePos{}, fp), SectionPast, fp},
		{encodeCursor(SectionPast, pagePos{offset: MaxWindow, window: MaxWindow + 1}, fp), SectionPast, fp},
		{encodeCursor(SectionPast, pagePos{offset: 16, window: 16}, fp), SectionPast, fp}, // past its window
		{encodeCursor(SectionPast, pagePos{offset: 5}, fp), SectionPast, fp},              // mid-window, no size
		{base64.RawURLEncoding.EncodeToString([]byte("3|past|1|2|x|" + fp)), SectionPast, fp},
		{"%%%", SectionPast, fp},
		{string(make([]byte, 500)), SectionPast, fp},
	} {
		if _, err := decodeCursor(bad.cursor, bad.sec, bad.fp); !errors.Is(err, ErrBadCursor) {
			t.Errorf("decodeCursor(%.20q) = %v, want ErrBadCursor", bad.cursor, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	fp := queryFingerprint([]Group{{{"롤"}}}, 3)
	f.Add(encodeCursor(SectionLive, pagePos{beforeID: 40, offset: 12, window: 24}, fp))
	f.Add("MnxsaXZlfDB8MTJ8YWJj")
	f.Add("")
	f.Fuzz(func(t *testing.T, cursor string) {
		at, err := decodeCursor(cursor, SectionLive, fp)
		if err == nil && (at.offset < 0 || at.offset >= MaxWindow || at.beforeID < 0 ||
			at.offset > 0 && (at.window <= at.offset || at.window > MaxWindow)) {
			t.Fatalf("accepted %+v from %q", at, cursor)
		}
	})
}

func TestPageCacheFollowsGeneration(t *testing.T) {
	t.Parallel()
	c := newPageCache(4)
	page := []Candidate{{DocID: 7, Score: 1.5, Freq: []int32{1, 0, 0, 0}}}
	c.put("a", 5, page, &pagePos{beforeID: 3})
	got, next, ok := c.get("a", 5)
	if !ok || len(got) != 1 || got[0].DocID != 7 || got[0].Score != 1.5 || next == nil || next.beforeID != 3 {
		t.Fatalf("get = %+v, %+v, %v", got, next, ok)
	}
	if got[0].Freq != nil {
		t.Error("cached candidates keep their token counts")
	}
	got[0].DocID = 99
	if again, _, _ := c.get("a", 5); again[0].DocID != 7 {
		t.Error("a caller's change to a page reached the cache")
	}
	if _, _, ok := c.get("a", 6); ok {
		t.Error("a page of generation 5 served for generation 6")
	}
	c.put("b", 4, page, nil) // late writer of an older generation
	if _, _, ok := c.get("b", 4); ok {
		t.Error("an older generation replaced the current one")
	}
	c.put("b", 6, page, nil) // a newer generation empties the cache
	if _, _, ok := c.get("a", 6); ok {
		t.Error("a page of generation 5 survived generation 6")
	}
	var none *pageCache
	none.put("x", 1, page, nil)
	if _, _, ok := none.get("x", 1); ok {
		t.Error("a disabled cache returned a page")
	}
}

func TestCounterCountsStoredText(t *testing.T) {
	t.Parallel()
	m := Match{Groups: []Group{{{"롤"}}, {{"개발자"}, {"개발", "자"}}}}
	ct := NewCounter(m)
	var c Candidate
	ct.Count(&c, FieldName, "롤 방송 롤")
	ct.Count(&c, FieldTags, "")
	ct.Count(&c, FieldBody, "개발 자  롤롤 개발")
	ct.Count(&c, FieldChannel, "개발자")
	if want := [NumFields]int{3, 0, 4, 1}; c.Len != want {
		t.Errorf("Len = %v, want %v", c.Len, want)
	}
	// Tokens in Match.Tokens order: 롤, 개발자, 개발, 자; fields name, tags, body, channel.
	want := []int32{
		2, 0, 0, 0,
		0, 0, 0, 1,
		0, 0, 2, 0,
		0, 0, 1, 0,
	}
	if !slices.Equal(c.Freq, want) {
		t.Errorf("Freq = %v, want %v", c.Freq, want)
	}
	var other Candidate
	ct.Count(&other, FieldName, "롤")
	if c.Freq[0] != 2 || other.Freq[0] != 1 {
		t.Errorf("candidates share counts: %v, %v", c.Freq[:4], other.Freq[:4])
	}
}

func TestCardCacheFollowsGeneration(t *testing.T) {
	t.Parallel()
	c := newCardCache(4)
	c.put(map[int64]Hit{1: {Title: "a"}, 2: {Title: "b"}}, 5)
	got, missing := c.get([]int64{1, 2, 3}, 5)
	if len(got) != 2 || got[1].Title != "a" || !slices.Equal(missing, []int64{3}) {
		t.Fatalf("get = %v, missing %v", got, missing)
	}
	if got, missing := c.get([]int64{1}, 6); len(got) != 0 || len(missing) != 1 {
		t.Error("a card of generation 5 served for generation 6")
	}
	c.put(map[int64]Hit{3: {Title: "old"}}, 4) // late writer of an older generation
	if got, _ := c.get([]int64{3}, 5); len(got) != 0 {
		t.Error("a card of an older generation was kept")
	}
	c.put(map[int64]Hit{3: {}, 4: {}, 5: {}}, 5) // past the size: the oldest unused go first
	if got, _ := c.get([]int64{1, 2, 3, 4, 5}, 5); len(got) > 4 || len(got) < 2 {
		t.Errorf("after overflow: %d cards", len(got))
	}
	if n := c.c.Len(); n > 4 {
		t.Errorf("a cache of 4 holds %d cards", n)
	}
	var none *cardCache
	none.put(map[int64]Hit{1: {}}, 1)
	if got, missing := none.get([]int64{1}, 1); len(got) != 0 || len(missing) != 1 {
		t.Error("a disabled cache returned a card")
	}
}
