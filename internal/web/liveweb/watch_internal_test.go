package liveweb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/live"
)

// fakeLive is a directory with one live channel, for the fan-out's own tests.
type fakeLive struct{ lc live.LiveChannel }

func (f *fakeLive) Live(handle string) (live.LiveChannel, bool) {
	return f.lc, handle == f.lc.Handle
}
func (f *fakeLive) LiveByChannel(int64) (live.LiveChannel, bool)    { return f.lc, true }
func (f *fakeLive) LiveNow(context.Context, int) []live.LiveChannel { return []live.LiveChannel{f.lc} }
func (f *fakeLive) Viewers(string) int                              { return f.lc.Viewers }
func (f *fakeLive) StreamInfo(context.Context, int64) (*live.StreamInfo, error) {
	return &live.StreamInfo{}, nil
}
func (f *fakeLive) SetStreamInfo(context.Context, int64, live.StreamInfoInput) (*live.StreamInfo, error) {
	return &live.StreamInfo{}, nil
}
func (f *fakeLive) EndBroadcast(context.Context, int64) error { return nil }

type noChannels struct{ Channels }

func TestWatchHubDropsASlowPageAndKeepsTheOthers(t *testing.T) {
	t.Parallel()
	fl := &fakeLive{lc: live.LiveChannel{ChannelID: 1, Handle: "busy", SessionID: 7, StartedAt: time.Now(), Title: "t"}}
	w, err := New(Options{Live: fl, Channels: noChannels{}, RTMPURL: func() string { return "" }, StatusInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	slow, fast := w.watch.subscribe("busy"), w.watch.subscribe("busy")
	received := 0
	for i := range watcherBuffer + 4 {
		w.watch.applyEvent(&live.UpdatedEvent{Handle: "busy", SessionID: 7, Title: fmt.Sprintf("title %d", i)})
		select {
		case <-fast.out:
			received++
		default:
		}
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("a page that read nothing is still attached after its buffer filled")
	}
	select {
	case <-fast.gone:
		t.Fatal("a page that kept up was dropped")
	default:
	}
	if received < watcherBuffer {
		t.Fatalf("the reading page got %d frames", received)
	}
}

func TestApplyEventIgnoresOlderBroadcasts(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := offlineStatus("caster")
	if !applyEvent(&st, &live.StartedEvent{Handle: "caster", SessionID: 5, Title: "다섯", StartedAt: started}, "/p") ||
		!st.Live || st.Title != "다섯" || !st.StartedAt.Equal(started) || st.PlaylistURL != "/p" {
		t.Fatalf("after live.started: %+v", st)
	}
	if applyEvent(&st, &live.UpdatedEvent{Handle: "caster", SessionID: 4, Title: "넷"}, "/p") || st.Title != "다섯" {
		t.Fatalf("an update of an older broadcast changed the status: %+v", st)
	}
	if applyEvent(&st, &live.EndedEvent{Handle: "caster", SessionID: 4}, "/p") || !st.Live {
		t.Fatalf("the end of an older broadcast ended this one: %+v", st)
	}
	cat := &live.EventCategory{Slug: "talk", NameKO: "토크"}
	if !applyEvent(&st, &live.UpdatedEvent{Handle: "caster", SessionID: 5, Title: "새 제목", Category: cat, Tags: []string{"a"}}, "/p") ||
		st.Title != "새 제목" || st.Category.Slug != "talk" || len(st.Tags) != 1 || !st.StartedAt.Equal(started) {
		t.Fatalf("after live.updated: %+v", st)
	}
	if !applyEvent(&st, &live.EndedEvent{Handle: "caster", SessionID: 5}, "/p") || st.Live || st.StartedAt != nil || st.PlaylistURL != "" {
		t.Fatalf("after live.ended: %+v", st)
	}
	if applyEvent(&st, &live.StartedEvent{Handle: "caster", SessionID: 5, StartedAt: started}, "/p") {
		t.Fatal("a late live.started of the ended broadcast brought it back")
	}
}
