package hls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gohlslib "github.com/bluenviron/gohlslib/v2"

	"github.com/freelylive/freely/internal/media"
)

// stream is one channel's HLS output across its publisher's reconnects, until the live session
// ends. Its state changes under mu; readers use the latest immutable snapshot.
type stream struct {
	srv    *Server
	handle string
	token  string // random per stream: object names never repeat across broadcasts
	names  []string
	ctx    context.Context // cancelled by shutdown; stops the epochs
	cancel context.CancelFunc

	mu     sync.Mutex
	rends  map[string]*rendition
	epochs int
	last   *epoch
	info   variantInfo
	ended  bool
	idle   *time.Timer

	snap    atomic.Pointer[snapshot]
	changed atomic.Pointer[chan struct{}]
	waiting atomic.Int64 // requests blocked in await
}

// snapshot is everything a request needs, prepared once per change.
type snapshot struct {
	content bool // the leading rendition lists a complete segment
	ended   bool // the stream was torn down
	rends   map[string]*rendSnap
	objects map[string]*object
	multi   [2][][]byte // multivariant pieces: [0] LL, [1] standard
	// For latency accounting: arrival of the frame whose write produced this change.
	trigger        int64
	triggerSegment bool
}

type rendSnap struct {
	ll, std        []byte
	llLen, stdLen  []string
	nextMSN        uint64
	pending        int // parts of the segment in progress
	lastParts      int // parts of segment nextMSN-1
	targetDuration int
}

func newToken() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newStream(srv *Server, handle string, names []string) *stream {
	ctx, cancel := context.WithCancel(srv.ctx)
	st := &stream{srv: srv, handle: handle, token: newToken(), names: names, ctx: ctx, cancel: cancel,
		rends: make(map[string]*rendition)}
	for _, n := range names {
		ct := ctVideoMP4
		if n == "audio" {
			ct = ctAudioMP4
		}
		st.rends[n] = &rendition{name: n, contentType: ct}
	}
	ch := make(chan struct{})
	st.changed.Store(&ch)
	st.snap.Store(&snapshot{rends: map[string]*rendSnap{}, objects: map[string]*object{}})
	return st
}

func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// startEpoch attaches a new ingest; its goroutine waits for the previous epoch to finish.
func (st *stream) startEpoch(reader *media.Reader, byIndex []*hlsTrack, muxed []*gohlslib.Track, info variantInfo) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.idle != nil {
		st.idle.Stop()
		st.idle = nil
	}
	e := &epoch{st: st, index: st.epochs, reader: reader, tracks: byIndex, muxed: muxed, info: info,
		prev: st.last, ctx: st.ctx, done: make(chan struct{})}
	st.epochs++
	for i, n := range info.renditionNames() {
		e.rends = append(e.rends, &epochRend{rend: st.rends[n], muxerID: n + strconv.Itoa(i+1), leading: i == 0})
	}
	st.last = e
	st.srv.wg.Add(1)
	go func() {
		defer st.srv.wg.Done()
		e.run()
	}()
}

// apply commits what a watcher collected and publishes a new snapshot.
func (st *stream) apply(e *epoch, er *epochRend, upd *update, trigger int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return
	}
	r := er.rend
	if upd.init != nil {
		er.init, er.offset, er.keepGaps, er.started = upd.init, upd.offset, upd.keepGaps, true
		if er.leading {
			st.info = e.info
		}
	}
	if upd.resync {
		r.pending = nil
	}
	completed := false
	for _, s := range upd.segments {
		r.addSegment(s, st.srv.opts.SegmentCount)
		completed = completed || !s.gap
	}
	for _, p := range upd.pending {
		r.notePart(p)
		r.pending = append(r.pending, p)
	}
	st.publishLocked(trigger, completed)
}

// epochEnded seals the renditions an ended epoch fed and, if no newer epoch took over, starts
// the idle timer that removes a stream whose session is never ended explicitly.
func (st *stream) epochEnded(e *epoch) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return
	}
	for _, er := range e.rends {
		if er.started {
			r := er.rend
			r.seal(er.init, segmentName(st.token, r.name, r.nextMSN), st.srv.opts.SegmentCount)
		}
	}
	st.publishLocked(0, true)
	if st.last == e && st.srv.opts.IdleTimeout > 0 {
		st.idle = time.AfterFunc(st.srv.opts.IdleTimeout, func() { st.srv.removeIdle(st, e) })
	}
}

// shutdown tears the stream down: requests get 404 from now on and the epochs stop.
func (st *stream) shutdown() {
	st.mu.Lock()
	if !st.ended {
		st.ended = true
		if st.idle != nil {
			st.idle.Stop()
			st.idle = nil
		}
		st.snap.Store(&snapshot{ended: true})
		st.wakeLocked()
	}
	st.mu.Unlock()
	st.cancel()
}

func (st *stream) wakeLocked() {
	ch := make(chan struct{})
	old := st.changed.Swap(&ch)
	close(*old)
}

// publishLocked renders the playlists and object index for the current state and wakes every
// waiting request. The snapshot is stored before the wake-up channel is replaced, so a waiter
// that loaded the channel first always sees this snapshot or a later one.
func (st *stream) publishLocked(trigger int64, segmentCompleted bool) {
	snap := &snapshot{
		rends:          make(map[string]*rendSnap, len(st.rends)),
		objects:        make(map[string]*object, 64),
		trigger:        trigger,
		triggerSegment: segmentCompleted,
	}
	var peak, avg int
	for i, n := range st.names {
		r := st.rends[n]
		rs := &rendSnap{nextMSN: r.nextMSN, pending: len(r.pending), targetDuration: r.targetDuration}
		snap.rends[n] = rs
		if k := len(r.segments); k > 0 && !r.segments[k-1].gap {
			rs.lastParts = len(r.segments[k-1].parts)
		}
		if r.lastComplete() != nil {
			rs.ll = renderMedia(r, st.token, true)
			rs.std = renderMedia(r, st.token, false)
			rs.llLen = []string{strconv.Itoa(len(rs.ll))}
			rs.stdLen = []string{strconv.Itoa(len(rs.std))}
			if i == 0 {
				snap.content = true
			}
		}
		for _, s := range r.segments {
			if s.gap {
				continue
			}
			snap.objects[s.name] = s.obj
			snap.objects[s.init.name] = s.init.obj
			for _, p := range s.parts {
				snap.objects[p.name] = p.obj
			}
		}
		for _, p := range r.pending {
			snap.objects[p.name] = p.obj
		}
		p, a := r.bandwidth()
		peak += p
		avg += a
	}
	if snap.content {
		snap.multi[0] = renderMultivariant(st.info, peak, avg, true)
		snap.multi[1] = renderMultivariant(st.info, peak, avg, false)
	}
	st.snap.Store(snap)
	st.wakeLocked()
}

// await waits until ready accepts a snapshot, the stream ends, ctx is done or timeout passes.
// It returns the last snapshot seen, whether ready accepted it, and whether it had to wait.
func (st *stream) await(ctx context.Context, timeout time.Duration, ready func(*snapshot) bool) (*snapshot, bool, bool) {
	var timer *time.Timer
	waited := false
	for {
		ch := st.changed.Load()
		snap := st.snap.Load()
		if snap.ended {
			return snap, false, waited
		}
		if ready(snap) {
			if timer != nil {
				timer.Stop()
			}
			return snap, true, waited
		}
		if timer == nil {
			timer = time.NewTimer(timeout)
			defer timer.Stop()
		}
		if !waited {
			waited = true
			st.waiting.Add(1)
			defer st.waiting.Add(-1)
		}
		select {
		case <-*ch:
		case <-ctx.Done():
			return snap, false, waited
		case <-timer.C:
			return snap, false, waited
		}
	}
}
