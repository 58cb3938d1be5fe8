package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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

// matchTerms returns the required tokens of m — markers first — as groups of alternatives.
func matchTerms(m search.Match) ([]search.Group, error) {
	groups := []search.Group{{{sectionMarker(m.Section)}}}
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

type candidateRow struct {
	ID          int64          `bun:"id"`
	Kind        string         `bun:"kind"`
	RefID       int64          `bun:"ref_id"`
	ChannelID   int64          `bun:"channel_id"`
	Live        bool           `bun:"live"`
	Viewers     int            `bun:"viewers"`
	At          time.Time      `bun:"at"`
	NameText    string         `bun:"name_text"`
	TagsText    string         `bun:"tags_text"`
	BodyText    string         `bun:"body_text"`
	TokName     string         `bun:"tok_name"`
	TokTags     string         `bun:"tok_tags"`
	TokBody     string         `bun:"tok_body"`
	TokChannel  string         `bun:"tok_channel"`
	Handle      string         `bun:"handle"`
	DisplayName string         `bun:"display_name"`
	ProfileKey  string         `bun:"profile_key"`
	CatID       sql.NullInt64  `bun:"cat_id"`
	CatSlug     sql.NullString `bun:"cat_slug"`
	CatNameKO   sql.NullString `bun:"cat_name_ko"`
	CatNameEN   sql.NullString `bun:"cat_name_en"`
}

const candidateColumns = `d.id, d.kind, d.ref_id, d.channel_id, d.live, d.viewers, d.at,
	d.name_text, d.tags_text, d.body_text, d.tok_name, d.tok_tags, d.tok_body, d.tok_channel,
	c.handle, c.display_name, c.profile_key,
	cat.id AS cat_id, cat.slug AS cat_slug, cat.name_ko AS cat_name_ko, cat.name_en AS cat_name_en`

// Candidates implements search.Store: the newest limit documents matching m. On SQLite
// FTS5 streams matches in descending rowid order, so the cost follows limit, not the number
// of matches; on PostgreSQL the GIN index finds the matches and the newest are kept.
func (ix *SearchIndex) Candidates(ctx context.Context, m search.Match, limit int) ([]search.Candidate, error) {
	groups, err := matchTerms(m)
	if err != nil {
		return nil, err
	}
	expr := ix.matchExpr(groups)
	var q string
	if ix.db.dialect == DialectPostgres {
		q = `SELECT ` + candidateColumns + `
			FROM search_docs AS d
			JOIN channels AS c ON c.id = d.channel_id
			LEFT JOIN categories AS cat ON cat.id = d.category_id
			WHERE d.vec @@ ?::tsquery AND NOT c.suspended
			ORDER BY d.id DESC LIMIT ?`
	} else {
		q = `SELECT ` + candidateColumns + `
			FROM search_fts AS f
			JOIN search_docs AS d ON d.id = f.rowid
			JOIN channels AS c ON c.id = d.channel_id
			LEFT JOIN categories AS cat ON cat.id = d.category_id
			WHERE search_fts MATCH ? AND NOT c.suspended
			ORDER BY f.rowid DESC LIMIT ?`
	}
	var rows []candidateRow
	if err := ix.db.bun.NewRaw(q, expr, limit).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("search candidates: %w", Translate(err))
	}
	out := make([]search.Candidate, len(rows))
	for i := range rows {
		out[i] = rows[i].candidate(m.Section)
	}
	return out, nil
}

func (r *candidateRow) candidate(sec search.Section) search.Candidate {
	c := search.Candidate{
		DocID: r.ID,
		At:    readTime(r.At),
		Hit: search.Hit{
			Section:     sec,
			ChannelID:   r.ChannelID,
			Handle:      r.Handle,
			DisplayName: r.DisplayName,
			ProfileKey:  r.ProfileKey,
			Live:        r.Live,
			Viewers:     r.Viewers,
		},
	}
	c.Tokens[search.FieldName] = strings.Fields(r.TokName)
	c.Tokens[search.FieldTags] = strings.Fields(r.TokTags)
	c.Tokens[search.FieldBody] = strings.Fields(r.TokBody)
	c.Tokens[search.FieldChannel] = strings.Fields(r.TokChannel)
	if search.DocKind(r.Kind) == search.DocChannel {
		c.Introduction = r.BodyText
		return c
	}
	c.SessionID = r.RefID
	c.Title = r.NameText
	c.StartedAt = c.At
	c.Tags = []string{}
	if r.TagsText != "" {
		c.Tags = strings.Split(r.TagsText, tagSeparator)
	}
	if r.CatID.Valid {
		c.Category = &channel.Category{ID: r.CatID.Int64, Slug: r.CatSlug.String, NameKO: r.CatNameKO.String, NameEN: r.CatNameEN.String}
	}
	return c
}

// DocFreq implements search.Store. SQLite reads FTS5's vocabulary table; PostgreSQL counts
// through the GIN index. The service caches the answers.
func (ix *SearchIndex) DocFreq(ctx context.Context, tokens []string) (map[string]int, int, error) {
	idb := ix.db.bun
	total, err := idb.NewSelect().TableExpr("search_docs").Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count search documents: %w", Translate(err))
	}
	df := make(map[string]int, len(tokens))
	for _, tok := range tokens {
		if err := checkToken(tok); err != nil {
			return nil, 0, err
		}
		var n int
		if ix.db.dialect == DialectPostgres {
			err = idb.NewRaw(`SELECT count(*) FROM search_docs WHERE vec @@ ?::tsquery`, tsqueryQuote(tok)).Scan(ctx, &n)
		} else {
			err = idb.NewRaw(`SELECT coalesce(sum(doc), 0) FROM search_vocab WHERE term = ?`, tok).Scan(ctx, &n)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("document frequency of %q: %w", tok, Translate(err))
		}
		df[tok] = n
	}
	return df, int(total), nil
}

// CategoryBySlug implements search.Store.
func (ix *SearchIndex) CategoryBySlug(ctx context.Context, slug string) (*channel.Category, error) {
	return ix.db.CategoryBySlug(ctx, slug)
}

// suggestPastSessions is how many of the newest ended sessions lend their tags to
// autocomplete.
const suggestPastSessions = 5000

// SuggestionData implements search.Store: channels and live sessions of channels that are
// not suspended, the tags of the newest ended sessions, and every category.
func (ix *SearchIndex) SuggestionData(ctx context.Context) (*search.SuggestionData, error) {
	type row struct {
		Kind        string `bun:"kind"`
		Live        bool   `bun:"live"`
		Viewers     int    `bun:"viewers"`
		NameText    string `bun:"name_text"`
		TagsText    string `bun:"tags_text"`
		CategoryID  int64  `bun:"category_id"`
		Handle      string `bun:"handle"`
		DisplayName string `bun:"display_name"`
	}
	const cols = `SELECT d.kind, d.live, d.viewers, d.name_text, d.tags_text,
		coalesce(d.category_id, 0) AS category_id, c.handle, c.display_name
		FROM search_docs AS d JOIN channels AS c ON c.id = d.channel_id WHERE NOT c.suspended AND `
	var current, past []row
	idb := ix.db.bun
	if err := idb.NewRaw(cols+`(d.kind = ? OR d.live)`, search.DocChannel).Scan(ctx, &current); err != nil {
		return nil, fmt.Errorf("autocomplete data: %w", Translate(err))
	}
	if err := idb.NewRaw(cols+`d.kind = ? AND NOT d.live ORDER BY d.id DESC LIMIT ?`,
		search.DocSession, suggestPastSessions).Scan(ctx, &past); err != nil {
		return nil, fmt.Errorf("autocomplete data: %w", Translate(err))
	}
	data := &search.SuggestionData{}
	for _, r := range append(current, past...) {
		if search.DocKind(r.Kind) == search.DocChannel {
			data.Channels = append(data.Channels, search.SuggestChannel{Handle: r.Handle, DisplayName: r.DisplayName, Live: r.Live})
			continue
		}
		s := search.SuggestSession{Handle: r.Handle, Title: r.NameText, CategoryID: r.CategoryID, Live: r.Live, Viewers: r.Viewers}
		if r.TagsText != "" {
			s.Tags = strings.Split(r.TagsText, tagSeparator)
		}
		data.Sessions = append(data.Sessions, s)
	}
	cats, err := ix.db.Categories(ctx)
	if err != nil {
		return nil, fmt.Errorf("autocomplete data: %w", err)
	}
	data.Categories = cats
	return data, nil
}
