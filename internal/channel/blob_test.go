package channel_test

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/freelylive/freely/internal/blob"
)

// memBlob is an in-memory blob.Store, enough to check which objects exist.
type memBlob struct {
	mu   sync.Mutex
	objs map[string][]byte
	meta map[string]blob.PutOptions
}

func newMemBlob() *memBlob {
	return &memBlob{objs: map[string][]byte{}, meta: map[string]blob.PutOptions{}}
}

func (b *memBlob) Put(_ context.Context, key string, r io.Reader, opts blob.PutOptions) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objs[key], b.meta[key] = data, opts
	return nil
}

func (b *memBlob) Get(_ context.Context, key string) (io.ReadCloser, blob.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.objs[key]
	if !ok {
		return nil, blob.Object{}, blob.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(d)), blob.Object{Key: key, Size: int64(len(d)), ContentType: b.meta[key].ContentType}, nil
}

func (b *memBlob) Stat(ctx context.Context, key string) (blob.Object, error) {
	rc, o, err := b.Get(ctx, key)
	if err == nil {
		rc.Close()
	}
	return o, err
}

func (b *memBlob) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objs, key)
	delete(b.meta, key)
	return nil
}

func (b *memBlob) List(_ context.Context, prefix string) ([]blob.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []blob.Object
	for k, d := range b.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, blob.Object{Key: k, Size: int64(len(d)), ContentType: b.meta[k].ContentType})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (b *memBlob) URL(key string) string { return "/media/" + key }
