package analysis

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"

	"github.com/ikawaha/kagome-dict/dict"
)

// The user dictionary and the synonym table ship inside the binary, so every node analyses
// text the same way; changing either changes the index, so `freely reindex` must follow.
var (
	//go:embed data/userdict.txt
	userDictData string
	//go:embed data/synonyms.txt
	synonymData string
)

// userWord is one user-dictionary entry: a word kept whole and the parts it decompounds into
// (nil when it is indexed only whole).
type userWord struct {
	word  string
	parts []string
}

// parseUserDict reads the "word" / "word = part part …" format of data/userdict.txt.
func parseUserDict(data string) ([]userWord, error) {
	var out []userWord
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, hasParts := strings.Cut(line, "=")
		word = strings.TrimSpace(word)
		w := userWord{word: word}
		if hasParts {
			w.parts = strings.Fields(rest)
			if len(w.parts) < 2 {
				return nil, fmt.Errorf("user dictionary line %d: %q: a word with parts needs at least two", n, line)
			}
		}
		if word == "" || strings.ContainsAny(word, " \t,") || Normalize(word) != word {
			return nil, fmt.Errorf("user dictionary line %d: %q: want one normalised word", n, line)
		}
		for _, p := range w.parts {
			if strings.Contains(p, ",") || Normalize(p) != p {
				return nil, fmt.Errorf("user dictionary line %d: part %q is not normalised", n, p)
			}
		}
		if seen[word] {
			return nil, fmt.Errorf("user dictionary line %d: %q listed twice", n, word)
		}
		seen[word] = true
		out = append(out, w)
	}
	return out, sc.Err()
}

// kagomeUserDict builds kagome's user dictionary. Parts travel as the entry's token list and
// come back through Token.UserExtra.
func kagomeUserDict(words []userWord) (*dict.UserDict, error) {
	recs := make(dict.UserDictRecords, 0, len(words))
	for _, w := range words {
		toks := w.parts
		if toks == nil {
			toks = []string{w.word}
		}
		recs = append(recs, dict.UserDicRecord{Text: w.word, Tokens: toks, Yomi: toks, Pos: posUser})
	}
	ud, err := recs.NewUserDict()
	if err != nil {
		return nil, fmt.Errorf("build user dictionary: %w", err)
	}
	return ud, nil
}

// parseSynonyms reads data/synonyms.txt: one group of equivalent words per line.
func parseSynonyms(data string) ([][]string, error) {
	var groups [][]string
	inGroup := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words := strings.Fields(line)
		if len(words) < 2 {
			return nil, fmt.Errorf("synonyms line %d: %q: a group needs two words or more", n, line)
		}
		for _, w := range words {
			if Normalize(w) != w {
				return nil, fmt.Errorf("synonyms line %d: %q is not normalised", n, w)
			}
			if other, dup := inGroup[w]; dup {
				return nil, fmt.Errorf("synonyms line %d: %q is already in the group on line %d", n, w, other)
			}
			inGroup[w] = n
		}
		groups = append(groups, words)
	}
	return groups, sc.Err()
}
