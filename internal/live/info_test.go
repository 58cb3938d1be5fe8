package live_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/form"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

func TestSetStreamInfoRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)
	elevenTags := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}

	for _, tc := range []struct {
		name string
		in   live.StreamInfoInput
		want map[string]string
	}{
		{"title too long", live.StreamInfoInput{Title: strings.Repeat("가", live.MaxTitleLen+1)},
			map[string]string{"title": "title_too_long"}},
		{"line break in title", live.StreamInfoInput{Title: "첫 줄\n둘째 줄"}, map[string]string{"title": "title_invalid"}},
		{"zero-width space", live.StreamInfoInput{Title: "숨은\u200b글자"}, map[string]string{"title": "title_invalid"}},
		{"direction override", live.StreamInfoInput{Title: "abc\u202edef"}, map[string]string{"title": "title_invalid"}},
		{"invalid UTF-8", live.StreamInfoInput{Title: "\xff\xfe"}, map[string]string{"title": "title_invalid"}},
		{"unknown category", live.StreamInfoInput{CategorySlug: "no-such-game"}, map[string]string{"category": "category_unknown"}},
		{"too many tags", live.StreamInfoInput{Tags: elevenTags}, map[string]string{"tags": "too_many_tags"}},
		{"everything at once", live.StreamInfoInput{Title: "\x07", CategorySlug: "nope", Tags: []string{"ok", "\u200b"}},
			map[string]string{"title": "title_invalid", "category": "category_unknown", "tags": "tag_invalid"}},
	} {
		_, err := h.m.SetStreamInfo(ctx, s.ch.ID, tc.in)
		if got := form.Codes(err); !maps.Equal(got, tc.want) {
			t.Errorf("%s: codes %v (err %v), want %v", tc.name, got, err, tc.want)
		}
	}
	info, err := h.m.StreamInfo(ctx, s.ch.ID)
	if err != nil || info.Title != "" || info.Category != nil || len(info.Tags) != 0 {
		t.Fatalf("refused input changed the stream info: %+v %v", info, err)
	}

	// The longest title that is allowed: 100 user-perceived characters, some of them built
	// from several code points.
	longest := strings.Repeat("한", 98) + "👩‍💻" + "e\u0301"
	got, err := h.m.SetStreamInfo(ctx, s.ch.ID, live.StreamInfoInput{Title: longest, CategorySlug: " Just-Chatting "})
	if err != nil {
		t.Fatalf("100-character title refused: %v", err)
	}
	if got.Category == nil || got.Category.Slug != "just-chatting" || got.Title != strings.Repeat("한", 98)+"👩‍💻"+"é" {
		t.Fatalf("saved %+v", got)
	}
}

func TestStreamInfoChangesDuringBroadcast(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		ctx := context.Background()
		h := newHarness(t, db, nil)
		s := h.streamer(true)
		chSub, err := h.bus.Subscribe(ctx, live.ChannelTopic(s.ch.ID))
		if err != nil {
			t.Fatal(err)
		}

		// Offline changes publish nothing: the next event is the broadcast's start.
		if _, err := h.m.SetStreamInfo(ctx, s.ch.ID, live.StreamInfoInput{Title: "곧 시작"}); err != nil {
			t.Fatal(err)
		}
		c := h.goLive(h.m, s.key)
		started := h.wantStarted()
		if started.Title != "곧 시작" {
			t.Fatalf("session did not take the saved title: %+v", started)
		}
		if ev := decode(t, recv(t, chSub)); ev.(*live.StartedEvent).SessionID != started.SessionID {
			t.Fatalf("channel topic got %+v", ev)
		}

		h.clock.Advance(time.Minute)
		if _, err := h.m.SetStreamInfo(ctx, s.ch.ID, live.StreamInfoInput{
			Title: "제목 바꿈", CategorySlug: "league-of-legends", Tags: []string{"롤", "Faker"},
		}); err != nil {
			t.Fatal(err)
		}
		for _, ev := range []any{h.nextEvent(), decode(t, recv(t, chSub))} {
			up, ok := ev.(*live.UpdatedEvent)
			if !ok || up.SessionID != started.SessionID || up.Title != "제목 바꿈" || up.Category.Slug != "league-of-legends" ||
				!slices.Equal(up.Tags, []string{"롤", "faker"}) || !up.UpdatedAt.Equal(t0.Add(time.Minute)) || up.Handle != s.ch.Handle {
				t.Fatalf("live.updated = %+v", ev)
			}
		}
		lc, ok := h.m.LiveByChannel(s.ch.ID)
		if !ok || lc.Title != "제목 바꿈" || lc.Category.Slug != "league-of-legends" || !slices.Equal(lc.Tags, []string{"롤", "faker"}) {
			t.Fatalf("directory after update: %+v", lc)
		}
		row, _ := h.store.SessionByID(ctx, started.SessionID)
		if row.Title != "제목 바꿈" || !slices.Equal(row.TagNames(), []string{"롤", "faker"}) {
			t.Fatalf("stored session after update: %+v", row)
		}
		// A reconnect within grace keeps the changed information.
		c.drop()
		h.clock.Advance(5 * time.Second)
		h.goLive(h.m, s.key)
		if lc, _ := h.m.LiveByChannel(s.ch.ID); lc.SessionID != started.SessionID || lc.Title != "제목 바꿈" {
			t.Fatalf("after reconnect: %+v", lc)
		}
	})
}

func TestEventsAreVersionedJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)
	h.goLive(h.m, s.key)
	raw := recv(t, h.events)
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["v"] != float64(1) || fields["type"] != "live.started" || fields["handle"] != s.ch.Handle {
		t.Fatalf("event JSON %s", raw)
	}
	for _, private := range []string{"stream_key", "owner_id", "email", s.key} {
		if strings.Contains(string(raw), private) {
			t.Fatalf("event carries private data %q: %s", private, raw)
		}
	}
}

func recv(t testing.TB, sub bus.Subscription) []byte {
	t.Helper()
	select {
	case msg := <-sub.C():
		return msg.Data
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
		return nil
	}
}

func decode(t testing.TB, data []byte) any {
	t.Helper()
	ev, err := live.DecodeEvent(data)
	if err != nil {
		t.Fatalf("DecodeEvent(%s): %v", data, err)
	}
	return ev
}
