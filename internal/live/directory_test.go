package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// TestDirectoryAcrossNodes: node B learns about node A's broadcast only from A's events
// (taken off the bus and handed to B), and adds A's viewer reports to its own counts.
func TestDirectoryAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, sqltest.SQLite(t), nil)
	status, err := h.bus.Subscribe(ctx, live.TopicStatus)
	if err != nil {
		t.Fatal(err)
	}
	// B has no bus of its own: the test is its subscription.
	b := h.newManager(func(o *live.Options) { o.Bus = nil })
	s := h.streamer(true)

	c := h.goLive(h.m, s.key)
	started := recv(t, h.events)
	b.Apply(started)
	lc, ok := b.Live(s.ch.Handle)
	if !ok || lc.ChannelID != s.ch.ID || lc.DisplayName != s.ch.DisplayName || !lc.StartedAt.Equal(t0) {
		t.Fatalf("node B after live.started: %+v %v", lc, ok)
	}

	if _, err := h.m.SetStreamInfo(ctx, s.ch.ID, live.StreamInfoInput{Title: "B도 봐야 함"}); err != nil {
		t.Fatal(err)
	}
	b.Apply(recv(t, h.events))
	if lc, _ := b.Live(s.ch.Handle); lc.Title != "B도 봐야 함" {
		t.Fatalf("node B missed live.updated: %+v", lc)
	}

	// Two viewers on A, one on B.
	h.m.CountViewer(s.ch.Handle, "on-a-1")
	h.m.CountViewer(s.ch.Handle, "on-a-2")
	b.CountViewer(s.ch.Handle, "on-b-1")
	h.clock.Advance(2 * time.Second) // A's ticks report its counts
	var report *live.StatusEvent
	for report == nil {
		ev := decode(t, recv(t, status)).(*live.StatusEvent)
		if len(ev.Channels) > 0 {
			report = ev
		}
	}
	if len(report.Channels) != 1 || report.Channels[0].ChannelID != s.ch.ID || report.Channels[0].Viewers != 2 {
		t.Fatalf("A's status report: %+v", report)
	}
	data, _ := json.Marshal(report)
	b.Apply(data)
	if got := b.Viewers(s.ch.Handle); got != 3 {
		t.Fatalf("node B Viewers = %d, want 2 reported by A + 1 of its own", got)
	}
	if got := b.LiveNow(ctx, 10); len(got) != 1 || got[0].Viewers != 3 {
		t.Fatalf("node B LiveNow = %+v", got)
	}
	// A node's own report is not counted twice.
	h.m.Apply(data)
	if got := h.m.Viewers(s.ch.Handle); got != 2 {
		t.Fatalf("node A counted its own report: %d", got)
	}
	// Reports older than three intervals no longer count.
	h.clock.Advance(7 * time.Second)
	b.CountViewer(s.ch.Handle, "on-b-1")
	if got := b.Viewers(s.ch.Handle); got != 1 {
		t.Fatalf("node B still counts a stale report: %d", got)
	}

	c.drop()
	h.clock.Advance(grace)
	var ended []byte
	for ended == nil {
		raw := recv(t, h.events)
		if _, ok := decode(t, raw).(*live.EndedEvent); ok {
			ended = raw
		}
	}
	b.Apply(ended)
	if _, ok := b.Live(s.ch.Handle); ok {
		t.Fatal("node B still lists the channel after live.ended")
	}
	// A late copy of the start of an ended session does not bring it back.
	b.Apply(started)
	if _, ok := b.Live(s.ch.Handle); ok {
		t.Fatal("a stale live.started revived an ended session on node B")
	}
}

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"v":2,"type":"live.started"}`, live.ErrUnknownEvent},
		{`{"v":1,"type":"live.exploded"}`, live.ErrUnknownEvent},
		{`{"type":"live.started"}`, live.ErrUnknownEvent},
	} {
		if _, err := live.DecodeEvent([]byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("DecodeEvent(%s) = %v, want %v", tc.in, err, tc.want)
		}
	}
	for _, bad := range []string{``, `{`, `[]`, `{"v":1,"type":"live.ended","session_id":"x"}`} {
		if ev, err := live.DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("DecodeEvent(%q) = %+v, want an error", bad, ev)
		}
	}
	ev, err := live.DecodeEvent([]byte(`{"v":1,"type":"live.ended","channel_id":7,"handle":"abc","session_id":9,` +
		`"started_at":"2026-11-25T21:00:00Z","ended_at":"2026-11-25T22:00:00Z","duration_seconds":3600,"peak_viewers":12}`))
	if err != nil {
		t.Fatal(err)
	}
	if e := ev.(*live.EndedEvent); e.ChannelID != 7 || e.SessionID != 9 || e.DurationSeconds != 3600 || e.PeakViewers != 12 {
		t.Fatalf("decoded %+v", e)
	}
}

// FuzzApply feeds arbitrary bus payloads to a manager: nothing panics, and garbage never
// makes a channel appear live unless it decodes as a live.started event.
func FuzzApply(f *testing.F) {
	h := newHarness(f, sqltest.SQLite(f), func(o *live.Options) { o.Bus = nil })
	for _, seed := range []string{
		`{"v":1,"type":"live.started","channel_id":1,"handle":"a","session_id":1,"tags":["x"]}`,
		`{"v":1,"type":"live.updated","channel_id":1,"session_id":1,"title":"t","category":{"id":1}}`,
		`{"v":1,"type":"live.ended","channel_id":1,"session_id":1}`,
		`{"v":1,"type":"live.status","node":"n","channels":[{"channel_id":1,"viewers":-5}]}`,
		`{"v":1,"type":"live.status","node":"n","channels":null}`,
		`not json`, `{"v":1}`,
	} {
		f.Add([]byte(seed))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		before := h.m.LiveNow(ctx, live.MaxLiveNowLimit)
		h.m.Apply(data)
		after := h.m.LiveNow(ctx, live.MaxLiveNowLimit)
		if _, err := live.DecodeEvent(data); err != nil && !reflect.DeepEqual(before, after) {
			t.Fatalf("an undecodable message changed the directory: %v", err)
		}
		for _, lc := range after {
			if lc.Viewers < 0 || h.m.Viewers(lc.Handle) < 0 {
				t.Fatalf("negative viewers for %+v", lc)
			}
		}
	})
}
