package hls

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/freelylive/freely/internal/media"
)

// Options configures a Server. The zero value serves LL-HLS with 1 s segments and 200 ms parts
// under /hls/.
type Options struct {
	// PathPrefix is where the handler is mounted; requests are /{PathPrefix}{channel}/{file}.
	// Default "/hls/".
	PathPrefix string
	// SegmentCount is the window of segments kept and listed per channel (minimum and default 7,
	// as LL-HLS needs). Memory per channel is about this many segments.
	SegmentCount int
	// SegmentDuration is the minimum segment length; segments cut at the next keyframe after it.
	// Default 1 s.
	SegmentDuration time.Duration
	// PartDuration is the target LL-HLS part length. Default 200 ms.
	PartDuration time.Duration
	// ReaderBuffer is the hub reader buffer per channel, in units; 0 uses the hub's default.
	ReaderBuffer int
	// AllowedOrigins lists the origins allowed to fetch cross-origin (CORS), e.g. the site's own
	// origin when the player page is served from another host, or a CDN's. "*" allows any.
	AllowedOrigins []string
	// CDNOrigin makes media playlists cacheable for one second (blocking-reload replies for six),
	// for a CDN in front; otherwise they are sent with no-cache.
	CDNOrigin bool
	// OnViewer, if set, is called on every media playlist request that carries a viewing session
	// id (?vs=, 1–64 characters of [A-Za-z0-9_-]), with the channel handle and the id. It runs on
	// the request goroutine and must return quickly.
	OnViewer func(channel, viewerSessionID string)
	// PlaylistWait bounds how long a playlist request waits for a stream's first segment.
	// Default 5 s.
	PlaylistWait time.Duration
	// IdleTimeout removes a channel's stream this long after its publisher left if EndStream was
	// not called meanwhile (a safety net; the live service normally ends sessions). Default 2 min;
	// negative disables.
	IdleTimeout time.Duration
	// Logger receives the server's events. Default slog.Default().
	Logger *slog.Logger
}

// Server muxes every live channel into HLS and serves it over HTTP. It implements
// media.Consumer; register it with Hub.AddConsumer.
type Server struct {
	opts      Options
	log       *slog.Logger
	origins   map[string]bool
	anyOrigin bool
	lat       latencyRecorder

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	streams atomic.Pointer[map[string]*stream] // copy-on-write; read lock-free by requests
}

var _ media.Consumer = (*Server)(nil)

// NewServer validates opts and returns a server with no streams.
func NewServer(opts Options) (*Server, error) {
	if opts.PathPrefix == "" {
		opts.PathPrefix = "/hls/"
	}
	if !strings.HasPrefix(opts.PathPrefix, "/") || !strings.HasSuffix(opts.PathPrefix, "/") {
		return nil, errors.New("hls: PathPrefix must start and end with '/'")
	}
	if opts.SegmentCount == 0 {
		opts.SegmentCount = 7
	}
	if opts.SegmentCount < 7 {
		return nil, errors.New("hls: SegmentCount must be at least 7 for Low-Latency HLS")
	}
	if opts.SegmentDuration == 0 {
		opts.SegmentDuration = time.Second
	}
	if opts.PartDuration == 0 {
		opts.PartDuration = 200 * time.Millisecond
	}
	if opts.SegmentDuration < 100*time.Millisecond || opts.PartDuration < 50*time.Millisecond ||
		opts.PartDuration > opts.SegmentDuration {
		return nil, errors.New("hls: need SegmentDuration ≥ 100ms and 50ms ≤ PartDuration ≤ SegmentDuration")
	}
	if opts.PlaylistWait <= 0 {
		opts.PlaylistWait = 5 * time.Second
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Logger.With("component", "hls"), origins: map[string]bool{}}
	for _, o := range opts.AllowedOrigins {
		if o == "*" {
			s.anyOrigin = true
		} else if o != "" {
			s.origins[strings.TrimSuffix(o, "/")] = true
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.streams.Store(&map[string]*stream{})
	return s, nil
}

// Handler returns the server as an http.Handler, for mounting at Options.PathPrefix.
func (s *Server) Handler() http.Handler { return s }

// IngestStarted implements media.Consumer: a new ingest starts a channel's stream, or continues
// it with a discontinuity when the channel is already being served with the same renditions.
func (s *Server) IngestStarted(in *media.Ingest) {
	byIndex, muxed, info, unsupported := planTracks(in.Tracks)
	if len(unsupported) > 0 {
		s.log.Warn("hls: tracks not carried", "channel", in.Handle, "codecs", unsupported)
	}
	if len(muxed) == 0 {
		return
	}
	names := info.renditionNames()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	st := s.lookup(in.Handle)
	if st != nil && !sameNames(st.names, names) {
		// A different set of renditions (e.g. audio added) cannot continue the same playlists.
		s.log.Info("hls: renditions changed; starting a new stream", "channel", in.Handle)
		s.removeLocked(in.Handle)
		st.shutdown()
		st = nil
	}
	if st == nil {
		st = newStream(s, in.Handle, names)
		s.setLocked(in.Handle, st)
	}
	st.startEpoch(in.NewReader("hls", s.opts.ReaderBuffer), byIndex, muxed, info)
}

// SessionEnded implements media.Consumer; it is EndStream.
func (s *Server) SessionEnded(handle string) { s.EndStream(handle) }

// EndStream tears a channel's stream down: its playlists and objects answer 404 from now on and
// its memory is released. It does not block and is idempotent.
func (s *Server) EndStream(handle string) {
	s.mu.Lock()
	st := s.lookup(handle)
	if st != nil {
		s.removeLocked(handle)
	}
	s.mu.Unlock()
	if st != nil {
		st.shutdown()
	}
}

func (s *Server) removeIdle(st *stream, e *epoch) {
	s.mu.Lock()
	cur := s.lookup(st.handle)
	st.mu.Lock()
	idle := cur == st && st.last == e
	st.mu.Unlock()
	if idle {
		s.removeLocked(st.handle)
	}
	s.mu.Unlock()
	if idle {
		s.log.Info("hls: removing stream idle since its publisher left", "channel", st.handle)
		st.shutdown()
	}
}

// Close tears every stream down and waits for their goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	all := *s.streams.Load()
	s.streams.Store(&map[string]*stream{})
	s.mu.Unlock()
	for _, st := range all {
		st.shutdown()
	}
	s.cancel()
	s.wg.Wait()
}

func (s *Server) lookup(handle string) *stream { return (*s.streams.Load())[handle] }

func (s *Server) setLocked(handle string, st *stream) {
	old := *s.streams.Load()
	m := make(map[string]*stream, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[handle] = st
	s.streams.Store(&m)
}

func (s *Server) removeLocked(handle string) {
	old := *s.streams.Load()
	m := make(map[string]*stream, len(old))
	for k, v := range old {
		if k != handle {
			m[k] = v
		}
	}
	s.streams.Store(&m)
}

// ListingLatency reports the server's share of "frame arrived → listed in a blocking playlist
// reply" over recent requests.
func (s *Server) ListingLatency() ListingLatency { return s.lat.snapshot() }

// LatestSegment returns the initialisation segment followed by the newest complete segment of
// a channel's video (or only) rendition: a small playable fMP4 file, e.g. for thumbnails.
func (s *Server) LatestSegment(handle string) ([]byte, bool) {
	st := s.lookup(handle)
	if st == nil {
		return nil, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended || len(st.names) == 0 {
		return nil, false
	}
	seg := st.rends[st.names[0]].lastComplete()
	if seg == nil {
		return nil, false
	}
	out := make([]byte, 0, len(seg.init.obj.data)+len(seg.obj.data))
	return append(append(out, seg.init.obj.data...), seg.obj.data...), true
}

// StreamStats describes one channel's stream, for metrics.
type StreamStats struct {
	Channel      string
	Epochs       int    // ingests so far (1 + reconnects and codec changes)
	NextMSN      uint64 // media sequence number of the segment in progress
	Segments     int    // segments held, across renditions
	Bytes        int    // bytes held in segments and pending parts, across renditions
	EncodeErrors uint64 // frames the current muxer could not use
	Dropped      uint64 // units the current epoch's hub reader dropped
	Waiting      int    // requests blocked waiting for a part, segment or first playlist
}

// Stats returns a snapshot of every stream, sorted by channel.
func (s *Server) Stats() []StreamStats {
	var out []StreamStats
	for handle, st := range *s.streams.Load() {
		st.mu.Lock()
		ss := StreamStats{Channel: handle, Epochs: st.epochs, Waiting: int(st.waiting.Load())}
		for _, n := range st.names {
			r := st.rends[n]
			ss.NextMSN = r.nextMSN
			for _, seg := range r.segments {
				if !seg.gap {
					ss.Segments++
					ss.Bytes += len(seg.obj.data)
				}
			}
			for _, p := range r.pending {
				ss.Bytes += len(p.obj.data)
			}
		}
		if e := st.last; e != nil {
			ss.EncodeErrors = e.encodeErrors.Load()
			ss.Dropped = e.reader.Dropped()
		}
		st.mu.Unlock()
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b StreamStats) int { return strings.Compare(a.Channel, b.Channel) })
	return out
}
