package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/message"

	"github.com/freelylive/freely/internal/media"
)

// Options configures a Server. Gatekeeper and Hub are required.
type Options struct {
	// Addr is the TCP address to listen on. Default ":1935"; tests use "127.0.0.1:0".
	Addr string
	// App is the RTMP application publishers connect to (rtmp://HOST/{App}, the stream key as
	// the stream name). Default "live".
	App        string
	Gatekeeper Gatekeeper
	Hub        *media.Hub
	Logger     *slog.Logger

	// HandshakeTimeout bounds the time from accepting a connection to admitting its publish
	// request. Default 10 s.
	HandshakeTimeout time.Duration
	// ReadTimeout closes a publisher that sends nothing for this long. Default 30 s.
	ReadTimeout time.Duration
	// CallTimeout bounds each Gatekeeper.Admit and Publication.Started call. Default 5 s.
	CallTimeout time.Duration
	// MaxConns caps simultaneous connections; extra ones are closed at once. Default 256.
	MaxConns int
}

// preAdmitBytes caps what a connection may send before its stream key is admitted: enough for
// the handshake and the connect/publish commands, far too little to make gortmplib's message
// reassembly hold large buffers for an unauthenticated peer.
const preAdmitBytes = 256 << 10

// Server accepts RTMP publishers and feeds the hub.
type Server struct {
	opts Options
	log  *slog.Logger
	ln   net.Listener

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}

	published atomic.Uint64
	refused   atomic.Uint64
}

// Listen validates opts, binds the listener and starts accepting connections.
func Listen(opts Options) (*Server, error) {
	if opts.Gatekeeper == nil || opts.Hub == nil {
		return nil, errors.New("rtmp: Gatekeeper and Hub are required")
	}
	if opts.Addr == "" {
		opts.Addr = ":1935"
	}
	if opts.App == "" {
		opts.App = "live"
	}
	if strings.Contains(opts.App, "/") {
		return nil, fmt.Errorf("rtmp: app %q must not contain '/'", opts.App)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 5 * time.Second
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 256
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("rtmp: listen on %s: %w", opts.Addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:   opts,
		log:    opts.Logger.With("component", "rtmp"),
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		slots:  make(chan struct{}, opts.MaxConns),
		conns:  make(map[net.Conn]struct{}),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, disconnects every publisher and waits for their goroutines.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Counters reports how many publish requests were admitted and refused since start.
func (s *Server) Counters() (published, refused uint64) {
	return s.published.Load(), s.refused.Load()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error("accept failed; listener stopped", "err", err)
			return
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.log.Warn("connection limit reached; closing new connection", "remote", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		s.mu.Lock()
		s.conns[nc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
			}()
			defer nc.Close()
			s.serveConn(nc)
		}()
	}
}

// serveConn runs one connection from handshake to disconnect.
func (s *Server) serveConn(nc net.Conn) {
	remote := nc.RemoteAddr().String()
	log := s.log.With("remote", remote)
	gc := &guardedConn{Conn: nc}
	gc.limit.Store(preAdmitBytes)
	if err := nc.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout)); err != nil {
		return
	}

	sc := &gortmplib.ServerConn{RW: gc}
	if err := sc.Initialize(); err != nil {
		log.Debug("handshake failed", "err", err)
		return
	}
	if err := sc.AcceptConn(); err != nil {
		log.Debug("connect failed", "err", err)
		return
	}
	if !sc.Publish {
		s.refuse(sc, log, errors.New("playback over RTMP is not offered"))
		return
	}
	key, err := streamKeyFromURL(sc.URL, s.opts.App)
	if err != nil {
		s.refuse(sc, log, err)
		return
	}

	actx, cancel := context.WithTimeout(s.ctx, s.opts.CallTimeout)
	pub, err := s.opts.Gatekeeper.Admit(actx, key, remote)
	cancel()
	if err != nil {
		s.refuse(sc, log, fmt.Errorf("admit: %w", err))
		return
	}
	defer pub.Ended()
	handle := pub.Channel()
	log = log.With("channel", handle)

	hp, err := s.opts.Hub.Claim(handle)
	if err != nil {
		s.refuse(sc, log, err)
		return
	}
	defer hp.Close()
	if err := sc.AcceptAction(); err != nil {
		log.Info("publish start failed", "err", err)
		return
	}
	s.published.Add(1)
	gc.limit.Store(-1)
	log.Info("publisher connected")

	// Disconnect when the live service ends the session under us, or at shutdown.
	stop := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		select {
		case <-hp.Done():
			nc.Close()
		case <-s.ctx.Done():
			nc.Close()
		case <-stop:
		}
	}()
	defer func() {
		close(stop)
		<-watcherDone
	}()

	sink := &hubSink{ctx: s.ctx, timeout: s.opts.CallTimeout, pub: pub, hp: hp, log: log}
	dm := newDemuxer(sink)
	reason := s.readLoop(nc, sc, dm)
	if dm.unsupportedAudio != "" {
		log.Warn("audio codec not supported by HLS; stream carried without audio", "codec", dm.unsupportedAudio)
	}
	log.Info("publisher disconnected", "reason", reason)
}

// readLoop reads messages until the publisher leaves or misbehaves, and says why it stopped.
func (s *Server) readLoop(nc net.Conn, sc *gortmplib.ServerConn, dm *demuxer) string {
	for {
		// Reads and writes: gortmplib answers with acknowledgements from inside Read, and
		// those writes must not inherit the handshake deadline.
		if err := nc.SetDeadline(time.Now().Add(s.opts.ReadTimeout)); err != nil {
			return err.Error()
		}
		msg, err := sc.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "closed by publisher"
			}
			return "read: " + err.Error()
		}
		arrival := time.Now()
		if cmd, ok := msg.(*message.CommandAMF0); ok {
			switch cmd.Name {
			case "deleteStream", "closeStream", "FCUnpublish":
				return "unpublished"
			}
			continue
		}
		if err := dm.handle(msg, arrival); err != nil {
			return "malformed stream: " + err.Error()
		}
	}
}

func (s *Server) refuse(sc *gortmplib.ServerConn, log *slog.Logger, reason error) {
	s.refused.Add(1)
	log.Warn("publish refused", "err", reason)
	_ = sc.RejectAction()
}

// streamKeyFromURL extracts the stream key from rtmp://HOST/{app}/{key}.
func streamKeyFromURL(u *url.URL, app string) (string, error) {
	if u == nil {
		return "", errors.New("no stream URL")
	}
	gotApp, key, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if gotApp != app {
		return "", fmt.Errorf("unknown application %q", gotApp)
	}
	key = strings.TrimLeft(key, "/")
	switch {
	case key == "":
		return "", errors.New("missing stream key")
	case len(key) > 256 || strings.ContainsAny(key, "/\x00"):
		return "", errors.New("malformed stream key")
	}
	return key, nil
}

// hubSink connects the demuxer to the live service and the hub.
type hubSink struct {
	ctx     context.Context
	timeout time.Duration
	pub     Publication
	hp      *media.Publisher
	log     *slog.Logger
	started bool
}

func (k *hubSink) start(tracks []media.Track) error {
	if !k.started {
		ctx, cancel := context.WithTimeout(k.ctx, k.timeout)
		err := k.pub.Started(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("live session refused the stream: %w", err)
		}
		k.started = true
	}
	in, err := k.hp.Start(tracks)
	if err != nil {
		return err
	}
	codecs := make([]string, len(tracks))
	for i, t := range tracks {
		codecs[i] = t.Codec.Name()
	}
	k.log.Info("stream started", "tracks", codecs, "resumed", in.Resumed)
	return nil
}

func (k *hubSink) unit(u *media.Unit) { k.hp.Write(u) }

// guardedConn limits how many bytes a peer may send while limit is non-negative.
type guardedConn struct {
	net.Conn
	limit atomic.Int64 // remaining bytes, or -1 for no limit
}

var errTooMuchBeforeAdmission = errors.New("too much data before the publish request was admitted")

func (c *guardedConn) Read(p []byte) (int, error) {
	left := c.limit.Load()
	if left < 0 {
		return c.Conn.Read(p)
	}
	if left == 0 {
		return 0, errTooMuchBeforeAdmission
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	if c.limit.Load() >= 0 {
		c.limit.Add(-int64(n))
	}
	return n, err
}
