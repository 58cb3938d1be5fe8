package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/demo"
	"github.com/freelylive/freely/internal/search/analysis"
)

// streamData turns the Korean stream snapshot into autocomplete material: the first live
// streams live (with their viewers), the rest ended, on channels named after their order.
func streamData(t testing.TB, liveCount int) *SuggestionData {
	t.Helper()
	streams, err := demo.Streams()
	if err != nil {
		t.Fatal(err)
	}
	slugs := map[string]int64{}
	data := &SuggestionData{}
	for i, c := range channel.SeedCategories {
		c.ID = int64(i + 1)
		slugs[c.Slug] = c.ID
		data.Categories = append(data.Categories, c)
	}
	for i, s := range streams {
		handle := fmt.Sprintf("streamer_%d", i)
		live := i < liveCount
		data.Sessions = append(data.Sessions, SuggestSession{
			Handle: handle, Title: s.Title, Tags: s.Tags, CategoryID: slugs[s.Category], Live: live, Viewers: s.Viewers,
		})
		data.Channels = append(data.Channels, SuggestChannel{Handle: handle, DisplayName: fmt.Sprintf("스트리머%d", i), Live: live})
	}
	return data
}

func builtAutocomplete(t testing.TB, data *SuggestionData) *Autocomplete {
	t.Helper()
	a := NewAutocomplete(func(context.Context) (*SuggestionData, error) { return data, nil })
	if err := a.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func texts(ss []Suggestion) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s.Kind) + ":" + s.Text
	}
	return out
}

func TestAutocompleteOnKoreanStreams(t *testing.T) {
	t.Parallel()
	a := builtAutocomplete(t, streamData(t, 100))
	if a.Len() < 1000 {
		t.Fatalf("index holds %d suggestions", a.Len())
	}
	cases := []struct {
		prefix string
		want   []string // each must be among the suggestions
	}{
		{"ㄹㅅㅌㅇㅋ", []string{"tag:로스트아크", "category:로스트아크"}},
		{"ㅂㄱ", []string{"tag:배그"}},
		{"로스트 아크", []string{"tag:로스트아크"}},
		{"로스트아", []string{"tag:로스트아크"}},
		{"롯", []string{"tag:로스트아크"}}, // 로 + ㅅ being typed
		{"발로", []string{"tag:발로란트"}},
		{"ㅂㄹㄹㅌ", []string{"tag:발로란트"}},
		{"lost", []string{"category:Lost Ark"}},
		{"LOST A", []string{"category:Lost Ark"}},
		{"리그 오브", []string{"category:리그 오브 레전드"}},
		{"streamer_1", []string{"channel:스트리머1"}},
		{"ｖｔｕ", []string{"tag:Vtuber"}},
	}
	for _, c := range cases {
		got := texts(a.Suggest(c.prefix, MaxSuggestions))
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("Suggest(%q) = %v, missing %q", c.prefix, got, w)
			}
		}
	}
	for _, prefix := range []string{"", "   ", "😀", "!!!", strings.Repeat("가", 5000)} {
		if got := a.Suggest(prefix, 10); len(got) != 0 {
			t.Errorf("Suggest(%.20q) = %v, want none", prefix, texts(got))
		}
	}
}

func TestAutocompleteEverySuggestionMatchesAndLiveComesFirst(t *testing.T) {
	t.Parallel()
	a := builtAutocomplete(t, streamData(t, 100))
	for _, prefix := range []string{"롤", "로", "ㄹ", "ㅂ", "배", "원신", "마", "v", "스트리머", "ㅅㅌㄹㅁ"} {
		got := a.Suggest(prefix, MaxSuggestions)
		if len(got) == 0 {
			t.Errorf("Suggest(%q): nothing", prefix)
			continue
		}
		seenNotLive := false
		for _, s := range got {
			if !wordStartMatches(s, prefix) {
				t.Errorf("Suggest(%q) gave %q, which has no word starting with it", prefix, s.Text)
			}
			if !s.Live {
				seenNotLive = true
			} else if seenNotLive && (s.Kind == SuggestionTitle || s.Kind == SuggestionChannel) {
				t.Errorf("Suggest(%q): live %q after a suggestion that is not live: %v", prefix, s.Text, texts(got))
			}
		}
	}
	if got := a.Suggest("롤", 3); len(got) != 3 {
		t.Errorf("limit 3 gave %d", len(got))
	}
	if got := a.Suggest("ㄹ", 1000); len(got) != MaxSuggestions {
		t.Errorf("limit is capped: got %d", len(got))
	}
}

func wordStartMatches(s Suggestion, prefix string) bool {
	q := keyOf(prefix)
	keys := wordStartKeys(s.Text)
	if s.Kind == SuggestionChannel {
		keys = append(keys, keyOf(s.Handle))
	}
	for _, k := range keys {
		if matchKey(k, q) {
			return true
		}
	}
	return false
}

// TestAutocompleteFindsWhatAScanFinds compares the index with a plain scan over every key.
func TestAutocompleteFindsWhatAScanFinds(t *testing.T) {
	t.Parallel()
	data := streamData(t, 300)
	a := builtAutocomplete(t, data)
	idx := a.index.Load()
	for _, prefix := range []string{"롤", "로", "롯", "ㄹㅇ", "배그", "ㅂ", "원", "신입", "a", "lo", "마크", "ㅁㅋ", "한국", "힐"} {
		q := keyOf(prefix)
		var want []int
		for i, e := range idx.entries {
			keys := wordStartKeys(e.s.Text)
			if e.s.Kind == SuggestionChannel {
				keys = append(keys, keyOf(e.s.Handle))
			}
			for _, k := range keys {
				if matchKey(k, q) {
					want = append(want, i)
					break
				}
			}
		}
		// The best MaxSuggestions by weight (ties: any order) must be what Suggest returns.
		sort.SliceStable(want, func(i, j int) bool { return idx.entries[want[i]].weight > idx.entries[want[j]].weight })
		got := a.Suggest(prefix, MaxSuggestions)
		if len(got) != min(len(want), MaxSuggestions) {
			t.Errorf("Suggest(%q): %d suggestions, a scan finds %d", prefix, len(got), len(want))
			continue
		}
		if len(got) == 0 {
			continue
		}
		minWeight := idx.entries[want[len(got)-1]].weight
		for _, s := range got {
			if w := weightOf(idx, s); w < minWeight {
				t.Errorf("Suggest(%q) returned %q (weight %d) below the scan's cut %d", prefix, s.Text, w, minWeight)
			}
		}
	}
}

func keyOf(s string) string     { return analysis.Key(s) }
func matchKey(k, q string) bool { return analysis.MatchPrefix(k, q) }

func weightOf(idx *acIndex, s Suggestion) int {
	for _, e := range idx.entries {
		if e.s == s {
			return e.weight
		}
	}
	return -1
}

func TestAutocompleteRebuildSwapsAtomically(t *testing.T) {
	t.Parallel()
	data := &SuggestionData{Channels: []SuggestChannel{{Handle: "old_name", DisplayName: "옛이름"}}}
	a := NewAutocomplete(func(context.Context) (*SuggestionData, error) { return data, nil })
	if got := a.Suggest("옛", 5); len(got) != 0 {
		t.Fatalf("before the first build: %v", texts(got))
	}
	if err := a.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := a.Suggest("ㅇㅇ", 5); len(got) != 1 || got[0].Handle != "old_name" {
		t.Fatalf("after build: %v", texts(got))
	}
	data = &SuggestionData{Channels: []SuggestChannel{{Handle: "new_name", DisplayName: "새이름"}}}
	if err := a.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := a.Suggest("옛", 5); len(got) != 0 {
		t.Errorf("renamed channel still suggested: %v", texts(got))
	}
	if got := a.Suggest("새", 5); len(got) != 1 {
		t.Errorf("new name not suggested: %v", texts(got))
	}
}

// BenchmarkAutocomplete measures lookups on an index of the size the benchmark tool loads
// (50,000 channels and 2,000 live titles recombined from the snapshot).
func BenchmarkAutocomplete(b *testing.B) {
	data := syntheticData(b, 50_000, 2_000)
	a := builtAutocomplete(b, data)
	prefixes := []string{"롤", "로", "ㄹㅅ", "ㅂㄱ", "발로", "원신", "스트리머1", "ㅁ", "신입", "lo", "배그 솔"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		a.Suggest(prefixes[i%len(prefixes)], DefaultSuggestions)
	}
}

func syntheticData(tb testing.TB, channels, lives int) *SuggestionData {
	base := streamData(tb, 0)
	r := rand.New(rand.NewPCG(1, 2))
	data := &SuggestionData{Categories: base.Categories}
	for i := range channels {
		data.Channels = append(data.Channels, SuggestChannel{Handle: fmt.Sprintf("ch_%d", i), DisplayName: fmt.Sprintf("스트리머%d", i), Live: i < lives})
	}
	for i := range lives {
		x, y := base.Sessions[r.IntN(len(base.Sessions))], base.Sessions[r.IntN(len(base.Sessions))]
		data.Sessions = append(data.Sessions, SuggestSession{
			Handle: fmt.Sprintf("ch_%d", i), Title: x.Title + " " + y.Title, Tags: x.Tags, Live: true, Viewers: r.IntN(5000),
		})
	}
	return data
}

// BenchmarkAutocompleteBuild measures a rebuild of that index.
func BenchmarkAutocompleteBuild(b *testing.B) {
	data := syntheticData(b, 50_000, 2_000)
	for b.Loop() {
		buildIndex(data)
	}
}
