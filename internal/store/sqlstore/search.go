package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
)

// SearchIndex is the search index kept in the database (migrations/*/0300_search.up.sql and
// 0301_search_sections.up.sql): SQLite FTS5 or PostgreSQL full-text over the tokens of
// search/analysis. Rows are written
// by IndexChannelTx, IndexSessionTx (or the OpenHook) inside the transactions that change
// channels and sessions, so the index never disagrees with them; deleting a channel or a
// session deletes its rows by cascade. It implements search.Store for queries.
type SearchIndex struct {
	db *DB
	an *analysis.Analyzer

	prepOnce  sync.Once
	candStmts map[search.Section]*sql.Stmt
	prepErr   error
	hitsOnce  sync.Once
	hitStmt   *sql.Stmt
	hitErr    error
	stmtMu    sync.Mutex
	stmts     map[string]*sql.Stmt
	freqMu    sync.Mutex
	freqs     map[string]sectionFreq
}

var _ search.Store = (*SearchIndex)(nil)

// NewSearchIndex returns the search index of db, analysing text with an.
func NewSearchIndex(db *DB, an *analysis.Analyzer) *SearchIndex {
	return &SearchIndex{db: db, an: an}
}

// searchDocRow mirrors search_docs (without PostgreSQL's generated vec column).
type searchDocRow struct {
	bun.BaseModel `bun:"table:search_docs,alias:sd"`

	ID          int64     `bun:"id,pk,autoincrement"`
	Kind        string    `bun:"kind,notnull"`
	Section     string    `bun:"section,notnull"`
	RefID       int64     `bun:"ref_id,notnull"`
	ChannelID   int64     `bun:"channel_id,notnull"`
	SessionID   int64     `bun:"session_id,nullzero"`
	CategoryID  int64     `bun:"category_id,nullzero"`
	Live        bool      `bun:"live,notnull"`
	Viewers     int       `bun:"viewers,notnull"`
	At          time.Time `bun:"at,notnull"`
	NameText    string    `bun:"name_text,notnull"`
	TagsText    string    `bun:"tags_text,notnull"`
	BodyText    string    `bun:"body_text,notnull"`
	ChannelText string    `bun:"channel_text,notnull"`
	TokName     string    `bun:"tok_name,notnull"`
	TokTags     string    `bun:"tok_tags,notnull"`
	TokBody     string    `bun:"tok_body,notnull"`
	TokChannel  string    `bun:"tok_channel,notnull"`
	TokMeta     string    `bun:"tok_meta,notnull"`
	Analyzed    int       `bun:"analyzed,notnull"`
	Rev         int64     `bun:"rev,notnull"`
}

// sectionName is the section column's value (and the suffix of SQLite's FTS tables).
func sectionName(s search.Section) string {
	switch s {
	case search.SectionLive:
		return "live"
	case search.SectionPast:
		return "past"
	default:
		return "chan"
	}
}

func docSection(d *search.Document) search.Section {
	switch {
	case d.Kind == search.DocChannel:
		return search.SectionChannels
	case d.Live:
		return search.SectionLive
	default:
		return search.SectionPast
	}
}

// Category filters are marker words in the token list, so filtering is one more word to
// intersect instead of a join (channels have several categories). They start with a
// private-use character, which the analyzer never emits, so no user text can produce or
// query them.
const markerPrefix = "\ue000"

func categoryMarker(id int64) string { return markerPrefix + "c" + strconv.FormatInt(id, 10) }

// metaTokens are a document's markers.
func metaTokens(d *search.Document) string {
	toks := make([]string, len(d.CategoryIDs))
	for i, id := range d.CategoryIDs {
		toks[i] = categoryMarker(id)
	}
	return strings.Join(toks, " ")
}

// tagSeparator joins tags in tags_text; normalised tags never hold a newline.
const tagSeparator = "\n"

// rowOf turns a document into its row, without tokens (Analyzed 0: pending).
func rowOf(d *search.Document) searchDocRow {
	r := searchDocRow{
		Kind:        string(d.Kind),
		Section:     sectionName(docSection(d)),
		RefID:       d.RefID,
		ChannelID:   d.ChannelID,
		Live:        d.Live,
		Viewers:     max(0, d.Viewers),
		At:          dbTime(d.At),
		NameText:    d.Name,
		TagsText:    strings.Join(d.Tags, tagSeparator),
		BodyText:    d.Body,
		ChannelText: d.Channel,
		TokMeta:     metaTokens(d),
	}
	if r.At.IsZero() {
		r.At = dbTime(time.Now())
	}
	if d.Kind == search.DocSession {
		r.SessionID = d.RefID
		if len(d.CategoryIDs) > 0 {
			r.CategoryID = d.CategoryIDs[0]
		}
	}
	return r
}

func (r *searchDocRow) setTokens(toks search.DocTokens) {
	r.TokName = strings.Join(toks[search.FieldName], " ")
	r.TokTags = strings.Join(toks[search.FieldTags], " ")
	r.TokBody = strings.Join(toks[search.FieldBody], " ")
	r.TokChannel = strings.Join(toks[search.FieldChannel], " ")
	r.Analyzed = analysis.Version
}

// document rebuilds the document a row was written from (for re-analysis).
func (r *searchDocRow) document() *search.Document {
	d := &search.Document{
		Kind: search.DocKind(r.Kind), RefID: r.RefID, ChannelID: r.ChannelID, Live: r.Live,
		Name: r.NameText, Body: r.BodyText, Channel: r.ChannelText,
	}
	if r.TagsText != "" {
		d.Tags = strings.Split(r.TagsText, tagSeparator)
	}
	return d
}

// IndexDocumentTx writes d's index row with idb — the caller's transaction, so the row
// commits or rolls back with the change it describes. It never waits for the analyzer: a
// document written while it is still loading is stored pending (Analyzed 0) and
// AnalyzePending fills its tokens in later.
func (ix *SearchIndex) IndexDocumentTx(ctx context.Context, idb bun.IDB, d *search.Document) error {
	if d.Kind != search.DocChannel && d.Kind != search.DocSession {
		return fmt.Errorf("index document: unknown kind %q", d.Kind)
	}
	rows := []searchDocRow{rowOf(d)}
	if toks, ok := search.TryAnalyzeDocument(ix.an, d); ok {
		rows[0].setTokens(toks)
	}
	if err := upsertDocs(ctx, idb, rows); err != nil {
		return fmt.Errorf("index %s %d: %w", d.Kind, d.RefID, err)
	}
	return nil
}

// upsertDocs writes rows, replacing the rows of the same documents.
func upsertDocs(ctx context.Context, idb bun.IDB, rows []searchDocRow) error {
	_, err := idb.NewInsert().Model(&rows).
		ExcludeColumn("id", "rev").
		On("CONFLICT (kind, ref_id) DO UPDATE").
		Set("section = EXCLUDED.section, channel_id = EXCLUDED.channel_id, session_id = EXCLUDED.session_id").
		Set("category_id = EXCLUDED.category_id, live = EXCLUDED.live, viewers = EXCLUDED.viewers, at = EXCLUDED.at").
		Set("name_text = EXCLUDED.name_text, tags_text = EXCLUDED.tags_text").
		Set("body_text = EXCLUDED.body_text, channel_text = EXCLUDED.channel_text").
		Set("tok_name = EXCLUDED.tok_name, tok_tags = EXCLUDED.tok_tags, tok_body = EXCLUDED.tok_body").
		Set("tok_channel = EXCLUDED.tok_channel, tok_meta = EXCLUDED.tok_meta").
		Set("analyzed = EXCLUDED.analyzed, rev = sd.rev + 1").
		Returning("NULL").
		Exec(ctx)
	return Translate(err)
}

// IndexChannelTx indexes a channel (display name, handle, introduction, categories) with
// idb, and gives its sessions' rows the channel's current name. Call it in the transaction
// that creates or changes the channel; ch.Categories must be loaded.
func (ix *SearchIndex) IndexChannelTx(ctx context.Context, idb bun.IDB, ch *channel.Channel) error {
	live, err := idb.NewSelect().TableExpr("live_sessions").
		Where("channel_id = ? AND ended_at IS NULL", ch.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("index channel %d: open session: %w", ch.ID, Translate(err))
	}
	d := search.ChannelDocument(ch, live)
	if err := ix.IndexDocumentTx(ctx, idb, d); err != nil {
		return err
	}
	return ix.renameSessionsTx(ctx, idb, ch.ID, d.Channel)
}

// renameSessionsTx updates the channel field of the channel's session rows that still hold
// another name (or wait for analysis): analysed once, written in one statement.
func (ix *SearchIndex) renameSessionsTx(ctx context.Context, idb bun.IDB, channelID int64, text string) error {
	q := idb.NewUpdate().Model((*searchDocRow)(nil)).
		Set("channel_text = ?", text).
		Set("rev = rev + 1").
		Where("channel_id = ? AND kind = ? AND (channel_text <> ? OR analyzed < ?)",
			channelID, search.DocSession, text, analysis.Version)
	if toks, ok := ix.an.TryIndexTokens(text); ok {
		q = q.Set("tok_channel = ?", strings.Join(toks, " "))
	} else {
		q = q.Set("analyzed = 0") // re-analysed whole once the analyzer is ready
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("index channel %d: rename its sessions: %w", channelID, Translate(err))
	}
	return nil
}

// IndexSessionTx indexes a live session (title, tags, category; live or ended) with idb and
// marks its channel live or not. Call it in the transaction that opens, changes or closes
// the session.
func (ix *SearchIndex) IndexSessionTx(ctx context.Context, idb bun.IDB, s *live.Session) error {
	var ch channelRow
	if err := idb.NewSelect().Model(&ch).Column("id", "handle", "display_name").
		Where("ch.id = ?", s.ChannelID).Scan(ctx); err != nil {
		return fmt.Errorf("index session %d: channel %d: %w", s.ID, s.ChannelID, Translate(err))
	}
	d := search.SessionDocument(s, &channel.Channel{ID: ch.ID, Handle: ch.Handle, DisplayName: ch.DisplayName})
	if err := ix.IndexDocumentTx(ctx, idb, d); err != nil {
		return err
	}
	_, err := idb.NewUpdate().Model((*searchDocRow)(nil)).
		Set("live = ?", s.Open()).
		Where("kind = ? AND ref_id = ?", search.DocChannel, s.ChannelID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("index session %d: channel live flag: %w", s.ID, Translate(err))
	}
	return nil
}

// OpenHook returns a live.OpenHook that indexes the new session in the transaction that
// opens it (compose it with other hooks).
func (ix *SearchIndex) OpenHook() live.OpenHook {
	return func(ctx context.Context, tx bun.Tx, s *live.Session) error {
		return ix.IndexSessionTx(ctx, tx, s)
	}
}

// SetSessionViewersTx records a session's peak viewers for ranking (a cheap update that
// leaves the text index alone).
func (ix *SearchIndex) SetSessionViewersTx(ctx context.Context, idb bun.IDB, sessionID int64, viewers int) error {
	_, err := idb.NewUpdate().Model((*searchDocRow)(nil)).
		Set("viewers = ?", max(0, viewers)).
		Where("kind = ? AND ref_id = ?", search.DocSession, sessionID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("set viewers of session %d in search index: %w", sessionID, Translate(err))
	}
	return nil
}

// DeleteDocumentTx removes a document's row (sessions and channels deleted from the
// database lose theirs by cascade; this is for hiding one without deleting it).
func (ix *SearchIndex) DeleteDocumentTx(ctx context.Context, idb bun.IDB, kind search.DocKind, refID int64) error {
	_, err := idb.NewDelete().Model((*searchDocRow)(nil)).
		Where("kind = ? AND ref_id = ?", kind, refID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete %s %d from search index: %w", kind, refID, Translate(err))
	}
	return nil
}

// AnalyzePending implements search.Store: it analyses up to limit rows stored while the
// analyzer was loading, or under an older analysis version, in one transaction. A row
// rewritten in the meantime (rev moved on) is left alone: it already holds newer tokens.
func (ix *SearchIndex) AnalyzePending(ctx context.Context, limit int) (int, error) {
	if err := ix.an.Wait(ctx); err != nil {
		return 0, err
	}
	var rows []searchDocRow
	if err := ix.db.bun.NewSelect().Model(&rows).
		Column("id", "kind", "ref_id", "channel_id", "live", "name_text", "tags_text", "body_text", "channel_text", "rev").
		Where("analyzed < ?", analysis.Version).
		OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return 0, fmt.Errorf("list pending search documents: %w", Translate(err))
	}
	if len(rows) == 0 {
		return 0, nil
	}
	err := ix.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for i := range rows {
			r := &rows[i]
			toks, err := search.AnalyzeDocument(ctx, ix.an, r.document())
			if err != nil {
				return err
			}
			r.setTokens(toks)
			if _, err := tx.NewUpdate().Model(r).
				Column("tok_name", "tok_tags", "tok_body", "tok_channel", "analyzed").
				WherePK().Where("rev = ?", r.Rev).
				Exec(ctx); err != nil {
				return Translate(err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("analyse pending search documents: %w", err)
	}
	return len(rows), nil
}

// errBadToken reports a token a query must not carry; the analyzer never produces one.
var errBadToken = errors.New("search index: invalid token")
