package mediatest

import (
	"fmt"
	"os"
)

// HEVCFixture is the committed 3 s H.265 elementary stream with access unit delimiters (see
// testdata/README.md).
const HEVCFixture = "hevc_3s.h265"

// LoadHEVCAccessUnits reads an H.265 Annex-B fixture and splits it into access units at its
// access unit delimiters, which are dropped.
func LoadHEVCAccessUnits(name string) ([][][]byte, error) {
	b, err := os.ReadFile(FixturePath(name))
	if err != nil {
		return nil, err
	}
	nalus := splitAnnexB(b)
	const audNUT = 35
	var aus [][][]byte
	for _, n := range nalus {
		if (n[0]>>1)&0x3f == audNUT {
			aus = append(aus, nil)
			continue
		}
		if len(aus) == 0 {
			return nil, fmt.Errorf("%s: does not start with an access unit delimiter", name)
		}
		aus[len(aus)-1] = append(aus[len(aus)-1], n)
	}
	return aus, nil
}

// splitAnnexB splits a byte stream at its 3- and 4-byte start codes (the library's decoder caps
// the NAL unit count to one access unit's worth).
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+3 <= len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end--
				}
				out = append(out, b[start:end])
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
