package analysis

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ikawaha/kagome-dict/dict"
	"golang.org/x/text/unicode/norm"
)

var (
	testOnce     sync.Once
	testAnalyzer *Analyzer
)

// ready returns the package's test analyzer once its dictionary is loaded.
func ready(t testing.TB) *Analyzer {
	t.Helper()
	testOnce.Do(func() { testAnalyzer = New(Options{}) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := testAnalyzer.Wait(ctx); err != nil {
		t.Fatalf("analyzer: %v", err)
	}
	return testAnalyzer
}

func termsString(terms []Term) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Text)
		if len(t.Parts) > 0 {
			b.WriteString("(" + strings.Join(t.Parts, "+") + ")")
		}
	}
	return b.String()
}

func TestTerms(t *testing.T) {
	t.Parallel()
	a := ready(t)
	cases := []struct {
		name, in, want string
	}{
		{"compound noun whole and decompounded", "개발자", "개발자(개발+자)"},
		{"name with copula", "홍길동입니다", "홍길동(홍+길동)"},
		{"particles dropped", "방송에서 친구를", "방송 친구"},
		{"verb and adjective stems", "먹었습니다 예쁜 하늘", "먹 예쁘 하늘"},
		{"game title kept whole", "발로란트 하는 중", "발로란트 하 중"},
		{"user word with parts", "로스트아크 댕초보", "로스트아크(로스트+아크) 초보"},
		{"user word glued to a noun", "발로란트신입", "발로란트 신입"},
		{"slang from tags", "버튜버스트리머 저챗 하꼬", "버튜버 스트리머 저챗 하꼬"},
		{"bad split fixed: 배그", "배그 솔로", "배그 솔로"},
		{"game with number", "오버워치2", "오버워치(오버+워치) 2"},
		{"known short title", "로아숙제", "로아 숙제"},
		{"Latin lower-cased and split", "LOST ARK / Black-Desert", "lost ark black desert"},
		{"letters and digits", "Diablo2 PS5", "diablo2(diablo+2) ps5(ps+5)"},
		{"script change splits", "TFT롤체 청각ASMR", "tft 롤체 청각 asmr"},
		{"full-width Latin folded", "ｖｔｕｂｅｒ", "vtuber"},
		{"emoji only", "😀🎮💜✨", ""},
		{"jamo chat noise", "ㅋㅋㅋ ㅠㅠ ㄱㄱ", ""},
		{"emoji around words", "💜비 오는 날💜", "비 오 날"},
		{"han and kana kept whole", "日本語 イラスト", "日本語 イラスト"},
		{"accented Latin", "Café", "café"},
		{"empty", "", ""},
		{"only punctuation", `"*:-()^~`, ""},
		{"operators are words, syntax is gone", `"롤" OR 배그* NEAR(a b) -로아 title:x`, "롤 or 배그 near a b 로아 title x"},
		{"numbers", "2024년 3판 15연승", "2024 년 3 판 15 연승"},
		{"sound and shape words kept", "두근두근 첫방송 나긋나긋한 소곤소곤", "두근두근 방송 나긋나긋 소곤소곤"},
		{"ordinary adverbs and laughter dropped", "진짜 그냥 하하하하 같이", ""},
		{"slang and games from tags", "아싸 오목 데헌 댕냥이 꽁냥꽁냥", "아싸 오목 데헌 댕냥이 꽁냥꽁냥"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := termsString(a.TermsNow(c.in))
			if got != c.want {
				t.Errorf("Terms(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestNormalisationMakesFormsEqual(t *testing.T) {
	t.Parallel()
	a := ready(t)
	nfc := "한국어 방송 Vtuber"
	for _, in := range []string{
		norm.NFD.String(nfc),
		"한국어  방송\tＶｔｕｂｅｒ",
		"ﾠ한국어 방송 VTUBER", // half-width filler
	} {
		if got, want := termsString(a.TermsNow(in)), termsString(a.TermsNow(nfc)); got != want {
			t.Errorf("Terms(%q) = %q, want %q (as for %q)", in, got, want, nfc)
		}
	}
}

func TestIndexTokensAddSynonyms(t *testing.T) {
	t.Parallel()
	a := ready(t)
	ctx := context.Background()
	cases := []struct {
		in   string
		want []string
	}{
		{"롤", []string{"롤", "리그오브레전드", "lol"}},
		{"리그오브레전드", []string{"리그오브레전드", "리그", "레전드", "롤", "lol"}},
		{"LoL 내전", []string{"lol", "롤", "리그오브레전드", "내전"}},
		{"로아", []string{"로아", "로스트아크", "lostark"}},
		{"로스트아크", []string{"로스트아크", "로스트", "아크", "로아"}},
		{"배그", []string{"배그", "배틀그라운드", "pubg"}},
		{"브이튜버", []string{"브이튜버", "버튜버", "vtuber"}},
		{"Vtuber", []string{"vtuber", "버튜버", "브이튜버"}},
	}
	for _, c := range cases {
		got, err := a.IndexTokens(ctx, c.in)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("IndexTokens(%q) = %v, missing %q", c.in, got, w)
			}
		}
	}
	// Synonyms of 롤 do not leak into unrelated words that merely start with it.
	got, _ := a.IndexTokens(ctx, "롤러코스터")
	if slices.Contains(got, "lol") || slices.Contains(got, "롤") {
		t.Errorf("IndexTokens(롤러코스터) = %v: must not hold 롤/lol", got)
	}
}

// validToken is what the index stores and queries quote: non-empty, NFC, and made only of
// letters, digits and syllables — nothing a query language could read as syntax.
func validToken(tok string) bool {
	if tok == "" || !utf8.ValidString(tok) || !norm.NFC.IsNormalString(tok) {
		return false
	}
	for _, r := range tok {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return true
}

func TestLongAndHostileInput(t *testing.T) {
	t.Parallel()
	a := ready(t)
	long := strings.Repeat("[V/신입] 발로란트 랭크🎮 \"OR\" * NEAR -로아: ", 20)
	if n := utf8.RuneCountInString(long); n < 500 {
		t.Fatalf("test input has %d runes, want ≥ 500", n)
	}
	for _, in := range []string{long, strings.Repeat("가", 5000), strings.Repeat("a", 5000), "\x00\xff\xfe", "\u200b\u200d\ufe0f"} {
		toks := a.indexTokens(in)
		for _, tok := range toks {
			if utf8.RuneCountInString(tok) > MaxTermRunes {
				t.Fatalf("token of %d runes, want ≤ %d", utf8.RuneCountInString(tok), MaxTermRunes)
			}
			if !validToken(tok) {
				t.Fatalf("IndexTokens(%.40q…) produced invalid token %q", in, tok)
			}
		}
	}
	got := a.TermsNow(long)
	if len(got) < 100 || got[0].Text != "v" {
		t.Errorf("long input: %d terms starting %v", len(got), got[:min(3, len(got))])
	}
}

func TestUserDictionaryWordsStayWhole(t *testing.T) {
	t.Parallel()
	a := ready(t)
	words, err := parseUserDict(userDictData)
	if err != nil {
		t.Fatal(err)
	}
	if len(words) < 50 {
		t.Fatalf("user dictionary has %d words", len(words))
	}
	for _, w := range words {
		got := a.TermsNow(w.word)
		if len(got) != 1 || got[0].Text != w.word || !slices.Equal(got[0].Parts, w.parts) {
			t.Errorf("Terms(%q) = %s, want the word whole with parts %v", w.word, termsString(got), w.parts)
		}
	}
}

func TestParseUserDictRejectsBadLines(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"두 단어",
		"로스트아크 = 로스트",     // one part
		"Upper",           // not normalised
		"발로란트\n발로란트",      // duplicate
		"쉼표,단어",           // kagome's separator
		"로스트아크 = 로스트 ARK", // part not normalised
	} {
		if _, err := parseUserDict(bad); err == nil {
			t.Errorf("parseUserDict(%q): want an error", bad)
		}
	}
	if _, err := parseSynonyms("롤 리그오브레전드\n롤 lol"); err == nil {
		t.Error("a word in two synonym groups: want an error")
	}
	if _, err := parseSynonyms("롤"); err == nil {
		t.Error("a one-word synonym group: want an error")
	}
}

func TestWaitsForDictionary(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	a := New(Options{Hold: release})
	select {
	case <-a.Ready():
		t.Fatal("ready before the dictionary loaded")
	default:
	}
	if _, ok := a.TryIndexTokens("발로란트"); ok {
		t.Error("TryIndexTokens succeeded before the dictionary loaded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Terms(ctx, "발로란트"); !errors.Is(err, context.Canceled) {
		t.Errorf("Terms with a cancelled context before ready: err = %v, want context.Canceled", err)
	}
	if a.LoadDuration() != 0 {
		t.Error("LoadDuration before ready is not 0")
	}
	close(release)
	toks, err := a.IndexTokens(context.Background(), "발로란트")
	if err != nil || !slices.Contains(toks, "발로란트") {
		t.Fatalf("after load: %v, %v", toks, err)
	}
	if toks, ok := a.TryIndexTokens("발로란트"); !ok || !slices.Contains(toks, "valorant") {
		t.Errorf("TryIndexTokens after load = %v, %v", toks, ok)
	}
}

func TestLoadFailureIsReported(t *testing.T) {
	t.Parallel()
	a := newAnalyzer(Options{}, func() (*dict.Dict, error) { return nil, errors.New("disk on fire") })
	if err := a.Wait(context.Background()); !errors.Is(err, ErrLoad) {
		t.Fatalf("Wait = %v, want ErrLoad", err)
	}
	if _, ok := a.TryIndexTokens("x"); ok {
		t.Error("TryIndexTokens succeeded after a failed load")
	}
}

// TestDictionaryLoadCost logs what loading costs, for the record; it asserts only that the
// analyzer came up.
func TestDictionaryLoadCost(t *testing.T) {
	a := ready(t)
	t.Logf("dictionary load took %v", a.LoadDuration())
}

func FuzzIndexTokens(f *testing.F) {
	for _, s := range []string{"개발자", "홍길동입니다", `"롤" OR 배그* NEAR(a b)`, "😀", "Diablo2", "ｖtuber", "\xff", "ㄹㅅㅌㅇㅋ"} {
		f.Add(s)
	}
	a := ready(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range a.indexTokens(s) {
			if !validToken(tok) {
				t.Fatalf("IndexTokens(%q) produced invalid token %q", s, tok)
			}
		}
	})
}
