package obs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger, err := NewLogger(&buf, LogOptions{Format: "json", Level: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("hidden")
	logger.Warn("shown", "user", 7)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("json log line %q: %v", buf.String(), err)
	}
	if rec["msg"] != "shown" || rec["user"] != float64(7) || rec["level"] != "WARN" {
		t.Errorf("record = %v", rec)
	}

	buf.Reset()
	logger, err = NewLogger(&buf, LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("hidden")
	logger.Info("hello", "k", "v")
	if out := buf.String(); !strings.Contains(out, "level=INFO msg=hello k=v") || strings.Contains(out, "hidden") {
		t.Errorf("text log = %q", out)
	}

	for _, bad := range []LogOptions{{Format: "xml"}, {Level: "loud"}} {
		if _, err := NewLogger(io.Discard, bad); err == nil {
			t.Errorf("NewLogger(%+v) accepted", bad)
		}
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

func TestHTTPMetricsLabelByRoutePattern(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	m, err := NewHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /c/{handle}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("POST /quiet", func(w http.ResponseWriter, r *http.Request) {})
	h := m.Wrap(mux)
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/c/alice", nil),
		httptest.NewRequest("GET", "/c/bob", nil),
		httptest.NewRequest("POST", "/quiet", nil),
		httptest.NewRequest("GET", "/secret-scan-path-1", nil),
		httptest.NewRequest("BREW", "/c/alice", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}

	out := scrape(t, MetricsHandler(reg))
	for _, want := range []string{
		`freely_http_requests_total{code="201",method="GET",route="GET /c/{handle}"} 2`,
		`freely_http_requests_total{code="200",method="POST",route="POST /quiet"} 1`,
		`freely_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`freely_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`freely_http_request_duration_seconds_count{method="GET",route="GET /c/{handle}"} 2`,
		`freely_http_requests_in_flight 0`,
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, leak := range []string{"alice", "secret-scan-path", "BREW"} {
		if strings.Contains(out, leak) {
			t.Errorf("metrics carry the request-specific value %q", leak)
		}
	}
	if _, err := NewHTTPMetrics(reg); err == nil {
		t.Error("registering the request metrics twice on one registry succeeded")
	}
}

// The wrapper must not hide the connection from WebSocket upgrades or the flusher from
// streaming handlers.
func TestHTTPMetricsKeepsHijackAndFlush(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	m, err := NewHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /upgrade", func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack through the wrapper: %v", err)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhi")
		rw.Flush()
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the wrapper: %v", err)
		}
	})
	srv := httptest.NewServer(m.Wrap(mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "part" {
		t.Errorf("stream body %q", body)
	}

	conn, err := new(net.Dialer).DialContext(t.Context(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	br := bufio.NewReader(conn)
	up, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if up.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade status %d", up.StatusCode)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "hi" {
		t.Errorf("after upgrade read %q", rest)
	}

	out := scrape(t, MetricsHandler(reg))
	for _, want := range []string{
		`freely_http_requests_total{code="101",method="GET",route="GET /upgrade"} 1`,
		`freely_http_requests_total{code="200",method="GET",route="GET /stream"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
