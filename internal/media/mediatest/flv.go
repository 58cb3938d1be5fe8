// Package mediatest is test support for the media packages: it reads the committed FLV fixture
// and publishes FLV tags over RTMP in-process, as ffmpeg or OBS would, at real-time pace or
// faster. It is imported only by tests and benchmarks.
package mediatest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// FLV tag types.
const (
	TagAudio  = 8
	TagVideo  = 9
	TagScript = 18
)

// Tag is one FLV tag: its body is exactly the body of the RTMP message that carries it.
type Tag struct {
	Type      uint8
	Timestamp time.Duration
	Body      []byte
}

// IsKeyframe reports whether a video tag carries a keyframe.
func (t Tag) IsKeyframe() bool {
	return t.Type == TagVideo && len(t.Body) > 0 && t.Body[0]>>4 == 1
}

// IsConfig reports whether the tag is an AVC or AAC sequence header.
func (t Tag) IsConfig() bool {
	switch t.Type {
	case TagVideo:
		return len(t.Body) > 1 && t.Body[0]&0x0f == 7 && t.Body[1] == 0
	case TagAudio:
		return len(t.Body) > 1 && t.Body[0]>>4 == 10 && t.Body[1] == 0
	}
	return false
}

// ParseFLV splits an FLV file into tags.
func ParseFLV(b []byte) ([]Tag, error) {
	if len(b) < 13 || string(b[:3]) != "FLV" {
		return nil, errors.New("not an FLV file")
	}
	pos := int(binary.BigEndian.Uint32(b[5:9])) + 4 // header, then PreviousTagSize0
	var tags []Tag
	for pos < len(b) {
		if len(b)-pos < 11 {
			return nil, fmt.Errorf("truncated tag header at %d", pos)
		}
		h := b[pos : pos+11]
		size := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
		ts := uint32(h[7])<<24 | uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6])
		pos += 11
		if len(b)-pos < size+4 {
			return nil, fmt.Errorf("truncated tag body at %d", pos)
		}
		tags = append(tags, Tag{
			Type:      h[0] & 0x1f,
			Timestamp: time.Duration(ts) * time.Millisecond,
			Body:      b[pos : pos+size],
		})
		pos += size + 4
	}
	return tags, nil
}

// FixturePath is the absolute path of a file in internal/media/testdata.
func FixturePath(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", name)
}

// H264AACFixture is the committed 4 s H.264 + AAC test stream (see testdata/README.md).
const H264AACFixture = "h264_aac_4s.flv"

// LoadFixture reads and parses an FLV fixture from internal/media/testdata.
func LoadFixture(name string) ([]Tag, error) {
	b, err := os.ReadFile(FixturePath(name))
	if err != nil {
		return nil, err
	}
	return ParseFLV(b)
}

// Duration is the time span from the first to the last media tag plus one video frame
// interval estimated from the last two video tags, i.e. what looping the tags must advance by.
func Duration(tags []Tag) time.Duration {
	var last, prev time.Duration
	var seen int
	for _, t := range tags {
		if t.Type == TagVideo {
			prev, last = last, t.Timestamp
			seen++
		}
	}
	if seen < 2 {
		return last
	}
	return last + (last - prev)
}
