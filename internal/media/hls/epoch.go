package hls

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/freelylive/freely/internal/media"
)

// hlsTrack maps one hub track to its muxer track.
type hlsTrack struct {
	codec     media.Codec
	track     *gohlslib.Track
	clockRate int64
}

// epoch is one ingest's run through its own gohlslib muxer. Epochs of a channel run one after
// another; each continues the channel's playlists where the previous one stopped.
type epoch struct {
	st     *stream
	index  int
	reader *media.Reader
	tracks []*hlsTrack // by hub track index; nil when HLS cannot carry the codec
	muxed  []*gohlslib.Track
	rends  []*epochRend
	info   variantInfo
	prev   *epoch
	ctx    context.Context
	done   chan struct{}

	muxer        *gohlslib.Muxer
	writing      atomic.Int64 // arrival (mono) of the unit being written to the muxer
	encodeErrors atomic.Uint64
	units        atomic.Uint64
}

// epochRend follows one of the muxer's media playlists into a channel rendition.
type epochRend struct {
	rend     *rendition
	muxerID  string // gohlslib's stream id: "video1", "audio2", ...
	leading  bool
	keepGaps bool  // the channel's first epoch lists the muxer's start gaps like gohlslib does
	offset   int64 // channel MSN = muxer MSN + offset
	started  bool
	init     *initFile

	// For the final catch-up when the ingest ends (see drain).
	contentSeen atomic.Bool   // the muxer has produced a segment for this rendition
	applied     atomic.Uint64 // muxer position applied so far (see position)
	progress    chan struct{} // signalled after each apply
	done        chan struct{} // closed when the watcher returns
}

// position orders muxer playlist states: the segment in progress, then its listed parts.
func position(nextMSN uint64, parts int) uint64 { return nextMSN<<16 | uint64(parts) }

// planTracks decides which hub tracks the muxer carries: the video track first (it leads
// segmentation), then the audio track.
func planTracks(tracks []media.Track) (byIndex []*hlsTrack, muxed []*gohlslib.Track, info variantInfo, unsupported []string) {
	byIndex = make([]*hlsTrack, len(tracks))
	var video, audio *hlsTrack
	var codecStrings []string
	for i, t := range tracks {
		var c codecs.Codec
		clock := int64(90000)
		switch x := t.Codec.(type) {
		case media.H264:
			c = &codecs.H264{SPS: x.SPS, PPS: x.PPS}
			var sps h264.SPS
			if err := sps.Unmarshal(x.SPS); err == nil {
				info.resolution = strconv.Itoa(sps.Width()) + "x" + strconv.Itoa(sps.Height())
				info.frameRate = sps.FPS()
			}
		case media.H265:
			c = &codecs.H265{VPS: x.VPS, SPS: x.SPS, PPS: x.PPS}
			var sps h265.SPS
			if err := sps.Unmarshal(x.SPS); err == nil {
				info.resolution = strconv.Itoa(sps.Width()) + "x" + strconv.Itoa(sps.Height())
				info.frameRate = sps.FPS()
			}
		case media.AV1:
			c = &codecs.AV1{SequenceHeader: x.SequenceHeader}
		case media.VP9:
			c = &codecs.VP9{}
		case media.AAC:
			c = &codecs.MPEG4Audio{Config: x.Config}
			clock = int64(x.Config.SampleRate)
		case media.Opus:
			c = &codecs.Opus{ChannelCount: x.ChannelCount}
			clock = 48000
		default:
			unsupported = append(unsupported, t.Codec.Name())
			continue
		}
		ht := &hlsTrack{codec: t.Codec, track: &gohlslib.Track{Codec: c, ClockRate: int(clock)}, clockRate: clock}
		byIndex[i] = ht
		if c.IsVideo() && video == nil {
			video = ht
		} else if !c.IsVideo() && audio == nil {
			audio = ht
		} else {
			byIndex[i] = nil
		}
	}
	for _, ht := range []*hlsTrack{video, audio} {
		if ht != nil {
			muxed = append(muxed, ht.track)
			if s := codecparams.Marshal(ht.track.Codec); s != "" {
				codecStrings = append(codecStrings, s)
			}
		}
	}
	info.hasVideo, info.hasAudio = video != nil, audio != nil
	for i, s := range codecStrings {
		if i > 0 {
			info.codecs += ","
		}
		info.codecs += s
	}
	return byIndex, muxed, info, unsupported
}

// renditionNames lists the renditions an epoch feeds, leading first.
func (info variantInfo) renditionNames() []string {
	var names []string
	if info.hasVideo {
		names = append(names, "video")
	}
	if info.hasAudio {
		names = append(names, "audio")
	}
	return names
}

// run owns the epoch: it waits for the previous epoch to finish, muxes the ingest until it
// ends, then seals the renditions.
func (e *epoch) run() {
	defer close(e.done)
	defer e.reader.Close()
	if e.prev != nil {
		select {
		case <-e.prev.done:
		case <-e.ctx.Done():
			return
		}
	}
	if e.ctx.Err() != nil {
		return
	}
	opts := e.st.srv.opts
	e.muxer = &gohlslib.Muxer{
		Tracks:             e.muxed,
		Variant:            gohlslib.MuxerVariantLowLatency,
		SegmentCount:       max(opts.SegmentCount, 7),
		SegmentMinDuration: segmentCutAfter(opts.SegmentDuration),
		PartMinDuration:    opts.PartDuration,
		OnEncodeError:      e.onEncodeError,
	}
	if err := e.muxer.Start(); err != nil {
		e.st.srv.log.Error("hls: muxer refused the tracks", "channel", e.st.handle, "err", err)
		return
	}
	var watchers sync.WaitGroup
	for _, er := range e.rends {
		er.progress, er.done = make(chan struct{}, 1), make(chan struct{})
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			defer close(er.done)
			e.watch(er)
		}()
	}
	e.pump()
	e.drain()
	e.muxer.Close() // wakes the watchers' blocked requests with 404
	watchers.Wait()
	e.st.epochEnded(e)
}

// drain lets the watchers collect every part and segment the muxer finished before it is
// closed: at the end of a fast ingest they can be a few parts behind, and closing the muxer
// would lose those parts (and the sealed final segment they make up).
func (e *epoch) drain() {
	timer := time.NewTimer(2 * time.Second) // bounds the wait if a watcher stopped early
	defer timer.Stop()
	for _, er := range e.rends {
		if !er.contentSeen.Load() {
			continue // no segment yet: a playlist request would block
		}
		status, body := e.fetch(er.muxerID+"_stream.m3u8", "")
		if status != http.StatusOK {
			continue
		}
		pl, err := playlist.Unmarshal(body)
		if err != nil {
			continue
		}
		mpl, ok := pl.(*playlist.Media)
		if !ok {
			continue
		}
		target := position(uint64(mpl.MediaSequence)+uint64(len(mpl.Segments)), len(mpl.Parts))
		for er.applied.Load() < target {
			select {
			case <-er.progress:
			case <-er.done:
				return
			case <-timer.C:
				return
			case <-e.ctx.Done():
				return
			}
		}
	}
}

func (e *epoch) onEncodeError(err error) {
	if strings.Contains(err.Error(), "duration changed") {
		// gohlslib's note that the part target grew while it learns the frame rate; our
		// playlists use the largest part duration seen, so players are unaffected.
		e.st.srv.log.Debug("hls: muxer timing note", "channel", e.st.handle, "err", err)
		return
	}
	n := e.encodeErrors.Add(1)
	if n <= 5 || n%100 == 0 {
		e.st.srv.log.Warn("hls: muxer could not use a frame", "channel", e.st.handle, "err", err, "count", n)
	}
}

// pump moves units from the hub into the muxer until the ingest ends or the stream is torn down.
func (e *epoch) pump() {
	var base time.Duration
	var wallBase time.Time
	started := false
	for {
		u, err := e.reader.Next(e.ctx)
		if err != nil {
			return
		}
		t := e.tracks[u.Track]
		if t == nil {
			continue
		}
		if !started {
			// Timestamps start at the ingest's first unit; wall-clock dates (PROGRAM-DATE-TIME)
			// follow the stream's own clock from there, not arrival jitter.
			base, wallBase, started = u.DTS, u.Arrival, true
			if wallBase.IsZero() {
				wallBase = time.Now()
			}
		}
		rel := u.PTS - base
		ntp := wallBase.Add(rel)
		pts := ticks(rel, t.clockRate)
		e.writing.Store(mono(u.Arrival))
		e.units.Add(1)
		switch t.codec.(type) {
		case media.H264:
			err = e.muxer.WriteH264(t.track, ntp, pts, u.Data)
		case media.H265:
			err = e.muxer.WriteH265(t.track, ntp, pts, u.Data)
		case media.AV1:
			err = e.muxer.WriteAV1(t.track, ntp, pts, u.Data)
		case media.VP9:
			err = e.muxer.WriteVP9(t.track, ntp, pts, u.Data[0])
		case media.AAC:
			err = e.muxer.WriteMPEG4Audio(t.track, ntp, pts, u.Data)
		case media.Opus:
			err = e.muxer.WriteOpus(t.track, ntp, pts, u.Data)
		}
		if err != nil {
			e.onEncodeError(err)
		}
	}
}

// segmentCutAfter is the minimum segment length handed to the muxer. gohlslib derives DTS from
// PTS and gives the first frame DTS = PTS, while later keyframes get DTS = PTS minus the B-frame
// reorder delay; measured that way the first GOP looks up to ~100 ms short, and a 1 s minimum
// would merge the first two 1 s GOPs into one 2 s segment (delaying the first playlist by a
// second). Cutting at the first keyframe at least SegmentDuration-100ms in keeps 1 s GOPs at
// 1 s segments.
func segmentCutAfter(d time.Duration) time.Duration {
	return max(d-100*time.Millisecond, d*9/10)
}

// ticks converts a duration to a clock rate without overflowing for long streams.
func ticks(d time.Duration, rate int64) int64 {
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	return sec*rate + rem*rate/int64(time.Second)
}

// watch follows one of the muxer's media playlists with blocking reloads, exactly like an LL-HLS
// player, and copies each new part and segment into the channel's window. It returns when the
// muxer closes.
func (e *epoch) watch(er *epochRend) {
	query := "" // the first request waits for the first complete segment
	for {
		status, body := e.fetch(er.muxerID+"_stream.m3u8", query)
		if status != http.StatusOK {
			if status != http.StatusNotFound { // 404 is the muxer closing
				e.st.srv.log.Error("hls: muxer refused a playlist request; rendition stalls",
					"channel", e.st.handle, "rendition", er.rend.name, "status", status, "query", query)
			}
			return
		}
		er.contentSeen.Store(true)
		trigger := e.writing.Load()
		pl, err := playlist.Unmarshal(body)
		if err != nil {
			e.st.srv.log.Error("hls: unreadable muxer playlist", "channel", e.st.handle, "err", err)
			return
		}
		mpl, ok := pl.(*playlist.Media)
		if !ok {
			return
		}
		upd, err := e.collect(er, mpl)
		if err != nil {
			e.st.srv.log.Error("hls: muxer object missing", "channel", e.st.handle, "err", err)
			return
		}
		e.st.apply(e, er, upd, trigger)
		next := uint64(mpl.MediaSequence) + uint64(len(mpl.Segments))
		er.applied.Store(position(next, len(mpl.Parts)))
		select {
		case er.progress <- struct{}{}:
		default:
		}
		query = "_HLS_msn=" + strconv.FormatUint(next, 10) + "&_HLS_part=" + strconv.Itoa(len(mpl.Parts))
	}
}

// update is what one muxer playlist adds to a rendition.
type update struct {
	init     *initFile  // set on the epoch's first content
	offset   int64      // with init
	keepGaps bool       // with init
	segments []*segment // newly completed, in order
	pending  []*part    // parts of the segment in progress beyond those already known
	resync   bool       // the watcher fell behind the muxer's window; pending parts are dropped
}

// collect reads what is new in the muxer's playlist and copies those bytes out of the muxer.
// Only this epoch's watcher for er changes er.rend, so reading it here without the stream lock
// is safe.
func (e *epoch) collect(er *epochRend, pl *playlist.Media) (*update, error) {
	r := er.rend
	st := e.st
	upd := &update{}
	offset, keepGaps := er.offset, er.keepGaps
	if !er.started {
		keepGaps = r.nextMSN == 0 && len(r.segments) == 0
		upd.keepGaps = keepGaps
		if pl.Map == nil {
			return nil, fmt.Errorf("no init segment in the first playlist")
		}
		data, err := e.fetchObject(pl.Map.URI)
		if err != nil {
			return nil, err
		}
		upd.init = &initFile{name: initName(st.token, r.name, e.index), obj: newObject(data, r.contentType)}
		if keepGaps {
			offset = int64(r.nextMSN) - int64(pl.MediaSequence)
		} else {
			first := len(pl.Segments)
			for i, s := range pl.Segments {
				if !s.Gap {
					first = i
					break
				}
			}
			offset = int64(r.nextMSN) - int64(pl.MediaSequence) - int64(first)
		}
		upd.offset = offset
	}
	init := er.init
	if upd.init != nil {
		init = upd.init
	}

	nextMSN := r.nextMSN
	known := len(r.pending)
	for i, s := range pl.Segments {
		msn := int64(pl.MediaSequence) + int64(i) + offset
		if msn < int64(nextMSN) {
			continue
		}
		if s.Gap {
			if keepGaps {
				upd.segments = append(upd.segments, &segment{msn: uint64(msn), gap: true, duration: s.Duration})
				nextMSN = uint64(msn) + 1
			}
			continue
		}
		if msn > int64(nextMSN) {
			upd.resync = true // segments were missed; should not happen with a 7-segment window
			known = 0
		}
		seg := &segment{msn: uint64(msn), duration: s.Duration, init: init,
			name: segmentName(st.token, r.name, uint64(msn))}
		if s.DateTime != nil {
			seg.dateTime = *s.DateTime
		}
		if msn == int64(nextMSN) {
			// Copies: rebaseParts re-points them while other goroutines may read the originals.
			for _, p := range r.pending[:min(known, len(r.pending))] {
				cp := *p
				seg.parts = append(seg.parts, &cp)
			}
		}
		for j := len(seg.parts); j < len(s.Parts); j++ {
			p, err := e.copyPart(r, s.Parts[j], uint64(msn), j)
			if err != nil {
				return nil, err
			}
			seg.parts = append(seg.parts, p)
		}
		data, err := e.fetchObject(s.URI)
		if err != nil {
			return nil, err
		}
		seg.obj = newObject(data, r.contentType)
		attachFile(seg.obj)
		rebaseParts(seg)
		upd.segments = append(upd.segments, seg)
		nextMSN, known = uint64(msn)+1, 0
	}
	if len(upd.segments) > 0 {
		known = 0
	}
	for j := known; j < len(pl.Parts); j++ {
		p, err := e.copyPart(r, pl.Parts[j], nextMSN, j)
		if err != nil {
			return nil, err
		}
		upd.pending = append(upd.pending, p)
	}
	return upd, nil
}

func (e *epoch) copyPart(r *rendition, mp *playlist.MediaPart, msn uint64, idx int) (*part, error) {
	data, err := e.fetchObject(mp.URI)
	if err != nil {
		return nil, err
	}
	return &part{name: partName(e.st.token, r.name, msn, idx), duration: mp.Duration,
		independent: mp.Independent, obj: newObject(data, r.contentType)}, nil
}

func (e *epoch) fetchObject(name string) ([]byte, error) {
	status, body := e.fetch(name, "")
	if status != http.StatusOK {
		return nil, fmt.Errorf("muxer answered %d for %s", status, name)
	}
	return body, nil
}

// fetch asks the muxer's own HTTP handler for a file, in memory.
func (e *epoch) fetch(name, rawQuery string) (int, []byte) {
	rec := &recorder{header: http.Header{}}
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: name, RawQuery: rawQuery},
		Header: http.Header{}}
	e.muxer.Handle(rec, req)
	if rec.status == 0 {
		if rec.body.Len() == 0 {
			return http.StatusNotFound, nil // the muxer has no handler for this name
		}
		rec.status = http.StatusOK
	}
	return rec.status, rec.body.Bytes()
}

// recorder is the minimal ResponseWriter the muxer writes into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
