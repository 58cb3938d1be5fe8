package hls

import (
	"math"
	"strconv"
	"time"
)

// object is an immutable file served from memory with its prepared header values.
type object struct {
	data          []byte
	contentType   []string
	contentLength []string
	file          *fileBacking // the same bytes in a sealed in-memory file (large objects, Linux)
	// keep is the object whose bytes data points into (a part inside its segment). Large
	// objects' bytes are a file mapping released with the object, so it must stay reachable.
	keep *object
}

func newObject(data []byte, contentType []string) *object {
	return &object{data: data, contentType: contentType, contentLength: []string{strconv.Itoa(len(data))}}
}

// initFile is one epoch's fMP4 initialisation segment for one rendition.
type initFile struct {
	name string
	obj  *object
}

type part struct {
	name        string
	duration    time.Duration
	independent bool
	obj         *object
}

type segment struct {
	msn      uint64
	gap      bool // EXT-X-GAP placeholder (start of a stream, required by iOS)
	name     string
	duration time.Duration
	dateTime time.Time // zero when unknown
	parts    []*part
	obj      *object
	disc     bool   // a discontinuity precedes this segment
	discSeq  uint64 // discontinuity sequence number of this segment
	init     *initFile
}

// rendition is one media playlist (video, or audio) of a channel: a window of segments shared
// by the LL and the standard playlist, and the parts of the segment in progress.
type rendition struct {
	name        string // "video" or "audio"
	contentType []string

	segments []*segment
	pending  []*part
	nextMSN  uint64 // media sequence number of the segment in progress
	discSeq  uint64
	nextDisc bool // the next segment starts after a publisher reconnect or codec change

	targetDuration int           // never decreases during a session
	partTarget     time.Duration // never decreases during a session
}

// addSegment appends a completed segment and trims the window to windowSize segments.
func (r *rendition) addSegment(s *segment, windowSize int) {
	if !s.gap {
		if r.nextDisc && len(r.segments) > 0 {
			s.disc = true
			r.discSeq++
		}
		r.nextDisc = false
		td := int(math.Round(s.duration.Seconds()))
		r.targetDuration = max(r.targetDuration, td, 1)
		for _, p := range s.parts {
			r.notePart(p)
		}
	}
	s.discSeq = r.discSeq
	r.segments = append(r.segments, s)
	if len(r.segments) > windowSize {
		r.segments[0] = nil
		r.segments = r.segments[1:]
	}
	r.pending = nil
	r.nextMSN = s.msn + 1
}

func (r *rendition) notePart(p *part) {
	pt := time.Millisecond * time.Duration(math.Ceil(float64(p.duration)/float64(time.Millisecond)))
	r.partTarget = max(r.partTarget, pt)
}

// seal turns the parts of the segment in progress into a final, shorter segment when its
// ingest ends, so the media sequence continues without a hole.
func (r *rendition) seal(init *initFile, name string, windowSize int) {
	if len(r.pending) == 0 {
		r.nextDisc = true
		return
	}
	var size int
	var dur time.Duration
	for _, p := range r.pending {
		size += len(p.obj.data)
		dur += p.duration
	}
	data := make([]byte, 0, size)
	for _, p := range r.pending {
		data = append(data, p.obj.data...)
	}
	seg := &segment{msn: r.nextMSN, name: name, duration: dur, parts: r.pending,
		obj: newObject(data, r.contentType), init: init}
	attachFile(seg.obj)
	rebaseParts(seg)
	r.addSegment(seg, windowSize)
	r.nextDisc = true
}

// rebaseParts points the segment's parts into the segment's bytes when the segment is exactly
// their concatenation (as fMP4 LL-HLS segments are), so a part costs no memory of its own.
func rebaseParts(s *segment) {
	off := 0
	for _, p := range s.parts {
		n := len(p.obj.data)
		if off+n > len(s.obj.data) || string(s.obj.data[off:off+n]) != string(p.obj.data) {
			return
		}
		off += n
	}
	if off != len(s.obj.data) {
		return
	}
	off = 0
	for _, p := range s.parts {
		n := len(p.obj.data)
		p.obj = &object{data: s.obj.data[off : off+n : off+n], contentType: p.obj.contentType,
			contentLength: p.obj.contentLength, keep: s.obj}
		off += n
	}
}

// lastComplete returns the newest segment that is not a gap, or nil.
func (r *rendition) lastComplete() *segment {
	for i := len(r.segments) - 1; i >= 0; i-- {
		if !r.segments[i].gap {
			return r.segments[i]
		}
	}
	return nil
}

// bandwidth returns the peak and average bits per second over the window.
func (r *rendition) bandwidth() (peak, avg int) {
	var bytes int
	var dur time.Duration
	for _, s := range r.segments {
		if s.gap || s.duration <= 0 {
			continue
		}
		n := len(s.obj.data)
		peak = max(peak, int(float64(n*8)/s.duration.Seconds()))
		bytes += n
		dur += s.duration
	}
	if dur > 0 {
		avg = int(float64(bytes*8) / dur.Seconds())
	}
	return peak, avg
}
