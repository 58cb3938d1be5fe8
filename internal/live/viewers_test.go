package live_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
	"github.com/freelylive/freely/internal/thumbnail"
)

func TestViewerCounting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, sqltest.SQLite(t), nil)
	a, b, offline := h.streamer(true), h.streamer(true), h.streamer(true)
	ca := h.goLive(h.m, a.key)
	h.wantStarted()
	h.clock.Advance(time.Second)
	h.goLive(h.m, b.key)
	h.wantStarted()

	for i := range 3 {
		h.m.CountViewer(a.ch.Handle, fmt.Sprintf("viewer-%d", i))
	}
	h.m.CountViewer(a.ch.Handle, "viewer-0") // the same viewer again
	h.m.CountViewer(b.ch.Handle, "Zz_9-x")
	for _, bad := range []string{"", "has space", strings.Repeat("x", live.MaxViewerIDLen+1), "시청자", "a/b", "a\x00b"} {
		h.m.CountViewer(b.ch.Handle, bad)
	}
	h.m.CountViewer(offline.ch.Handle, "viewer-0")
	h.m.CountViewer("nobody_here", "viewer-0")

	if got := h.m.Viewers(a.ch.Handle); got != 3 {
		t.Errorf("Viewers(a) = %d, want 3", got)
	}
	if got := h.m.Viewers(b.ch.Handle); got != 1 {
		t.Errorf("Viewers(b) = %d, want 1 (malformed ids ignored)", got)
	}
	if got := h.m.Viewers(offline.ch.Handle); got != 0 {
		t.Errorf("Viewers(offline) = %d, want 0", got)
	}
	now := h.m.LiveNow(ctx, 0)
	if len(now) != 2 || now[0].Handle != a.ch.Handle || now[0].Viewers != 3 || now[1].Handle != b.ch.Handle || now[1].Viewers != 1 {
		t.Fatalf("LiveNow = %+v", now)
	}
	if one := h.m.LiveNow(ctx, 1); len(one) != 1 || one[0].Handle != a.ch.Handle {
		t.Fatalf("LiveNow(1) = %+v", one)
	}

	// viewer-0 keeps watching; the others stop. 10 s after their last request they are gone.
	h.clock.Advance(6 * time.Second)
	h.m.CountViewer(a.ch.Handle, "viewer-0")
	h.clock.Advance(5 * time.Second)
	if got := h.m.Viewers(a.ch.Handle); got != 1 {
		t.Errorf("after expiry Viewers(a) = %d, want 1", got)
	}
	if got := h.m.Viewers(b.ch.Handle); got != 0 {
		t.Errorf("after expiry Viewers(b) = %d, want 0", got)
	}
	h.clock.Advance(6 * time.Second)
	if got := h.m.Viewers(a.ch.Handle); got != 0 {
		t.Errorf("Viewers(a) = %d, want 0", got)
	}
	// Equal counts: the longest-running broadcast first.
	if now := h.m.LiveNow(ctx, 10); len(now) != 2 || now[0].Handle != a.ch.Handle {
		t.Fatalf("LiveNow with equal viewers = %+v", now)
	}

	// The peak is kept with the session.
	ca.drop()
	h.clock.Advance(grace)
	ended := h.wantEnded()
	if ended.PeakViewers != 3 {
		t.Errorf("live.ended peak_viewers = %d, want 3", ended.PeakViewers)
	}
	row, err := h.store.SessionByID(ctx, ended.SessionID)
	if err != nil || row.PeakViewers != 3 {
		t.Errorf("stored peak = %+v, %v; want 3", row, err)
	}
	// Ended channels stop counting.
	h.m.CountViewer(a.ch.Handle, "viewer-0")
	if got := h.m.Viewers(a.ch.Handle); got != 0 {
		t.Errorf("viewers counted for an ended channel: %d", got)
	}
}

func TestViewerCountingConcurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)
	h.goLive(h.m, s.key)

	const workers, ids, rounds = 8, 500, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				for i := range ids {
					// Every worker requests every id: the count must still be ids.
					h.m.CountViewer(s.ch.Handle, fmt.Sprintf("vs-%d", (i+w*7+r)%ids))
				}
			}
		}()
	}
	wg.Wait()
	if got := h.m.Viewers(s.ch.Handle); got != ids {
		t.Fatalf("Viewers = %d after concurrent hits from %d ids, want %d", got, ids, ids)
	}
}

// Not parallel: AllocsPerRun refuses parallel tests.
func TestCountViewerKnownIDDoesNotAllocate(t *testing.T) {
	h := newHarness(t, sqltest.SQLite(t), nil)
	s := h.streamer(true)
	h.goLive(h.m, s.key)
	id := strings.Repeat("k", 22)
	h.m.CountViewer(s.ch.Handle, id)
	allocs := testing.AllocsPerRun(1000, func() { h.m.CountViewer(s.ch.Handle, id) })
	if allocs != 0 {
		t.Fatalf("CountViewer for a known viewing session allocates %.1f times", allocs)
	}
}

func BenchmarkCountViewer(b *testing.B) {
	h := newHarness(b, sqltest.SQLite(b), nil)
	s := h.streamer(true)
	h.goLive(h.m, s.key)
	ids := make([]string, 5000)
	for i := range ids {
		ids[i] = fmt.Sprintf("viewer-session-%06d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			h.m.CountViewer(s.ch.Handle, ids[i%len(ids)])
			i++
		}
	})
}

func FuzzCountViewer(f *testing.F) {
	h := newHarness(f, sqltest.SQLite(f), nil)
	s := h.streamer(true)
	h.goLive(h.m, s.key)
	for _, seed := range []string{"abc", "", "a b", strings.Repeat("z", 65), "시청", "A-_9", "\xff\xfe"} {
		f.Add(seed)
	}
	seen := map[string]bool{}
	f.Fuzz(func(t *testing.T, id string) {
		before := h.m.Viewers(s.ch.Handle)
		h.m.CountViewer(s.ch.Handle, id)
		h.m.CountViewer(strings.ToUpper(s.ch.Handle)+id, id)
		after := h.m.Viewers(s.ch.Handle)
		valid := id != "" && len(id) <= live.MaxViewerIDLen && strings.Trim(id,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
		want := before
		if valid && !seen[id] {
			want++
			seen[id] = true
		}
		if after != want {
			t.Fatalf("CountViewer(%q): viewers %d → %d, want %d", id, before, after, want)
		}
	})
}

func TestLiveNowCarriesThumbnails(t *testing.T) {
	t.Parallel()
	store, err := disk.New(disk.Options{Dir: t.TempDir(), URLPrefix: "/media/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// No ffmpeg here: the grabber hands out its placeholder.
	thumbs, err := thumbnail.New(context.Background(), thumbnail.Options{
		Blob:       store,
		Source:     func(handle string) string { return "http://127.0.0.1:9/hls/" + handle + "/index.m3u8" },
		FFmpegPath: "ffmpeg-that-is-not-installed",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { thumbs.Close() })
	h := newHarness(t, sqltest.SQLite(t), func(o *live.Options) { o.Thumbnails = thumbs })
	s := h.streamer(true)
	h.goLive(h.m, s.key)
	now := h.m.LiveNow(context.Background(), 10)
	if len(now) != 1 || now[0].ThumbnailURL != "/media/"+thumbnail.PlaceholderKey {
		t.Fatalf("LiveNow = %+v, want the placeholder thumbnail", now)
	}
}
