// Package blobtest is the conformance suite every blob.Store implementation passes (disk now,
// S3 later), so the two are interchangeable. It imports only the blob port.
//
// Contract checked here, beyond the doc comments of blob.Store:
//   - the keys listed in invalidKeys are refused with blob.ErrInvalidKey by every method and
//     change nothing ("a//b", "a/./b" and a trailing "/" included, so a key names one object
//     on every backend);
//   - a Put whose reader fails, or whose context is cancelled, leaves the previous object (or
//     no object) in place;
//   - Put without a content type derives one from the key's extension;
//   - keys of up to 512 bytes work when no segment between slashes exceeds 255 bytes (the
//     disk backend's file-name limit; longer segments may be refused with ErrInvalidKey).
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/freelylive/freely/internal/blob"
)

// Run runs the suite. newStore returns an empty store isolated from every other store it
// returns (tests run in parallel); it should register its own cleanup.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGetStat", testPutGetStat},
		{"Replace", testReplace},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"InvalidKeys", testInvalidKeys},
		{"FailedPutKeepsOldObject", testFailedPut},
		{"CancelledContext", testCancelledContext},
		{"ReadersSeeWholeObjects", testReadersSeeWholeObjects},
		{"URL", testURL},
		{"DerivedContentType", testDerivedContentType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func put(t *testing.T, s blob.Store, key string, data []byte, contentType string) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), blob.PutOptions{ContentType: contentType}); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s blob.Store, key string) ([]byte, blob.Object) {
	t.Helper()
	rc, obj, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b, obj
}

func keysOf(objs []blob.Object) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

func testPutGetStat(t *testing.T, s blob.Store) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	big = append(big, 'x')
	for _, tc := range []struct {
		key, ct string
		data    []byte
	}{
		{"avatars/12/3f9a.png", "image/png", []byte("\x89PNG fake")},
		{"empty.bin", "application/octet-stream", nil},
		{"rec/2026/11/25/seg-00001.ts", "video/mp2t", big},
	} {
		put(t, s, tc.key, tc.data, tc.ct)
		got, obj := get(t, s, tc.key)
		if !bytes.Equal(got, tc.data) {
			t.Errorf("%s: read %d bytes, want %d", tc.key, len(got), len(tc.data))
		}
		if obj.Key != tc.key || obj.Size != int64(len(tc.data)) || obj.ContentType != tc.ct || obj.ModTime.IsZero() {
			t.Errorf("%s: Get object %+v", tc.key, obj)
		}
		st, err := s.Stat(t.Context(), tc.key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", tc.key, err)
		}
		if st.Key != obj.Key || st.Size != obj.Size || st.ContentType != obj.ContentType || !st.ModTime.Equal(obj.ModTime) {
			t.Errorf("%s: Stat %+v differs from Get %+v", tc.key, st, obj)
		}
	}
}

func testReplace(t *testing.T, s blob.Store) {
	put(t, s, "thumbs/ch1.jpg", []byte("first version, longer"), "image/jpeg")
	put(t, s, "thumbs/ch1.jpg", []byte("second"), "image/webp")
	got, obj := get(t, s, "thumbs/ch1.jpg")
	if string(got) != "second" || obj.Size != 6 || obj.ContentType != "image/webp" {
		t.Errorf("after replace: %q %+v", got, obj)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	put(t, s, "dir/present.txt", []byte("x"), "text/plain")
	for _, key := range []string{"absent.txt", "dir/absent.txt", "dir", "dir/present.txt/below"} {
		if _, _, err := s.Get(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
		}
		if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
		}
	}
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "a/b/c.txt", []byte("c"), "text/plain")
	put(t, s, "a/d.txt", []byte("d"), "text/plain")
	for range 2 { // idempotent
		if err := s.Delete(t.Context(), "a/b/c.txt"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if err := s.Delete(t.Context(), "never/existed.txt"); err != nil {
		t.Errorf("Delete of an absent key: %v", err)
	}
	if _, err := s.Stat(t.Context(), "a/b/c.txt"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Delete = %v", err)
	}
	objs, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if keys := keysOf(objs); !slices.Equal(keys, []string{"a/d.txt"}) {
		t.Errorf("after delete, List = %q", keys)
	}
	// The key of a deleted object's directory can become an object.
	put(t, s, "a/b", []byte("now a file"), "text/plain")
	if got, _ := get(t, s, "a/b"); string(got) != "now a file" {
		t.Errorf("Get(a/b) = %q", got)
	}
}

func testList(t *testing.T, s blob.Store) {
	keys := []string{"img/1.png", "img/10.png", "img/2/x.png", "img-a.png", "img/1.png.bak", "vid/a.ts"}
	for _, k := range keys {
		put(t, s, k, []byte(k), "application/octet-stream")
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"img-a.png", "img/1.png", "img/1.png.bak", "img/10.png", "img/2/x.png", "vid/a.ts"}},
		{"img/", []string{"img/1.png", "img/1.png.bak", "img/10.png", "img/2/x.png"}},
		{"img", []string{"img-a.png", "img/1.png", "img/1.png.bak", "img/10.png", "img/2/x.png"}},
		{"img/1", []string{"img/1.png", "img/1.png.bak", "img/10.png"}},
		{"img/2/", []string{"img/2/x.png"}},
		{"img/1.png", []string{"img/1.png", "img/1.png.bak"}},
		{"nothing/", nil},
		{"vid/a.ts/", nil},
	} {
		objs, err := s.List(t.Context(), tc.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tc.prefix, err)
		}
		if got := keysOf(objs); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
		for _, o := range objs {
			if o.Size != int64(len(o.Key)) || o.ContentType != "application/octet-stream" {
				t.Errorf("List(%q): %+v", tc.prefix, o)
			}
		}
	}
	if _, err := s.List(t.Context(), "../"); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("List(../) = %v, want ErrInvalidKey", err)
	}
}

// invalidKeys are refused by every backend.
var invalidKeys = []string{
	"", "/abs.png", "../up.png", "a/../b.png", "a/..", "..", "a..b", `a\b.png`, "a\x00b", "a b.png",
	"a//b.png", "a/", "./a.png", "a/./b.png", ".", "한글.png", "a?b", "a%2e%2e", "a#b", "a\nb",
	strings.Repeat("k", 513),
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, key := range invalidKeys {
		if err := s.Put(ctx, key, strings.NewReader("x"), blob.PutOptions{}); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	longest := strings.Repeat(strings.Repeat("k", 127)+"/", 4)[:511] + "k" // 512 bytes, 128-byte segments
	if err := s.Put(ctx, longest, strings.NewReader("x"), blob.PutOptions{}); err != nil {
		t.Errorf("a 512-byte key was refused: %v", err)
	}
	put(t, s, "Aa0._-/x", []byte("x"), "text/plain")
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Errorf("store holds %q after refused writes; want only the two valid keys", keysOf(objs))
	}
}

// failingReader yields some bytes, then an error.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "partial new content"), nil
	}
	return 0, errors.New("upload interrupted")
}

func testFailedPut(t *testing.T, s blob.Store) {
	put(t, s, "doc.txt", []byte("old"), "text/plain")
	if err := s.Put(t.Context(), "doc.txt", &failingReader{}, blob.PutOptions{ContentType: "text/plain"}); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	if got, _ := get(t, s, "doc.txt"); string(got) != "old" {
		t.Errorf("after failed replace, content = %q", got)
	}
	if err := s.Put(t.Context(), "new.txt", &failingReader{}, blob.PutOptions{}); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	if _, err := s.Stat(t.Context(), "new.txt"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("failed Put left an object: %v", err)
	}
}

func testCancelledContext(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Put(ctx, "c.txt", strings.NewReader("x"), blob.PutOptions{}); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	if _, err := s.Stat(t.Context(), "c.txt"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("cancelled Put left an object: %v", err)
	}
}

func testReadersSeeWholeObjects(t *testing.T, s blob.Store) {
	const key = "live/thumb.jpg"
	versions := [][]byte{bytes.Repeat([]byte("a"), 100_000), bytes.Repeat([]byte("b"), 300_000)}
	put(t, s, key, versions[0], "image/jpeg")

	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 30 {
			if err := s.Put(t.Context(), key, bytes.NewReader(versions[i%2]), blob.PutOptions{ContentType: "image/jpeg"}); err != nil {
				t.Errorf("Put: %v", err)
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 30 {
				rc, _, err := s.Get(t.Context(), key)
				if err != nil {
					t.Errorf("Get during replace: %v", err)
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("read during replace: %v", err)
					return
				}
				if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
					t.Errorf("read a mixed or partial object of %d bytes", len(b))
					return
				}
			}
		})
	}
	wg.Wait()
}

func testURL(t *testing.T, s blob.Store) {
	for _, key := range []string{"avatars/1/a.png", "x.ts"} {
		if u := s.URL(key); !strings.HasSuffix(u, key) || u == key {
			t.Errorf("URL(%q) = %q, want a prefix followed by the key", key, u)
		}
	}
}

func testDerivedContentType(t *testing.T, s blob.Store) {
	for key, want := range map[string]string{
		"a.png": "image/png", "b.jpg": "image/jpeg", "c.m3u8": "application/vnd.apple.mpegurl",
		"d.ts": "video/mp2t", "e.unknownext": "application/octet-stream",
	} {
		put(t, s, key, []byte(fmt.Sprint(key)), "")
		st, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if st.ContentType != want {
			t.Errorf("%s: derived content type %q, want %q", key, st.ContentType, want)
		}
	}
}
