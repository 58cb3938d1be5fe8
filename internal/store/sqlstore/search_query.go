package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
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
	// PostgreSQL plans each search afresh: whether the GIN index or a newest-first walk of
	// the section is faster depends on how common the words are, which a plan prepared once
	// for any words cannot know. The section is a constant so the partial indexes apply.
	postgresCandidates = `SELECT d.id, d.channel_id, d.live, d.viewers, d.tok_name, d.tok_tags, d.tok_body, d.tok_channel
		FROM search_docs AS d
		WHERE d.section = '%[1]s' AND d.vec @@ $1::tsquery AND d.id < -$2::bigint AND NOT d.hidden
		ORDER BY d.id DESC LIMIT $3`
)

// queryCandidates runs the candidates query of a section: a statement prepared once on
// SQLite, a freshly planned one on PostgreSQL.
func (ix *SearchIndex) queryCandidates(ctx context.Context, sec search.Section, args ...any) (*sql.Rows, error) {
	if ix.db.dialect == DialectPostgres {
		return ix.db.sql.QueryContext(ctx, fmt.Sprintf(postgresCandidates, sectionName(sec)), args...)
	}
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

// Candidates implements search.Store: the newest limit documents matching m. On SQLite FTS5
// streams matches newest first, so the cost follows limit, not the number of matches; on
// PostgreSQL the planner picks the GIN index for rare words and a backward scan of
// (section, id), filtered by the tsquery, for common ones.
func (ix *SearchIndex) Candidates(ctx context.Context, m search.Match, limit int) ([]search.Candidate, error) {
	groups, err := matchTerms(m)
	if err != nil {
		return nil, err
	}
	// Both statements take the bound as the negated ID: rowid > -before on SQLite,
	// id < -(-before) on PostgreSQL.
	before := m.BeforeID
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := ix.queryCandidates(ctx, m.Section, ix.matchExpr(groups), -before, limit)
	if err != nil {
		return nil, fmt.Errorf("search candidates: %w", Translate(err))
	}
	defer rows.Close()
	out := make([]search.Candidate, 0, limit)
	counter := search.NewCounter(m)
	var name, tags, body, chText string
	for rows.Next() {
		var c search.Candidate
		if err := rows.Scan(&c.DocID, &c.ChannelID, &c.Live, &c.Viewers, &name, &tags, &body, &chText); err != nil {
			return nil, fmt.Errorf("search candidates: %w", Translate(err))
		}
		counter.Count(&c, search.FieldName, name)
		counter.Count(&c, search.FieldTags, tags)
		counter.Count(&c, search.FieldBody, body)
		counter.Count(&c, search.FieldChannel, chText)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search candidates: %w", Translate(err))
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
// through the GIN indexes. The service caches the answers.
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
			// One count per section, so each can use its partial GIN index.
			err = idb.NewRaw(`SELECT
				(SELECT count(*) FROM search_docs WHERE section = 'live' AND vec @@ ?0::tsquery) +
				(SELECT count(*) FROM search_docs WHERE section = 'past' AND vec @@ ?0::tsquery) +
				(SELECT count(*) FROM search_docs WHERE section = 'chan' AND vec @@ ?0::tsquery)`,
				tsqueryQuote(tok)).Scan(ctx, &n)
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
	var gen int64
	if err := ix.db.sql.QueryRowContext(ctx, `SELECT gen FROM search_generation WHERE id = 1`).Scan(&gen); err != nil {
		return 0, fmt.Errorf("search index generation: %w", Translate(err))
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
