package alert

import (
	"slices"
	"testing"
)

// Bus messages come from other nodes (through Redis in scale-out): decoding must reject
// anything malformed without panicking, and what it accepts must round-trip.
func FuzzDecodeMessages(f *testing.F) {
	for _, seed := range []string{
		`{"v":1,"alert":{"id":1,"kind":"went_live","channel_id":2,"channel_handle":"a","title":"방송"},"users":[1,2,3]}`,
		`{"v":1,"push":{"type":"unread","unread":3}}`,
		`{"v":1,"push":{"type":"alert","alert":{"id":9}}}`,
		`{"v":2,"users":[]}`,
		`{"v":1,"push":{"type":"unread"}}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := decodeFanOut(data); err == nil {
			enc, err := encodeFanOut(m.Alert, m.Users)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			again, err := decodeFanOut(enc)
			if err != nil || again.Alert.ID != m.Alert.ID || !slices.Equal(again.Users, m.Users) {
				t.Fatalf("round trip: %+v, %v", again, err)
			}
		}
		if p, err := decodeUser(data); err == nil {
			if p.Type == PushUnread && (p.Unread == nil || *p.Unread < 0) {
				t.Fatalf("accepted an unread push without a count: %+v", p)
			}
			if p.Type == PushAlert && p.Alert == nil {
				t.Fatalf("accepted an alert push without an alert: %+v", p)
			}
		}
	})
}

func TestTruncateRunes(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "ab", "방송중": "방송", "a": "a"} {
		if got := truncateRunes(in, 2); got != want {
			t.Errorf("truncateRunes(%q, 2) = %q, want %q", in, got, want)
		}
	}
}
