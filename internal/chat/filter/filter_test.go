package filter

import (
	"strings"
	"testing"
)

// Evasions of listed words the default filter must see through.
func TestDefaultFindsEvasions(t *testing.T) {
	t.Parallel()
	f := Default()
	tests := []struct{ name, text string }{
		{"plain", "시발"},
		{"tensed", "씨발"},
		{"double tensed", "씨빨"},
		{"inside a sentence", "아 진짜 시발 뭐야"},
		{"digit between syllables", "시1발"},
		{"spaced with a digit", "시 1 발"},
		{"dot between syllables", "시.발"},
		{"tilde and emoji between", "시~🔥발"},
		{"zero-width between", "시\u200b발"},
		{"initials", "ㅅㅂ"},
		{"tensed initials", "ㅆㅂ"},
		{"initials with digit", "ㅅ1ㅂ"},
		{"initials with dot", "ㅅ.ㅂ"},
		{"initials spaced", "ㅅ ㅂ"},
		{"initials after laughter", "ㅋㅋㅋㅅㅂ"},
		{"compound initial", "ㅄ"},
		{"jamo spelled out", "ㅅㅣ발"},
		{"fully jamo", "ㅅㅣㅂㅏㄹ"},
		{"initial then syllable", "ㅅ발"},
		{"digit one as ㅣ", "ㅅ1발"},
		{"latin l as ㅣ", "ㅅl발"},
		{"keyboard layout", "tlqkf"},
		{"keyboard layout shifted", "Tlqkf"},
		{"keyboard layout caps lock", "TLQKF"},
		{"keyboard in a sentence", "아 tlqkf 진짜"},
		{"stretched vowel", "시이이발"},
		{"stretched tensed", "씨이이이발"},
		{"stretched with repeated final", "시발ㄹㄹ"},
		{"split syllable", "시바알"},
		{"romanised", "sibal"},
		{"romanised doubled", "ssibal"},
		{"romanised with digit", "s1bal"},
		{"romanised sh", "shibal"},
		{"byeongsin", "병신"},
		{"byeongsin variant", "븅신"},
		{"byeongsin keyboard", "qudtls"},
		{"byeongsin initials", "ㅂㅅ"},
		{"gaesaekki", "개새끼"},
		{"gaesaekki with ㅔ", "개세끼"},
		{"gaesaekki dotted", "개.새.끼"},
		{"gaesaekki keyboard", "rotoRl"},
		{"gaesaekki initials", "ㄱㅅㄲ"},
		{"jonna", "존나 웃기네"},
		{"jonna keyboard", "whssk"},
		{"jot gat", "좆같네"},
		{"jiral", "지랄하네"},
		{"slur", "한남충"},
		{"circled jamo", "㉦㉥"},
		{"halfwidth jamo", "\uffb5\uffb2"},
		{"english", "fuck"},
		{"english upper", "FUCK"},
		{"english dotted", "f.u.c.k"},
		{"english spaced", "f u c k"},
		{"english stretched", "fuuuuck"},
		{"english fullwidth", "ｆｕｃｋ"},
		{"english cyrillic s", "ѕhit"},
		{"english digit", "sh1t"},
		{"english dollar", "$hit"},
		{"english inside word", "motherfucker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !f.Contains(tt.text) {
				t.Errorf("%q: not found", tt.text)
			}
		})
	}
}

// Innocent text the default filter must leave alone, including words that read like a
// listed one once spaces, tensing or case are ignored.
func TestDefaultLeavesInnocentText(t *testing.T) {
	t.Parallel()
	f := Default()
	tests := []string{
		"시발점", "시발역에서 만나", "수박씨발라먹기", "다시발견했어", "동시발매", "출시발표회",
		"이 시 발표회", "다시 발라", "세미나", "조나단", "샹크스가 된 나", "십년 만이야", "이십세기",
		"족발이 맛있다", "장개석", "신장개업", "감염병 예방", "전염병", "화염병", "게놈 분석",
		"팔등신", "등신대 샀어", "시뻘건 노을", "옷벗어", "옷발 좋네", "병사", "십", "사범님",
		"알바", "쫒아가", "보지 마", "자지 마", "씹어 먹어", "새끼손가락", "대박", "ㅋㅋㅋㅋ", "ㅎㅎ",
		"ㅇㅇ", "ㄱㄱ", "ㅂㅂ", "퍼시발", "게임이 재밌다", "오늘 방송 재밌었어요",
		"protolib", "Roshan", "req.TLS", "src/untested.cpp", "return s[:hi+1]",
		"socks5h://127.0.0.1", "shiitake", "Scunthorpe", "cocktail", "assistant", "passion",
		"Hello world", "Harshitha", "root pool", "class", "Dickens",
	}
	for _, text := range tests {
		t.Run(text, func(t *testing.T) {
			t.Parallel()
			if m := f.Find(text); len(m) > 0 {
				t.Errorf("%q: false positive %v", text, m)
			}
		})
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	f := Default()
	tests := []struct{ in, want string }{
		{"야 시발 뭐해", "야 ** 뭐해"},
		{"시 1 발", "* * *"},
		{"fuuuck you", "****** you"},
		{"시발점에서 시발", "시발점에서 **"},
		{"ㅋㅋㅅㅂㅋㅋ", "ㅋㅋ**ㅋㅋ"},
		{"개.새.끼야", "*****야"},
		{"좋은 아침", "좋은 아침"},
	}
	for _, tt := range tests {
		got, changed := f.Mask(tt.in)
		if got != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("Mask(%q) = %q, %v; want %q", tt.in, got, changed, tt.want)
		}
	}
}

func TestFindReportsWordAndSpan(t *testing.T) {
	t.Parallel()
	text := "음 씨이발 진짜"
	ms := Default().Find(text)
	if len(ms) != 1 {
		t.Fatalf("Find(%q) = %v, want one match", text, ms)
	}
	if got := text[ms[0].Start:ms[0].End]; got != "씨이발" || ms[0].Word != "시발" {
		t.Fatalf("match %q for word %q, want 씨이발 for 시발", got, ms[0].Word)
	}
}

func TestOwnerWords(t *testing.T) {
	t.Parallel()
	base := Default()
	f, err := base.With([]string{"바보", "ㅂㅂㄱ", "noob"}, []string{"시발역"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"바보야", "바.보", "ㅂㅂㄱ", "n00b", "NOOOOB", "시발"} {
		if !f.Contains(text) {
			t.Errorf("owner filter: %q not found", text)
		}
	}
	for _, text := range []string{"시발역", "바나나"} {
		if f.Contains(text) {
			t.Errorf("owner filter: %q is a false positive", text)
		}
	}
	if base.Contains("바보") {
		t.Error("With changed the base filter")
	}
	if same, _ := base.With(nil, nil); same != base {
		t.Error("With without words should return the same filter")
	}
}

func TestCheckWord(t *testing.T) {
	t.Parallel()
	good := []string{"바보", "ㅂㅂㄱ", "noob", "n00b", "멍청이"}
	for _, w := range good {
		if err := CheckWord(w); err != nil {
			t.Errorf("CheckWord(%q): %v", w, err)
		}
	}
	bad := []string{"", "a", "ㅂ", "!!!", "바 보", "바보a", "hello world", strings.Repeat("가", MaxWordRunes+1), "漢字"}
	for _, w := range bad {
		if err := CheckWord(w); err == nil {
			t.Errorf("CheckWord(%q) accepted", w)
		}
	}
	if _, err := New([]string{"a b"}, nil); err == nil {
		t.Error("New accepted an unusable word")
	}
	if _, err := New(nil, []string{"\u200b"}); err == nil {
		t.Error("New accepted an empty allowed word")
	}
}

func TestModeValid(t *testing.T) {
	t.Parallel()
	for _, m := range []Mode{ModeOff, ModeMask, ModeBlock} {
		if !m.Valid() {
			t.Errorf("%q invalid", m)
		}
	}
	if Mode("loud").Valid() || Mode("").Valid() {
		t.Error("unknown mode valid")
	}
}

func BenchmarkFind(b *testing.B) {
	f := Default()
	text := strings.Repeat("오늘 방송 진짜 재밌었어요 ㅋㅋㅋ 다음에 또 올게요! ", 6)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		f.Find(text)
	}
}

// FuzzMask checks that any text is handled without panicking and that masking only ever
// replaces characters with * (never adds, drops or reorders anything else).
func FuzzMask(f *testing.F) {
	for _, s := range []string{"시발", "ㅅ1ㅂ", "tlqkf", "f.u.c.k", "시발점", "a\u200bb", "\xff\xfe", "㈜시발", "ﾡ", ""} {
		f.Add(s)
	}
	filter := Default()
	f.Fuzz(func(t *testing.T, text string) {
		masked, changed := filter.Mask(text)
		if !changed {
			if masked != text {
				t.Fatalf("unchanged mask altered %q to %q", text, masked)
			}
			return
		}
		in, out := []rune(text), []rune(masked)
		if len(in) != len(out) {
			t.Fatalf("mask changed length: %q -> %q", text, masked)
		}
		for i := range in {
			if out[i] != in[i] && out[i] != '*' {
				t.Fatalf("mask wrote %q at %d of %q", out[i], i, text)
			}
		}
	})
}
