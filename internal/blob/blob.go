// Package blob is the object-storage port for media objects (uploads, thumbnails, recordings).
// It is shaped like S3 so that the local-directory implementation (blob/disk) and an
// S3-compatible one (blob/s3, later) are interchangeable. blob/blobtest holds the conformance
// suite every implementation passes.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned by Get, Stat and (never) Delete for a key that does not exist.
var ErrNotFound = errors.New("blob: not found")

// ErrInvalidKey is returned for keys that are empty, absolute, contain "..", backslashes,
// NUL bytes or other characters outside [A-Za-z0-9._/-], or exceed 512 bytes.
var ErrInvalidKey = errors.New("blob: invalid key")

// Object describes a stored object.
type Object struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// PutOptions carries object metadata.
type PutOptions struct {
	ContentType  string
	CacheControl string
}

// Store keeps objects under slash-separated keys such as "avatars/12/3f9a.png".
type Store interface {
	// Put stores r under key, replacing any object there. Readers never see a partly
	// written object: the object appears whole or not at all.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) error
	// Get opens the object; the caller closes it. ErrNotFound if absent.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// Stat describes the object. ErrNotFound if absent.
	Stat(ctx context.Context, key string) (Object, error)
	// Delete removes the object. Deleting an absent key succeeds (idempotent).
	Delete(ctx context.Context, key string) error
	// List returns the objects whose keys start with prefix, in key order.
	List(ctx context.Context, prefix string) ([]Object, error)
	// URL is the public URL at which browsers fetch the object (a path on this server for
	// disk, a CDN or bucket URL for S3).
	URL(key string) string
}
