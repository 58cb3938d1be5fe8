package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func boolp(b bool) *bool { return &b }

func intp(n int) *int { return &n }

func TestDecodeAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Request
	}{
		{`{"v":1,"t":"msg.send","text":"안녕"}`, &Send{Common: Common{Header: Header{1, TypeSend}}, Text: "안녕"}},
		{`{"v":1,"t":"msg.send","text":"hi","ref":"a1"}`, &Send{Common: Common{Header: Header{1, TypeSend}, Ref: "a1"}, Text: "hi"}},
		{` {"t":"msg.send","v":1,"text":""} `, &Send{Common: Common{Header: Header{1, TypeSend}}}},
		{`{"v":1,"t":"msg.delete","id":"7295629261766656001"}`, &Delete{Common: Common{Header: Header{1, TypeDelete}}, ID: 7295629261766656001}},
		{`{"v":1,"t":"mod.timeout","user":42,"seconds":600,"reason":"도배"}`, &Timeout{Common: Common{Header: Header{1, TypeTimeout}}, UserID: 42, Seconds: 600, Reason: "도배"}},
		{`{"v":1,"t":"mod.ban","user":42}`, &Ban{Common: Common{Header: Header{1, TypeBan}}, UserID: 42}},
		{`{"v":1,"t":"mod.unban","user":42}`, &Unban{Common: Common{Header: Header{1, TypeUnban}}, UserID: 42}},
		{`{"v":1,"t":"mod.slow","seconds":0}`, &Slow{Common: Common{Header: Header{1, TypeSlow}}}},
		{`{"v":1,"t":"mod.mode","followers_only":true}`, &Mode{Common: Common{Header: Header{1, TypeMode}}, FollowersOnly: boolp(true)}},
		{`{"v":1,"t":"mod.mode","verified_only":false}`, &Mode{Common: Common{Header: Header{1, TypeMode}}, VerifiedOnly: boolp(false)}},
		{`{"v":1,"t":"mod.mode","min_follow_seconds":600}`, &Mode{Common: Common{Header: Header{1, TypeMode}}, MinFollowSeconds: intp(600)}},
		{`{"v":1,"t":"mod.mode","followers_only":true,"min_follow_seconds":0}`, &Mode{Common: Common{Header: Header{1, TypeMode}}, FollowersOnly: boolp(true), MinFollowSeconds: intp(0)}},
		{`{"v":1,"t":"mod.clear"}`, &Clear{Common: Common{Header: Header{1, TypeClear}}}},
		{`{"v":1,"t":"history.since","after":"12"}`, &HistorySince{Common: Common{Header: Header{1, TypeHistorySince}}, After: 12}},
	}
	for _, tt := range tests {
		got, err := Decode([]byte(tt.in))
		if err != nil {
			t.Errorf("Decode(%s): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Decode(%s) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, code string
	}{
		{"empty", ``, ErrCodeMalformed},
		{"not json", `hello`, ErrCodeMalformed},
		{"array", `[{"v":1,"t":"msg.send","text":"a"}]`, ErrCodeMalformed},
		{"string", `"msg.send"`, ErrCodeMalformed},
		{"trailing data", `{"v":1,"t":"msg.send","text":"a"} {}`, ErrCodeMalformed},
		{"truncated", `{"v":1,"t":"msg.send","text":"a`, ErrCodeMalformed},
		{"no version", `{"t":"msg.send","text":"a"}`, ErrCodeVersion},
		{"future version", `{"v":2,"t":"msg.send","text":"a"}`, ErrCodeVersion},
		{"version as string", `{"v":"1","t":"msg.send","text":"a"}`, ErrCodeMalformed},
		{"no type", `{"v":1,"text":"a"}`, ErrCodeUnknownType},
		{"unknown type", `{"v":1,"t":"msg.edit","text":"a"}`, ErrCodeUnknownType},
		{"server event type", `{"v":1,"t":"msg","text":"a"}`, ErrCodeUnknownType},
		{"unknown field", `{"v":1,"t":"msg.send","text":"a","colour":"red"}`, ErrCodeBadField},
		{"identity smuggled", `{"v":1,"t":"msg.send","text":"a","user":{"id":1,"nick":"admin"}}`, ErrCodeBadField},
		{"text not string", `{"v":1,"t":"msg.send","text":5}`, ErrCodeBadField},
		{"id as number", `{"v":1,"t":"msg.delete","id":12}`, ErrCodeBadField},
		{"id with sign", `{"v":1,"t":"msg.delete","id":"-12"}`, ErrCodeBadField},
		{"id zero", `{"v":1,"t":"msg.delete","id":"0"}`, ErrCodeBadField},
		{"id overflow", `{"v":1,"t":"msg.delete","id":"99999999999999999999"}`, ErrCodeBadField},
		{"id missing", `{"v":1,"t":"msg.delete"}`, ErrCodeBadField},
		{"user missing", `{"v":1,"t":"mod.ban"}`, ErrCodeBadField},
		{"user as string", `{"v":1,"t":"mod.ban","user":"42"}`, ErrCodeBadField},
		{"user fraction", `{"v":1,"t":"mod.ban","user":4.2}`, ErrCodeBadField},
		{"timeout without seconds", `{"v":1,"t":"mod.timeout","user":4}`, ErrCodeBadField},
		{"negative slow", `{"v":1,"t":"mod.slow","seconds":-1}`, ErrCodeBadField},
		{"empty mode", `{"v":1,"t":"mod.mode"}`, ErrCodeBadField},
		{"negative follow age", `{"v":1,"t":"mod.mode","min_follow_seconds":-60}`, ErrCodeBadField},
		{"follow age fraction", `{"v":1,"t":"mod.mode","min_follow_seconds":1.5}`, ErrCodeBadField},
		{"follow age as string", `{"v":1,"t":"mod.mode","min_follow_seconds":"10m"}`, ErrCodeBadField},
		{"follow age null", `{"v":1,"t":"mod.mode","min_follow_seconds":null}`, ErrCodeBadField},
		{"long reason", `{"v":1,"t":"mod.ban","user":4,"reason":"` + strings.Repeat("가", MaxReasonRunes+1) + `"}`, ErrCodeBadField},
		{"long ref", `{"v":1,"t":"mod.clear","ref":"` + strings.Repeat("r", MaxRefBytes+1) + `"}`, ErrCodeBadField},
		{"history without after", `{"v":1,"t":"history.since"}`, ErrCodeBadField},
		{"too large", `{"v":1,"t":"msg.send","text":"` + strings.Repeat("a", MaxRequestBytes) + `"}`, ErrCodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := Decode([]byte(tt.in))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%.60s) = %#v, %v; want a DecodeError", tt.in, req, err)
			}
			if de.Code != tt.code {
				t.Fatalf("Decode(%.60s): code %s (%s), want %s", tt.in, de.Code, de.Detail, tt.code)
			}
			if req != nil {
				t.Fatal("refused request returned a value")
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	reqs := []Request{
		&Send{Text: "안녕 👋", Common: Common{Ref: "x"}},
		&Delete{ID: 1 << 60},
		&Timeout{UserID: 3, Seconds: 60, Reason: "spam"},
		&Ban{UserID: 3},
		&Unban{UserID: 3},
		&Slow{Seconds: 10},
		&Mode{FollowersOnly: boolp(true), VerifiedOnly: boolp(false)},
		&Mode{FollowersOnly: boolp(true), MinFollowSeconds: intp(3600)},
		&Clear{},
		&HistorySince{After: 99},
	}
	for _, r := range reqs {
		data, err := Encode(r)
		if err != nil {
			t.Fatalf("Encode(%T): %v", r, err)
		}
		back, err := Decode(data)
		if err != nil {
			t.Fatalf("Decode(Encode(%T)) %s: %v", r, data, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip of %T: got %#v want %#v", r, back, r)
		}
	}
	if _, err := Encode(&Ban{}); err == nil {
		t.Fatal("Encode accepted an invalid request")
	}
}

func TestMessageIDIsAStringOnTheWire(t *testing.T) {
	t.Parallel()
	id := MessageID(7295629261766656001) // beyond 2^53: a JavaScript number would round it
	data, err := json.Marshal(Msg{Header: NewHeader(TypeMsg), ID: id, User: User{ID: 1, Nick: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"id":"7295629261766656001"`) {
		t.Fatalf("id not a string: %s", data)
	}
	if got, err := ParseMessageID("7295629261766656001"); err != nil || got != id {
		t.Fatalf("ParseMessageID = %d, %v", got, err)
	}
	for _, bad := range []string{"", "0", "-1", "1e3", " 1", "0x10", "99999999999999999999"} {
		if _, err := ParseMessageID(bad); err == nil {
			t.Errorf("ParseMessageID(%q) accepted", bad)
		}
	}
}

func TestFrames(t *testing.T) {
	t.Parallel()
	a, _ := json.Marshal(Msg{Header: NewHeader(TypeMsg), ID: 1, User: User{ID: 1, Nick: "가"}, Text: "<b>hi</b>"})
	b, _ := json.Marshal(MsgDeleted{Header: NewHeader(TypeMsgDeleted), IDs: []MessageID{1}})
	frame := AppendFrame(nil, a, b)
	events, err := DecodeFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].T != TypeMsg || events[1].T != TypeMsgDeleted || events[0].V != Version {
		t.Fatalf("frame %s decoded as %+v", frame, events)
	}
	if strings.Contains(string(frame), "<b>") {
		t.Fatal("HTML in text must be escaped in JSON output")
	}
	if string(AppendFrame(nil)) != "[]" {
		t.Fatal("empty frame")
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, must refuse with a
// DecodeError or return a request that survives re-encoding unchanged.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"v":1,"t":"msg.send","text":"안녕"}`,
		`{"v":1,"t":"msg.send","text":"hi","ref":"a1"}`,
		`{"v":1,"t":"msg.delete","id":"7295629261766656001"}`,
		`{"v":1,"t":"mod.timeout","user":42,"seconds":600,"reason":"도배"}`,
		`{"v":1,"t":"mod.ban","user":42}`,
		`{"v":1,"t":"mod.unban","user":42}`,
		`{"v":1,"t":"mod.slow","seconds":30}`,
		`{"v":1,"t":"mod.mode","followers_only":true,"verified_only":false}`,
		`{"v":1,"t":"mod.mode","followers_only":true,"min_follow_seconds":600}`,
		`{"v":1,"t":"mod.clear"}`,
		`{"v":1,"t":"history.since","after":"12"}`,
		`{"v":2,"t":"msg.send"}`,
		`{"v":1,"t":"msg.send","text":"\ud800"}`,
		`{"v":1,"t":"msg.send","text":"a","x":1}`,
		`[]`, `null`, `{}`, `{"v":1}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := Decode(data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || req != nil {
				t.Fatalf("refusal %v (%T) with request %v", err, err, req)
			}
			return
		}
		again, err := Encode(req)
		if err != nil {
			t.Fatalf("accepted request %#v does not re-encode: %v", req, err)
		}
		back, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded request %s refused: %v", again, err)
		}
		if !reflect.DeepEqual(back, req) {
			t.Fatalf("round trip changed %#v into %#v", req, back)
		}
	})
}
