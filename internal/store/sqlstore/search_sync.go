package sqlstore

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
)

// Keeping the search index in sync. Every store write that changes searchable text (a
// channel created or edited, a session opened, retitled, retagged or ended) rewrites the
// document's index row in its own transaction, so a committed change is searchable at once
// and nothing can forget to index. Deleting a channel or a session removes its rows by
// cascade.
//
// The rows are written through the SearchIndex attached with UseSearchIndex. A DB without
// one (a command that only seeds data, a test of another store) still writes every row, but
// pending analysis: the search service of the next running server analyses them once its
// dictionary is loaded (search.Service.Run → AnalyzePending). A write never waits for the
// dictionary either way.

// UseSearchIndex makes every later write of searchable data index through ix (and so
// analyse with its analyzer when it is ready). Call it once, right after Open.
func (db *DB) UseSearchIndex(ix *SearchIndex) { db.searchIx.Store(ix) }

// pendingAnalyzer is never ready: its TryIndexTokens always says "not yet", so documents
// written through it are stored pending analysis. It starts no dictionary load.
var pendingAnalyzer = new(analysis.Analyzer)

// syncIndex is the index writes go through.
func (db *DB) syncIndex() *SearchIndex {
	if ix := db.searchIx.Load(); ix != nil {
		return ix
	}
	return &SearchIndex{db: db, an: pendingAnalyzer}
}

// indexChannelTx rewrites the index row of channel id from what tx sees now.
func (db *DB) indexChannelTx(ctx context.Context, tx bun.IDB, id int64) error {
	var r channelRow
	if err := tx.NewSelect().Model(&r).Where("ch.id = ?", id).Scan(ctx); err != nil {
		return fmt.Errorf("index channel %d: %w", id, err)
	}
	cats, err := loadChannelCategories(ctx, tx, []int64{id})
	if err != nil {
		return fmt.Errorf("index channel %d: %w", id, err)
	}
	ch := &channel.Channel{
		ID: r.ID, OwnerID: r.OwnerID, Handle: r.Handle, DisplayName: r.DisplayName,
		Introduction: r.Introduction, CreatedAt: readTime(r.CreatedAt), Categories: cats[id],
	}
	if ix := db.searchIx.Load(); ix != nil {
		return ix.IndexChannelTx(ctx, tx, ch)
	}
	// No index attached: store the channel's own row pending. Its sessions' rows keep the
	// channel name they were written with until their next write or a reindex — marking
	// them pending here would hide them from a caller that indexes them itself right after.
	live, err := tx.NewSelect().TableExpr("live_sessions").
		Where("channel_id = ? AND ended_at IS NULL", id).Exists(ctx)
	if err != nil {
		return fmt.Errorf("index channel %d: open session: %w", id, err)
	}
	return db.syncIndex().IndexDocumentTx(ctx, tx, search.ChannelDocument(ch, live))
}

// indexSessionTx rewrites the index row of live session id (and its channel's live flag)
// from what tx sees now.
func (db *DB) indexSessionTx(ctx context.Context, tx bun.IDB, id int64) error {
	sessions, err := loadSessions(ctx, tx, "ls.id = ?", id)
	if err != nil {
		return fmt.Errorf("index live session %d: %w", id, err)
	}
	if len(sessions) == 0 {
		return fmt.Errorf("index live session %d: not found", id)
	}
	return db.syncIndex().IndexSessionTx(ctx, tx, sessions[0])
}
