package hls

import (
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

func testSegment(r *rendition, token string, init *initFile, parts int) *segment {
	s := &segment{msn: r.nextMSN, name: segmentName(token, r.name, r.nextMSN), duration: time.Second, init: init}
	var data []byte
	for i := range parts {
		p := &part{name: partName(token, r.name, r.nextMSN, i), duration: 200 * time.Millisecond,
			independent: i == 0, obj: newObject([]byte{byte(i), byte(r.nextMSN)}, ctVideoMP4)}
		s.parts = append(s.parts, p)
		data = append(data, p.obj.data...)
	}
	s.obj = newObject(data, ctVideoMP4)
	rebaseParts(s)
	return s
}

func TestRenderMediaAcrossDiscontinuities(t *testing.T) {
	t.Parallel()
	const token = "t0k3n"
	r := &rendition{name: "video", contentType: ctVideoMP4}
	init0 := &initFile{name: initName(token, "video", 0)}
	init1 := &initFile{name: initName(token, "video", 1)}
	for range 3 {
		r.addSegment(&segment{msn: r.nextMSN, gap: true, duration: time.Second}, 7)
	}
	for range 3 {
		r.addSegment(testSegment(r, token, init0, 5), 7)
	}
	// The publisher leaves with two parts of a segment listed; they are sealed into a segment.
	r.pending = testSegment(r, token, init0, 2).parts
	r.seal(init0, segmentName(token, "video", r.nextMSN), 7)
	for range 2 {
		r.addSegment(testSegment(r, token, init1, 5), 7)
	}
	r.pending = testSegment(r, token, init1, 3).parts

	ll := string(renderMedia(r, token, true))
	pl, err := playlist.Unmarshal([]byte(ll))
	if err != nil {
		t.Fatalf("%v\n%s", err, ll)
	}
	m := pl.(*playlist.Media)
	// Window of 7: gaps 1-2, segments 3-5, sealed 6, then 7-8 after the discontinuity.
	if m.MediaSequence != 2 || len(m.Segments) != 7 {
		t.Fatalf("media sequence %d with %d segments:\n%s", m.MediaSequence, len(m.Segments), ll)
	}
	if m.DiscontinuitySequence != nil {
		t.Fatalf("discontinuity sequence before any discontinuity left the window:\n%s", ll)
	}
	if sealed := m.Segments[4]; sealed.Discontinuity || sealed.Duration != 400*time.Millisecond {
		t.Fatalf("sealed segment: %+v\n%s", sealed, ll)
	}
	if !m.Segments[5].Discontinuity || m.Segments[6].Discontinuity {
		t.Fatalf("discontinuity not exactly on the first segment after the reconnect:\n%s", ll)
	}
	if !strings.Contains(ll, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\""+init1.name+"\"\n") {
		t.Fatalf("no new map after the discontinuity:\n%s", ll)
	}
	if len(m.Parts) != 3 || m.PreloadHint.URI != partName(token, "video", 9, 3) {
		t.Fatalf("pending parts / preload hint:\n%s", ll)
	}
	// Parts are listed only for the last two complete segments.
	if strings.Contains(ll, "_p5.") || !strings.Contains(ll, "_p7.0") || !strings.Contains(ll, "_p8.4") {
		t.Fatalf("part listing window:\n%s", ll)
	}

	// Once the pre-discontinuity segments leave the window, the sequence number says so.
	for range 6 {
		r.addSegment(testSegment(r, token, init1, 5), 7)
	}
	std := string(renderMedia(r, token, false))
	m = parseMedia(t, std)
	if m.DiscontinuitySequence == nil || *m.DiscontinuitySequence != 1 || strings.Contains(std, "#EXT-X-DISCONTINUITY\n") {
		t.Fatalf("after the discontinuity left the window:\n%s", std)
	}
	if strings.Contains(std, "EXT-X-PART") || strings.Contains(std, "GAP") {
		t.Fatalf("standard playlist with LL content:\n%s", std)
	}
}

func parseMedia(t *testing.T, s string) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return pl.(*playlist.Media)
}

func TestSealedPartsShareSegmentBytes(t *testing.T) {
	t.Parallel()
	r := &rendition{name: "audio", contentType: ctAudioMP4}
	init := &initFile{name: "i"}
	r.pending = testSegment(r, "x", init, 3).parts
	r.seal(init, "sealed", 7)
	s := r.segments[0]
	if string(s.obj.data) != "\x00\x00\x01\x00\x02\x00" || !r.nextDisc || r.nextMSN != 1 {
		t.Fatalf("sealed segment %q next %d disc %v", s.obj.data, r.nextMSN, r.nextDisc)
	}
	if &s.parts[1].obj.data[0] != &s.obj.data[2] {
		t.Fatal("sealed parts still hold their own copies")
	}
	// Sealing with nothing pending only marks the discontinuity.
	r.seal(init, "none", 7)
	if len(r.segments) != 1 || !r.nextDisc {
		t.Fatal("empty seal added a segment")
	}
}

func TestSatisfied(t *testing.T) {
	t.Parallel()
	rs := &rendSnap{nextMSN: 10, pending: 2, lastParts: 5}
	cases := []struct {
		msn  uint64
		part int64
		want bool
	}{
		{8, -1, true}, {9, -1, true}, {10, -1, false},
		{8, 99, true},
		{9, 4, true}, {9, 5, true}, // past the last part of 9 means part 0 of 10, which exists
		{10, 1, true}, {10, 2, false}, {11, 0, false},
	}
	for _, c := range cases {
		if got := satisfied(rs, c.msn, c.part); got != c.want {
			t.Errorf("satisfied(%d, %d) = %v", c.msn, c.part, got)
		}
	}
	if satisfied(&rendSnap{nextMSN: 10, lastParts: 5}, 9, 5) {
		t.Error("part 0 of the segment in progress reported before it exists")
	}
}

func TestParseQueryAndNames(t *testing.T) {
	t.Parallel()
	q := parseQuery("vs=abc-DEF_1&_HLS_msn=12&_HLS_part=3&other=x")
	if q.vs != "abc-DEF_1" || q.msn != 12 || q.part != 3 || q.bad {
		t.Fatalf("%+v", q)
	}
	for _, raw := range []string{"_HLS_msn=", "_HLS_msn=1e3", "_HLS_part=-2", "_HLS_msn=18446744073709551616"} {
		if !parseQuery(raw).bad {
			t.Errorf("%q accepted", raw)
		}
	}
	if parseQuery("vs=has%20space").vs != "" || parseQuery("vs=").vs != "" {
		t.Error("invalid viewer id accepted")
	}
	name := partName("tok", "audio", 42, 7)
	if rend, msn, idx, ok := parsePartName("tok", name); !ok || rend != "audio" || msn != 42 || idx != 7 {
		t.Fatalf("round trip of %s: %s %d %d %v", name, rend, msn, idx, ok)
	}
	for _, bad := range []string{"tok_video_p1.m4s", "other_video_p1.0.m4s", "tok_video_s1.m4s", "tok_text_p1.0.m4s",
		"tok_video_p1.-1.m4s", "tok_video_p.0.m4s", "tok_video_p1.0.mp4"} {
		if _, _, _, ok := parsePartName("tok", bad); ok {
			t.Errorf("%s parsed", bad)
		}
	}
}

// FuzzRequestParsing feeds request query strings and file names (both come from the network)
// to the parsers: they must never panic, and a parsed part name must round-trip.
func FuzzRequestParsing(f *testing.F) {
	f.Add("vs=abc&_HLS_msn=3&_HLS_part=1", "tok_video_p3.1.m4s")
	f.Add("_HLS_msn=99999999999999999999", "tok_audio_p0.0.m4s")
	f.Add("&&==&vs=%00", "tok_video_p.m4s")
	f.Fuzz(func(t *testing.T, query, name string) {
		q := parseQuery(query)
		if q.vs != "" && !validViewerID(q.vs) {
			t.Fatalf("invalid viewer id %q accepted", q.vs)
		}
		if rend, msn, idx, ok := parsePartName("tok", name); ok && partName("tok", rend, msn, idx) != name {
			// Leading zeros and signs parse to the same numbers; the canonical name must still
			// identify a part of the same rendition.
			if _, m2, i2, ok2 := parsePartName("tok", partName("tok", rend, msn, idx)); !ok2 || m2 != msn || i2 != idx {
				t.Fatalf("%q does not round-trip", name)
			}
		}
	})
}
