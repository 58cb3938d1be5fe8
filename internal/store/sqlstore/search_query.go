package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/search"
)

// A query never reaches the database as user text: search.Match holds analysed tokens, each
// is checked to be letters and digits only and then quoted as a literal word of the
// backend's query language (FTS5 string, tsquery lexeme); the operators between them are
// written here. The whole expression then travels as a bound value.

// checkToken rejects anything but letters and digits (and the private-use marker prefix).
func checkToken(tok string) error {
	if tok == "" {
		return fmt.Errorf("%w: empty", errBadToken)
	}
	for _, r := range strings.TrimPrefix(tok, markerPrefix) {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return fmt.Errorf("%w: %q", errBadToken, tok)
		}
	}
	return nil
}

// matchTerms returns the groups of m with its category marker, after checking every token.
func matchTerms(m search.Match) ([]search.Group, error) {
	var groups []search.Group
	if m.CategoryID != 0 {
		groups = append(groups, search.Group{{categoryMarker(m.CategoryID)}})
	}
	for _, g := range m.Groups {
		if len(g) == 0 {
			return nil, fmt.Errorf("%w: empty group", errBadToken)
		}
		for _, alt := range g {
			if len(alt) == 0 {
				return nil, fmt.Errorf("%w: empty alternative", errBadToken)
			}
			for _, tok := range alt {
				if err := checkToken(tok); err != nil {
					return nil, err
				}
			}
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("%w: a match needs a word or a category", errBadToken)
	}
	return groups, nil
}

// buildQuery writes groups in a backend's syntax: quote makes a literal, and/or join.
func buildQuery(groups []search.Group, quote func(string) string, and, or string) string {
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteString(and)
		}
		b.WriteByte('(')
		for j, alt := range g {
			if j > 0 {
				b.WriteString(or)
			}
			b.WriteByte('(')
			for k, tok := range alt {
				if k > 0 {
					b.WriteString(and)
				}
				b.WriteString(quote(tok))
			}
			b.WriteByte(')')
		}
		b.WriteByte(')')
	}
	return b.String()
}

// fts5Quote makes an FTS5 string: double quotes, inner quotes doubled.
func fts5Quote(tok string) string { return `"` + strings.ReplaceAll(tok, `"`, `""`) + `"` }

// tsqueryQuote makes a tsquery lexeme: single quotes, inner quotes and backslashes doubled.
func tsqueryQuote(tok string) string {
	return "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(tok) + "'"
}

func (ix *SearchIndex) matchExpr(groups []search.Group) string {
	if ix.db.dialect == DialectPostgres {
		return buildQuery(groups, tsqueryQuote, " & ", " | ")
	}
	return buildQuery(groups, fts5Quote, " AND ", " OR ")
}

// Statements run on every search are prepared once per connection (database/sql keeps
// them): parsing the FTS join costs as much as running it for a small window. On SQLite each
// section has its own FTS table, keyed by the negated document ID (ascending rowid is
// descending ID); BeforeID bounds it the same way.
const (
	sqliteCandidates = `SELECT d.id, d.channel_id, d.live, d.viewers, d.tok_name, d.tok_tags, d.tok_body, d.tok_channel
		FROM search_fts_%[1]s AS f
		JOIN search_docs AS d ON d.id = -f.rowid
		WHERE search_fts_%[1]s MATCH ? AND f.rowid > ? AND NOT d.hidden
		ORDER BY f.rowid ASC LIMIT ?`
)

// queryCandidates runs the candidates query of a section on SQLite.
func (ix *SearchIndex) queryCandidates(ctx context.Context, sec search.Section, args ...any) (*sql.Rows, error) {
	ix.prepOnce.Do(func() {
		ix.candStmts = map[search.Section]*sql.Stmt{}
		for _, s := range search.Sections {
			stmt, err := ix.db.sql.PrepareContext(ctx, fmt.Sprintf(sqliteCandidates, sectionName(s)))
			if err != nil {
				ix.prepErr = err
				return
			}
			ix.candStmts[s] = stmt
		}
	})
	if ix.prepErr != nil {
		return nil, fmt.Errorf("prepare search query: %w", ix.prepErr)
	}
	stmt, ok := ix.candStmts[sec]
	if !ok {
		return nil, fmt.Errorf("unknown section %q", sec)
	}
	return stmt.QueryContext(ctx, args...)
}

// Candidates implements search.Store: the newest limit documents matching m. SQLite's
// FTS5 streams matches newest first, and PostgreSQL walks postings newest first
// (search_query_pg.go), so the cost follows limit, not the number of matches.
func (ix *SearchIndex) Candidates(ctx context.Context, m search.Match, limit int) ([]search.Candidate, error) {
	groups, err := matchTerms(m)
	if err != nil {
		return nil, err
	}
	if ix.db.dialect == DialectPostgres {
		out, err := ix.postgresBatch(ctx, []search.Match{m}, limit)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	}
	// FTS rowids are negated document IDs: rowid > -before.
	rows, err := ix.queryCandidates(ctx, m.Section, ix.matchExpr(groups), -upperID(m.BeforeID), limit)
	if err != nil {
		return nil, fmt.Errorf("search candidates: %w", Translate(err))
	}
	out, err := scanCandidates(rows, search.NewCounter(m), make([]search.Candidate, 0, limit))
	if err != nil {
		return nil, fmt.Errorf("search candidates: %w", err)
	}
	return out, nil
}

// CandidatesBatch implements search.BatchStore: the windows of several matches (the
// sections of one search) in one statement.
func (ix *SearchIndex) CandidatesBatch(ctx context.Context, ms []search.Match, limit int) ([][]search.Candidate, error) {
	if ix.db.dialect == DialectPostgres {
		return ix.postgresBatch(ctx, ms, limit)
	}
	var (
		args []any
		key  strings.Builder
		q    strings.Builder
	)
	key.WriteString("sqlite/batch")
	for i, m := range ms {
		groups, err := matchTerms(m)
		if err != nil {
			return nil, err
		}
		sec := sectionName(m.Section)
		key.WriteString("/" + sec)
		if i > 0 {
			q.WriteString("\nUNION ALL\n")
		}
		fmt.Fprintf(&q, "SELECT * FROM (%s)", strings.Replace(fmt.Sprintf(sqliteCandidates, sec), "SELECT ", "SELECT "+strconv.Itoa(i)+", ", 1))
		args = append(args, ix.matchExpr(groups), -upperID(m.BeforeID), limit)
	}
	st, err := ix.prepared(ctx, key.String(), q.String())
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
		out[i] = make([]search.Candidate, 0, limit)
	}
	err = scanBranches(rows, func(branch int) (*search.Counter, *[]search.Candidate, bool) {
		if branch < 0 || branch >= len(ms) {
			return nil, nil, false
		}
		return counters[branch], &out[branch], true
	})
	if err != nil {
		return nil, fmt.Errorf("search candidates: %w", err)
	}
	return out, nil
}

// scanBranches reads rows of candidates led by their branch number, appending each to the
// slice (and counting it with the counter) that of gives for the branch; it closes rows.
func scanBranches(rows *sql.Rows, of func(branch int) (*search.Counter, *[]search.Candidate, bool)) error {
	defer rows.Close()
	var (
		branch                   int
		name, tags, body, chText string
	)
	for rows.Next() {
		var c search.Candidate
		if err := rows.Scan(&branch, &c.DocID, &c.ChannelID, &c.Live, &c.Viewers, &name, &tags, &body, &chText); err != nil {
			return Translate(err)
		}
		counter, out, ok := of(branch)
		if !ok {
			return fmt.Errorf("unexpected branch %d", branch)
		}
		counter.Count(&c, search.FieldName, name)
		counter.Count(&c, search.FieldTags, tags)
		counter.Count(&c, search.FieldBody, body)
		counter.Count(&c, search.FieldChannel, chText)
		*out = append(*out, c)
	}
	return Translate(rows.Err())
}

// scanCandidates appends the candidates rows hold to out and closes rows.
func scanCandidates(rows *sql.Rows, counter *search.Counter, out []search.Candidate) ([]search.Candidate, error) {
	defer rows.Close()
	var name, tags, body, chText string
	for rows.Next() {
		var c search.Candidate
		if err := rows.Scan(&c.DocID, &c.ChannelID, &c.Live, &c.Viewers, &name, &tags, &body, &chText); err != nil {
			return nil, Translate(err)
		}
		counter.Count(&c, search.FieldName, name)
		counter.Count(&c, search.FieldTags, tags)
		counter.Count(&c, search.FieldBody, body)
		counter.Count(&c, search.FieldChannel, chText)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, Translate(err)
	}
	return out, nil
}

// hitsChunk is how many document IDs one prepared Hits statement takes; shorter lists are
// padded with 0, which no document has.
const hitsChunk = 40

func (ix *SearchIndex) hitsStmt(ctx context.Context) (*sql.Stmt, error) {
	ix.hitsOnce.Do(func() {
		params := make([]string, hitsChunk)
		for i := range params {
			params[i] = "?"
			if ix.db.dialect == DialectPostgres {
				params[i] = "$" + strconv.Itoa(i+1)
			}
		}
		ix.hitStmt, ix.hitErr = ix.db.sql.PrepareContext(ctx, `SELECT d.id, d.kind, d.ref_id, d.channel_id, d.live, d.at,
				d.name_text, d.tags_text, d.body_text, c.handle, c.display_name, c.profile_key,
				cat.id, cat.slug, cat.name_ko, cat.name_en
			FROM search_docs AS d
			JOIN channels AS c ON c.id = d.channel_id
			LEFT JOIN categories AS cat ON cat.id = d.category_id
			WHERE d.id IN (`+strings.Join(params, ", ")+`) AND NOT c.suspended`)
	})
	return ix.hitStmt, ix.hitErr
}

// Hits implements search.Store. Suspended channels are left out here too: a ranking reused
// from the cache may predate the suspension.
func (ix *SearchIndex) Hits(ctx context.Context, docIDs []int64) (map[int64]search.Hit, error) {
	out := make(map[int64]search.Hit, len(docIDs))
	stmt, err := ix.hitsStmt(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare search results: %w", Translate(err))
	}
	args := make([]any, hitsChunk)
	for start := 0; start < len(docIDs); start += hitsChunk {
		chunk := docIDs[start:min(start+hitsChunk, len(docIDs))]
		for i := range args {
			args[i] = int64(0)
			if i < len(chunk) {
				args[i] = chunk[i]
			}
		}
		if err := scanHits(ctx, stmt, args, out); err != nil {
			return nil, fmt.Errorf("search results: %w", err)
		}
	}
	return out, nil
}

func scanHits(ctx context.Context, stmt *sql.Stmt, args []any, out map[int64]search.Hit) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return Translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, refID                     int64
			kind, name, tags, body        string
			h                             search.Hit
			at                            time.Time
			catID                         sql.NullInt64
			catSlug, catNameKO, catNameEN sql.NullString
		)
		if err := rows.Scan(&id, &kind, &refID, &h.ChannelID, &h.Live, &at, &name, &tags, &body,
			&h.Handle, &h.DisplayName, &h.ProfileKey, &catID, &catSlug, &catNameKO, &catNameEN); err != nil {
			return Translate(err)
		}
		if search.DocKind(kind) == search.DocChannel {
			h.Introduction = body
		} else {
			h.SessionID, h.Title, h.StartedAt = refID, name, readTime(at)
			h.Tags = []string{}
			if tags != "" {
				h.Tags = strings.Split(tags, tagSeparator)
			}
			if catID.Valid {
				h.Category = &channel.Category{ID: catID.Int64, Slug: catSlug.String, NameKO: catNameKO.String, NameEN: catNameEN.String}
			}
		}
		out[id] = h
	}
	return Translate(rows.Err())
}

// DocFreq implements search.Store. SQLite reads FTS5's vocabulary tables; PostgreSQL counts
// postings. The service caches the answers.
func (ix *SearchIndex) DocFreq(ctx context.Context, tokens []string) (map[string]int, error) {
	idb := ix.db.bun
	df := make(map[string]int, len(tokens))
	for _, tok := range tokens {
		if err := checkToken(tok); err != nil {
			return nil, err
		}
		var n int
		var err error
		if ix.db.dialect == DialectPostgres {
			// Counted from the postings' primary key alone, section by section.
			err = idb.NewRaw(`SELECT count(*) FROM search_postings
				WHERE section IN ('live', 'past', 'chan') AND token = ?`, tok).Scan(ctx, &n)
		} else {
			err = idb.NewRaw(`SELECT coalesce(sum(doc), 0) FROM (
				SELECT doc FROM search_vocab_live WHERE term = ?0 UNION ALL
				SELECT doc FROM search_vocab_past WHERE term = ?0 UNION ALL
				SELECT doc FROM search_vocab_chan WHERE term = ?0)`, tok).Scan(ctx, &n)
		}
		if err != nil {
			return nil, fmt.Errorf("document frequency of %q: %w", tok, Translate(err))
		}
		df[tok] = n
	}
	return df, nil
}

// DocCount implements search.Store.
func (ix *SearchIndex) DocCount(ctx context.Context) (int, error) {
	n, err := ix.db.bun.NewSelect().TableExpr("search_docs").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count search documents: %w", Translate(err))
	}
	return int(n), nil
}

// Generation implements search.Store.
func (ix *SearchIndex) Generation(ctx context.Context) (int64, error) {
	w := ix.db.genWatch
	var changes uint64
	if w != nil {
		gen, c, current := w.current()
		if current {
			return gen, nil
		}
		changes = c
	}
	// Read (before every search on SQLite, where it costs a few microseconds in process):
	// prepared once, it costs a fraction of parsing it each time.
	st, err := ix.prepared(ctx, "generation", `SELECT gen FROM search_generation WHERE id = 1`)
	if err != nil {
		return 0, err
	}
	var gen int64
	if err := st.QueryRowContext(ctx).Scan(&gen); err != nil {
		return 0, fmt.Errorf("search index generation: %w", Translate(err))
	}
	if w != nil {
		w.observe(gen, changes)
	}
	return gen, nil
}

// CategoryBySlug implements search.Store.
func (ix *SearchIndex) CategoryBySlug(ctx context.Context, slug string) (*channel.Category, error) {
	return ix.db.CategoryBySlug(ctx, slug)
}

// suggestPastSessions is how many of the newest ended sessions lend their tags to
// autocomplete.
const suggestPastSessions = 5000

// SuggestionData implements search.Store: channels and live sessions of channels that are
// not suspended, the tags of the newest ended sessions, and every category. It reads tens of
// thousands of rows each rebuild, so it scans them without reflection.
func (ix *SearchIndex) SuggestionData(ctx context.Context) (*search.SuggestionData, error) {
	const cols = `SELECT d.kind, d.live, d.viewers, d.name_text, d.tags_text,
		coalesce(d.category_id, 0), c.handle, c.display_name
		FROM search_docs AS d JOIN channels AS c ON c.id = d.channel_id WHERE NOT c.suspended AND `
	current := cols + `(d.kind = 'channel' OR d.live)`
	past := cols + `d.kind = 'session' AND NOT d.live ORDER BY d.id DESC LIMIT ` + strconv.Itoa(suggestPastSessions)
	data := &search.SuggestionData{}
	for _, q := range []string{current, past} {
		if err := ix.scanSuggestions(ctx, q, data); err != nil {
			return nil, fmt.Errorf("autocomplete data: %w", err)
		}
	}
	cats, err := ix.db.Categories(ctx)
	if err != nil {
		return nil, fmt.Errorf("autocomplete data: %w", err)
	}
	data.Categories = cats
	return data, nil
}

func (ix *SearchIndex) scanSuggestions(ctx context.Context, q string, data *search.SuggestionData) error {
	rows, err := ix.db.sql.QueryContext(ctx, q)
	if err != nil {
		return Translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, name, tags, handle, display string
			live                              bool
			viewers                           int
			categoryID                        int64
		)
		if err := rows.Scan(&kind, &live, &viewers, &name, &tags, &categoryID, &handle, &display); err != nil {
			return Translate(err)
		}
		if search.DocKind(kind) == search.DocChannel {
			data.Channels = append(data.Channels, search.SuggestChannel{Handle: handle, DisplayName: display, Live: live})
			continue
		}
		s := search.SuggestSession{Handle: handle, Title: name, CategoryID: categoryID, Live: live, Viewers: viewers}
		if tags != "" {
			s.Tags = strings.Split(tags, tagSeparator)
		}
		data.Sessions = append(data.Sessions, s)
	}
	return Translate(rows.Err())
}
