package media

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// ErrReaderClosed is returned by Reader.Next after the reader's owner closed it.
var ErrReaderClosed = errors.New("media: reader closed")

// Reader receives the units of one ingest through its own bounded buffer. Writes never block:
// when the buffer is full the newest unit is dropped and counted, and the reader then skips video
// until the next keyframe so its consumer never sees a picture whose references are missing.
// A Reader is used by one consumer goroutine; Close may be called from any goroutine.
type Reader struct {
	name    string
	isVideo []bool // by track index

	mu       sync.Mutex
	buf      []*Unit // ring buffer
	head, n  int
	needKey  bool // skip video until the next keyframe
	ended    bool
	closed   bool
	notify   chan struct{}
	capacity int

	dropped   atomic.Uint64
	delivered atomic.Uint64
}

func newReader(name string, tracks []Track, capacity int) *Reader {
	r := &Reader{
		name:     name,
		isVideo:  make([]bool, len(tracks)),
		buf:      make([]*Unit, capacity),
		notify:   make(chan struct{}, 1),
		capacity: capacity,
	}
	for i, t := range tracks {
		r.isVideo[i] = t.Codec.IsVideo()
		if r.isVideo[i] {
			r.needKey = true // start on a keyframe, also for readers attached mid-stream
		}
	}
	return r
}

// Name is the label given by the reader's owner, for stats.
func (r *Reader) Name() string { return r.name }

// Dropped counts units that were discarded because the buffer was full, including the video
// units skipped afterwards while waiting for a keyframe.
func (r *Reader) Dropped() uint64 { return r.dropped.Load() }

// Delivered counts units returned by Next.
func (r *Reader) Delivered() uint64 { return r.delivered.Load() }

// Buffered is the number of units waiting in the buffer.
func (r *Reader) Buffered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// push offers a unit; it never blocks.
func (r *Reader) push(u *Unit) {
	video := u.Track < len(r.isVideo) && r.isVideo[u.Track]
	r.mu.Lock()
	if r.ended || r.closed {
		r.mu.Unlock()
		return
	}
	if video && r.needKey {
		if !u.Key {
			r.mu.Unlock()
			r.dropped.Add(1)
			return
		}
		r.needKey = false
	}
	if r.n == r.capacity {
		if video {
			r.needKey = true
		}
		r.mu.Unlock()
		r.dropped.Add(1)
		return
	}
	r.buf[(r.head+r.n)%r.capacity] = u
	r.n++
	r.mu.Unlock()
	r.wake()
}

func (r *Reader) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// end marks the end of the ingest: Next drains what is buffered, then returns io.EOF.
func (r *Reader) end() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
	r.wake()
}

// Close detaches the reader: buffered units are released and Next returns ErrReaderClosed.
func (r *Reader) Close() {
	r.mu.Lock()
	r.closed = true
	for i := range r.buf {
		r.buf[i] = nil
	}
	r.n = 0
	r.mu.Unlock()
	r.wake()
}

// Next returns the next unit, waiting for one. It returns io.EOF once the ingest has ended and
// the buffer is drained, ErrReaderClosed after Close, or ctx's error.
func (r *Reader) Next(ctx context.Context) (*Unit, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, ErrReaderClosed
		}
		if r.n > 0 {
			u := r.buf[r.head]
			r.buf[r.head] = nil
			r.head = (r.head + 1) % r.capacity
			r.n--
			r.mu.Unlock()
			r.delivered.Add(1)
			return u, nil
		}
		if r.ended {
			r.mu.Unlock()
			return nil, io.EOF
		}
		r.mu.Unlock()

		select {
		case <-r.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
