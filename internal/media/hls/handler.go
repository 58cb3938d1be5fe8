package hls

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header values are shared, prepared slices: net/http only reads them.
var (
	ctPlaylist = []string{"application/vnd.apple.mpegurl"}
	ctVideoMP4 = []string{"video/mp4"}
	ctAudioMP4 = []string{"audio/mp4"}

	// Segments, parts and init files never change under their name (the name carries the
	// stream's random token and the media sequence number).
	ccObject = []string{"public, max-age=86400, immutable"}
	// The multivariant playlist changes only with the publisher's codecs.
	ccMultivariant = []string{"public, max-age=2"}
	ccNoCache      = []string{"no-cache"}
	ccCDNPlaylist  = []string{"public, max-age=1"}
	// A blocking reload reply for a given _HLS_msn/_HLS_part stays a correct answer to that URL.
	ccCDNBlocking = []string{"public, max-age=6"}
	ccError       = []string{"no-store"}

	corsAny       = []string{"*"}
	corsVary      = []string{"Origin"}
	corsMethods   = []string{"GET, HEAD, OPTIONS"}
	corsHeaders   = []string{"Range"}
	corsMaxAge    = []string{"86400"}
	allowMethods  = []string{"GET, HEAD, OPTIONS"}
	retryAfterOne = []string{"1"}
)

// ServeHTTP answers /{prefix}{channel}/{file}:
//
//	index.m3u8                  LL-HLS multivariant playlist
//	video.m3u8, audio.m3u8      LL-HLS media playlists (blocking reload with _HLS_msn/_HLS_part)
//	std.m3u8                    standard-HLS multivariant playlist
//	std_video.m3u8, std_audio.m3u8  standard media playlists (complete segments only)
//	{token}_…                   init segments, segments and parts
//
// A ?vs={viewing session id} on playlist URLs is reported to Options.OnViewer and carried from
// the multivariant playlist into the media playlist URIs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, s.opts.PathPrefix)
	handle, file, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || handle == "" || file == "" || strings.IndexByte(file, '/') >= 0 {
		fail(w, http.StatusNotFound)
		return
	}
	h := w.Header()
	s.cors(h, r)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		s.preflight(w, r)
		return
	default:
		h["Allow"] = allowMethods
		fail(w, http.StatusMethodNotAllowed)
		return
	}
	st := s.lookup(handle)
	if st == nil {
		fail(w, http.StatusNotFound)
		return
	}
	switch file {
	case "index.m3u8":
		s.serveMultivariant(w, r, st, 0)
	case "std.m3u8":
		s.serveMultivariant(w, r, st, 1)
	case "video.m3u8":
		s.serveMedia(w, r, st, "video", true)
	case "audio.m3u8":
		s.serveMedia(w, r, st, "audio", true)
	case "std_video.m3u8":
		s.serveMedia(w, r, st, "video", false)
	case "std_audio.m3u8":
		s.serveMedia(w, r, st, "audio", false)
	default:
		s.serveObject(w, r, st, file)
	}
}

func fail(w http.ResponseWriter, code int) {
	h := w.Header()
	h["Cache-Control"] = ccError
	w.WriteHeader(code)
}

func (s *Server) cors(h http.Header, r *http.Request) {
	if s.anyOrigin {
		h["Access-Control-Allow-Origin"] = corsAny
		return
	}
	if len(s.origins) == 0 {
		return
	}
	h["Vary"] = corsVary
	if o := r.Header["Origin"]; len(o) == 1 && s.origins[o[0]] {
		h["Access-Control-Allow-Origin"] = o
	}
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if len(h["Access-Control-Allow-Origin"]) > 0 {
		h["Access-Control-Allow-Methods"] = corsMethods
		h["Access-Control-Allow-Headers"] = corsHeaders
		h["Access-Control-Max-Age"] = corsMaxAge
	}
	w.WriteHeader(http.StatusNoContent)
}

// hlsQuery holds the query parameters the server understands.
type hlsQuery struct {
	msn, part int64 // -1 when absent
	vs        string
	bad       bool
}

func parseQuery(raw string) hlsQuery {
	q := hlsQuery{msn: -1, part: -1}
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "_HLS_msn", "_HLS_part":
			n, err := strconv.ParseUint(v, 10, 62)
			if err != nil {
				q.bad = true
				continue
			}
			if k == "_HLS_msn" {
				q.msn = int64(n)
			} else {
				q.part = int64(n)
			}
		case "vs":
			if validViewerID(v) {
				q.vs = v
			}
		}
	}
	return q
}

func validViewerID(v string) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func hasContent(s *snapshot) bool { return s.content }

func (s *Server) serveMultivariant(w http.ResponseWriter, r *http.Request, st *stream, variant int) {
	snap, ok, _ := st.await(r.Context(), s.opts.PlaylistWait, hasContent)
	if !ok {
		s.notReady(w, snap)
		return
	}
	q := parseQuery(r.URL.RawQuery)
	pieces := snap.multi[variant]
	suffix := ""
	if q.vs != "" {
		suffix = "?vs=" + q.vs
	}
	size := len(suffix) * (len(pieces) - 1)
	for _, p := range pieces {
		size += len(p)
	}
	h := w.Header()
	h["Content-Type"] = ctPlaylist
	h["Cache-Control"] = ccMultivariant
	h["Content-Length"] = []string{strconv.Itoa(size)}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	for i, p := range pieces {
		if i > 0 {
			_, _ = w.Write([]byte(suffix))
		}
		_, _ = w.Write(p)
	}
}

func (s *Server) notReady(w http.ResponseWriter, snap *snapshot) {
	if snap == nil || snap.ended {
		fail(w, http.StatusNotFound)
		return
	}
	w.Header()["Retry-After"] = retryAfterOne
	fail(w, http.StatusServiceUnavailable)
}

// satisfied reports whether a rendition's playlist answers a blocking reload for (msn, part):
// segment msn is complete (no part given), or part `part` of segment msn exists. A part index
// past the last part of a complete segment means part 0 of the next one.
func satisfied(rs *rendSnap, msn uint64, part int64) bool {
	next := rs.nextMSN
	if part < 0 {
		return msn < next
	}
	switch {
	case msn+1 < next:
		return true
	case msn+1 == next:
		return int(part) < rs.lastParts || rs.pending > 0
	case msn == next:
		return int(part) < rs.pending
	}
	return false
}

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, st *stream, name string, ll bool) {
	q := parseQuery(r.URL.RawQuery)
	if q.vs != "" && s.opts.OnViewer != nil {
		s.opts.OnViewer(st.handle, q.vs)
	}
	if q.bad || (q.part >= 0 && q.msn < 0) {
		fail(w, http.StatusBadRequest)
		return
	}
	blocking := ll && q.msn >= 0
	ready := func(snap *snapshot) bool {
		rs := snap.rends[name]
		return rs != nil && rs.ll != nil
	}
	timeout := s.opts.PlaylistWait
	if blocking {
		if rs := st.snap.Load().rends[name]; rs != nil && rs.ll != nil {
			// The spec's limit: at most one segment beyond the one in progress.
			if uint64(q.msn) > rs.nextMSN+1 {
				fail(w, http.StatusBadRequest)
				return
			}
			timeout = max(3*time.Duration(rs.targetDuration)*time.Second, 3*time.Second)
		}
		msn, part := uint64(q.msn), q.part
		ready = func(snap *snapshot) bool {
			rs := snap.rends[name]
			return rs != nil && rs.ll != nil && satisfied(rs, msn, part)
		}
	}
	snap, ok, waited := st.await(r.Context(), timeout, ready)
	if !ok {
		if r.Context().Err() != nil {
			return
		}
		// A blocking reload that timed out gets the current playlist (the publisher may be
		// reconnecting); anything else without content is not ready yet.
		if !blocking || snap == nil || snap.ended || snap.rends[name] == nil || snap.rends[name].ll == nil {
			s.notReady(w, snap)
			return
		}
	}
	rs := snap.rends[name]
	body, size := rs.ll, rs.llLen
	if !ll {
		body, size = rs.std, rs.stdLen
	}
	h := w.Header()
	h["Content-Type"] = ctPlaylist
	h["Content-Length"] = size
	switch {
	case !s.opts.CDNOrigin:
		h["Cache-Control"] = ccNoCache
	case blocking:
		h["Cache-Control"] = ccCDNBlocking
	default:
		h["Cache-Control"] = ccCDNPlaylist
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
	if blocking && ok && waited && snap.trigger != 0 {
		if f, isFlusher := w.(http.Flusher); isFlusher {
			f.Flush()
		}
		s.lat.record(snap.triggerSegment, time.Duration(mono(time.Now())-snap.trigger))
	}
}

func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, st *stream, file string) {
	snap := st.snap.Load()
	obj := snap.objects[file]
	if obj == nil {
		// The preload hint names the next part before it exists: hold the request until it does.
		rend, msn, idx, ok := parsePartName(st.token, file)
		rs := snap.rends[rend]
		if !ok || rs == nil || !(msn == rs.nextMSN && idx >= rs.pending && idx <= rs.pending+2 ||
			msn == rs.nextMSN+1 && idx == 0) {
			fail(w, http.StatusNotFound)
			return
		}
		snap, ok, _ = st.await(r.Context(), 3*time.Second, func(s *snapshot) bool {
			if s.objects[file] != nil {
				return true
			}
			rs := s.rends[rend]
			return rs == nil || rs.nextMSN > msn+1 // it will never exist
		})
		if !ok || snap.objects[file] == nil {
			if r.Context().Err() == nil {
				fail(w, http.StatusNotFound)
			}
			return
		}
		obj = snap.objects[file]
	}
	h := w.Header()
	h["Content-Type"] = obj.contentType
	h["Content-Length"] = obj.contentLength
	h["Cache-Control"] = ccObject
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	if f := obj.open(); f != nil {
		defer f.Close()
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, f) // sendfile(2) on plain TCP connections
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(obj.data)
}
