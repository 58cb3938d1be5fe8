package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/demo"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// corpus is the Korean stream snapshot loaded through the real stores: 100 channels, each
// record a session of channel i%100; the last 100 records stay live, the others ended.
type corpus struct {
	*searchFixture
	streams   []demo.Stream
	bySession map[int64]int // session ID → record
}

const corpusChannels = 100

func loadCorpus(t *testing.T, db *sqlstore.DB) *corpus {
	t.Helper()
	streams, err := demo.Streams()
	if err != nil {
		t.Fatal(err)
	}
	c := &corpus{searchFixture: newSearchFixture(t, db), streams: streams, bySession: map[int64]int{}}
	chans := make([]*channel.Channel, corpusChannels)
	for i := range chans {
		chans[i] = c.createChannel(t, fmt.Sprintf("kr_%03d", i), fmt.Sprintf("방송인%d", i), "", streams[i].Category)
	}
	for i, s := range streams {
		var tags []string
		for _, tag := range s.Tags {
			if n, err := channel.NormalizeTag(tag); err == nil && !slices.Contains(tags, n) {
				tags = append(tags, n)
			}
		}
		sess := c.openSession(t, chans[i%corpusChannels], s.Title, s.Category, s.Viewers, tags...)
		c.bySession[sess.ID] = i
		if i < len(streams)-corpusChannels {
			c.closeSession(t, sess)
		}
	}
	return c
}

// all collects every hit of the session sections (live and past) for text, paging through.
func (c *corpus) all(t *testing.T, text, category string) []int {
	t.Helper()
	var recs []int
	for _, sec := range []search.Section{search.SectionLive, search.SectionPast} {
		cursor := ""
		for page := 0; ; page++ {
			res := c.search(t, search.Query{Text: text, Category: category, Section: sec, Limit: search.MaxLimit, Cursor: cursor})
			for _, h := range append(res.Live, res.Past...) {
				r, ok := c.bySession[h.SessionID]
				if !ok {
					t.Fatalf("hit for unknown session %d", h.SessionID)
				}
				if slices.Contains(recs, r) {
					t.Fatalf("%q: session %d on two pages", text, h.SessionID)
				}
				recs = append(recs, r)
			}
			if res.Next == "" {
				break
			}
			if page > 30 {
				t.Fatal("paging does not end")
			}
			cursor = res.Next
		}
	}
	slices.Sort(recs)
	return recs
}

func (c *corpus) hasTag(r int, tags ...string) bool {
	for _, have := range c.streams[r].Tags {
		for _, want := range tags {
			if strings.EqualFold(have, want) {
				return true
			}
		}
	}
	return false
}

func (c *corpus) titleHas(r int, words ...string) bool {
	title := strings.ToLower(c.streams[r].Title)
	for _, w := range words {
		if strings.Contains(title, w) {
			return true
		}
	}
	return false
}

// textHas reports whether the record's title or one of its tags contains one of words.
func (c *corpus) textHas(r int, words ...string) bool {
	text := strings.ToLower(c.streams[r].Title + "\n" + strings.Join(c.streams[r].Tags, "\n"))
	for _, w := range words {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// records returns the records satisfying pred.
func (c *corpus) records(pred func(r int) bool) []int {
	var out []int
	for r := range c.streams {
		if pred(r) {
			out = append(out, r)
		}
	}
	return out
}

// expectFound checks that every record of want is among got, and that want is not empty
// (the case would prove nothing).
func expectFound(t *testing.T, what string, got, want []int) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the corpus holds no such record; the case proves nothing", what)
	}
	for _, r := range want {
		if !slices.Contains(got, r) {
			t.Errorf("%s: record %d not found", what, r)
		}
	}
}

func TestSearchRelevanceOnKoreanStreams(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		c := loadCorpus(t, db)
		lol := []string{"롤", "리그오브레전드", "lol"}
		loa := []string{"로아", "로스트아크", "lostark"}

		got := c.all(t, "롤", "")
		expectFound(t, "롤 finds content tagged only 리그오브레전드", got, c.records(func(r int) bool {
			return c.hasTag(r, "리그오브레전드") && !c.hasTag(r, "롤", "lol") && !c.titleHas(r, "롤")
		}))
		expectFound(t, "롤 finds 롤 in titles", got, c.records(func(r int) bool {
			return c.titleHas(r, "롤 ") || c.streams[r].Title == "롤"
		}))
		for _, r := range got {
			if !c.textHas(r, lol...) && c.streams[r].Category != "league-of-legends" {
				t.Errorf("롤 found record %d, which is about something else: %q %v", r, c.streams[r].Title, c.streams[r].Tags)
			}
		}
		if other := c.all(t, "리그오브레전드", ""); !slices.Equal(other, got) {
			t.Errorf("롤 and 리그오브레전드 find different records: %d vs %d", len(got), len(other))
		}
		if other := c.all(t, "LoL", ""); !slices.Equal(other, got) {
			t.Errorf("롤 and LoL find different records: %d vs %d", len(got), len(other))
		}

		got = c.all(t, "로아", "")
		expectFound(t, "로아 finds content tagged only 로스트아크", got, c.records(func(r int) bool {
			return c.hasTag(r, "로스트아크") && !c.hasTag(r, "로아") && !c.titleHas(r, "로아")
		}))
		for _, r := range got {
			if !c.textHas(r, append(loa, "lost ark")...) && c.streams[r].Category != "lost-ark" {
				t.Errorf("로아 found record %d, which is about something else: %q %v", r, c.streams[r].Title, c.streams[r].Tags)
			}
			if strings.Contains(c.streams[r].Title, "크로아") && !c.hasTag(r, loa...) {
				t.Errorf("로아 found 크로아 (a game class) in record %d", r)
			}
		}
		// The snapshot has no 로아-only record, so one is added: a title and nothing else.
		ch := c.createChannel(t, "loa_only", "숙제하는사람", "")
		s := c.openSession(t, ch, "로아 주간 숙제", "", 1)
		if res := c.search(t, search.Query{Text: "로스트아크", Section: search.SectionLive, Limit: search.MaxLimit}); !slices.ContainsFunc(res.Live, func(h search.Hit) bool { return h.SessionID == s.ID }) {
			t.Error("로스트아크 does not find a title that says 로아")
		}
		c.closeSession(t, s)

		expectFound(t, "버튜버 finds content tagged only vtuber or 브이튜버", c.all(t, "버튜버", ""), c.records(func(r int) bool {
			return c.hasTag(r, "vtuber", "브이튜버") && !c.hasTag(r, "버튜버")
		}))

		expectFound(t, "소리 finds the decompounded 목소리", c.all(t, "소리", ""), c.records(func(r int) bool {
			return c.hasTag(r, "목소리") && !c.titleHas(r, "소리")
		}))
		// Sound and shape words and tag slang that analysis used to drop whole.
		for _, word := range []string{"나긋나긋", "두근두근", "아싸"} {
			want := c.records(func(r int) bool { return c.hasTag(r, word) || c.titleHas(r, word) })
			if len(want) == 0 {
				t.Errorf("the snapshot no longer has %s: pick another word", word)
			}
			expectFound(t, word+" finds its tags and titles", c.all(t, word, ""), want)
		}
		expectFound(t, "발로란트 stays whole and finds itself", c.all(t, "발로란트", ""), c.records(func(r int) bool {
			return c.hasTag(r, "발로란트")
		}))
		if a, b := c.all(t, "발로란트", ""), c.all(t, "valorant", ""); !slices.Equal(a, b) {
			t.Errorf("발로란트 and valorant find different records: %d vs %d", len(a), len(b))
		}

		// Filters.
		for _, r := range c.all(t, "롤", "lost-ark") {
			if c.streams[r].Category != "lost-ark" {
				t.Errorf("category filter let through record %d (%s)", r, c.streams[r].Category)
			}
		}
		liveCats := map[string]int{}
		for r := len(c.streams) - corpusChannels; r < len(c.streams); r++ {
			liveCats[c.streams[r].Category]++
		}
		browsed, most := "", 0
		for slug, n := range liveCats {
			if n > most || n == most && slug < browsed {
				browsed, most = slug, n
			}
		}
		browse := c.search(t, search.Query{Category: browsed, Section: search.SectionLive, Limit: search.MaxLimit})
		if len(browse.Live) != most {
			t.Errorf("browsing %s: %d live sessions, want %d", browsed, len(browse.Live), most)
		}
		if len(browse.Live) == 0 {
			t.Fatal("browsing a category found no live session")
		}
		for i, h := range browse.Live {
			if h.Category == nil || h.Category.Slug != browsed {
				t.Errorf("browse: hit %d in category %v", i, h.Category)
			}
			if i > 0 && h.Viewers > browse.Live[i-1].Viewers {
				t.Errorf("browse: live hits not by viewers: %d after %d", h.Viewers, browse.Live[i-1].Viewers)
			}
		}

		// Sections hold what they say.
		res := c.search(t, search.Query{Text: "롤"})
		for _, h := range res.Live {
			if !h.Live {
				t.Errorf("live section holds an ended session %d", h.SessionID)
			}
		}
		for _, h := range res.Past {
			if h.Live {
				t.Errorf("past section holds a live session %d", h.SessionID)
			}
		}
		if len(res.Live) == 0 || len(res.Past) == 0 || len(res.Channels) == 0 {
			t.Errorf("롤: live %d, channels %d, past %d; want all sections filled", len(res.Live), len(res.Channels), len(res.Past))
		}

		// Autocomplete from the same data.
		ctx := context.Background()
		if err := c.svc.RefreshAutocomplete(ctx); err != nil {
			t.Fatal(err)
		}
		for prefix, want := range map[string]string{"ㄹㅅㅌㅇㅋ": "로스트아크", "ㅂㄱ": "배그", "발로": "발로란트", "리그": "리그오브레전드", "ㅂㅌㄱㄹㅇㄷ": "배틀그라운드"} {
			var got []string
			for _, s := range c.svc.Autocomplete(prefix, search.MaxSuggestions) {
				got = append(got, s.Text)
			}
			if !slices.Contains(got, want) {
				t.Errorf("Autocomplete(%q) = %v, missing %q", prefix, got, want)
			}
		}
	})
}

// TestSearchServiceRunRefreshesAutocomplete checks that a live event on the bus brings a new
// broadcast into autocomplete without waiting for the periodic refresh.
func TestSearchServiceRunRefreshesAutocomplete(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	f := newSearchFixture(t, db)
	b := mem.New(mem.Options{})
	t.Cleanup(func() { b.Close() })
	svc, err := search.New(search.Options{Store: f.ix, Analyzer: readyAnalyzer(t), Bus: b, RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	ch := f.createChannel(t, "night_owl", "올빼미", "")
	f.openSession(t, ch, "새벽 테트리스 대회", "", 7, "테트리스")
	// Keep announcing until Run has subscribed and rebuilt: the subscription starts at an
	// unknown moment after Run begins.
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if got := svc.Autocomplete("ㅅㅂ ㅌㅌ", 5); len(got) > 0 {
			if got[0].Kind != search.SuggestionTitle || got[0].Handle != "night_owl" || !got[0].Live {
				t.Fatalf("suggestion = %+v", got[0])
			}
			return
		}
		select {
		case <-deadline:
			t.Fatal("autocomplete never picked up the new broadcast")
		case <-tick.C:
			if err := b.Publish(ctx, live.TopicLive, []byte(`{"v":1,"type":"live.started"}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
}
