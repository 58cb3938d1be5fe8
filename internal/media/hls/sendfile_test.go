package hls

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
)

func TestLargeObjectsServedFromSealedFile(t *testing.T) {
	t.Parallel()
	data := make([]byte, 300<<10)
	_, _ = rand.Read(data)
	o := newObject(data, ctVideoMP4)
	attachFile(o)
	if runtime.GOOS != "linux" {
		if o.file != nil {
			t.Fatal("file backing outside Linux")
		}
		return
	}
	if o.file == nil {
		t.Fatal("large object not file-backed")
	}
	// The bytes cannot be changed behind the object's back.
	if w, err := os.OpenFile(o.file.path, os.O_WRONLY, 0); err == nil {
		_, werr := w.Write([]byte("x"))
		w.Close()
		if werr == nil {
			t.Fatal("sealed file accepted a write")
		}
	}
	small := newObject(make([]byte, 100), ctVideoMP4)
	attachFile(small)
	if small.file != nil {
		t.Fatal("small object file-backed")
	}

	srv, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st := newStream(srv, "alice", []string{"video"})
	st.snap.Store(&snapshot{rends: map[string]*rendSnap{}, objects: map[string]*object{"big.m4s": o, "small.m4s": small}})
	srv.mu.Lock()
	srv.setLocked("alice", st)
	srv.mu.Unlock()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for name, want := range map[string][]byte{"big.m4s": data, "small.m4s": small.data} {
		// Concurrent requests each get their own file offset.
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				resp, err := http.Get(hs.URL + "/hls/alice/" + name)
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				got, err := io.ReadAll(resp.Body)
				if err == nil && (!bytes.Equal(got, want) || resp.ContentLength != int64(len(want))) {
					err = io.ErrUnexpectedEOF
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
}

// TestPartsKeepMappedSegmentAlive checks the lifetime rule of file-backed objects: a part whose
// bytes point into its segment's mapping keeps the segment (and so the mapping) alive after
// everything else dropped it, and released objects free their mapping without harm.
func TestPartsKeepMappedSegmentAlive(t *testing.T) {
	t.Parallel()
	r := &rendition{name: "video", contentType: ctVideoMP4}
	init := &initFile{name: "i"}
	want := make([][]byte, 3)
	for i := range 3 {
		b := make([]byte, 100<<10)
		_, _ = rand.Read(b)
		want[i] = b
		r.pending = append(r.pending, &part{name: partName("t", "video", 0, i), duration: 1,
			obj: newObject(append([]byte(nil), b...), ctVideoMP4)})
	}
	r.seal(init, "s0", 7)
	parts := r.segments[0].parts
	if runtime.GOOS == "linux" && r.segments[0].obj.file == nil {
		t.Fatal("sealed segment not file-backed")
	}
	r.segments = nil // only the parts remain reachable
	for range 3 {
		runtime.GC()
	}
	for i, p := range parts {
		if !bytes.Equal(p.obj.data, want[i]) {
			t.Fatalf("part %d changed after its segment was dropped", i)
		}
	}
	runtime.KeepAlive(parts)
	// Objects nobody references are released (cleanups munmap and close); more garbage
	// collections must not disturb live objects.
	for range 20 {
		o := newObject(make([]byte, 128<<10), ctVideoMP4)
		attachFile(o)
	}
	for range 3 {
		runtime.GC()
	}
}
