package disk

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/freelylive/freely/internal/blob"
)

// Handler serves the objects at their URLs: mount it on the path of the URL prefix
// (mux.Handle("/media/", store.Handler())). It answers GET and HEAD, with Range and
// conditional requests (ETag, Last-Modified) handled by http.ServeContent, the stored
// Content-Type and Cache-Control, and headers that stop browsers from treating an object as
// anything but what it claims to be. Unknown and malformed keys are 404.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		key, ok := strings.CutPrefix(r.URL.Path, s.servePath)
		if !ok || ValidateKey(key) != nil {
			http.NotFound(w, r)
			return
		}
		f, info, err := s.open(key)
		if err != nil {
			if errors.Is(err, blob.ErrNotFound) {
				http.NotFound(w, r)
			} else {
				http.Error(w, "cannot read object", http.StatusInternalServerError)
			}
			return
		}
		defer f.Close()
		m := s.readMeta(key)

		h := w.Header()
		h.Set("Content-Type", m.ContentType)
		h.Set("X-Content-Type-Options", "nosniff")
		// Objects come from users; if one is ever opened as a page, it runs no script and
		// loads nothing.
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		cacheControl := m.CacheControl
		if cacheControl == "" {
			cacheControl = s.cacheControl
		}
		h.Set("Cache-Control", cacheControl)
		// Derived from the file that is being served (not from the metadata), so the tag
		// always matches the bytes: size and modification time in nanoseconds.
		h.Set("ETag", `"`+strconv.FormatInt(info.Size(), 36)+"-"+strconv.FormatInt(info.ModTime().UnixNano(), 36)+`"`)
		http.ServeContent(w, r, "", info.ModTime(), f)
	})
}
