package rtmp

import (
	"time"

	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"

	"github.com/freelylive/freely/internal/media"
)

// streamSink receives what the demuxer derives from a publisher's messages.
type streamSink interface {
	// start begins the stream with its tracks, or restarts it with new ones after a codec or
	// parameter change. Units passed to unit afterwards index into these tracks.
	start(tracks []media.Track) error
	unit(u *media.Unit)
}

const (
	// startWait bounds, in stream time, how long units are held back waiting for a track that
	// onMetaData announced but whose configuration has not arrived yet.
	startWait = time.Second
	// maxPending bounds the units held back before the stream starts.
	maxPending = 512
)

// demuxer turns RTMP audio/video/data messages (already parsed by gortmplib) into hub tracks
// and units. Its job beyond the library's: start as soon as the codec configuration and the
// first keyframe are known (instead of gortmplib Reader's fixed 2 s analysis), put parameter sets
// in front of every keyframe, unwrap 32-bit millisecond timestamps, and restart the stream when
// the publisher changes codec parameters. It is not safe for concurrent use.
type demuxer struct {
	sink streamSink

	meta struct {
		known        bool
		video, audio bool // tracks announced by onMetaData
	}
	video media.Codec // current video configuration, nil until known
	audio media.Codec // current audio configuration, nil until known

	// unsupportedAudio names an audio codec the publisher sends that HLS cannot carry; the
	// stream goes on without audio and the connection reports it once.
	unsupportedAudio string

	started     bool
	reconfigure bool // configuration changed: restart at the next switch point
	videoTrack  int  // index in the started tracks, -1 if none
	audioTrack  int

	pending []*pendingUnit
	clock   unwrapper
}

type pendingUnit struct {
	video bool
	u     *media.Unit
}

func newDemuxer(sink streamSink) *demuxer {
	return &demuxer{sink: sink, videoTrack: -1, audioTrack: -1}
}

// handle processes one message. An error means the publisher sent something malformed or
// contradictory; the connection is then closed.
func (d *demuxer) handle(msg message.Message, arrival time.Time) error {
	switch m := msg.(type) {
	case *message.DataAMF0:
		d.onData(m.Payload)
		return nil

	case *message.Video:
		return d.onVideo(m, arrival)
	case *message.VideoExSequenceStart:
		return d.onVideoSequenceStart(m)
	case *message.VideoExCodedFrames:
		return d.onVideoFrame(m.FourCC, m.DTS, m.PTSDelta, m.Payload, arrival)
	case *message.VideoExFramesX:
		return d.onVideoFrame(m.FourCC, m.DTS, 0, m.Payload, arrival)
	case *message.VideoExMultitrack:
		// Only the default track (0) of a multitrack publisher is carried.
		if m.TrackID != 0 {
			return nil
		}
		switch w := m.Wrapped.(type) {
		case *message.VideoExSequenceStart:
			return d.onVideoSequenceStart(w)
		case *message.VideoExCodedFrames:
			return d.onVideoFrame(w.FourCC, w.DTS, w.PTSDelta, w.Payload, arrival)
		case *message.VideoExFramesX:
			return d.onVideoFrame(w.FourCC, w.DTS, 0, w.Payload, arrival)
		}
		return nil

	case *message.Audio:
		return d.onAudio(m, arrival)
	case *message.AudioExSequenceStart:
		return d.onAudioSequenceStart(m)
	case *message.AudioExCodedFrames:
		return d.onAudioFrame(m.FourCC, m.DTS, m.Payload, arrival)
	case *message.AudioExMultitrack:
		if m.TrackID != 0 {
			return nil
		}
		switch w := m.Wrapped.(type) {
		case *message.AudioExSequenceStart:
			return d.onAudioSequenceStart(w)
		case *message.AudioExCodedFrames:
			return d.onAudioFrame(w.FourCC, w.DTS, w.Payload, arrival)
		}
		return nil
	}
	return nil
}

// onData reads onMetaData (sent by OBS and ffmpeg before any media) to learn which tracks to
// wait for.
func (d *demuxer) onData(payload amf0.Data) {
	for i, v := range payload {
		if s, ok := v.(string); !ok || s != "onMetaData" || i+1 >= len(payload) {
			continue
		}
		var obj amf0.Object
		switch o := payload[i+1].(type) {
		case amf0.Object:
			obj = o
		case amf0.ECMAArray:
			obj = amf0.Object(o)
		default:
			return
		}
		d.meta.known = true
		d.meta.video = codecIDPresent(obj, "videocodecid")
		d.meta.audio = codecIDPresent(obj, "audiocodecid")
		return
	}
}

func codecIDPresent(obj amf0.Object, key string) bool {
	v, ok := obj.Get(key)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case float64:
		return x != 0
	case string:
		return x != ""
	case bool:
		return x
	}
	return v != nil
}

// push routes a unit: to the sink once started, otherwise into the pending queue until the
// stream can start.
func (d *demuxer) push(video bool, u *media.Unit) error {
	if d.started {
		if d.reconfigure && d.switchPoint(video, u) {
			if err := d.startTracks(); err != nil {
				return err
			}
		}
		idx := d.audioTrack
		if video {
			idx = d.videoTrack
		}
		if idx < 0 {
			return nil
		}
		u.Track = idx
		d.sink.unit(u)
		return nil
	}
	if len(d.pending) == maxPending {
		d.pending[0] = nil
		d.pending = d.pending[1:]
	}
	d.pending = append(d.pending, &pendingUnit{video: video, u: u})
	return d.tryStart()
}

// switchPoint reports whether a restart with new tracks may happen at this unit: a video
// keyframe, or any unit when the new configuration has no video.
func (d *demuxer) switchPoint(video bool, u *media.Unit) bool {
	if d.video == nil {
		return true
	}
	return video && u.Key
}

// tryStart starts the stream once it is decodable: the video configuration and a keyframe are
// there and the audio configuration too (unless onMetaData did not announce audio, or it is
// overdue); or, without video, the audio configuration and one frame.
func (d *demuxer) tryStart() error {
	wantVideo, wantAudio := true, false
	if d.meta.known {
		wantVideo, wantAudio = d.meta.video, d.meta.audio
	}
	span := d.pending[len(d.pending)-1].u.DTS - d.pending[0].u.DTS
	firstKey := -1
	for i, p := range d.pending {
		if p.video && p.u.Key {
			firstKey = i
			break
		}
	}
	switch {
	case d.video != nil && firstKey >= 0 && (d.audio != nil || !wantAudio || span >= startWait):
		// Video before the first keyframe cannot be decoded.
		kept := d.pending[:0]
		for i, p := range d.pending {
			if !p.video || i >= firstKey {
				kept = append(kept, p)
			}
		}
		d.pending = kept
	case d.video == nil && d.audio != nil && (!wantVideo || span >= startWait):
	default:
		return nil
	}
	if err := d.startTracks(); err != nil {
		return err
	}
	pending := d.pending
	d.pending = nil
	for _, p := range pending {
		idx := d.audioTrack
		if p.video {
			idx = d.videoTrack
		}
		if idx < 0 {
			continue
		}
		p.u.Track = idx
		d.sink.unit(p.u)
	}
	return nil
}

func (d *demuxer) startTracks() error {
	var tracks []media.Track
	d.videoTrack, d.audioTrack = -1, -1
	if d.video != nil {
		d.videoTrack = len(tracks)
		tracks = append(tracks, media.Track{Codec: d.video})
	}
	if d.audio != nil {
		d.audioTrack = len(tracks)
		tracks = append(tracks, media.Track{Codec: d.audio})
	}
	if err := d.sink.start(tracks); err != nil {
		return err
	}
	d.started, d.reconfigure = true, false
	return nil
}

// unwrapper extends RTMP's 32-bit millisecond timestamps, which wrap after ~49.7 days.
type unwrapper struct {
	init  bool
	last  uint32
	epoch int64
}

func (w *unwrapper) unwrap(d time.Duration) time.Duration {
	ms := uint32(d / time.Millisecond)
	if !w.init {
		w.init, w.last = true, ms
		return time.Duration(ms) * time.Millisecond
	}
	epoch := w.epoch
	switch {
	case ms < w.last && w.last-ms > 1<<31: // wrapped forward
		w.epoch += 1 << 32
		epoch = w.epoch
		w.last = ms
	case ms > w.last && ms-w.last > 1<<31: // a late unit from before the wrap
		epoch -= 1 << 32
	default:
		if ms > w.last {
			w.last = ms
		}
	}
	return time.Duration(epoch+int64(ms)) * time.Millisecond
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
