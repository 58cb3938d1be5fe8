package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/freelylive/freely/internal/media/hls"
)

// benchStreams measures the server's CPU and RSS with n simultaneous passthrough publishers:
// ffmpeg processes sending a pre-encoded FLV in real time with -c copy (their own CPU is
// reported separately). The HLS output is muxed but not requested.
func benchStreams(ctx context.Context, httpAddr, rtmpAddr, counts, input string, window time.Duration) error {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return errNoFFmpeg
	}
	if err := ensureInput(ctx, input); err != nil {
		return err
	}
	for _, f := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("bad publisher count %q", f)
		}
		if err := streamsOnce(ctx, httpAddr, rtmpAddr, n, input, window); err != nil {
			return err
		}
	}
	return nil
}

func streamsOnce(ctx context.Context, httpAddr, rtmpAddr string, n int, input string, window time.Duration) error {
	keys := map[string]string{}
	for i := range n {
		keys["k"+itoa(i)] = "ch" + itoa(i)
	}
	p, err := newPipeline(httpAddr, rtmpAddr, hls.Options{}, keys)
	if err != nil {
		return err
	}
	defer p.Close()
	baseRSS := rssBytes()

	pubCtx, stop := context.WithCancel(ctx)
	var cmds []*exec.Cmd
	defer func() {
		stop()
		for _, c := range cmds {
			_ = c.Wait()
		}
	}()
	for i := range n {
		c := exec.CommandContext(pubCtx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
			"-stream_loop", "-1", "-i", input, "-c", "copy", "-f", "flv", p.rtmpURL+"k"+itoa(i))
		if err := c.Start(); err != nil {
			return err
		}
		cmds = append(cmds, c)
	}
	for i := range n {
		if err := p.waitStream(ctx, "ch"+itoa(i)); err != nil {
			return err
		}
	}
	// Warm up past stream start (muxer allocation, first segments) before measuring.
	if err := sleep(ctx, 5*time.Second); err != nil {
		return err
	}
	cpu0, pub0, t0 := selfCPU(), childrenCPU(cmds), time.Now()
	if err := sleep(ctx, window); err != nil {
		return err
	}
	wall := time.Since(t0)
	cpu, pub := selfCPU()-cpu0, childrenCPU(cmds)-pub0
	rss := rssBytes()
	var segs, dropped, errs int
	for _, st := range p.hls.Stats() {
		segs += st.Segments
		dropped += int(st.Dropped)
		errs += int(st.EncodeErrors)
	}
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	fmt.Printf("%d publishers: server %.2f%% of a core (%.2f%% per stream), RSS %.1f MB (%.1f MB above idle, %.1f MB per stream); "+
		"publishers (ffmpeg -c copy) %.2f%% in total; %d segments held, %d units dropped, %d encode errors\n",
		n, pct(cpu), pct(cpu)/float64(n), float64(rss)/1e6, float64(rss-baseRSS)/1e6, float64(rss-baseRSS)/1e6/float64(n),
		pct(pub), segs, dropped, errs)
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childrenCPU sums user+system time of running processes from /proc (clock ticks of 10 ms).
func childrenCPU(cmds []*exec.Cmd) time.Duration {
	var total time.Duration
	for _, c := range cmds {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(c.Process.Pid) + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(fields[11], 10, 64)
		k, _ := strconv.ParseInt(fields[12], 10, 64)
		total += time.Duration(u+k) * 10 * time.Millisecond
	}
	return total
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// ensureInput generates the benchmark's pre-encoded input once: 20 s of 720p30 H.264 at
// 3 Mbit/s with 1 s GOPs and 128 kbit/s AAC, the shape of a typical OBS stream.
func ensureInput(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	fmt.Printf("generating %s\n", path)
	c := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "30", "-keyint_min", "30",
		"-sc_threshold", "0", "-b:v", "3M", "-maxrate", "3M", "-bufsize", "3M", "-c:a", "aac", "-b:a", "128k",
		"-f", "flv", path)
	c.Stderr = os.Stderr
	return c.Run()
}
