package media

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// recordingConsumer is a real Consumer that attaches one reader per ingest and remembers what
// the hub told it.
type recordingConsumer struct {
	mu       sync.Mutex
	ingests  []*Ingest
	readers  []*Reader
	ended    []string
	capacity int
}

func (c *recordingConsumer) IngestStarted(in *Ingest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ingests = append(c.ingests, in)
	c.readers = append(c.readers, in.NewReader("test", c.capacity))
}

func (c *recordingConsumer) SessionEnded(handle string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = append(c.ended, handle)
}

func (c *recordingConsumer) last() (*Ingest, *Reader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ingests[len(c.ingests)-1], c.readers[len(c.readers)-1]
}

var testTracks = []Track{
	{Codec: H264{SPS: []byte{0x67, 1}, PPS: []byte{0x68, 2}}},
	{Codec: AAC{Config: mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 48000, ChannelConfig: 2}}},
}

func videoUnit(i int, key bool) *Unit {
	return &Unit{Track: 0, DTS: time.Duration(i) * 33 * time.Millisecond, PTS: time.Duration(i) * 33 * time.Millisecond,
		Key: key, Data: [][]byte{{byte(i)}}}
}

func TestClaimRefusesSecondPublisher(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	p1, err := h.Claim("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Claim("alice"); !errors.Is(err, ErrPublisherActive) {
		t.Fatalf("second claim: got %v, want ErrPublisherActive", err)
	}
	if _, err := h.Claim("bob"); err != nil {
		t.Fatalf("claim on another channel: %v", err)
	}
	p1.Close()
	p1.Close() // idempotent
	if _, err := h.Claim("alice"); err != nil {
		t.Fatalf("claim after close: %v", err)
	}
	if _, err := h.Claim(""); err == nil {
		t.Fatal("empty handle accepted")
	}
}

func TestStartValidatesTracks(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	p, _ := h.Claim("alice")
	defer p.Close()
	for _, tracks := range [][]Track{
		nil,
		{{Codec: nil}},
		{{Codec: H264{}}, {Codec: H265{}}},
		{{Codec: AAC{}}, {Codec: Opus{}}},
	} {
		if _, err := p.Start(tracks); err == nil {
			t.Errorf("Start(%v) accepted", tracks)
		}
	}
}

func TestIngestLifecycleAndResume(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	c := &recordingConsumer{capacity: 16}
	h.AddConsumer(c)
	ctx := context.Background()

	p, _ := h.Claim("alice")
	in, err := p.Start(testTracks)
	if err != nil {
		t.Fatal(err)
	}
	if in.Resumed {
		t.Fatal("first ingest marked resumed")
	}
	_, r := c.last()
	for i := range 3 {
		p.Write(videoUnit(i, i == 0))
	}
	p.Write(&Unit{Track: 7}) // unknown track: discarded
	for i := range 3 {
		u, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := int(u.Data[0][0]); got != i {
			t.Fatalf("unit %d: got %d", i, got)
		}
	}
	p.Close()
	if _, err := r.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: got %v, want io.EOF", err)
	}
	if !in.Ended() {
		t.Fatal("ingest not ended after Close")
	}
	if _, err := p.Start(testTracks); !errors.Is(err, ErrPublisherClosed) {
		t.Fatalf("Start after Close: %v", err)
	}

	// A reconnect before EndSession resumes the session.
	p2, _ := h.Claim("alice")
	in2, _ := p2.Start(testTracks)
	if !in2.Resumed {
		t.Fatal("reconnect within the session not marked resumed")
	}
	// A codec change restarts the ingest, still resumed, and ends the previous one.
	_, r2 := c.last()
	in3, _ := p2.Start(testTracks[:1])
	if !in3.Resumed || !in2.Ended() {
		t.Fatalf("restart: resumed=%v previous ended=%v", in3.Resumed, in2.Ended())
	}
	if _, err := r2.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("reader of replaced ingest: %v", err)
	}

	// EndSession evicts the publisher, tells consumers, and the next session starts fresh.
	h.EndSession("alice")
	select {
	case <-p2.Done():
	default:
		t.Fatal("evicted publisher's Done not closed")
	}
	if !in3.Ended() {
		t.Fatal("ingest not ended by EndSession")
	}
	p2.Write(videoUnit(0, true)) // ignored, must not panic
	p2.Close()
	if len(c.ended) != 1 || c.ended[0] != "alice" {
		t.Fatalf("SessionEnded calls: %v", c.ended)
	}
	p3, err := h.Claim("alice")
	if err != nil {
		t.Fatal(err)
	}
	in4, _ := p3.Start(testTracks)
	if in4.Resumed {
		t.Fatal("ingest after EndSession marked resumed")
	}
	p3.Close()
}

func TestEvictedPublisherCloseKeepsNewClaim(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	old, _ := h.Claim("alice")
	h.EndSession("alice")
	newer, err := h.Claim("alice")
	if err != nil {
		t.Fatal(err)
	}
	old.Close() // must not release the newer publisher's claim
	if _, err := h.Claim("alice"); !errors.Is(err, ErrPublisherActive) {
		t.Fatalf("claim while newer publisher active: %v", err)
	}
	newer.Close()
}

func TestSlowReaderDropsWithoutStallingOthers(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	p, _ := h.Claim("alice")
	defer p.Close()
	in, _ := p.Start(testTracks)
	slow := in.NewReader("slow", 4)
	fast := in.NewReader("fast", 64)

	// 30 units with a keyframe every 10; nobody reads the slow reader meanwhile.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 30 {
			p.Write(videoUnit(i, i%10 == 0))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publisher blocked by a slow reader")
	}

	ctx := context.Background()
	for i := range 30 {
		u, err := fast.Next(ctx)
		if err != nil || int(u.Data[0][0]) != i {
			t.Fatalf("fast reader unit %d: %v %v", i, u, err)
		}
	}
	if fast.Dropped() != 0 {
		t.Fatalf("fast reader dropped %d", fast.Dropped())
	}
	// The slow reader kept units 0-3, dropped 4, then skipped video until the next keyframe
	// (10), which no longer fitted either; it resumes at no unit because it stays full.
	if got := slow.Dropped(); got != 26 {
		t.Fatalf("slow reader dropped %d, want 26", got)
	}
	for i := range 4 {
		u, _ := slow.Next(ctx)
		if int(u.Data[0][0]) != i {
			t.Fatalf("slow reader unit %d: got %d", i, u.Data[0][0])
		}
	}
	// With room again, it skips non-key video and resumes at the next keyframe.
	p.Write(videoUnit(30, false))
	p.Write(videoUnit(31, true))
	u, _ := slow.Next(ctx)
	if int(u.Data[0][0]) != 31 || !u.Key {
		t.Fatalf("slow reader resumed at %d (key=%v), want keyframe 31", u.Data[0][0], u.Key)
	}
	// Audio is not held back by the keyframe wait.
	p.Write(&Unit{Track: 1, Key: true, Data: [][]byte{{99}}})
	if u, _ := slow.Next(ctx); u.Track != 1 {
		t.Fatalf("audio unit not delivered: %+v", u)
	}

	stats := h.Stats()
	if len(stats) != 1 || stats[0].Handle != "alice" || !stats[0].Publishing || len(stats[0].Readers) != 2 {
		t.Fatalf("stats: %+v", stats)
	}
	if stats[0].Units != 33 {
		t.Fatalf("stats units %d, want 33", stats[0].Units)
	}
}

func TestReaderStartsAtKeyframeAndClose(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{ReaderBuffer: 8})
	p, _ := h.Claim("alice")
	defer p.Close()
	in, _ := p.Start(testTracks)
	r := in.NewReader("late", 0)
	p.Write(videoUnit(1, false))
	p.Write(videoUnit(2, true))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := r.Next(ctx)
	if err != nil || int(u.Data[0][0]) != 2 {
		t.Fatalf("late reader first unit: %v %v", u, err)
	}
	r.Close()
	if _, err := r.Next(ctx); !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("after Close: %v", err)
	}
	// Next honours its context while waiting.
	r2 := in.NewReader("idle", 0)
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if _, err := r2.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("idle reader: %v", err)
	}
}

func TestConcurrentPublishAndRead(t *testing.T) {
	t.Parallel()
	h := NewHub(HubOptions{})
	c := &recordingConsumer{capacity: 32}
	h.AddConsumer(c)
	p, _ := h.Claim("alice")
	if _, err := p.Start(testTracks); err != nil {
		t.Fatal(err)
	}
	_, r := c.last()
	var got int
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			if _, err := r.Next(context.Background()); err != nil {
				return
			}
			got++
		}
	}()
	for i := range 2000 {
		p.Write(videoUnit(i, i%30 == 0))
		if i%500 == 0 {
			_ = h.Stats()
		}
	}
	p.Close()
	<-readDone
	if uint64(got)+r.Dropped() != 2000 {
		t.Fatalf("delivered %d + dropped %d != 2000", got, r.Dropped())
	}
}
