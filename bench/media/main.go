// Command media measures Freely's live media path with the real RTMP listener, hub and HLS
// server running in-process on loopback:
//
//	go run ./bench/media -mode first -runs 5     publish start → first playable playlist
//	go run ./bench/media -mode listing -runs 3   frame → listed in a blocking playlist reply
//	go run ./bench/media -mode serve             a live channel for wrk (see serve.sh)
//	go run ./bench/media -mode streams -n 1,4,8  server CPU and RSS per passthrough stream
//
// Figures and the exact commands used live in bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"time"

	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/rtmp"
	"github.com/freelylive/freely/internal/media/rtmp/rtmptest"
)

func main() {
	mode := flag.String("mode", "first", "first | listing | serve | streams")
	runs := flag.Int("runs", 5, "repetitions (first, listing)")
	publisher := flag.String("publisher", "go", "first: go (in-process RTMP client sending the fixture) or ffmpeg")
	duration := flag.Duration("duration", 20*time.Second, "listing, streams: measurement window")
	httpAddr := flag.String("http", "127.0.0.1:18080", "serve, streams: HTTP address")
	rtmpAddr := flag.String("rtmp", "127.0.0.1:11935", "serve, streams: RTMP address")
	window := flag.Int("window", 7, "serve: segments kept per channel")
	counts := flag.String("n", "1,4,8", "streams: publisher counts")
	verbose := flag.Bool("v", false, "log the server's events to stderr")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:18090)")
	input := flag.String("input", "/tmp/freely-bench-720p.flv", "streams: FLV input (generated if missing)")
	serveInput := flag.String("serve-input", "", "serve: FLV to loop (default: the committed 320x240 fixture)")
	flag.Parse()
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}

	if *pprofAddr != "" {
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }() // DefaultServeMux carries pprof
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch *mode {
	case "first":
		err = benchFirstPlaylist(ctx, *runs, *publisher)
	case "listing":
		err = benchListing(ctx, *runs, *duration)
	case "serve":
		err = serve(ctx, *httpAddr, *rtmpAddr, *window, *serveInput)
	case "streams":
		err = benchStreams(ctx, *httpAddr, *rtmpAddr, *counts, *input, *duration)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "media bench:", err)
		os.Exit(1)
	}
}

// pipeline is the production media path: RTMP listener → hub → HLS server on an HTTP listener.
type pipeline struct {
	hub     *media.Hub
	gk      *rtmptest.Gatekeeper
	rtmp    *rtmp.Server
	hls     *hls.Server
	httpSrv *http.Server
	baseURL string
	rtmpURL string // rtmp://host:port/live/
}

var logger = slog.New(slog.NewTextHandler(io.Discard, nil))

func newPipeline(httpAddr, rtmpAddr string, hopts hls.Options, keys map[string]string) (*pipeline, error) {
	hopts.Logger = logger
	srv, err := hls.NewServer(hopts)
	if err != nil {
		return nil, err
	}
	p := &pipeline{hls: srv, hub: media.NewHub(media.HubOptions{Logger: logger}), gk: rtmptest.NewGatekeeper(keys)}
	p.hub.AddConsumer(srv)
	p.rtmp, err = rtmp.Listen(rtmp.Options{Addr: rtmpAddr, Gatekeeper: p.gk, Hub: p.hub, Logger: logger})
	if err != nil {
		srv.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		p.rtmp.Close()
		srv.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/hls/", srv.Handler())
	p.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.httpSrv.Serve(ln) }()
	p.baseURL = "http://" + ln.Addr().String()
	p.rtmpURL = "rtmp://" + p.rtmp.Addr().String() + "/live/"
	return p, nil
}

func (p *pipeline) Close() {
	p.rtmp.Close()
	_ = p.httpSrv.Close()
	p.hls.Close()
}

// waitStream waits until the HLS server carries channel.
func (p *pipeline) waitStream(ctx context.Context, channel string) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		for _, st := range p.hls.Stats() {
			if st.Channel == channel {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// summary formats the median, minimum and maximum of samples.
func summary(samples []time.Duration) string {
	if len(samples) == 0 {
		return "no samples"
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return fmt.Sprintf("median %v (min %v, max %v, n=%d)", round(s[len(s)/2]), round(s[0]), round(s[len(s)-1]), len(s))
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d > 10*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}

func percentile(samples []time.Duration, q float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

var errNoFFmpeg = errors.New("ffmpeg not found in PATH")

func itoa(i int) string { return strconv.Itoa(i) }
