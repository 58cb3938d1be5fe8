// Package disk implements blob.Store on a local directory, the single-node default, and serves
// the objects over HTTP. It imports nothing of Freely but the blob port.
//
// Layout under the store's directory:
//
//	objects/<key>   the object's bytes, as is (a web server could serve this tree directly)
//	meta/<key>      JSON: content type and Cache-Control given to Put
//	tmp/            files being written; renamed into place when complete
//
// Every access goes through an os.Root opened on the directory, so even a key that slipped
// past validation could not reach a file outside it.
package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/freelylive/freely/internal/blob"
)

const (
	objectsDir = "objects"
	metaDir    = "meta"
	tmpDir     = "tmp"

	// DefaultCacheControl applies to objects put without a Cache-Control: browsers and CDNs
	// may keep them but must revalidate (cheaply, by ETag) before each use, so a replaced
	// object is never served stale. Writers of immutable objects pass their own.
	DefaultCacheControl = "no-cache"

	// staleTempAge is how old a file in tmp/ must be before New removes it as left over
	// from a crash; younger ones may belong to a Put still running in another process.
	staleTempAge = time.Hour
)

// Options configure a Store.
type Options struct {
	// Dir is the directory that holds the objects; it is created if missing.
	Dir string
	// URLPrefix is prepended to keys to form public URLs: a path ("/media/") served by
	// Handler, or an absolute URL ("https://cdn.example.com/media/"). Must end in "/".
	URLPrefix string
	// DefaultCacheControl is sent for objects put without one; empty means
	// DefaultCacheControl.
	DefaultCacheControl string
}

// Store is a blob.Store on a local directory. Safe for concurrent use.
type Store struct {
	root         *os.Root
	urlPrefix    string
	servePath    string // the path part of urlPrefix, which Handler strips
	cacheControl string
}

var _ blob.Store = (*Store)(nil)

// meta is what meta/<key> holds.
type meta struct {
	ContentType  string `json:"content_type"`
	CacheControl string `json:"cache_control,omitempty"`
}

// New opens (creating if needed) the store directory.
func New(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("blob/disk: no directory given")
	}
	servePath, err := servePathOf(opts.URLPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob/disk: create %s: %w", opts.Dir, err)
	}
	root, err := os.OpenRoot(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("blob/disk: open %s: %w", opts.Dir, err)
	}
	for _, d := range []string{objectsDir, metaDir, tmpDir} {
		if err := root.MkdirAll(d, 0o750); err != nil {
			root.Close()
			return nil, fmt.Errorf("blob/disk: create %s/%s: %w", opts.Dir, d, err)
		}
	}
	s := &Store{root: root, urlPrefix: opts.URLPrefix, servePath: servePath, cacheControl: opts.DefaultCacheControl}
	if s.cacheControl == "" {
		s.cacheControl = DefaultCacheControl
	}
	s.removeStaleTemps()
	return s, nil
}

// Close releases the directory handle.
func (s *Store) Close() error { return s.root.Close() }

func servePathOf(prefix string) (string, error) {
	if !strings.HasSuffix(prefix, "/") {
		return "", fmt.Errorf("blob/disk: URL prefix %q must end in /", prefix)
	}
	if strings.HasPrefix(prefix, "/") && !strings.HasPrefix(prefix, "//") {
		return prefix, nil
	}
	_, rest, ok := strings.Cut(prefix, "://")
	if i := strings.Index(rest, "/"); ok && i > 0 {
		return rest[i:], nil
	}
	return "", fmt.Errorf("blob/disk: URL prefix %q is neither a path nor an absolute URL", prefix)
}

func (s *Store) removeStaleTemps() {
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTempAge {
			_ = s.root.Remove(path.Join(tmpDir, e.Name()))
		}
	}
}

// Put writes r to a temporary file, syncs it, and renames it over the object, so readers see
// the old object or the new one, never a part. The metadata is renamed into place just
// before the bytes; a reader racing a replacement may briefly pair the new metadata with
// the old bytes, never a partial file.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts blob.PutOptions) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	m, err := metaFor(key, opts)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmpObject, err := s.writeTemp(ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer s.root.Remove(tmpObject) // a no-op once renamed
	metaJSON, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmpMeta, err := s.writeTemp(strings.NewReader(string(metaJSON)))
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer s.root.Remove(tmpMeta)

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := s.moveInto(tmpMeta, path.Join(metaDir, key)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := s.moveInto(tmpObject, path.Join(objectsDir, key)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func metaFor(key string, opts blob.PutOptions) (meta, error) {
	m := meta{ContentType: opts.ContentType, CacheControl: opts.CacheControl}
	if m.ContentType == "" {
		m.ContentType = contentTypeByName(key)
	} else if _, _, err := mime.ParseMediaType(m.ContentType); err != nil {
		return meta{}, fmt.Errorf("put %s: content type %q: %w", key, m.ContentType, err)
	}
	if strings.ContainsFunc(m.CacheControl, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return meta{}, fmt.Errorf("put %s: Cache-Control %q holds control characters", key, m.CacheControl)
	}
	return m, nil
}

// contentTypeByName derives a content type from the key's extension. Nothing is sniffed from
// the bytes: objects are served from this site's origin, and a sniffed text/html would be a
// way to run script there.
func contentTypeByName(key string) string {
	switch strings.ToLower(path.Ext(key)) { // types the platform writes, whatever the OS's mime tables say
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".ts":
		return "video/mp2t"
	case ".m4s":
		return "video/iso.segment"
	case ".mp4":
		return "video/mp4"
	}
	if ct := mime.TypeByExtension(path.Ext(key)); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// writeTemp copies r into a new file under tmp/ and syncs it, returning its name.
func (s *Store) writeTemp(r io.Reader) (string, error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	name := path.Join(tmpDir, hex.EncodeToString(rnd[:]))
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.root.Remove(name)
		return "", err
	}
	return name, nil
}

// moveInto renames a temp file to dst, creating parent directories. A concurrent Delete may
// remove an empty parent between the two steps, so that case is retried.
func (s *Store) moveInto(tmp, dst string) error {
	var err error
	for range 5 {
		if err = s.root.MkdirAll(path.Dir(dst), 0o750); err != nil {
			return fmt.Errorf("key conflicts with an existing object's path: %w", err)
		}
		if err = s.root.Rename(tmp, dst); !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		if info, serr := s.root.Lstat(dst); serr == nil && info.IsDir() {
			return fmt.Errorf("key names a directory of other objects: %w", err)
		}
		return err
	}
	return nil
}

// Get opens the object; the caller closes the reader.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, blob.Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, blob.Object{}, fmt.Errorf("get %s: %w", key, err)
	}
	f, info, err := s.open(key)
	if err != nil {
		return nil, blob.Object{}, err
	}
	m := s.readMeta(key)
	return f, s.object(key, info, m), nil
}

// Stat describes the object.
func (s *Store) Stat(ctx context.Context, key string) (blob.Object, error) {
	if err := ValidateKey(key); err != nil {
		return blob.Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	info, err := s.root.Stat(path.Join(objectsDir, key))
	if err != nil || !info.Mode().IsRegular() {
		return blob.Object{}, notFound(key, err)
	}
	return s.object(key, info, s.readMeta(key)), nil
}

// open opens a regular object file; directories and missing keys are blob.ErrNotFound.
func (s *Store) open(key string) (*os.File, fs.FileInfo, error) {
	f, err := s.root.Open(path.Join(objectsDir, key))
	if err != nil {
		return nil, nil, notFound(key, err)
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, notFound(key, err)
	}
	return f, info, nil
}

func notFound(key string, err error) error {
	if err == nil || errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return fmt.Errorf("%w: %s", blob.ErrNotFound, key)
	}
	return fmt.Errorf("blob %s: %w", key, err)
}

func (s *Store) readMeta(key string) meta {
	m := meta{ContentType: contentTypeByName(key)}
	b, err := s.root.ReadFile(path.Join(metaDir, key))
	if err == nil {
		var stored meta
		if json.Unmarshal(b, &stored) == nil && stored.ContentType != "" {
			m = stored
		}
	}
	return m
}

func (s *Store) object(key string, info fs.FileInfo, m meta) blob.Object {
	return blob.Object{Key: key, Size: info.Size(), ContentType: m.ContentType, ModTime: info.ModTime()}
}

// Delete removes the object and its metadata; an absent key is not an error. Emptied
// directories are removed so the tree holds only what exists.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	obj := path.Join(objectsDir, key)
	if info, err := s.root.Lstat(obj); err == nil && info.IsDir() {
		return nil // a directory of other objects, not an object
	}
	for _, name := range []string{obj, path.Join(metaDir, key)} {
		if err := s.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotDir(err) {
			return fmt.Errorf("delete %s: %w", key, err)
		}
	}
	for _, top := range []string{objectsDir, metaDir} {
		for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
			if s.root.Remove(path.Join(top, dir)) != nil {
				break // not empty (or gone): stop climbing
			}
		}
	}
	return nil
}

// List returns the objects whose keys start with prefix, in key order.
func (s *Store) List(ctx context.Context, prefix string) ([]blob.Object, error) {
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	start := objectsDir
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = path.Join(objectsDir, prefix[:i])
	}
	var out []blob.Object
	err := fs.WalkDir(s.root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		key := strings.TrimPrefix(strings.TrimPrefix(name, objectsDir), "/")
		if d.IsDir() {
			if key != "" && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // deleted while listing
		}
		out = append(out, s.object(key, info, s.readMeta(key)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	// Walk order is per directory; key order differs ("a-b" sorts before "a/b").
	slices.SortFunc(out, func(a, b blob.Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// isNotDir reports a path through a file ("a/b" when "a" is an object): no such object.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// URL is the public URL of key.
func (s *Store) URL(key string) string { return s.urlPrefix + key }

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
