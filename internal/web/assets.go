package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// assetPrefix is where hashed assets are served.
const assetPrefix = "/static/"

// asset is one embedded static file.
type asset struct {
	hashedName  string // "app.3f9a1c2b7d0e.css"
	contentType string
	etag        string
	body        []byte
}

// assets serves embedded static files at content-hashed URLs. A file's URL changes whenever its
// bytes do, so browsers and CDNs may keep every response forever.
type assets struct {
	byName   map[string]*asset // "app.css" → asset
	byHashed map[string]*asset // "app.3f9a1c2b7d0e.css" → asset
}

func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read asset %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hash + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		as := &asset{hashedName: hashed, contentType: ctype, etag: `"` + hash + `"`, body: body}
		a.byName[name] = as
		a.byHashed[hashed] = as
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load assets: %w", err)
	}
	return a, nil
}

// URL returns the hashed URL of a named asset; an unknown name is an error so a typo in a
// template fails the page (and the tests that render every page) instead of a broken link.
func (a *assets) URL(name string) (string, error) {
	as, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return assetPrefix + as.hashedName, nil
}

// serve answers GET /static/{file}. It reports false for names it does not know, so the
// caller renders its own 404 page.
func (a *assets) serve(w http.ResponseWriter, r *http.Request, file string) bool {
	as, ok := a.byHashed[file]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", as.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", as.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(as.body))
	return true
}
