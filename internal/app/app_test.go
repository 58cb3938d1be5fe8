package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/config"
)

// signalWriter is a log destination that closes a channel once a given text has been written.
type signalWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func TestRunServesHealthAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(config.Sources{Overrides: map[string]string{
		"data_dir": t.TempDir(), "http.addr": "127.0.0.1:0", "http.shutdown_timeout": "20s",
		"rtmp.addr": "127.0.0.1:0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	logs := &signalWriter{want: "shutting down", seen: make(chan struct{})}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	slowStarted, releaseSlow := make(chan struct{}), make(chan struct{})
	slowRoute := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			close(slowStarted)
			<-releaseSlow
			io.WriteString(w, "finished")
		})
	}
	go func() { done <- run(ctx, cfg, logger, ln, slowRoute) }()

	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "go_goroutines"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %q, want 200 containing %q", path, resp.StatusCode, body, want)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `freely_http_requests_total{code="200",method="GET",route="GET /readyz"} 1`) {
		t.Errorf("request metrics missing from /metrics")
	}
	for _, want := range []string{"freely_live_publishing_channels 0", "freely_hls_streams 0", "freely_chat_rooms 0", "freely_chat_lost_messages_total 0", "freely_search_requests_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A request being handled when shutdown begins must still be answered in full.
	slowResp := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			t.Errorf("in-flight request lost during shutdown: %v", err)
		}
		slowResp <- resp
	}()
	<-slowStarted
	cancel()
	select {
	case <-logs.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not begin")
	}
	select {
	case err := <-done:
		t.Fatalf("run returned (%v) while a request was still being handled", err)
	default:
	}
	close(releaseSlow)
	if resp := <-slowResp; resp != nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "finished" {
			t.Errorf("in-flight request answered %d %q", resp.StatusCode, body)
		}
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}
