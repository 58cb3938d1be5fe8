package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/alert"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// app is a running freely server on the benchmark's database.
type app struct {
	cmd  *exec.Cmd
	base string
}

// startApp runs `freely serve` on 127.0.0.1 against the database at dbURL (SQLite: the
// data dir's freely.db) and waits until it answers /readyz.
func startApp(ctx context.Context, bin, dataDir, dbURL string) (*app, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"serve", "--addr", addr, "--data-dir", dataDir, "--rtmp-addr", "127.0.0.1:0", "--log-level", "warn"}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	a := &app{cmd: cmd, base: "http://" + addr}
	deadline := time.Now().Add(60 * time.Second)
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		resp, err := http.Get(a.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a, nil
			}
		}
		if time.Now().After(deadline) {
			a.stop()
			return nil, fmt.Errorf("app at %s not ready after 60 s: %v", a.base, err)
		}
		select {
		case <-ctx.Done():
			a.stop()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// stop ends the server this benchmark started, by its process id.
func (a *app) stop() {
	a.cmd.Process.Signal(syscall.SIGTERM)
	a.cmd.Wait()
}

// pageLoad requests paths round-robin from `clients` goroutines, over kept-alive
// connections, until stopped. Each request's latency goes to the bucket current when it
// started (nil: not recorded), so phases can switch while the load keeps running.
type pageLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	bucket atomic.Pointer[samples]
}

// samples is one phase's latencies.
type samples struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs int
}

func (s *samples) add(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs++
		return
	}
	s.lat = append(s.lat, d)
}

func (s *samples) snapshot() ([]time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lat), s.errs
}

func startLoad(base string, paths []string, clients int) *pageLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &pageLoad{cancel: cancel}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for c := range clients {
		l.wg.Go(func() {
			for i := c; ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+paths[i%len(paths)], nil)
				bucket := l.bucket.Load()
				start := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if bucket != nil && ctx.Err() == nil {
					bucket.add(time.Since(start), err)
				}
			}
		})
	}
	return l
}

// phase records the load's latencies into a new bucket until the next phase.
func (l *pageLoad) phase() *samples {
	s := &samples{}
	l.bucket.Store(s)
	return s
}

func (l *pageLoad) stop() {
	l.bucket.Store(nil)
	l.cancel()
	l.wg.Wait()
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// pageResult compares page latency while idle with latency during fan-outs.
type pageResult struct {
	idleN, fanN           int
	idleP50, idleP99      time.Duration
	fanP50, fanP99        time.Duration
	fanOuts               int           // fan-outs run in the busy windows
	fanOut                time.Duration // mean time of one
	errors                int
	pagesPerSecondIdle    float64
	pagesPerSecondFanning float64
}

// measurePages runs the app on db and loads its pages in `rounds` alternating windows: idle
// for `window`, then while fan-outs to every follower of channelID run back to back until
// at least `window` has passed (small follower counts take several fan-outs to fill it).
// Alternating spreads both phases over the same stretch of time, so load from other
// processes on the machine lands on both alike. The fan-outs run here, directly, not
// through River: the app's own queue has no alert worker registered and must not pick the
// jobs up.
func measurePages(ctx context.Context, db *sqlstore.DB, bin, dataDir, dbURL string, channelID int64, paths []string,
	clients, batch, rate, rounds int, window time.Duration) (*pageResult, error) {
	a, err := startApp(ctx, bin, dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	defer a.stop()

	as := sqlstore.NewAlertStore(db)
	fan, err := alert.NewFanOut(alert.FanOutOptions{Store: as, BatchSize: batch, MaxRate: rate})
	if err != nil {
		return nil, err
	}
	load := startLoad(a.base, paths, clients)
	defer load.stop()
	time.Sleep(time.Second) // warm-up (connections, caches), unrecorded; a fixed window, not synchronisation

	r := &pageResult{}
	var idle, busy []*samples
	var busyFor time.Duration
	for range max(1, rounds) {
		idle = append(idle, load.phase())
		time.Sleep(window) // the idle measuring window
		busy = append(busy, load.phase())
		start := time.Now()
		for n := 0; n == 0 || time.Since(start) < window; n++ {
			e := &alert.Event{Kind: alert.KindWentLive, ChannelID: channelID, SourceID: 1<<40 + int64(r.fanOuts),
				Title: "페이지 측정", OccurredAt: time.Now()}
			if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				_, err := as.CreateEvent(ctx, tx, e, time.Time{})
				return err
			}); err != nil {
				return nil, err
			}
			if _, err := fan.Run(ctx, e.ID); err != nil {
				return nil, err
			}
			r.fanOuts++
		}
		busyFor += time.Since(start)
	}
	load.bucket.Store(nil)
	r.fanOut = busyFor / time.Duration(r.fanOuts)

	idleLat, idleErrs := merge(idle)
	busyLat, busyErrs := merge(busy)
	r.idleN, r.fanN, r.errors = len(idleLat), len(busyLat), idleErrs+busyErrs
	r.idleP50, r.idleP99 = quantile(idleLat, 0.50), quantile(idleLat, 0.99)
	r.fanP50, r.fanP99 = quantile(busyLat, 0.50), quantile(busyLat, 0.99)
	r.pagesPerSecondIdle = float64(r.idleN) / (window.Seconds() * float64(len(idle)))
	r.pagesPerSecondFanning = float64(r.fanN) / busyFor.Seconds()
	if r.idleN == 0 || r.fanN == 0 {
		return nil, errors.New("no page request succeeded")
	}
	return r, nil
}

func merge(phases []*samples) ([]time.Duration, int) {
	var all []time.Duration
	errs := 0
	for _, p := range phases {
		lat, e := p.snapshot()
		all = append(all, lat...)
		errs += e
	}
	return all, errs
}
