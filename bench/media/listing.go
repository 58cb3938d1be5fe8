package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/freelylive/freely/internal/media/hls"
	"github.com/freelylive/freely/internal/media/mediatest"
)

// benchListing publishes the fixture in real time and follows the LL video playlist with
// blocking reloads, like an LL player. It reports the server's own share (frame read from the
// publisher's socket → blocking reply written), measured inside the server, and what the probe
// sees end to end: newest frame of a part written by the publisher → the reply listing that
// part received (this includes waiting for the next frame, which is what closes a part).
func benchListing(ctx context.Context, runs int, duration time.Duration) error {
	tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
	if err != nil {
		return err
	}
	var serverParts, serverSegs, e2eParts []time.Duration
	for i := range runs {
		r, err := listingOnce(ctx, tags, duration)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("run %d: server share parts p50 %v p90 %v p99 %v max %v (n=%d); segments p50 %v p99 %v (n=%d); "+
			"probe end-to-end parts p50 %v p90 %v p99 %v (n=%d)\n", i+1,
			round(r.lat.Parts.P50), round(r.lat.Parts.P90), round(r.lat.Parts.P99), round(r.lat.Parts.Max), r.lat.Parts.Count,
			round(r.lat.Segments.P50), round(r.lat.Segments.P99), r.lat.Segments.Count,
			round(percentile(r.e2e, 0.5)), round(percentile(r.e2e, 0.9)), round(percentile(r.e2e, 0.99)), len(r.e2e))
		serverParts = append(serverParts, r.lat.Parts.P50)
		serverSegs = append(serverSegs, r.lat.Segments.P50)
		e2eParts = append(e2eParts, percentile(r.e2e, 0.5))
	}
	fmt.Printf("frame → listed, server share, parts: %s\n", summary(serverParts))
	fmt.Printf("frame → listed, server share, segments: %s\n", summary(serverSegs))
	fmt.Printf("newest frame of a part sent → listed at the probe: %s\n", summary(e2eParts))
	return nil
}

type listingResult struct {
	lat hls.ListingLatency
	e2e []time.Duration
}

func listingOnce(ctx context.Context, tags []mediatest.Tag, duration time.Duration) (*listingResult, error) {
	p, err := newPipeline("127.0.0.1:0", "127.0.0.1:0", hls.Options{}, map[string]string{"bench": "bench"})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(ctx, duration+30*time.Second)
	defer cancel()

	var mu sync.Mutex
	var sent []time.Time // when each video frame (in decode order) was written by the publisher
	loops := int(duration/(4*time.Second)) + 2
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	go func() {
		_ = mediatest.Publish(pubCtx, p.rtmpURL+"bench", tags, mediatest.SendOptions{Pace: 1, Loops: loops,
			OnTag: func(tag mediatest.Tag, _ time.Duration, at time.Time) {
				if tag.Type == mediatest.TagVideo && len(tag.Body) > 1 && tag.Body[1] == 1 { // AVC NALU, not config/EOS
					mu.Lock()
					sent = append(sent, at)
					mu.Unlock()
				}
			}})
	}()
	if err := p.waitStream(ctx, "bench"); err != nil {
		return nil, err
	}

	res := &listingResult{}
	known := map[string]bool{}
	frames := 0 // video frames in the parts seen so far: parts are listed in order from the first
	var pl *playlist.Media
	end := time.Now().Add(duration)
	for time.Now().Before(end) {
		url := p.baseURL + "/hls/bench/video.m3u8"
		if pl != nil {
			url += fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", pl.MediaSequence+len(pl.Segments), len(pl.Parts))
		}
		code, body, err := get(ctx, url)
		listedAt := time.Now()
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("playlist: HTTP %d", code)
		}
		parsed, err := playlist.Unmarshal(body)
		if err != nil {
			return nil, err
		}
		first := pl == nil
		pl = parsed.(*playlist.Media)
		var parts []*playlist.MediaPart
		for _, s := range pl.Segments {
			parts = append(parts, s.Parts...)
		}
		parts = append(parts, pl.Parts...)
		for _, part := range parts {
			if known[part.URI] {
				continue
			}
			known[part.URI] = true
			n, err := partFrames(ctx, p.baseURL+"/hls/bench/"+part.URI)
			if err != nil {
				return nil, err
			}
			frames += n
			if first {
				continue // listed before we asked: no waiting reply to time
			}
			idx := frames - 1 // the part's newest frame, in decode (= sending) order
			mu.Lock()
			if idx >= 0 && idx < len(sent) {
				res.e2e = append(res.e2e, listedAt.Sub(sent[idx]))
			}
			mu.Unlock()
		}
	}
	res.lat = p.hls.ListingLatency()
	if res.lat.Parts.Count == 0 {
		return nil, errors.New("no listing latency recorded")
	}
	return res, nil
}

// partFrames downloads a video part and returns how many frames it holds.
func partFrames(ctx context.Context, url string) (int, error) {
	code, body, err := get(ctx, url)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("part: HTTP %d", code)
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(body); err != nil {
		return 0, err
	}
	n := 0
	for _, pt := range parts {
		for _, tr := range pt.Tracks {
			n += len(tr.Samples)
		}
	}
	return n, nil
}
