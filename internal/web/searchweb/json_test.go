package searchweb

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/search"
)

// The encoder must write exactly what encoding/json writes for the same response.
func TestSearchJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	odd := "따옴표\" 역슬래시\\ <b>&amp;</b> \n\r\t\b\f\x00\x1f\x7f 줄\u2028문단\u2029 깨짐\xff\xfe끝 😀" +
		" 힣\ud7a3 ‘…’ ॐ ￿ 잘림\xea\xb0"
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
		got := NewEncoder(imageURL).Append(nil, tc.query, tc.category, tc.res)
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
			t.Errorf("Encoder:\n got %s\nwant %s", got, wantJSON)
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

// apiHit is a result in the JSON API: what a card shows, nothing private.
type apiHit struct {
	URL          string       `json:"url"`
	Handle       string       `json:"handle"`
	DisplayName  string       `json:"display_name"`
	ProfileURL   string       `json:"profile_url,omitempty"`
	SessionID    int64        `json:"session_id,omitempty"`
	Title        string       `json:"title,omitempty"`
	Tags         []string     `json:"tags,omitempty"`
	Category     *apiCategory `json:"category,omitempty"`
	StartedAt    *time.Time   `json:"started_at,omitempty"`
	Introduction string       `json:"introduction,omitempty"`
	Live         bool         `json:"live"`
	Viewers      int          `json:"viewers"`
}

type apiCategory struct {
	Slug   string `json:"slug"`
	NameKO string `json:"name_ko"`
	NameEN string `json:"name_en"`
}

type apiResult struct {
	Query    string   `json:"query"`
	Category string   `json:"category,omitempty"`
	Terms    []string `json:"terms"`
	Live     []apiHit `json:"live"`
	Channels []apiHit `json:"channels"`
	Past     []apiHit `json:"past"`
	// Next continues the one section asked for (?section=…&cursor=next).
	Next string `json:"next,omitempty"`
}

// apiHits is the reference model the encoder is checked against.
func apiHits(hits []search.Hit, imageURL func(string) string) []apiHit {
	out := make([]apiHit, len(hits))
	for i, h := range hits {
		a := apiHit{
			URL: "/c/" + url.PathEscape(h.Handle), Handle: h.Handle, DisplayName: h.DisplayName,
			ProfileURL: imageURL(h.ProfileKey), SessionID: h.SessionID, Title: h.Title,
			Tags: h.Tags, Introduction: h.Introduction, Live: h.Live, Viewers: h.Viewers,
		}
		if h.Category != nil {
			a.Category = &apiCategory{Slug: h.Category.Slug, NameKO: h.Category.NameKO, NameEN: h.Category.NameEN}
		}
		if !h.StartedAt.IsZero() {
			t := h.StartedAt.UTC()
			a.StartedAt = &t
		}
		out[i] = a
	}
	return out
}

// BenchmarkSearchJSON encodes a full page of Korean results (three sections of 12), every
// card escaped anew (no generation to keep them under).
func BenchmarkSearchJSON(b *testing.B) {
	hit := search.Hit{
		Handle: "kr_streamer_01", DisplayName: "민수지TV", ProfileKey: "pk/1", SessionID: 123456,
		Title: "[롤] 다이아 승급전 도전! 오늘은 꼭 간다 ㅋㅋ 시청자 참여 환영", Tags: []string{"롤", "리그오브레전드", "솔랭", "게임"},
		Category:  &channel.Category{ID: 3, Slug: "lol", NameKO: "리그 오브 레전드", NameEN: "League of Legends"},
		StartedAt: time.Date(2026, 11, 25, 18, 30, 1, 0, time.UTC), Live: true, Viewers: 1234,
	}
	page := make([]search.Hit, 12)
	for i := range page {
		page[i] = hit
	}
	res := &search.Result{Terms: []string{"롤"}, Live: page, Channels: page, Past: page}
	imageURL := func(key string) string { return "/media/" + key }
	enc := NewEncoder(imageURL)
	buf := enc.Append(nil, "롤", "", res)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = enc.Append(buf[:0], "롤", "", res)
	}
}

// TestEncoderReusesCardsWithinAGeneration checks the Encoder writes the same bytes with and
// without kept cards, takes a card's JSON from its cache while the result's generation stays the same
// (viewers and the live flag still fresh), and encodes it again under a new generation.
func TestEncoderReusesCardsWithinAGeneration(t *testing.T) {
	t.Parallel()
	imageURL := func(key string) string { return "/media/" + key }
	hit := func(title string, viewers int) search.Hit {
		return search.Hit{DocID: 9, Handle: "kr_9", DisplayName: "방송인", ProfileKey: "pk", SessionID: 3,
			Title: title, Tags: []string{"롤"}, Live: true, Viewers: viewers}
	}
	enc := NewEncoder(imageURL)
	res := &search.Result{Terms: []string{"롤"}, Live: []search.Hit{hit("첫 제목 <b>", 5)}, Generation: 7}
	if got, want := enc.Append(nil, "롤", "", res), appendResult(nil, "롤", "", res, imageURL, nil); string(got) != string(want) {
		t.Fatalf("Encoder:\n got %s\nwant %s", got, want)
	}

	// Same generation: the card is the cached one, the viewers are the new ones.
	again := &search.Result{Terms: []string{"롤"}, Live: []search.Hit{hit("바뀐 제목", 50)}, Generation: 7}
	got := string(enc.Append(nil, "롤", "", again))
	if !strings.Contains(got, `첫 제목 \u003cb\u003e`) || !strings.Contains(got, `"viewers":50`) {
		t.Errorf("same generation: %s", got)
	}

	// A new generation, or none: encoded afresh.
	again.Generation = 8
	if got := string(enc.Append(nil, "롤", "", again)); !strings.Contains(got, "바뀐 제목") {
		t.Errorf("new generation kept the old card: %s", got)
	}
	again.Live[0].Title, again.Generation = "세 번째", 0
	if got := string(enc.Append(nil, "롤", "", again)); !strings.Contains(got, "세 번째") {
		t.Errorf("a result without a generation used a cached card: %s", got)
	}
}
