package rtmp

import (
	"errors"
	"fmt"
	"time"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"

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

func (d *demuxer) onVideo(m *message.Video, arrival time.Time) error {
	switch m.Type {
	case message.VideoTypeConfig:
		switch m.Codec {
		case message.CodecH264:
			if m.AVCConfig == nil { // some encoders send an empty configuration first
				return nil
			}
			return d.setH264(m.AVCConfig.SequenceParameterSets[0].NALUnit, m.AVCConfig.PictureParameterSets[0].NALUnit)
		case message.CodecH265:
			vps, sps, pps, err := hevcParams(m.HEVCConfig.NaluArrays)
			if err != nil {
				return err
			}
			return d.setH265(vps, sps, pps)
		}
		return nil
	case message.VideoTypeAU:
		fourCC := message.FourCCAVC
		if m.Codec == message.CodecH265 {
			fourCC = message.FourCCHEVC
		}
		return d.onVideoFrame(fourCC, m.DTS, m.PTSDelta, m.AU, arrival)
	}
	return nil
}

func (d *demuxer) onVideoSequenceStart(m *message.VideoExSequenceStart) error {
	switch m.FourCC {
	case message.FourCCAVC:
		return d.setH264(m.AVCConfig.SequenceParameterSets[0].NALUnit, m.AVCConfig.PictureParameterSets[0].NALUnit)
	case message.FourCCHEVC:
		vps, sps, pps, err := hevcParams(m.HEVCConfig.NaluArrays)
		if err != nil {
			return err
		}
		return d.setH265(vps, sps, pps)
	case message.FourCCAV1:
		var obus av1.Bitstream
		if err := obus.Unmarshal(m.AV1Config.ConfigOBUs); err != nil {
			return fmt.Errorf("AV1 configuration: %w", err)
		}
		for _, obu := range obus {
			if av1.OBUType((obu[0]>>3)&0b1111) == av1.OBUTypeSequenceHeader {
				var sh av1.SequenceHeader
				if err := sh.Unmarshal(obu); err != nil {
					return fmt.Errorf("AV1 sequence header: %w", err)
				}
				d.setVideo(media.AV1{SequenceHeader: clone(obu)})
				return nil
			}
		}
		return fmt.Errorf("AV1 configuration without a sequence header")
	case message.FourCCVP9:
		d.setVideo(media.VP9{})
		return nil
	}
	return nil
}

func (d *demuxer) setH264(sps, pps []byte) error {
	var p h264.SPS
	if err := p.Unmarshal(sps); err != nil {
		return fmt.Errorf("H.264 SPS: %w", err)
	}
	if p.Width() <= 0 || p.Height() <= 0 {
		return fmt.Errorf("H.264 SPS: empty picture size")
	}
	d.setVideo(media.H264{SPS: clone(sps), PPS: clone(pps)})
	return nil
}

func (d *demuxer) setH265(vps, sps, pps []byte) error {
	var p h265.SPS
	if err := p.Unmarshal(sps); err != nil {
		return fmt.Errorf("H.265 SPS: %w", err)
	}
	d.setVideo(media.H265{VPS: clone(vps), SPS: clone(sps), PPS: clone(pps)})
	return nil
}

func (d *demuxer) setVideo(c media.Codec) {
	if d.video != nil && d.video.Equal(c) {
		return // encoders repeat their sequence header
	}
	d.video = c
	if d.started {
		d.reconfigure = true
	}
}

func (d *demuxer) setAudio(c media.Codec) {
	if d.audio != nil && d.audio.Equal(c) {
		return
	}
	d.audio = c
	if d.started {
		d.reconfigure = true
	}
}

// onVideoFrame handles one coded video frame of any supported codec.
func (d *demuxer) onVideoFrame(fourCC message.FourCC, dts, ptsDelta time.Duration, payload []byte, arrival time.Time) error {
	var data [][]byte
	var key bool
	var err error
	switch cfg := d.video.(type) {
	case nil:
		return nil // frames before the configuration cannot be decoded
	case media.H264:
		if fourCC != message.FourCCAVC {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		data, key, err = d.h264Frame(cfg, payload)
	case media.H265:
		if fourCC != message.FourCCHEVC {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		data, key, err = d.h265Frame(cfg, payload)
	case media.AV1:
		if fourCC != message.FourCCAV1 {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		var obus av1.Bitstream
		if err = obus.Unmarshal(payload); err != nil {
			return fmt.Errorf("AV1 temporal unit: %w", err)
		}
		data, key = obus, av1.IsRandomAccess2(obus)
	case media.VP9:
		if fourCC != message.FourCCVP9 {
			return fmt.Errorf("video codec changed without a new configuration")
		}
		var h vp9.Header
		if err = h.Unmarshal(payload); err != nil {
			return fmt.Errorf("VP9 frame: %w", err)
		}
		data, key = [][]byte{payload}, !h.NonKeyFrame
	}
	if err != nil || data == nil {
		return err
	}
	t := d.clock.unwrap(dts)
	return d.push(true, &media.Unit{PTS: t + ptsDelta, DTS: t, Key: key, Data: data, Arrival: arrival})
}

// h264Frame splits an AVCC access unit into NAL units and, on IDR frames, makes sure SPS and PPS
// travel in front: HLS muxers and players need them at every random access point, while RTMP
// carries them once in the sequence header. In-band parameter sets that differ from the
// configuration are a configuration change.
func (d *demuxer) h264Frame(cfg media.H264, payload []byte) ([][]byte, bool, error) {
	var au h264.AVCC
	if err := au.Unmarshal(payload); err != nil {
		if errors.Is(err, h264.ErrAVCCNoNALUs) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("H.264 access unit: %w", err)
	}
	var key, hasSPS, hasPPS, hasAUD bool
	sps, pps := cfg.SPS, cfg.PPS
	for i, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeIDR:
			key = true
		case h264.NALUTypeSPS:
			hasSPS, sps = true, n
		case h264.NALUTypePPS:
			hasPPS, pps = true, n
		case h264.NALUTypeAccessUnitDelimiter:
			hasAUD = hasAUD || i == 0
		}
	}
	if !key {
		return au, false, nil
	}
	if string(sps) != string(cfg.SPS) || string(pps) != string(cfg.PPS) {
		if err := d.setH264(sps, pps); err != nil {
			return nil, false, err
		}
	}
	if hasSPS && hasPPS {
		return au, true, nil
	}
	var params [][]byte
	if !hasSPS {
		params = append(params, sps)
	}
	if !hasPPS {
		params = append(params, pps)
	}
	return insertParams(au, params, hasAUD), true, nil
}

func (d *demuxer) h265Frame(cfg media.H265, payload []byte) ([][]byte, bool, error) {
	var au h264.AVCC // H.265 in RTMP uses the same length-prefixed framing
	if err := au.Unmarshal(payload); err != nil {
		if errors.Is(err, h264.ErrAVCCNoNALUs) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("H.265 access unit: %w", err)
	}
	var key, hasVPS, hasSPS, hasPPS, hasAUD bool
	vps, sps, pps := cfg.VPS, cfg.SPS, cfg.PPS
	for i, n := range au {
		switch h265.NALUType((n[0] >> 1) & 0b111111) {
		case h265.NALUType_IDR_W_RADL, h265.NALUType_IDR_N_LP, h265.NALUType_CRA_NUT:
			key = true
		case h265.NALUType_VPS_NUT:
			hasVPS, vps = true, n
		case h265.NALUType_SPS_NUT:
			hasSPS, sps = true, n
		case h265.NALUType_PPS_NUT:
			hasPPS, pps = true, n
		case h265.NALUType_AUD_NUT:
			hasAUD = hasAUD || i == 0
		}
	}
	if !key {
		return au, false, nil
	}
	if string(vps) != string(cfg.VPS) || string(sps) != string(cfg.SPS) || string(pps) != string(cfg.PPS) {
		if err := d.setH265(vps, sps, pps); err != nil {
			return nil, false, err
		}
	}
	var params [][]byte
	if !hasVPS {
		params = append(params, vps)
	}
	if !hasSPS {
		params = append(params, sps)
	}
	if !hasPPS {
		params = append(params, pps)
	}
	if len(params) == 0 {
		return au, true, nil
	}
	return insertParams(au, params, hasAUD), true, nil
}

// insertParams puts parameter sets in front of an access unit, after its delimiter if any.
func insertParams(au, params [][]byte, afterAUD bool) [][]byte {
	out := make([][]byte, 0, len(au)+len(params))
	if afterAUD {
		out = append(out, au[0])
		au = au[1:]
	}
	out = append(out, params...)
	return append(out, au...)
}

func hevcParams(arrays []mp4.HEVCNaluArray) (vps, sps, pps []byte, err error) {
	for _, arr := range arrays {
		if len(arr.Nalus) == 0 {
			continue
		}
		n := arr.Nalus[0].NALUnit
		switch h265.NALUType(arr.NaluType & 0b111111) {
		case h265.NALUType_VPS_NUT:
			vps = n
		case h265.NALUType_SPS_NUT:
			sps = n
		case h265.NALUType_PPS_NUT:
			pps = n
		}
	}
	if len(vps) == 0 || len(sps) == 0 || len(pps) == 0 {
		return nil, nil, nil, fmt.Errorf("H.265 configuration without VPS, SPS and PPS")
	}
	return vps, sps, pps, nil
}

func (d *demuxer) onAudio(m *message.Audio, arrival time.Time) error {
	if m.Codec != message.CodecMPEG4Audio {
		d.unsupportedAudio = legacyAudioName(m.Codec)
		return nil
	}
	if m.AACType == message.AudioAACTypeConfig {
		if m.AACConfig == nil {
			return nil
		}
		return d.setAAC(*m.AACConfig)
	}
	return d.onAudioFrame(message.FourCCMP4A, m.DTS, m.AU, arrival)
}

func (d *demuxer) onAudioSequenceStart(m *message.AudioExSequenceStart) error {
	switch m.FourCC {
	case message.FourCCMP4A:
		return d.setAAC(*m.AACConfig)
	case message.FourCCOpus:
		n := int(m.OpusConfig.ChannelCount)
		if n < 1 || n > 8 {
			return fmt.Errorf("Opus header: %d channels", n)
		}
		d.setAudio(media.Opus{ChannelCount: n})
	default:
		d.unsupportedAudio = fourCCName(m.FourCC)
	}
	return nil
}

func (d *demuxer) setAAC(cfg mpeg4audio.AudioSpecificConfig) error {
	if cfg.SampleRate <= 0 || cfg.SampleRate > 96000 {
		return fmt.Errorf("AAC configuration: sample rate %d", cfg.SampleRate)
	}
	d.setAudio(media.AAC{Config: cfg})
	return nil
}

func (d *demuxer) onAudioFrame(fourCC message.FourCC, dts time.Duration, payload []byte, arrival time.Time) error {
	switch d.audio.(type) {
	case nil:
		return nil
	case media.AAC:
		if fourCC != message.FourCCMP4A {
			return nil
		}
	case media.Opus:
		if fourCC != message.FourCCOpus {
			return nil
		}
	}
	if len(payload) == 0 {
		return nil
	}
	t := d.clock.unwrap(dts)
	return d.push(false, &media.Unit{PTS: t, DTS: t, Key: true, Data: [][]byte{payload}, Arrival: arrival})
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

func legacyAudioName(codec uint8) string {
	switch codec {
	case message.CodecMPEG1Audio:
		return "mp3"
	case message.CodecLPCM:
		return "lpcm"
	case message.CodecPCMA:
		return "pcma"
	case message.CodecPCMU:
		return "pcmu"
	}
	return fmt.Sprintf("flv audio codec %d", codec)
}

func fourCCName(f message.FourCC) string {
	b := []byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%#08x", uint32(f))
		}
	}
	return string(b)
}
