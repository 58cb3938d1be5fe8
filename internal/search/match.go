package search

import (
	"slices"
	"strings"

	"github.com/freelylive/freely/internal/search/analysis"
)

// Match is what a store looks up: documents of one section (and category, when CategoryID
// is not 0) that hold every group. No group means every document of the section. Stores must
// treat tokens as literal words — quoted, never parsed as query syntax — whatever they hold.
type Match struct {
	Section    Section
	CategoryID int64
	Groups     []Group
	// BeforeID, when not 0, restricts the match to documents with smaller IDs (older ones):
	// how paging reaches past the first window.
	BeforeID int64
}

// Group is one query term: it matches a document holding any of its alternatives, and an
// alternative matches when the document holds all of its tokens. A compound gives two
// alternatives, the whole word and its parts: 개발자 matches "개발자" or "개발"+"자".
type Group [][]string

// groupsOf turns analysed query terms into groups, dropping repeated terms.
func groupsOf(terms []analysis.Term) []Group {
	var groups []Group
	seen := map[string]bool{}
	for _, t := range terms {
		key := t.Text + "\x00" + strings.Join(t.Parts, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		g := Group{{t.Text}}
		if len(t.Parts) > 1 && !slices.Contains(t.Parts, t.Text) {
			g = append(g, slices.Clone(t.Parts))
		}
		groups = append(groups, g)
	}
	return groups
}

// Tokens returns every distinct token of the match's groups.
func (m *Match) Tokens() []string {
	var out []string
	for _, g := range m.Groups {
		for _, alt := range g {
			for _, tok := range alt {
				if !slices.Contains(out, tok) {
					out = append(out, tok)
				}
			}
		}
	}
	return out
}
