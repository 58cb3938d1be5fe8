package media

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// Codec describes a track's coding format and the configuration a decoder needs up front.
// The concrete types are H264, H265, AV1, VP9, AAC and Opus.
type Codec interface {
	// IsVideo reports whether the codec carries pictures.
	IsVideo() bool
	// Name is a short lower-case label for logs and metrics ("h264", "aac", ...).
	Name() string
	// Equal reports whether other has the same type and configuration, i.e. whether a decoder
	// set up for one can continue with the other.
	Equal(other Codec) bool
}

// H264 is H.264/AVC video; SPS and PPS are NAL units without start codes.
type H264 struct{ SPS, PPS []byte }

// H265 is H.265/HEVC video; VPS, SPS and PPS are NAL units without start codes.
type H265 struct{ VPS, SPS, PPS []byte }

// AV1 is AV1 video; SequenceHeader is the sequence header OBU.
type AV1 struct{ SequenceHeader []byte }

// VP9 is VP9 video; its parameters travel in every keyframe's header.
type VP9 struct{}

// AAC is MPEG-4 Audio (AAC-LC, HE-AAC).
type AAC struct {
	Config mpeg4audio.AudioSpecificConfig
}

// Opus is Opus audio at 48 kHz.
type Opus struct{ ChannelCount int }

// IsVideo implements Codec.
func (H264) IsVideo() bool { return true }

// IsVideo implements Codec.
func (H265) IsVideo() bool { return true }

// IsVideo implements Codec.
func (AV1) IsVideo() bool { return true }

// IsVideo implements Codec.
func (VP9) IsVideo() bool { return true }

// IsVideo implements Codec.
func (AAC) IsVideo() bool { return false }

// IsVideo implements Codec.
func (Opus) IsVideo() bool { return false }

// Name implements Codec.
func (H264) Name() string { return "h264" }

// Name implements Codec.
func (H265) Name() string { return "h265" }

// Name implements Codec.
func (AV1) Name() string { return "av1" }

// Name implements Codec.
func (VP9) Name() string { return "vp9" }

// Name implements Codec.
func (AAC) Name() string { return "aac" }

// Name implements Codec.
func (Opus) Name() string { return "opus" }

// Equal implements Codec.
func (c H264) Equal(o Codec) bool {
	x, ok := o.(H264)
	return ok && string(c.SPS) == string(x.SPS) && string(c.PPS) == string(x.PPS)
}

// Equal implements Codec.
func (c H265) Equal(o Codec) bool {
	x, ok := o.(H265)
	return ok && string(c.VPS) == string(x.VPS) && string(c.SPS) == string(x.SPS) &&
		string(c.PPS) == string(x.PPS)
}

// Equal implements Codec.
func (c AV1) Equal(o Codec) bool {
	x, ok := o.(AV1)
	return ok && string(c.SequenceHeader) == string(x.SequenceHeader)
}

// Equal implements Codec.
func (VP9) Equal(o Codec) bool { _, ok := o.(VP9); return ok }

// Equal implements Codec.
func (c AAC) Equal(o Codec) bool {
	x, ok := o.(AAC)
	return ok && c.Config == x.Config
}

// Equal implements Codec.
func (c Opus) Equal(o Codec) bool {
	x, ok := o.(Opus)
	return ok && c == x
}

// Track is one elementary stream of an ingest.
type Track struct {
	Codec Codec
}

// Unit is one access unit (a video frame or an audio frame) on its way from a publisher to
// readers. Units are shared by every reader and must not be modified once written.
type Unit struct {
	// Track is the index of the unit's track in Ingest.Tracks.
	Track int
	// PTS and DTS are the presentation and decoding times on the publisher's own clock (never
	// arrival times). Only differences between units of one ingest are meaningful.
	PTS, DTS time.Duration
	// Key marks a random access point (IDR/keyframe). Audio units are always keys.
	Key bool
	// Data holds the payload: H.264/H.265 NAL units without start codes (a key unit carries
	// its parameter sets in front), AV1 OBUs, or a single VP9, AAC or Opus frame.
	Data [][]byte
	// Arrival is when the network message carrying the unit had been read, for latency
	// instrumentation.
	Arrival time.Time
}

// validateTracks checks what an ingest may carry: one or more tracks, at most one video and
// one audio (what every HLS player can follow), all with a codec.
func validateTracks(tracks []Track) error {
	if len(tracks) == 0 {
		return fmt.Errorf("no tracks")
	}
	var video, audio int
	for i, t := range tracks {
		if t.Codec == nil {
			return fmt.Errorf("track %d has no codec", i)
		}
		if t.Codec.IsVideo() {
			video++
		} else {
			audio++
		}
	}
	if video > 1 || audio > 1 {
		return fmt.Errorf("%d video and %d audio tracks: at most one of each is supported", video, audio)
	}
	return nil
}
