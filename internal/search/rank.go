package search

import (
	"cmp"
	"math"
	"slices"
)

// Candidate is a matching document as a store returns it for ranking: only what scoring
// and tie-breaking need (Service.Search loads what cards show for the page it keeps).
type Candidate struct {
	DocID     int64 // index row ID; larger is newer
	ChannelID int64
	Live      bool
	Viewers   int
	// Len is the number of tokens of each field; Freq how often each token of the match
	// occurs in each field, Freq[t*NumFields+f] for the t-th of Match.Tokens. A store fills
	// both with a Counter.
	Len   [NumFields]int
	Freq  []int32
	Score float64 // set by ranking
}

// fieldWeights make a word in the title count for more than the same word in the tags, the
// channel name or the body.
var fieldWeights = [NumFields]float64{FieldName: 5, FieldTags: 2, FieldChannel: 1.5, FieldBody: 1}

// BM25 parameters (the usual ones).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// relevanceBand is the ratio within which two scores count as equally relevant, so that
// viewers and recency decide between them instead of a token of title length.
const relevanceBand = 1.10

// scorer computes BM25F scores of candidates for one query.
type scorer struct {
	groups [][][]int // per group, per alternative: the tokens' positions in Match.Tokens
	idf    []float64 // per group
	avgLen [NumFields]float64
}

// newScorer prepares scoring of cands for groups. df holds document frequencies of tokens
// and total the number of documents; a group's IDF is that of its first alternative (the
// whole word). Average field lengths come from the candidates themselves.
func newScorer(groups []Group, cands []Candidate, df map[string]int, total int) *scorer {
	s := &scorer{groups: tokenPositions(groups), idf: make([]float64, len(groups))}
	for i, g := range groups {
		n := float64(df[g[0][0]])
		if total <= 0 {
			s.idf[i] = 1
			continue
		}
		s.idf[i] = math.Log(1 + (float64(total)-n+0.5)/(n+0.5))
	}
	if len(cands) > 0 {
		for f := range NumFields {
			sum := 0
			for i := range cands {
				sum += cands[i].Len[f]
			}
			s.avgLen[f] = max(1, float64(sum)/float64(len(cands)))
		}
	}
	return s
}

// tokenPositions maps each token of groups to its position in Match.Tokens.
func tokenPositions(groups []Group) [][][]int {
	m := Match{Groups: groups}
	tokens := m.Tokens()
	out := make([][][]int, len(groups))
	for i, g := range groups {
		out[i] = make([][]int, len(g))
		for j, alt := range g {
			out[i][j] = make([]int, len(alt))
			for k, tok := range alt {
				out[i][j][k] = slices.Index(tokens, tok)
			}
		}
	}
	return out
}

// score is Σ over groups of idf · tf'/(k1+tf'), where tf' sums the group's per-field
// frequency weighted by field and normalised by field length (BM25F).
func (s *scorer) score(c *Candidate) float64 {
	if c.Freq == nil {
		return 0
	}
	total := 0.0
	for i, g := range s.groups {
		tf := 0.0
		for f := range NumFields {
			n := groupFreq(g, c.Freq, f)
			if n == 0 {
				continue
			}
			norm := 1 - bm25B + bm25B*float64(c.Len[f])/s.avgLen[f]
			tf += fieldWeights[f] * float64(n) / norm
		}
		total += s.idf[i] * tf / (bm25K1 + tf)
	}
	return total
}

// groupFreq counts how often a group occurs in field f: the best of its alternatives, an
// alternative counting as often as its rarest token.
func groupFreq(g [][]int, freq []int32, f Field) int {
	best := 0
	for _, alt := range g {
		n := math.MaxInt
		for _, t := range alt {
			n = min(n, int(freq[t*int(NumFields)+int(f)]))
		}
		best = max(best, n)
	}
	return best
}

// band maps a score to its relevance band; scores in one band tie.
func band(score float64) int {
	if score <= 0 {
		return math.MinInt
	}
	return int(math.Floor(math.Log(score) / math.Log(relevanceBand)))
}

// rank scores cands and sorts them best first: relevance band, then live before not (for
// channels), then viewers, then the newest document (sessions and channels are indexed when
// they start or are created, so the newest row is the most recent).
func rank(s *scorer, cands []Candidate) {
	type key struct {
		band    int
		live    bool
		viewers int
		doc     int64
	}
	keys := make([]key, len(cands))
	order := make([]int, len(cands))
	for i := range cands {
		if s != nil && len(s.groups) > 0 {
			cands[i].Score = s.score(&cands[i])
		}
		keys[i] = key{band(cands[i].Score), cands[i].Live, cands[i].Viewers, cands[i].DocID}
		order[i] = i
	}
	// Sort positions, not candidates, which are larger than their keys.
	slices.SortFunc(order, func(x, y int) int {
		a, b := keys[x], keys[y]
		if c := cmp.Compare(b.band, a.band); c != 0 {
			return c
		}
		if a.live != b.live { // live channels first among equals
			if a.live {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.viewers, a.viewers); c != 0 {
			return c
		}
		return cmp.Compare(b.doc, a.doc) // the newest
	})
	sorted := make([]Candidate, len(cands))
	for i, j := range order {
		sorted[i] = cands[j]
	}
	copy(cands, sorted)
}
