package disk_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/blob"
	"github.com/freelylive/freely/internal/blob/blobtest"
	"github.com/freelylive/freely/internal/blob/disk"
)

func newStore(t *testing.T, opts disk.Options) *disk.Store {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "media")
	}
	if opts.URLPrefix == "" {
		opts.URLPrefix = "/media/"
	}
	s, err := disk.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t, disk.Options{}) })
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []disk.Options{
		{Dir: "", URLPrefix: "/media/"},
		{Dir: t.TempDir(), URLPrefix: "/media"},
		{Dir: t.TempDir(), URLPrefix: "media/"},
	} {
		if s, err := disk.New(opts); err == nil {
			s.Close()
			t.Errorf("New(%+v) accepted", opts)
		}
	}
}

func TestObjectsAreRawFilesUnderTheDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newStore(t, disk.Options{Dir: dir})
	if err := s.Put(t.Context(), "rec/1/seg.ts", strings.NewReader("bytes"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "objects", "rec", "1", "seg.ts"))
	if err != nil || string(b) != "bytes" {
		t.Errorf("object file: %q %v", b, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(entries) != 0 {
		t.Errorf("temp files left behind: %d", len(entries))
	}
}

func TestKeyUnderAnObjectIsRefused(t *testing.T) {
	t.Parallel()
	s := newStore(t, disk.Options{})
	ctx := t.Context()
	if err := s.Put(ctx, "a", strings.NewReader("file"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// A filesystem cannot hold both "a" and "a/b"; the second Put fails and changes nothing.
	if err := s.Put(ctx, "a/b", strings.NewReader("x"), blob.PutOptions{}); err == nil {
		t.Error("Put(a/b) over the object a succeeded")
	}
	if err := s.Put(ctx, "d/e", strings.NewReader("x"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "d", strings.NewReader("x"), blob.PutOptions{}); err == nil {
		t.Error("Put(d) over the directory of d/e succeeded")
	}
	if err := s.Delete(ctx, "d"); err != nil {
		t.Errorf("Delete of a directory name: %v", err)
	}
	if _, err := s.Stat(ctx, "d/e"); err != nil {
		t.Errorf("Delete(d) removed d/e: %v", err)
	}
}

func TestNewRemovesStaleTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newStore(t, disk.Options{Dir: dir}).Close()
	stale, fresh := filepath.Join(dir, "tmp", "stale"), filepath.Join(dir, "tmp", "fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	newStore(t, disk.Options{Dir: dir})
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale temp file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a temp file that may belong to a running Put was removed")
	}
}

func TestPutRejectsHeaderInjection(t *testing.T) {
	t.Parallel()
	s := newStore(t, disk.Options{})
	for _, opts := range []blob.PutOptions{
		{ContentType: "text/plain\r\nSet-Cookie: x=1"},
		{ContentType: "not a type"},
		{CacheControl: "public\r\nX-Evil: 1"},
	} {
		if err := s.Put(t.Context(), "x.txt", strings.NewReader("x"), opts); err == nil {
			t.Errorf("Put accepted %+v", opts)
		}
	}
}

func TestURLs(t *testing.T) {
	t.Parallel()
	if u := newStore(t, disk.Options{}).URL("a/b.png"); u != "/media/a/b.png" {
		t.Errorf("URL = %q", u)
	}
	cdn := newStore(t, disk.Options{URLPrefix: "https://cdn.example.com/m/"})
	if u := cdn.URL("a/b.png"); u != "https://cdn.example.com/m/a/b.png" {
		t.Errorf("CDN URL = %q", u)
	}
	// Behind a CDN the handler still serves the prefix's path (the CDN's origin requests).
	if err := cdn.Put(t.Context(), "a/b.png", strings.NewReader("png"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	cdn.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/m/a/b.png", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "png" {
		t.Errorf("GET /m/a/b.png = %d %q", rec.Code, rec.Body.String())
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	s := newStore(t, disk.Options{DefaultCacheControl: "public, max-age=60"})
	ctx := t.Context()
	if err := s.Put(ctx, "hls/seg1.m4s", strings.NewReader("0123456789"), blob.PutOptions{
		ContentType: "video/iso.segment", CacheControl: "public, max-age=31536000, immutable",
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "avatars/1.png", strings.NewReader("png-bytes"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("", s.Handler()))
	defer srv.Close()

	do := func(method, path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := do("GET", "/media/hls/seg1.m4s", nil)
	if resp.StatusCode != 200 || body != "0123456789" {
		t.Fatalf("GET = %d %q", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Content-Type":           "video/iso.segment",
		"Cache-Control":          "public, max-age=31536000, immutable",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         "10",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || lastMod == "" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("ETag %q, Last-Modified %q, CSP %q", etag, lastMod, resp.Header.Get("Content-Security-Policy"))
	}

	resp, body = do("GET", "/media/avatars/1.png", nil)
	if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "public, max-age=60" || body != "png-bytes" {
		t.Errorf("default headers: %q %q %q", resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), body)
	}

	if resp, _ := do("GET", "/media/hls/seg1.m4s", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match = %d, want 304", resp.StatusCode)
	}
	if resp, _ := do("GET", "/media/hls/seg1.m4s", map[string]string{"If-Modified-Since": lastMod}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since = %d, want 304", resp.StatusCode)
	}
	if resp, body := do("GET", "/media/hls/seg1.m4s", map[string]string{"Range": "bytes=2-4"}); resp.StatusCode != http.StatusPartialContent || body != "234" {
		t.Errorf("Range = %d %q", resp.StatusCode, body)
	}
	if resp, body := do("HEAD", "/media/hls/seg1.m4s", nil); resp.StatusCode != 200 || body != "" || resp.Header.Get("Content-Length") != "10" {
		t.Errorf("HEAD = %d %q len %q", resp.StatusCode, body, resp.Header.Get("Content-Length"))
	}
	if resp, _ := do("POST", "/media/hls/seg1.m4s", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST = %d", resp.StatusCode)
	}

	// Replacing the object changes its ETag.
	if err := s.Put(ctx, "hls/seg1.m4s", strings.NewReader("changed!!"), blob.PutOptions{ContentType: "video/iso.segment"}); err != nil {
		t.Fatal(err)
	}
	if resp, body := do("GET", "/media/hls/seg1.m4s", map[string]string{"If-None-Match": etag}); resp.StatusCode != 200 || body != "changed!!" {
		t.Errorf("after replace, If-None-Match = %d %q", resp.StatusCode, body)
	}

	for _, path := range []string{
		"/media/missing.png", "/media/hls", "/media/hls/", "/media/", "/media/../meta/hls/seg1.m4s",
		"/media/%2e%2e/meta/hls/seg1.m4s", "/media/hls//seg1.m4s", "/other/hls/seg1.m4s", "/media/hls/seg1.m4s/x",
	} {
		if resp, _ := do("GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}
