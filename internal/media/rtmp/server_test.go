package rtmp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/media/mediatest"
	"github.com/freelylive/freely/internal/media/rtmp"
	"github.com/freelylive/freely/internal/media/rtmp/rtmptest"
)

// collector is a real hub Consumer that drains every ingest into memory.
type collector struct {
	mu      sync.Mutex
	ingests []*media.Ingest
	units   map[*media.Ingest][]*media.Unit
	started chan *media.Ingest
	wg      sync.WaitGroup
}

func newCollector() *collector {
	return &collector{units: map[*media.Ingest][]*media.Unit{}, started: make(chan *media.Ingest, 16)}
}

func (c *collector) IngestStarted(in *media.Ingest) {
	r := in.NewReader("collector", 4096)
	c.mu.Lock()
	c.ingests = append(c.ingests, in)
	c.mu.Unlock()
	c.started <- in
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			u, err := r.Next(context.Background())
			if err != nil {
				return
			}
			c.mu.Lock()
			c.units[in] = append(c.units[in], u)
			c.mu.Unlock()
		}
	}()
}

func (c *collector) SessionEnded(string) {}

type env struct {
	hub  *media.Hub
	gk   *rtmptest.Gatekeeper
	srv  *rtmp.Server
	col  *collector
	base string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	hub := media.NewHub(media.HubOptions{})
	col := newCollector()
	hub.AddConsumer(col)
	gk := rtmptest.NewGatekeeper(map[string]string{"sk_alice": "alice", "sk_bob": "bob"})
	srv, err := rtmp.Listen(rtmp.Options{
		Addr: "127.0.0.1:0", Gatekeeper: gk, Hub: hub,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		col.wg.Wait()
	})
	return &env{hub: hub, gk: gk, srv: srv, col: col, base: "rtmp://" + srv.Addr().String() + "/live/"}
}

func fixture(t *testing.T) []mediatest.Tag {
	t.Helper()
	tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPublishReachesHub(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	if err := mediatest.Publish(ctx, e.base+"sk_alice", fixture(t), mediatest.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
	in := <-e.col.started
	if in.Handle != "alice" || in.Resumed || len(in.Tracks) != 2 {
		t.Fatalf("ingest: %+v", in)
	}
	if _, ok := in.Tracks[0].Codec.(media.H264); !ok {
		t.Fatalf("video codec %T", in.Tracks[0].Codec)
	}
	e.col.wg.Wait()
	units := e.col.units[in]
	var video, audio int
	for _, u := range units {
		if u.Track == 0 {
			video++
		} else {
			audio++
		}
	}
	if video != 120 || audio != 189 {
		t.Fatalf("hub carried %d video and %d audio units, want 120 and 189", video, audio)
	}
	kinds := []string{}
	for _, ev := range e.gk.Events() {
		kinds = append(kinds, ev.Kind)
	}
	if len(kinds) != 3 || kinds[0] != "admitted" || kinds[1] != "started" || kinds[2] != "ended" {
		t.Fatalf("gatekeeper calls: %v", kinds)
	}
	if pub, refused := e.srv.Counters(); pub != 1 || refused != 0 {
		t.Fatalf("counters: %d published, %d refused", pub, refused)
	}
}

func TestWrongKeyAndAppRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	for _, u := range []string{
		e.base + "sk_mallory",
		e.base + "",
		"rtmp://" + e.srv.Addr().String() + "/other/sk_alice",
	} {
		if _, err := mediatest.Dial(ctx, u); err == nil {
			t.Fatalf("%s: publish accepted", u)
		}
	}
	if _, refused := e.srv.Counters(); refused != 3 {
		t.Fatalf("refused %d, want 3", refused)
	}
	if len(e.hub.Stats()) != 0 {
		t.Fatalf("hub has channels after refusals: %+v", e.hub.Stats())
	}
}

func TestSecondPublisherRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	tags := fixture(t)
	first, err := mediatest.Dial(ctx, e.base+"sk_alice")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.Send(ctx, tags[:20], mediatest.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mediatest.Dial(ctx, e.base+"sk_alice"); err == nil {
		t.Fatal("second publisher on a live channel accepted")
	}
	// Another channel is unaffected.
	other, err := mediatest.Dial(ctx, e.base+"sk_bob")
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	// The first publisher still streams.
	if err := first.Send(ctx, tags[20:], mediatest.SendOptions{}); err != nil {
		t.Fatalf("first publisher disturbed: %v", err)
	}
}

func TestHubRefusesSecondPublisherEvenIfGatekeeperAdmits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	// A channel already claimed in the hub (e.g. by another ingest transport).
	p, err := e.hub.Claim("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := mediatest.Dial(ctx, e.base+"sk_alice"); err == nil {
		t.Fatal("publisher accepted while the hub has the channel claimed")
	}
	// The admitted publication was ended, so the gatekeeper does not think alice is live.
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
}

func TestStartsWithoutAnalysisWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	c, err := mediatest.Dial(ctx, e.base+"sk_alice")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tags := fixture(t)
	go func() { _ = c.Send(ctx, tags, mediatest.SendOptions{Pace: 1}) }()
	select {
	case <-e.col.started:
	case <-ctx.Done():
		t.Fatal("stream never started")
	}
	ev, err := e.gk.Wait(ctx, "started", "alice", 1)
	if err != nil {
		t.Fatal(err)
	}
	// gortmplib's Reader would need 2 s of stream time; we start at the first keyframe, which
	// the fixture sends right after its headers.
	if d := ev.At.Sub(e.gk.Events()[0].At); d > 500*time.Millisecond {
		t.Fatalf("stream started %v after admission", d)
	}
}

func TestStartedRefusalClosesConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.gk.StartedErr = errors.New("channel suspended meanwhile")
	ctx := testContext(t)
	c, err := mediatest.Dial(ctx, e.base+"sk_alice")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.Send(ctx, fixture(t), mediatest.SendOptions{})
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-e.col.started:
		t.Fatalf("ingest started despite refusal: %+v", in)
	default:
	}
}

func TestEndSessionDisconnectsPublisher(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	c, err := mediatest.Dial(ctx, e.base+"sk_alice")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendErr := make(chan error, 1)
	go func() {
		sendErr <- c.Send(ctx, fixture(t), mediatest.SendOptions{Pace: 1, Loops: 10})
	}()
	if _, err := e.gk.Wait(ctx, "started", "alice", 1); err != nil {
		t.Fatal(err)
	}
	e.hub.EndSession("alice")
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sendErr:
		if err == nil {
			t.Fatal("publisher kept sending after eviction")
		}
	case <-ctx.Done():
		t.Fatal("publisher not disconnected")
	}
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	tags := fixture(t)

	good, err := mediatest.Dial(ctx, e.base+"sk_bob")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()

	// Garbage instead of a handshake.
	nc, err := net.Dial("tcp", e.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(nc); err != nil && !errors.Is(err, io.EOF) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("garbage connection left open")
		}
	}
	nc.Close()

	// An admitted publisher that sends a corrupt AVC sequence header is disconnected.
	bad, err := mediatest.Dial(ctx, e.base+"sk_alice")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	for _, tag := range tags {
		if tag.IsConfig() && tag.Type == mediatest.TagVideo {
			body := append([]byte(nil), tag.Body...)
			for i := 17; i < 23; i++ {
				body[i] = 0xff
			}
			_ = bad.WriteTag(mediatest.Tag{Type: tag.Type, Body: body}, 0)
		}
	}
	if _, err := e.gk.Wait(ctx, "ended", "alice", 1); err != nil {
		t.Fatal(err)
	}

	// The well-behaved publisher is unaffected.
	if err := good.Send(ctx, tags, mediatest.SendOptions{}); err != nil {
		t.Fatalf("good publisher: %v", err)
	}
	good.Close()
	if _, err := e.gk.Wait(ctx, "ended", "bob", 1); err != nil {
		t.Fatal(err)
	}
	for _, ev := range e.gk.Events() {
		if ev.Kind == "ended-twice" {
			t.Fatal("Ended called twice")
		}
	}
}

// TestLongPublishPastHandshakeDeadline is a regression test: the server acknowledges every
// 2.5 MB it receives, and those writes once inherited the handshake deadline, disconnecting
// every publisher a few seconds into a high-bitrate stream.
func TestLongPublishPastHandshakeDeadline(t *testing.T) {
	t.Parallel()
	hub := media.NewHub(media.HubOptions{})
	col := newCollector()
	hub.AddConsumer(col)
	gk := rtmptest.NewGatekeeper(map[string]string{"sk_alice": "alice"})
	srv, err := rtmp.Listen(rtmp.Options{Addr: "127.0.0.1:0", Gatekeeper: gk, Hub: hub,
		HandshakeTimeout: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := testContext(t)
	tags := fixture(t)
	c, err := mediatest.Dial(ctx, "rtmp://"+srv.Addr().String()+"/live/sk_alice")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(ctx, tags, mediatest.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	// Outlive the handshake deadline, then send more than the 2.5 MB acknowledgement window.
	if _, err := gk.Wait(ctx, "started", "alice", 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.NewTimer(500 * time.Millisecond)
	<-deadline.C
	if err := c.Send(ctx, tags, mediatest.SendOptions{Loops: 20, Offset: 4 * time.Second}); err != nil {
		t.Fatal(err)
	}
	in := <-col.started
	waitUnits := func() int {
		col.mu.Lock()
		defer col.mu.Unlock()
		return len(col.units[in])
	}
	want := 21 * (120 + 189)
	for waitUnits() < want {
		select {
		case <-ctx.Done():
			t.Fatalf("hub got %d of %d units; events %v", waitUnits(), want, gk.Events())
		case <-time.After(10 * time.Millisecond):
		}
	}
	for _, ev := range gk.Events() {
		if ev.Kind == "ended" {
			t.Fatal("publisher disconnected during a long publish")
		}
	}
}
