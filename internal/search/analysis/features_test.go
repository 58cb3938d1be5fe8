package analysis

import (
	"testing"

	"github.com/ikawaha/kagome-dict/dict"
)

// TestCompactFeaturesKeepsWhatAnalysisReads builds a small dictionary in mecab-ko-dic's
// layout (one part of speech, then seven columns: type at feature 4, expression at 7) and
// checks every entry reads back as it was written, and that the dictionary's own copy is
// released once.
func TestCompactFeaturesKeepsWhatAnalysisReads(t *testing.T) {
	t.Parallel()
	d := &dict.Dict{
		POSTable: dict.POSTable{
			NameList: []string{"NNG", "VV+EP", "NNP"},
			POSs:     []dict.POS{{0}, {1}, {}, {2}},
		},
		Contents: [][]string{
			{"*", "T", "개발자", "Compound", "*", "*", "개발/NNG/*+자/NNG/*"},
			{"*", "F", "갔", "Inflect", "VV", "EP", "가/VV/*+았/EP/*"},
			{"*", "*", "*", "*"}, // short row, no part of speech
			{"인명", "T", "홍길동", "*", "*", "*", "*"},
		},
	}
	f, err := compactFeatures(d)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range []struct {
		pos  string
		kind entryKind
		expr string
	}{
		{"NNG", kindCompound, "개발/NNG/*+자/NNG/*"},
		{"VV+EP", kindInflect, "가/VV/*+았/EP/*"},
		{"", kindPlain, ""},
		{"NNP", kindPlain, ""},
	} {
		pos, kind, expr := f.entry(id)
		if pos != want.pos || kind != want.kind || expr != want.expr {
			t.Errorf("entry %d = %q, %v, %q; want %q, %v, %q", id, pos, kind, expr, want.pos, want.kind, want.expr)
		}
	}
	if pos, _, _ := f.entry(99); pos != "" {
		t.Errorf("entry out of range = %q", pos)
	}
	if d.Contents != nil || d.POSTable.POSs != nil {
		t.Error("the dictionary still holds its own features")
	}
	again, err := compactFeatures(d)
	if err != nil || again != f {
		t.Errorf("a second call with the shared dictionary = %p, %v; want the first result %p", again, err, f)
	}
}

// TestAnalyzerReleasesDictionaryFeatures checks the loaded analyzer runs on the compact
// features (the dictionary's own are gone) and still analyses compounds and inflections.
func TestAnalyzerReleasesDictionaryFeatures(t *testing.T) {
	t.Parallel()
	a := ready(t)
	if a.features == nil || len(a.features.pos) < 800_000 {
		t.Fatalf("compact features missing or short: %v", a.features != nil)
	}
	d, err := loadKoreanDict()
	if err != nil {
		t.Fatal(err)
	}
	if d.Contents != nil {
		t.Error("the shared dictionary still holds its feature strings")
	}
	got := a.terms("개발자가 먹었습니다")
	if len(got) != 2 || got[0].Text != "개발자" || len(got[0].Parts) != 2 || got[1].Text != "먹" {
		t.Errorf("terms = %+v", got)
	}
}
