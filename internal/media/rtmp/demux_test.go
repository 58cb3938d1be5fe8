package rtmp

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/freelylive/freely/internal/media"
	"github.com/freelylive/freely/internal/media/mediatest"
)

// checkingSink is a real streamSink that records what the demuxer produced and checks the
// invariants every consumer relies on.
type checkingSink struct {
	t       testing.TB
	starts  [][]media.Track
	units   []*media.Unit
	lastDTS map[int]time.Duration
}

func (s *checkingSink) start(tracks []media.Track) error {
	if len(tracks) == 0 || len(tracks) > 2 {
		s.t.Fatalf("start with %d tracks", len(tracks))
	}
	s.starts = append(s.starts, tracks)
	s.lastDTS = map[int]time.Duration{}
	return nil
}

func (s *checkingSink) unit(u *media.Unit) {
	if len(s.starts) == 0 {
		s.t.Fatal("unit before start")
	}
	tracks := s.starts[len(s.starts)-1]
	if u.Track < 0 || u.Track >= len(tracks) {
		s.t.Fatalf("unit for track %d of %d", u.Track, len(tracks))
	}
	if len(u.Data) == 0 {
		s.t.Fatal("unit without data")
	}
	for _, d := range u.Data {
		if len(d) == 0 {
			s.t.Fatal("empty NAL unit / frame")
		}
	}
	s.units = append(s.units, u)
}

// encodeTags serialises FLV tags as the RTMP chunk stream a publisher would send after the
// handshake (default 128-byte chunks).
func encodeTags(t testing.TB, tags []mediatest.Tag) []byte {
	var buf bytes.Buffer
	bc := bytecounter.NewWriter(&buf)
	w := rawmessage.NewWriter(bc, bc, false)
	for _, tag := range tags {
		csid := byte(6)
		if tag.Type != mediatest.TagVideo {
			csid = 4
		}
		body := tag.Body
		if tag.Type == mediatest.TagScript {
			body = append(append([]byte{0x02, 0x00, 13}, "@setDataFrame"...), body...)
		}
		err := w.Write(&rawmessage.Message{ChunkStreamID: csid, Timestamp: tag.Timestamp, Type: tag.Type,
			MessageStreamID: 0x1000000, Body: body})
		if err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// feed decodes an RTMP chunk stream with gortmplib and hands every message to the demuxer, as
// the connection loop does. It returns the demuxer's first error.
func feed(d *demuxer, data []byte) error {
	br := bytecounter.NewReader(bytes.NewReader(data))
	mr := message.NewReader(br, br, func(uint32) error { return nil })
	for {
		msg, err := mr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return nil // malformed chunk stream: gortmplib's error, the connection would close
		}
		if err := d.handle(msg, time.Now()); err != nil {
			return err
		}
	}
}

func loadFixture(t testing.TB) []mediatest.Tag {
	t.Helper()
	tags, err := mediatest.LoadFixture(mediatest.H264AACFixture)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func TestDemuxFixture(t *testing.T) {
	t.Parallel()
	tags := loadFixture(t)
	sink := &checkingSink{t: t}
	d := newDemuxer(sink)
	if err := feed(d, encodeTags(t, tags)); err != nil {
		t.Fatal(err)
	}
	if len(sink.starts) != 1 {
		t.Fatalf("%d starts, want 1", len(sink.starts))
	}
	tracks := sink.starts[0]
	v, ok := tracks[0].Codec.(media.H264)
	if !ok {
		t.Fatalf("track 0 is %T", tracks[0].Codec)
	}
	var sps h264.SPS
	if err := sps.Unmarshal(v.SPS); err != nil || sps.Width() != 320 || sps.Height() != 240 || sps.ProfileIdc != 100 {
		t.Fatalf("SPS: %v %dx%d profile %d", err, sps.Width(), sps.Height(), sps.ProfileIdc)
	}
	a, ok := tracks[1].Codec.(media.AAC)
	if !ok || a.Config.SampleRate != 48000 {
		t.Fatalf("track 1: %#v", tracks[1].Codec)
	}

	var wantVideo, wantAudio int
	for _, tag := range tags {
		eos := tag.Type == mediatest.TagVideo && tag.Body[1] == 2 // AVC end of sequence
		if !tag.IsConfig() && !eos && (tag.Type == mediatest.TagVideo || tag.Type == mediatest.TagAudio) {
			if tag.Type == mediatest.TagVideo {
				wantVideo++
			} else {
				wantAudio++
			}
		}
	}
	var gotVideo, gotAudio, keys int
	lastDTS := map[int]time.Duration{0: -1, 1: -1}
	for i, u := range sink.units {
		if u.DTS < lastDTS[u.Track] {
			t.Fatalf("unit %d: DTS went back from %v to %v", i, lastDTS[u.Track], u.DTS)
		}
		lastDTS[u.Track] = u.DTS
		if u.PTS < u.DTS {
			t.Fatalf("unit %d: PTS %v before DTS %v", i, u.PTS, u.DTS)
		}
		if u.Track == 1 {
			gotAudio++
			continue
		}
		if gotVideo == 0 && !u.Key {
			t.Fatal("first video unit is not a keyframe")
		}
		gotVideo++
		if u.Key {
			keys++
			types := map[h264.NALUType]bool{}
			for _, n := range u.Data[:3] {
				types[h264.NALUType(n[0]&0x1f)] = true
			}
			if !types[h264.NALUTypeSPS] || !types[h264.NALUTypePPS] {
				t.Fatalf("keyframe at %v lacks SPS/PPS in front: %v", u.DTS, types)
			}
		}
	}
	if gotVideo != wantVideo || gotAudio != wantAudio {
		t.Fatalf("units: video %d/%d audio %d/%d", gotVideo, wantVideo, gotAudio, wantAudio)
	}
	if keys != 4 {
		t.Fatalf("%d keyframes, want 4", keys)
	}
}

func TestDemuxStartsAtFirstKeyframe(t *testing.T) {
	t.Parallel()
	tags := loadFixture(t)
	sink := &checkingSink{t: t}
	d := newDemuxer(sink)
	for i, tag := range tags {
		if err := feed(d, encodeTags(t, []mediatest.Tag{tag})); err != nil {
			t.Fatal(err)
		}
		if tag.IsKeyframe() && !tag.IsConfig() {
			if len(sink.starts) != 1 {
				t.Fatalf("not started right after the first keyframe (tag %d)", i)
			}
			return
		}
		if len(sink.starts) != 0 {
			t.Fatalf("started before the first keyframe (tag %d)", i)
		}
	}
	t.Fatal("no keyframe in fixture")
}

func TestDemuxWaitsForAnnouncedAudio(t *testing.T) {
	t.Parallel()
	tags := loadFixture(t)
	var script, videoCfg, audioCfg mediatest.Tag
	var media []mediatest.Tag
	for _, tag := range tags {
		switch {
		case tag.Type == mediatest.TagScript:
			script = tag
		case tag.IsConfig() && tag.Type == mediatest.TagVideo:
			videoCfg = tag
		case tag.IsConfig():
			audioCfg = tag
		case tag.Type == mediatest.TagVideo:
			media = append(media, tag)
		}
	}
	sink := &checkingSink{t: t}
	d := newDemuxer(sink)
	// onMetaData announces audio; the audio configuration comes only after 10 video frames.
	if err := feed(d, encodeTags(t, append([]mediatest.Tag{script, videoCfg}, media[:10]...))); err != nil {
		t.Fatal(err)
	}
	if len(sink.starts) != 0 {
		t.Fatal("started without the announced audio track")
	}
	if err := feed(d, encodeTags(t, []mediatest.Tag{audioCfg, media[10]})); err != nil {
		t.Fatal(err)
	}
	if len(sink.starts) != 1 || len(sink.starts[0]) != 2 {
		t.Fatalf("starts: %v", sink.starts)
	}
	if len(sink.units) != 11 || !sink.units[0].Key {
		t.Fatalf("held units not flushed from the keyframe: %d units", len(sink.units))
	}

	// Without the audio configuration, video starts alone once startWait has passed.
	sink2 := &checkingSink{t: t}
	d2 := newDemuxer(sink2)
	if err := feed(d2, encodeTags(t, append([]mediatest.Tag{script, videoCfg}, media[:40]...))); err != nil {
		t.Fatal(err)
	}
	if len(sink2.starts) != 1 || len(sink2.starts[0]) != 1 {
		t.Fatalf("video-only start: %v", sink2.starts)
	}
}

func TestDemuxRestartsOnNewParameters(t *testing.T) {
	t.Parallel()
	tags := loadFixture(t)
	sink := &checkingSink{t: t}
	d := newDemuxer(sink)
	if err := feed(d, encodeTags(t, tags[:60])); err != nil {
		t.Fatal(err)
	}
	// A new AVC sequence header with a different SPS (level changed), then a keyframe.
	var cfg mediatest.Tag
	for _, tag := range tags {
		if tag.IsConfig() && tag.Type == mediatest.TagVideo {
			cfg = tag
		}
	}
	body := append([]byte(nil), cfg.Body...)
	// avcC: 5 bytes FLV header, then version, profile, compat, level at offset 5+3.
	body[5+3] = 31
	spsStart := 5 + 8
	body[spsStart+3] = 31 // level_idc inside the SPS itself
	changed := mediatest.Tag{Type: cfg.Type, Timestamp: 2 * time.Second, Body: body}
	var key mediatest.Tag
	for _, tag := range tags {
		if tag.IsKeyframe() && !tag.IsConfig() && tag.Timestamp > 2*time.Second {
			key = tag
			break
		}
	}
	if err := feed(d, encodeTags(t, []mediatest.Tag{changed, key})); err != nil {
		t.Fatal(err)
	}
	if len(sink.starts) != 2 {
		t.Fatalf("%d starts after a parameter change, want 2", len(sink.starts))
	}
	v := sink.starts[1][0].Codec.(media.H264)
	if v.SPS[3] != 31 {
		t.Fatalf("restarted with old SPS level %d", v.SPS[3])
	}
	last := sink.units[len(sink.units)-1]
	if !last.Key || last.Data[0][3] != 31 && last.Data[1][3] != 31 {
		t.Fatal("keyframe after the change does not carry the new SPS")
	}
}

func TestDemuxRejectsBrokenSPS(t *testing.T) {
	t.Parallel()
	tags := loadFixture(t)
	for _, tag := range tags {
		if !(tag.IsConfig() && tag.Type == mediatest.TagVideo) {
			continue
		}
		body := append([]byte(nil), tag.Body...)
		// Corrupt the SPS payload after its header bytes.
		for i := 5 + 8 + 4; i < 5+8+10 && i < len(body); i++ {
			body[i] = 0xff
		}
		d := newDemuxer(&checkingSink{t: t})
		err := feed(d, encodeTags(t, []mediatest.Tag{{Type: tag.Type, Body: body}}))
		if err == nil {
			t.Fatal("broken SPS accepted")
		}
		return
	}
}

func TestUnwrapTimestamps(t *testing.T) {
	t.Parallel()
	var w unwrapper
	ms := func(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }
	steps := []struct {
		in   uint32
		want int64
	}{
		{0xFFFFFF00, 0xFFFFFF00},
		{0xFFFFFFF0, 0xFFFFFFF0},
		{0x00000010, 1<<32 + 0x10},
		{0xFFFFFFF8, 0xFFFFFFF8}, // a late audio unit from before the wrap
		{0x00000020, 1<<32 + 0x20},
	}
	for _, s := range steps {
		if got := w.unwrap(ms(s.in)); got != time.Duration(s.want)*time.Millisecond {
			t.Fatalf("unwrap(%#x) = %v, want %v", s.in, got, time.Duration(s.want)*time.Millisecond)
		}
	}
}

func TestStreamKeyFromURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"/live/abc":                          "abc",
		"/live//abc":                         "abc",
		"/live/":                             "",
		"/live":                              "",
		"/other/abc":                         "",
		"/live/a/b":                          "",
		"/live/a\x00b":                       "",
		"/live/" + string(make([]byte, 300)): "",
	}
	for path, want := range cases {
		u := &urlPath{path}
		got, err := streamKeyFromURL(u.url(), "live")
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: got %q, %v; want %q", path, got, err, want)
		}
	}
}

func FuzzDemux(f *testing.F) {
	tags := loadFixture(f)
	f.Add(encodeTags(f, tags[:24]))
	f.Add(encodeTags(f, tags[:3]))
	f.Add([]byte{})
	f.Add([]byte{0x06, 0, 0, 0, 0, 0, 5, 9, 1, 0, 0, 0, 0x17, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newDemuxer(&checkingSink{t: t})
		_ = feed(d, data) // must not panic; errors close the connection
	})
}

type urlPath struct{ p string }

func (u *urlPath) url() *url.URL { return &url.URL{Scheme: "rtmp", Host: "h", Path: u.p} }
