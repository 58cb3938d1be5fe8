package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// histogram counts latencies in buckets: 50 µs wide up to 1 ms, then 5 % wider each.
type histogram [buckets]uint32

const buckets = 320

func bucketOf(d time.Duration) int {
	us := d.Microseconds()
	if us < 1000 {
		return int(max(us, 0) / 50)
	}
	b := 20 + int(math.Log(float64(us)/1000)/math.Log(1.05))
	return min(b, buckets-1)
}

// upper returns the upper bound of bucket b.
func upper(b int) time.Duration {
	if b < 20 {
		return time.Duration(b+1) * 50 * time.Microsecond
	}
	return time.Duration(1000*math.Pow(1.05, float64(b-19))) * time.Microsecond
}

func (h *histogram) add(o *histogram) {
	for i := range h {
		h[i] += o[i]
	}
}

func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for _, n := range h {
		total += uint64(n)
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, n := range h {
		seen += uint64(n)
		if seen >= want {
			return upper(i)
		}
	}
	return upper(buckets - 1)
}

// window is the measurement period: only messages sent inside it are counted.
type window struct {
	start, end atomic.Int64 // unix ns; end 0 while measuring
}

func (w *window) contains(ns int64) bool {
	s, e := w.start.Load(), w.end.Load()
	return s != 0 && ns >= s && (e == 0 || ns < e)
}

// loadClient is one WebSocket reader (and, for senders, writer). Senders use
// coder/websocket (conn); the other clients only read, through rawReader (raw).
type loadClient struct {
	conn      *websocket.Conn
	raw       *rawReader
	hist      histogram
	delivered atomic.Int64
	frames    atomic.Int64
	ended     atomic.Bool
}

var textMarker = []byte(`"text":"t`)

// readLoop reads frames until the connection ends, timing every message sent in the window.
func (c *loadClient) readLoop(w *window) {
	buf := make([]byte, 0, 16<<10)
	for {
		var err error
		if c.raw != nil {
			buf, err = c.raw.next()
		} else {
			buf, err = c.readLib(buf[:0])
		}
		if err != nil {
			c.ended.Store(true)
			return
		}
		now := time.Now().UnixNano()
		c.frames.Add(1)
		frame := buf
		var local int64
		for {
			i := bytes.Index(frame, textMarker)
			if i < 0 {
				break
			}
			frame = frame[i+len(textMarker):]
			j := bytes.IndexByte(frame, '"')
			if j < 0 {
				break
			}
			ns, err := strconv.ParseInt(string(frame[:j]), 10, 64)
			frame = frame[j:]
			if err != nil || !w.contains(ns) {
				continue
			}
			c.hist[bucketOf(time.Duration(now-ns))]++
			local++
		}
		c.delivered.Add(local)
	}
}

// readLib reads one message with coder/websocket into buf.
func (c *loadClient) readLib(buf []byte) ([]byte, error) {
	// No cancellable context per read (it costs a callback registration per frame): the
	// run ends readers by closing their connections.
	_, r, err := c.conn.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// close ends the client's connection.
func (c *loadClient) close() {
	if c.raw != nil {
		c.raw.conn.Close()
	} else {
		c.conn.CloseNow()
	}
}

type result struct {
	clients, senders int
	rate             float64
	connect          time.Duration
	sent             int64
	delivered        int64
	measured         time.Duration
	p50, p99, max    time.Duration
	ended            int
	rss, peak        int64
	cpu              float64 // cores used by the server while measuring
	clientCPU        float64 // cores used by this load generator while measuring
	frames           int64   // frames received by all clients during the window
	writes           int64   // the server's write system calls during the window (-1: unknown)
}

func framesSeen(cs []*loadClient) int64 {
	var n int64
	for _, c := range cs {
		n += c.frames.Load()
	}
	return n
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(cfg config, clients int) (*result, error) {
	srv, err := startServer(cfg.coalesce, cfg.queue, cfg.profile)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	url := fmt.Sprintf("ws://%s/ws/chat/%d", srv.addr, srv.channelID)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Connect everyone first, a bounded number at a time.
	res := &result{clients: clients, senders: min(cfg.senders, clients), rate: cfg.rate}
	cs := make([]*loadClient, clients)
	start := time.Now()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var dialErr atomic.Pointer[error]
	for i := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if i >= res.senders {
				raw, err := dialRaw(srv.addr, fmt.Sprintf("/ws/chat/%d", srv.channelID), 30*time.Second)
				if err != nil {
					dialErr.Store(&err)
					return
				}
				cs[i] = &loadClient{raw: raw}
				return
			}
			h := http.Header{}
			h.Set("Cookie", fmt.Sprintf("bench=%d", i+1))
			dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
			defer dcancel()
			conn, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPHeader: h})
			if err != nil {
				dialErr.Store(&err)
				return
			}
			conn.SetReadLimit(1 << 24)
			cs[i] = &loadClient{conn: conn}
		})
		if p := dialErr.Load(); p != nil {
			break
		}
	}
	wg.Wait()
	if p := dialErr.Load(); p != nil {
		return nil, fmt.Errorf("connect client: %w", *p)
	}
	res.connect = time.Since(start)
	defer func() {
		for _, c := range cs {
			if c != nil {
				c.close()
			}
		}
	}()

	var w window
	var readers sync.WaitGroup
	for _, c := range cs {
		readers.Go(func() { c.readLoop(&w) })
	}

	// Senders: each sends every senders/rate seconds, phases spread evenly.
	var sent atomic.Int64
	stopSend := make(chan struct{})
	var senders sync.WaitGroup
	interval := time.Duration(float64(time.Second) * float64(res.senders) / cfg.rate)
	for i := range res.senders {
		c := cs[i]
		senders.Go(func() {
			time.Sleep(time.Duration(rand.Int64N(int64(interval))))
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-stopSend:
					return
				case <-t.C:
				}
				ns := time.Now().UnixNano()
				msg := fmt.Appendf(nil, `{"v":1,"t":"msg.send","text":"t%d"}`, ns)
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				err := c.conn.Write(wctx, websocket.MessageText, msg)
				wcancel()
				if err != nil {
					return
				}
				if w.contains(ns) {
					sent.Add(1)
				}
			}
		})
	}

	time.Sleep(cfg.warmup)
	_, _, cpu0, _ := procStats(srv.cmd.Process.Pid)
	writes0 := writeSyscalls(srv.cmd.Process.Pid)
	self0 := selfCPU()
	frames0 := framesSeen(cs)
	t0 := time.Now()
	w.start.Store(t0.UnixNano())
	time.Sleep(cfg.duration)
	t1 := time.Now()
	w.end.Store(t1.UnixNano())
	self1 := selfCPU()
	res.frames = framesSeen(cs) - frames0
	rss, peak, cpu1, err := procStats(srv.cmd.Process.Pid)
	res.writes = -1
	if writes1 := writeSyscalls(srv.cmd.Process.Pid); writes0 >= 0 && writes1 >= 0 {
		res.writes = writes1 - writes0
	}
	if err != nil {
		return nil, err
	}
	if cfg.profile != "" {
		srv.cmd.Process.Signal(syscall.SIGUSR1)
	}
	close(stopSend)
	senders.Wait()
	res.sent = sent.Load()
	res.measured = t1.Sub(t0)
	res.rss, res.peak = rss, peak
	res.cpu = float64(cpu1-cpu0) / float64(t1.Sub(t0))
	res.clientCPU = float64(self1-self0) / float64(t1.Sub(t0))

	// Drain: wait until every message sent in the window reached every client still
	// connected, or the drain time is up.
	expectedPer := res.sent
	deadline := time.Now().Add(cfg.drain)
	for time.Now().Before(deadline) {
		done := true
		for _, c := range cs {
			if !c.ended.Load() && c.delivered.Load() < expectedPer {
				done = false
				break
			}
		}
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	for _, c := range cs {
		c.close()
	}
	readers.Wait()

	var total histogram
	for _, c := range cs {
		total.add(&c.hist)
		res.delivered += c.delivered.Load()
		if c.ended.Load() && c.delivered.Load() < expectedPer {
			res.ended++
		}
	}
	res.p50, res.p99 = total.quantile(0.50), total.quantile(0.99)
	for i := buckets - 1; i >= 0; i-- {
		if total[i] > 0 {
			res.max = upper(i)
			break
		}
	}
	return res, nil
}
