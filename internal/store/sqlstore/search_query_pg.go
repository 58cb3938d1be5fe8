package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/freelylive/freely/internal/search"
)

// PostgreSQL candidates. The GIN indexes tell which documents hold a word but not which are
// the newest fifty: a word held by a few thousand documents meant fetching all of them
// (bitmap scan) or walking the section newest first and testing thousands of rows. Instead
// a search walks the postings of one word (search_postings, 0304) newest first, from the
// index alone, and tests each document it reaches against the whole query; the walk stops
// at the window, however common the word.
//
// The word walked is the rarest one every match must hold (a word without alternatives, a
// category marker). When every term is a compound, which may match whole or by its parts,
// no single word is required; each alternative then needs its own rarest word, and the
// union of their walks holds every match: the newest limit documents of the union are the
// answer, as each of them is among the newest limit of a walk that reaches it.
//
// The windows of every section come in one statement, a branch per walk, prepared once per
// shape (walks and probes): its plan is the same whatever the words, so PostgreSQL keeps one
// generic plan (backward index-only scans joined to search_docs by key) instead of planning
// every search, which would cost more than running it.
//
// Other words every match must hold are tested in the postings first (an index probe per
// document walked), so documents that lack them are passed over without reading their rows
// (two popular tags rarely used together walk thousands of postings). The probe is a
// scalar subquery, not EXISTS, so that a generic plan cannot turn it into a hash join over
// every posting of the word.
const postgresBranch = `(SELECT %d, d.id, d.channel_id, d.live, d.viewers, d.tok_name, d.tok_tags, d.tok_body, d.tok_channel
	FROM search_postings AS p
	JOIN search_docs AS d ON d.id = p.doc_id
	WHERE p.section = $%d AND p.token = $%d AND p.doc_id < $%d%s
		AND d.vec @@ $%d::tsquery AND NOT d.hidden
	ORDER BY p.doc_id DESC LIMIT $%d)`

const postgresProbe = `
		AND (SELECT 1 FROM search_postings AS q WHERE q.section = p.section AND q.token = $%d AND q.doc_id = p.doc_id LIMIT 1) = 1`

// pgWalk is one branch of the statement: a walk of one word's postings in one section.
type pgWalk struct {
	match  int // index of the match
	sec    string
	token  string
	probes []string // other words every match holds
	bound  int64    // exclusive upper document ID
	expr   string   // the match's tsquery
	limit  int
}

// postgresWalks returns the statement of walks, one branch each, and its arguments: what
// fetches the windows of every section of a search in one round trip. The statement
// depends only on how many walks and probes there are, so it is prepared once per shape.
func postgresWalks(walks []pgWalk) (key, q string, args []any) {
	var b strings.Builder
	var k strings.Builder
	k.WriteString("pg/walks")
	for i, w := range walks {
		if i > 0 {
			b.WriteString("\nUNION ALL\n")
		}
		fmt.Fprintf(&k, "/%d", len(w.probes))
		first := len(args) + 1
		args = append(args, w.sec, w.token, w.bound)
		var probes strings.Builder
		for _, tok := range w.probes {
			args = append(args, tok)
			fmt.Fprintf(&probes, postgresProbe, len(args))
		}
		args = append(args, w.expr, w.limit)
		fmt.Fprintf(&b, postgresBranch, i, first, first+1, first+2, probes.String(), len(args)-1, len(args))
	}
	return k.String(), b.String(), args
}

// postgresBatch implements CandidatesBatch on PostgreSQL: every walk of every match in one
// statement.
func (ix *SearchIndex) postgresBatch(ctx context.Context, ms []search.Match, limit int) ([][]search.Candidate, error) {
	var (
		walks   []pgWalk
		walksOf = make([]int, len(ms))
	)
	for i, m := range ms {
		groups, err := matchTerms(m)
		if err != nil {
			return nil, err
		}
		sec := sectionName(m.Section)
		toks, err := ix.walkTokens(ctx, sec, groups)
		if err != nil {
			return nil, fmt.Errorf("search candidates: %w", err)
		}
		required := requiredTokens(groups)
		expr := ix.matchExpr(groups)
		for _, tok := range toks {
			w := pgWalk{match: i, sec: sec, token: tok, bound: upperID(m.BeforeID), expr: expr, limit: limit}
			for _, r := range required {
				if r != tok {
					w.probes = append(w.probes, r)
				}
			}
			walks = append(walks, w)
		}
		walksOf[i] = len(toks)
	}
	key, q, args := postgresWalks(walks)
	st, err := ix.prepared(ctx, key, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("search candidates: %w", Translate(err))
	}
	out := make([][]search.Candidate, len(ms))
	counters := make([]*search.Counter, len(ms))
	for i, m := range ms {
		counters[i] = search.NewCounter(m)
		out[i] = make([]search.Candidate, 0, limit*walksOf[i])
	}
	err = scanBranches(rows, func(branch int) (*search.Counter, *[]search.Candidate, bool) {
		if branch < 0 || branch >= len(walks) {
			return nil, nil, false
		}
		i := walks[branch].match
		return counters[i], &out[i], true
	})
	if err != nil {
		return nil, fmt.Errorf("search candidates: %w", err)
	}
	for i := range out {
		if walksOf[i] > 1 {
			// Newest first without repeats (a document can hold the words of two walks).
			slices.SortFunc(out[i], func(a, b search.Candidate) int { return cmp.Compare(b.DocID, a.DocID) })
			out[i] = slices.CompactFunc(out[i], func(a, b search.Candidate) bool { return a.DocID == b.DocID })
			out[i] = out[i][:min(len(out[i]), limit)]
		}
	}
	return out, nil
}

// upperID is the exclusive upper bound of document IDs for beforeID (0: none).
func upperID(beforeID int64) int64 {
	if beforeID <= 0 {
		return math.MaxInt64
	}
	return beforeID
}

// walkTokens returns the words whose postings hold every match of groups in section sec:
// the rarest required word, or, when all terms are compounds, the rarest word of each
// alternative of the term whose walks are shortest.
func (ix *SearchIndex) walkTokens(ctx context.Context, sec string, groups []search.Group) ([]string, error) {
	if len(groups) == 1 && len(groups[0]) == 1 && len(groups[0][0]) == 1 {
		return groups[0][0], nil // nothing to choose from
	}
	var best []string
	bestCost := -1
	for _, g := range groups {
		var walks []string
		cost := 0
		for _, alt := range g {
			tok, n, err := ix.rarest(ctx, sec, alt)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(walks, tok) {
				walks = append(walks, tok)
				cost += n + walkOverhead
			}
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = walks, cost
		}
	}
	return best, nil
}

// walkOverhead is what a walk costs beyond its postings, in postings: a statement of its own.
const walkOverhead = 200

// rarest returns the token of toks held by the fewest documents of sec, and how many.
func (ix *SearchIndex) rarest(ctx context.Context, sec string, toks []string) (string, int, error) {
	best, bestN := "", -1
	for _, tok := range toks {
		n, err := ix.sectionFreq(ctx, sec, tok)
		if err != nil {
			return "", 0, err
		}
		if bestN < 0 || n < bestN {
			best, bestN = tok, n
		}
	}
	return best, bestN, nil
}

// Section frequencies only choose which word to walk, so they are counted up to a cap (a
// word held by more documents is common whatever the number) and kept for a while.
const (
	sectionFreqCap = 5000
	sectionFreqTTL = 5 * time.Minute
	sectionFreqMax = 50_000
)

type sectionFreq struct {
	n  int
	at time.Time
}

// sectionFreq returns how many documents of sec hold tok, up to sectionFreqCap.
func (ix *SearchIndex) sectionFreq(ctx context.Context, sec, tok string) (int, error) {
	key := sec + "\x00" + tok
	now := time.Now()
	ix.freqMu.Lock()
	e, ok := ix.freqs[key]
	ix.freqMu.Unlock()
	if ok && now.Sub(e.at) < sectionFreqTTL {
		return e.n, nil
	}
	var n int
	err := ix.db.sql.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM search_postings
		WHERE section = $1 AND token = $2 LIMIT $3) AS p`, sec, tok, sectionFreqCap).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("frequency of %q: %w", tok, Translate(err))
	}
	ix.freqMu.Lock()
	if ix.freqs == nil || len(ix.freqs) >= sectionFreqMax {
		ix.freqs = map[string]sectionFreq{}
	}
	ix.freqs[key] = sectionFreq{n: n, at: now}
	ix.freqMu.Unlock()
	return n, nil
}

// prepared returns the statement of key, preparing q once (database/sql then prepares it
// on each connection that runs it).
func (ix *SearchIndex) prepared(ctx context.Context, key, q string) (*sql.Stmt, error) {
	ix.stmtMu.Lock()
	defer ix.stmtMu.Unlock()
	if st, ok := ix.stmts[key]; ok {
		return st, nil
	}
	st, err := ix.db.sql.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare search query: %w", Translate(err))
	}
	if ix.stmts == nil {
		ix.stmts = map[string]*sql.Stmt{}
	}
	ix.stmts[key] = st
	return st, nil
}

// requiredTokens returns the tokens every document matching groups holds: those of groups
// with a single alternative (a compound may match whole or by its parts, so neither of
// those is required).
func requiredTokens(groups []search.Group) []string {
	var out []string
	for _, g := range groups {
		if len(g) == 1 {
			for _, tok := range g[0] {
				if !slices.Contains(out, tok) {
					out = append(out, tok)
				}
			}
		}
	}
	return out
}
