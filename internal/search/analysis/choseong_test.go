package analysis

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

func TestChoseong(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"로스트아크":       "ㄹㅅㅌㅇㅋ",
		"배그 솔로":       "ㅂㄱ ㅅㄹ",
		"리그 오브 레전드":   "ㄹㄱ ㅇㅂ ㄹㅈㄷ",
		"LOL 롤":       "lol ㄹ",
		"ㄹㅇ 진짜":       "ㄹㅇ ㅈㅉ",
		"":            "",
		"까치 빵 쌀 짜장 따": "ㄲㅊ ㅃ ㅆ ㅉㅈ ㄸ",
	}
	for in, want := range cases {
		if got := Choseong(in); got != want {
			t.Errorf("Choseong(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ChoseongKey("[V] 로스트 아크!"); got != "vㄹㅅㅌㅇㅋ" {
		t.Errorf("ChoseongKey = %q", got)
	}
	if got := Key("[V] 로스트 아크! 😀"); got != "v로스트아크" {
		t.Errorf("Key = %q", got)
	}
}

func TestMatchPrefix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text, query string
		want        bool
	}{
		{"로스트아크", "ㄹㅅㅌㅇㅋ", true},
		{"로스트아크", "ㄹㅅㅌ", true},
		{"로스트아크", "로ㅅㅌ", true},
		{"로스트아크", "ㄹ스트", true},
		{"로스트아크", "로스트아크", true},
		{"로스트아크", "ㅇㅋ", false}, // prefixes only; word starts are separate keys
		{"배그솔로", "ㅂㄱ", true},
		{"배틀그라운드", "ㅂㄱ", false},
		{"롤체", "로", true}, // 로 is 롤 being typed
		{"롤체", "롤", true},
		{"로스트아크", "롯", true},  // 롯 is 로 + ㅅ being typed
		{"로스트아크", "로슽", true}, // 슽 is 스 + ㅌ being typed
		{"롯데", "롯", true},
		{"로아", "롯", false},
		{"달구지", "닭", true}, // ㄺ splits into ㄹ + ㄱ
		{"달나라", "닭", false},
		{"롤", "롤체", false},
		{"롤", "", true},
		{"", "ㄹ", false},
		{"lostark", "lost", true},
		{"lostark", "ark", false},
		{"ㄹㅇ", "ㄹ", true},
	}
	for _, c := range cases {
		if got := MatchPrefix(c.text, c.query); got != c.want {
			t.Errorf("MatchPrefix(%q, %q) = %v, want %v", c.text, c.query, got, c.want)
		}
	}
}

// inRanges reports whether key lies in one of ranges.
func inRanges(key string, ranges []KeyRange) bool {
	for _, r := range ranges {
		if key >= r.Lo && key < r.Hi {
			return true
		}
	}
	return false
}

var rangeTestKeys = []string{
	"로", "로스트아크", "로아", "롤", "롤체", "롯데", "롬", "뢰", "리그오브레전드", "lol", "lostark",
	"달구지", "달", "닭", "닭갈비", "다크앤다커", "배그", "배틀그라운드", "버튜버", "ㄹㅇ", "z", "가", "힣",
}

// TestKeyRangesCoverEveryMatch checks the index contract: a key that MatchPrefix accepts
// always lies in the ranges an index looks up.
func TestKeyRangesCoverEveryMatch(t *testing.T) {
	t.Parallel()
	keys := slices.Clone(rangeTestKeys)
	sort.Strings(keys)
	for _, q := range []string{"로", "롤", "롯", "로스", "로슽", "닭", "다", "l", "lo", "배", "ㄹ", "ㄹㅇ", "로ㅅ", "ㅂㄱ", "힣", "가"} {
		var ranges []KeyRange
		if HasJamo(q) {
			ranges = []KeyRange{ChoseongKeyRange(q)}
		} else {
			ranges = TextKeyRanges(q)
		}
		for _, k := range keys {
			if !MatchPrefix(k, q) {
				continue
			}
			indexed := k
			if HasJamo(q) {
				indexed = Choseong(k)
			}
			if !inRanges(indexed, ranges) {
				t.Errorf("query %q matches %q but the ranges %q miss it", q, k, ranges)
			}
		}
	}
}

func FuzzMatchPrefix(f *testing.F) {
	for _, k := range rangeTestKeys {
		f.Add(k, "로")
	}
	f.Add("로스트아크", "ㄹㅅ")
	f.Add("달구지", "닭")
	f.Fuzz(func(t *testing.T, text, query string) {
		text, query = Key(text), Key(query)
		if query == "" || !MatchPrefix(text, query) {
			return
		}
		if HasJamo(query) {
			if r := ChoseongKeyRange(query); !inRanges(Choseong(text), []KeyRange{r}) {
				t.Fatalf("%q matches %q but choseong range %q misses %q", query, text, r, Choseong(text))
			}
			return
		}
		if r := TextKeyRanges(query); !inRanges(text, r) {
			t.Fatalf("%q matches %q but ranges %q miss it", query, text, r)
		}
	})
}

func FuzzNormalizeFastPath(f *testing.F) {
	for _, s := range []string{"로스트아크", "lol 롤", "LoL", "ｖtuber", "ㄹㅅㅌ", "e\u0301", "한\u1100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if alreadyNormal(s) {
			if full := strings.ToLower(norm.NFC.String(width.Fold.String(s))); full != s {
				t.Fatalf("fast path keeps %q, the full path gives %q", s, full)
			}
		}
	})
}
