package hls

import (
	"strconv"
	"time"
)

const (
	// partHoldBackFactor sets PART-HOLD-BACK (how far behind the live edge LL players start)
	// in part targets. The spec requires at least 2 and recommends 3; 2.5 is what hls.js and
	// iOS play reliably with at 200 ms parts.
	partHoldBackFactor = 2.5
	// listedPartSegments is how many completed segments keep their EXT-X-PART lines.
	listedPartSegments = 2
)

func appendSeconds(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', 5, 64)
}

func appendPart(b []byte, p *part) []byte {
	b = append(b, "#EXT-X-PART:DURATION="...)
	b = appendSeconds(b, p.duration)
	b = append(b, `,URI="`...)
	b = append(b, p.name...)
	b = append(b, '"')
	if p.independent {
		b = append(b, ",INDEPENDENT=YES"...)
	}
	return append(b, '\n')
}

// renderMedia renders a rendition's media playlist: the LL-HLS form (parts, blocking reload,
// preload hint, the iOS start gaps) or the standard form (complete segments only).
func renderMedia(r *rendition, token string, ll bool) []byte {
	b := make([]byte, 0, 2048)
	b = append(b, "#EXTM3U\n"...)
	segs := r.segments
	if ll {
		b = append(b, "#EXT-X-VERSION:10\n"...)
	} else {
		b = append(b, "#EXT-X-VERSION:7\n"...)
		for len(segs) > 0 && segs[0].gap {
			segs = segs[1:]
		}
	}
	b = append(b, "#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(max(r.targetDuration, 1)), 10)
	b = append(b, '\n')
	if ll {
		b = append(b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK="...)
		b = appendSeconds(b, time.Duration(float64(r.partTarget)*partHoldBackFactor))
		b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
		b = appendSeconds(b, r.partTarget)
		b = append(b, '\n')
	}
	if len(segs) == 0 {
		return b // not served: callers wait for content
	}
	b = append(b, "#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, segs[0].msn, 10)
	b = append(b, '\n')
	if d := segs[0].discSeq; d > 0 {
		b = append(b, "#EXT-X-DISCONTINUITY-SEQUENCE:"...)
		b = strconv.AppendUint(b, d, 10)
		b = append(b, '\n')
	}

	var curInit *initFile
	for _, s := range segs {
		if !s.gap {
			curInit = s.init
			break
		}
	}
	b = appendMap(b, curInit)

	partsFrom := uint64(0)
	if r.nextMSN > listedPartSegments {
		partsFrom = r.nextMSN - listedPartSegments
	}
	for i, s := range segs {
		if s.gap {
			b = append(b, "#EXT-X-GAP\n#EXTINF:"...)
			b = appendSeconds(b, s.duration)
			b = append(b, ",\ngap.mp4\n"...)
			continue
		}
		if s.disc && i > 0 {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		if s.init != curInit {
			curInit = s.init
			b = appendMap(b, curInit)
		}
		if !s.dateTime.IsZero() {
			b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
			b = s.dateTime.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
			b = append(b, '\n')
		}
		if ll && s.msn >= partsFrom {
			for _, p := range s.parts {
				b = appendPart(b, p)
			}
		}
		b = append(b, "#EXTINF:"...)
		b = appendSeconds(b, s.duration)
		b = append(b, ",\n"...)
		b = append(b, s.name...)
		b = append(b, '\n')
	}
	if ll {
		for _, p := range r.pending {
			b = appendPart(b, p)
		}
		b = append(b, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="`...)
		b = append(b, partName(token, r.name, r.nextMSN, len(r.pending))...)
		b = append(b, "\"\n"...)
	}
	return b
}

func appendMap(b []byte, f *initFile) []byte {
	if f == nil {
		return b
	}
	b = append(b, `#EXT-X-MAP:URI="`...)
	b = append(b, f.name...)
	return append(b, "\"\n"...)
}

// Object names carry the stream's random token so that a CDN never serves bytes of an earlier
// broadcast of the same channel; they are immutable for the token's life.
func segmentName(token, rend string, msn uint64) string {
	return token + "_" + rend + "_s" + strconv.FormatUint(msn, 10) + ".m4s"
}

func partName(token, rend string, msn uint64, idx int) string {
	return token + "_" + rend + "_p" + strconv.FormatUint(msn, 10) + "." + strconv.Itoa(idx) + ".m4s"
}

func initName(token, rend string, epoch int) string {
	return token + "_" + rend + "_init" + strconv.Itoa(epoch) + ".mp4"
}

// parsePartName is the inverse of partName, for requests that arrive before the part exists
// (the preload hint).
func parsePartName(token, name string) (rend string, msn uint64, idx int, ok bool) {
	rest, found := cutPrefix(name, token+"_")
	if !found {
		return "", 0, 0, false
	}
	for _, r := range [...]string{"video", "audio"} {
		if tail, found := cutPrefix(rest, r+"_p"); found {
			rend, rest = r, tail
			break
		}
	}
	if rend == "" {
		return "", 0, 0, false
	}
	rest, found = cutSuffix(rest, ".m4s")
	if !found {
		return "", 0, 0, false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] == '.' {
			m, err1 := strconv.ParseUint(rest[:i], 10, 64)
			p, err2 := strconv.Atoi(rest[i+1:])
			if err1 != nil || err2 != nil || p < 0 {
				return "", 0, 0, false
			}
			return rend, m, p, true
		}
	}
	return "", 0, 0, false
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

func cutSuffix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[len(s)-len(p):] == p {
		return s[:len(s)-len(p)], true
	}
	return s, false
}

// variantInfo is what the multivariant playlist says about the stream.
type variantInfo struct {
	codecs     string // CODECS attribute value
	resolution string // "WxH" or ""
	frameRate  float64
	hasVideo   bool
	hasAudio   bool
}

// queryMark stands where a viewer's own query (?vs=…) is inserted into media playlist URIs.
const queryMark = '\x00'

// renderMultivariant renders the multivariant playlist as pieces to join with a query string.
func renderMultivariant(info variantInfo, peak, avg int, ll bool) [][]byte {
	b := make([]byte, 0, 512)
	b = append(b, "#EXTM3U\n"...)
	if ll {
		b = append(b, "#EXT-X-VERSION:9\n"...)
	} else {
		b = append(b, "#EXT-X-VERSION:7\n"...)
	}
	b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	prefix := ""
	if !ll {
		prefix = "std_"
	}
	if info.hasVideo && info.hasAudio {
		b = append(b, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",AUTOSELECT=YES,DEFAULT=YES,URI="`...)
		b = append(b, prefix+"audio.m3u8"...)
		b = append(b, queryMark, '"', '\n')
	}
	b = append(b, "#EXT-X-STREAM-INF:BANDWIDTH="...)
	b = strconv.AppendInt(b, int64(max(peak, 1)), 10)
	b = append(b, ",AVERAGE-BANDWIDTH="...)
	b = strconv.AppendInt(b, int64(max(avg, 1)), 10)
	b = append(b, `,CODECS="`...)
	b = append(b, info.codecs...)
	b = append(b, '"')
	if info.resolution != "" {
		b = append(b, ",RESOLUTION="...)
		b = append(b, info.resolution...)
	}
	if info.frameRate > 0 {
		b = append(b, ",FRAME-RATE="...)
		b = strconv.AppendFloat(b, info.frameRate, 'f', 3, 64)
	}
	if info.hasVideo && info.hasAudio {
		b = append(b, `,AUDIO="audio"`...)
	}
	b = append(b, '\n')
	if info.hasVideo {
		b = append(b, prefix+"video.m3u8"...)
	} else {
		b = append(b, prefix+"audio.m3u8"...)
	}
	b = append(b, queryMark, '\n')

	var pieces [][]byte
	start := 0
	for i, c := range b {
		if c == queryMark {
			pieces = append(pieces, b[start:i])
			start = i + 1
		}
	}
	return append(pieces, b[start:])
}
