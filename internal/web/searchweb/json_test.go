package searchweb

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/search"
)

// AppendSearchJSON must write exactly what encoding/json writes for the same response.
func TestAppendSearchJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	odd := "따옴표\" 역슬래시\\ <b>&amp;</b> \n\r\t\b\f\x00\x1f\x7f 줄\u2028문단\u2029 깨짐\xff\xfe끝 😀"
	started := time.Date(2026, 11, 25, 18, 30, 1, 123456000, time.FixedZone("KST", 9*3600))
	res := &search.Result{
		Terms: []string{"롤", odd},
		Live: []search.Hit{{
			Section: search.SectionLive, ChannelID: 7, Handle: "kr_007", DisplayName: "방송인 " + odd,
			ProfileKey: "pk/7", SessionID: 42, Title: "솔랭 " + odd, Tags: []string{"롤", "", odd},
			Category:  &channel.Category{ID: 3, Slug: "lol", NameKO: "리그 오브 레전드", NameEN: "League of Legends"},
			StartedAt: started, Live: true, Viewers: 1234, Score: 3.5,
		}},
		Channels: []search.Hit{{Section: search.SectionChannels, Handle: "a b/c?d", DisplayName: "채널", Introduction: odd}},
		Next:     "Mnxs",
	}
	imageURL := func(key string) string {
		if key == "" {
			return ""
		}
		return "/media/" + key + "?v=1&x=<y>"
	}
	for _, tc := range []struct {
		query, category string
		res             *search.Result
	}{
		{"롤 " + odd, "lol", res},
		{"", "", &search.Result{}},
		{"x", "", &search.Result{Terms: []string{}, Past: []search.Hit{{Tags: []string{}}}}},
	} {
		got := AppendSearchJSON(nil, tc.query, tc.category, tc.res, imageURL)
		want := apiResult{Query: tc.query, Category: tc.category, Terms: tc.res.Terms, Next: tc.res.Next,
			Live: apiHits(tc.res.Live, imageURL), Channels: apiHits(tc.res.Channels, imageURL), Past: apiHits(tc.res.Past, imageURL)}
		if want.Terms == nil {
			want.Terms = []string{}
		}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(wantJSON) {
			t.Errorf("AppendSearchJSON:\n got %s\nwant %s", got, wantJSON)
		}
		if !json.Valid(got) {
			t.Errorf("not valid JSON: %s", got)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("롤 <b>\"\\\n\x00\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
