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

// pageLoad requests paths round-robin from `clients` goroutines until stopped, recording
// each request's latency.
type pageLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	lat    []time.Duration
	errs   int
}

func startLoad(base string, paths []string, clients int) *pageLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &pageLoad{cancel: cancel}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for c := range clients {
		l.wg.Go(func() {
			for i := c; ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+paths[i%len(paths)], nil)
				start := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				d := time.Since(start)
				l.mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						l.errs++
					}
				} else {
					l.lat = append(l.lat, d)
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

// stop ends the load and returns the latencies and the number of failed requests.
func (l *pageLoad) stop() ([]time.Duration, int) {
	l.cancel()
	l.wg.Wait()
	return l.lat, l.errs
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// pageResult compares page latency while idle with latency during a fan-out.
type pageResult struct {
	idleN, fanN           int
	idleP50, idleP99      time.Duration
	fanP50, fanP99        time.Duration
	fanOut                time.Duration
	errors                int
	pagesPerSecondIdle    float64
	pagesPerSecondFanning float64
}

// measurePages runs the app on db, loads its pages while idle for idleFor, then again while
// a fan-out to every follower of channelID runs (directly, not through River: the app's own
// queue has no alert worker registered yet and must not pick the job up).
func measurePages(ctx context.Context, db *sqlstore.DB, bin, dataDir, dbURL string, channelID int64, paths []string,
	clients, batch int, idleFor time.Duration) (*pageResult, error) {
	a, err := startApp(ctx, bin, dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	defer a.stop()

	warm := startLoad(a.base, paths, clients)
	time.Sleep(time.Second) // warm-up: caches, connections, JIT of nothing but the OS
	warm.stop()

	r := &pageResult{}
	idle := startLoad(a.base, paths, clients)
	time.Sleep(idleFor) // a fixed measuring window, not synchronisation
	lat, errs := idle.stop()
	r.idleN, r.errors = len(lat), errs
	r.idleP50, r.idleP99 = quantile(lat, 0.50), quantile(lat, 0.99)
	r.pagesPerSecondIdle = float64(len(lat)) / idleFor.Seconds()

	as := sqlstore.NewAlertStore(db)
	e := &alert.Event{Kind: alert.KindWentLive, ChannelID: channelID, SourceID: 1 << 40, Title: "페이지 측정", OccurredAt: time.Now()}
	if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := as.CreateEvent(ctx, tx, e, time.Time{})
		return err
	}); err != nil {
		return nil, err
	}
	fan, err := alert.NewFanOut(alert.FanOutOptions{Store: as, BatchSize: batch})
	if err != nil {
		return nil, err
	}
	busy := startLoad(a.base, paths, clients)
	start := time.Now()
	_, runErr := fan.Run(ctx, e.ID)
	r.fanOut = time.Since(start)
	lat, errs = busy.stop()
	if runErr != nil {
		return nil, runErr
	}
	r.fanN, r.errors = len(lat), r.errors+errs
	r.fanP50, r.fanP99 = quantile(lat, 0.50), quantile(lat, 0.99)
	r.pagesPerSecondFanning = float64(len(lat)) / r.fanOut.Seconds()
	if r.idleN == 0 || r.fanN == 0 {
		return nil, errors.New("no page request succeeded")
	}
	return r, nil
}
