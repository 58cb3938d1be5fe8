package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
	"github.com/freelylive/freely/internal/web/searchweb"
)

// server exposes the search service over HTTP on loopback the way the site's JSON API
// does: decode the query, call the service, write the result with the API's own encoder
// (searchweb.Encoder). It leaves out the site's router and middleware.
type server struct {
	svc *search.Service
	enc *searchweb.Encoder

	mu      sync.Mutex
	handled []time.Duration // time spent in ServeHTTP per request since the last take
}

// take returns the handler's own percentiles since the last call: next to the client's
// figures they tell the server's work from waiting to be scheduled.
func (s *server) take() string {
	s.mu.Lock()
	d := s.handled
	s.handled = nil
	s.mu.Unlock()
	if len(d) == 0 {
		return "no requests"
	}
	r := summarize(d, 0)
	return fmt.Sprintf("in the handler: p50 %v, p90 %v, p99 %v, max %v", r.P50.Round(time.Microsecond),
		r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() {
		s.mu.Lock()
		s.handled = append(s.handled, time.Since(start))
		s.mu.Unlock()
	}()
	q := r.URL.Query()
	switch r.URL.Path {
	case "/search":
		query := search.Query{Text: q.Get("q"), Category: q.Get("category")}
		res, err := s.svc.Search(r.Context(), query)
		if err != nil {
			if errors.Is(err, search.ErrEmptyQuery) || errors.Is(err, search.ErrQueryTooLong) || errors.Is(err, search.ErrUnknownCategory) {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.enc.Write(w, "public, max-age=2", query.Text, query.Category, res)
	case "/autocomplete":
		body, err := json.Marshal(s.svc.Autocomplete(q.Get("q"), search.DefaultSuggestions))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n'))
	default:
		http.NotFound(w, r)
	}
}

func serve(ctx context.Context, svc *search.Service) (addr string, h *server, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	h = &server{svc: svc, enc: searchweb.NewEncoder(nil)}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return ln.Addr().String(), h, func() {
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// workload draws requests the way people search the site: mostly one popular tag, sometimes
// two words, a title word, a category filter; autocomplete prefixes of one to four
// characters of tags and titles, a fifth of them as 초성.
type workload struct {
	tags     []string // weighted by use: popular tags appear often
	words    []string
	cats     []string
	prefixes []string
}

func newWorkload(c *corpus) *workload {
	w := &workload{}
	seenWord := map[string]bool{}
	for i, s := range c.streams {
		w.tags = append(w.tags, c.tags[i]...)
		for _, word := range strings.Fields(s.Title) {
			if k := analysis.Key(word); len([]rune(k)) >= 2 && !seenWord[k] {
				seenWord[k] = true
				w.words = append(w.words, word)
			}
		}
		w.cats = append(w.cats, s.Category)
	}
	for _, t := range append(slices.Clone(w.tags), w.words...) {
		runes := []rune(analysis.Key(t))
		if len(runes) == 0 {
			continue
		}
		n := 1 + len(t)%min(4, len(runes))
		w.prefixes = append(w.prefixes, string(runes[:n]))
		if len(w.prefixes)%5 == 0 {
			cho := []rune(analysis.Choseong(string(runes)))
			w.prefixes = append(w.prefixes, string(cho[:min(len(cho), 2+len(t)%3)]))
		}
	}
	return w
}

func (w *workload) searchURL(r *rand.Rand, base string) string {
	q := url.Values{}
	switch n := r.IntN(10); {
	case n < 6:
		q.Set("q", w.tags[r.IntN(len(w.tags))])
	case n < 8:
		q.Set("q", w.tags[r.IntN(len(w.tags))]+" "+w.tags[r.IntN(len(w.tags))])
	case n < 9:
		q.Set("q", w.words[r.IntN(len(w.words))])
	default:
		q.Set("q", w.tags[r.IntN(len(w.tags))])
		q.Set("category", w.cats[r.IntN(len(w.cats))])
	}
	return base + "/search?" + q.Encode()
}

func (w *workload) autocompleteURL(r *rand.Rand, base string) string {
	return base + "/autocomplete?q=" + url.QueryEscape(w.prefixes[r.IntN(len(w.prefixes))])
}

// result summarises one load run.
type result struct {
	Requests   int
	Errors     int
	Status4xx  int
	Duration   time.Duration
	Throughput float64 // requests per second completed
	P50, P90   time.Duration
	P99, Max   time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("%d requests in %v (%.0f/s), p50 %v, p90 %v, p99 %v, max %v, errors %d, 4xx %d",
		r.Requests, r.Duration.Round(time.Millisecond), r.Throughput, r.P50.Round(time.Microsecond),
		r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond), r.Errors, r.Status4xx)
}

// run sends requests for d. With rate > 0 they are scheduled at that rate and latency is
// measured from the scheduled time when the sender was held up by the server (a slow server
// cannot hide queueing by slowing the client); with rate 0, clients send back to back
// (closed loop) to find the throughput.
// Each sender keeps one HTTP/1.1 connection and reads responses itself (see client).
func run(ctx context.Context, d time.Duration, clients int, rate float64, next func(r *rand.Rand) string) result {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		bad       int
	)
	record := func(lat time.Duration, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil || status >= 500:
			errs++
		case status >= 400:
			bad++
		}
		latencies = append(latencies, lat)
	}
	do := func(c *client, r *rand.Rand, scheduled time.Time) {
		status, err := c.get(next(r))
		record(time.Since(scheduled), status, err)
	}
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	if rate <= 0 {
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &client{}
				defer c.close()
				r := rand.New(rand.NewPCG(uint64(i), 7))
				for time.Now().Before(end) && ctx.Err() == nil {
					do(c, r, time.Now())
				}
			}()
		}
	} else {
		// Each sender keeps its own schedule, every clients/rate seconds, offset so that
		// together they send at rate. A sender still waiting for the server at its next
		// time sends at once, and the wait counts as latency (the server's queue, not
		// hidden by a slowed client). A sender that slept is timed from when it woke:
		// timers here fire on a ~1 ms tick (p50 0.55 ms, p90 1 ms late, measured), the
		// tool's lateness, not the server's.
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &client{}
				defer c.close()
				r := rand.New(rand.NewPCG(uint64(i), 11))
				for k := 0; ctx.Err() == nil; k++ {
					at := start.Add(time.Duration(float64(time.Second) * float64(i+k*clients) / rate))
					if !at.Before(end) || time.Now().After(end) {
						// What a server too slow to keep up did not get to is counted
						// against throughput, not as an error.
						return
					}
					if wait := time.Until(at); wait > 0 {
						time.Sleep(wait) // pacing the schedule, not synchronising anything
						at = time.Now()
					}
					do(c, r, at)
				}
			}()
		}
	}
	wg.Wait()
	res := summarize(latencies, time.Since(start))
	res.Errors, res.Status4xx = errs, bad
	return res
}

// summarize sorts lat, the latencies of requests completed over elapsed, and returns their
// count, rate and percentiles.
func summarize(lat []time.Duration, elapsed time.Duration) result {
	slices.Sort(lat)
	res := result{Requests: len(lat), Duration: elapsed}
	if len(lat) == 0 {
		return res
	}
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	res.P50, res.P90, res.P99, res.Max = pct(0.50), pct(0.90), pct(0.99), lat[len(lat)-1]
	if elapsed > 0 {
		res.Throughput = float64(len(lat)) / elapsed.Seconds()
	}
	return res
}

// client is one keep-alive HTTP/1.1 connection used by one sender. net/http's client
// hands every request to two goroutines of its transport; on this 2-core machine, which
// the load shares with the server, that cost about 80 µs of CPU a request — a tenth of a
// search — so the load writes requests itself and reads responses with http.ReadResponse
// in the sender's own goroutine. Responses are read whole (chunked or not).
type client struct {
	conn net.Conn
	br   *bufio.Reader
	req  []byte
}

// get sends GET for rawURL (http://host/path?query) and returns the status.
func (c *client) get(rawURL string) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, err
	}
	if c.conn == nil {
		if c.conn, err = net.DialTimeout("tcp", u.Host, 5*time.Second); err != nil {
			return 0, err
		}
		c.br = bufio.NewReaderSize(c.conn, 32<<10)
	}
	c.req = append(c.req[:0], "GET "...)
	c.req = append(c.req, u.RequestURI()...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, u.Host...)
	c.req = append(c.req, "\r\n\r\n"...)
	_ = c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return 0, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	return resp.StatusCode, err
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// inProcess measures the service itself, without HTTP, for n sequential calls.
func inProcess(ctx context.Context, svc *search.Service, w *workload, n int, autocomplete bool) result {
	r := rand.New(rand.NewPCG(3, 5))
	lat := make([]time.Duration, 0, n)
	errs := 0
	start := time.Now()
	for range n {
		t0 := time.Now()
		if autocomplete {
			svc.Autocomplete(w.prefixes[r.IntN(len(w.prefixes))], search.DefaultSuggestions)
		} else {
			u, _ := url.Parse(w.searchURL(r, ""))
			q := u.Query()
			if _, err := svc.Search(ctx, search.Query{Text: q.Get("q"), Category: q.Get("category")}); err != nil &&
				!errors.Is(err, search.ErrEmptyQuery) {
				if errs == 0 {
					log.Printf("first search error: %v", err)
				}
				errs++
			}
		}
		lat = append(lat, time.Since(t0))
	}
	res := summarize(lat, time.Since(start))
	res.Errors = errs
	return res
}
