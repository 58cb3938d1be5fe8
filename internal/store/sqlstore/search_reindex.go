package sqlstore

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search"
)

// reindexBatch is how many channels or sessions one Reindex transaction writes.
const reindexBatch = 500

// Reindex rebuilds every index row from the channels and sessions tables — after an
// analyzer or dictionary upgrade, or to repair — calling progress (if not nil) after each
// batch. It waits for the analyzer first, analyses each batch on every core outside any
// transaction, and writes it in one short transaction, so the site keeps serving (searches
// see old and new rows side by side until it is done).
func (ix *SearchIndex) Reindex(ctx context.Context, progress func(done, total int)) error {
	if err := ix.an.Wait(ctx); err != nil {
		return err
	}
	idb := ix.db.bun
	nChannels, err := idb.NewSelect().TableExpr("channels").Count(ctx)
	if err != nil {
		return fmt.Errorf("reindex: count channels: %w", Translate(err))
	}
	nSessions, err := idb.NewSelect().TableExpr("live_sessions").Count(ctx)
	if err != nil {
		return fmt.Errorf("reindex: count sessions: %w", Translate(err))
	}
	total, done := int(nChannels+nSessions), 0
	report := func(n int) {
		done += n
		if progress != nil {
			progress(min(done, total), total)
		}
	}

	for after := int64(0); ; {
		chans, err := ix.db.ListChannels(ctx, after, reindexBatch)
		if err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		if len(chans) == 0 {
			break
		}
		if err := ix.reindexChannels(ctx, chans); err != nil {
			return fmt.Errorf("reindex channels after %d: %w", after, err)
		}
		after = chans[len(chans)-1].ID
		report(len(chans))
	}
	for after := int64(0); ; {
		sessions, err := loadSessionsPage(ctx, idb, "ls.id > ?", "ls.id ASC", reindexBatch, after)
		if err != nil {
			return fmt.Errorf("reindex: sessions after %d: %w", after, err)
		}
		if len(sessions) == 0 {
			break
		}
		if err := ix.reindexSessions(ctx, sessions); err != nil {
			return fmt.Errorf("reindex sessions after %d: %w", after, err)
		}
		after = sessions[len(sessions)-1].ID
		report(len(sessions))
	}
	return ix.optimize(ctx)
}

func (ix *SearchIndex) reindexChannels(ctx context.Context, chans []*channel.Channel) error {
	ids := make([]int64, len(chans))
	for i, ch := range chans {
		ids[i] = ch.ID
	}
	var liveIDs []int64
	if err := ix.db.bun.NewSelect().TableExpr("live_sessions").Column("channel_id").
		Where("ended_at IS NULL AND channel_id IN (?)", bun.In(ids)).Scan(ctx, &liveIDs); err != nil {
		return Translate(err)
	}
	isLive := make(map[int64]bool, len(liveIDs))
	for _, id := range liveIDs {
		isLive[id] = true
	}
	docs := make([]*search.Document, len(chans))
	for i, ch := range chans {
		docs[i] = search.ChannelDocument(ch, isLive[ch.ID])
	}
	return ix.writeAnalyzed(ctx, docs)
}

func (ix *SearchIndex) reindexSessions(ctx context.Context, sessions []*live.Session) error {
	ids := make([]int64, 0, len(sessions))
	for _, s := range sessions {
		ids = append(ids, s.ChannelID)
	}
	var chans []channelRow
	if err := ix.db.bun.NewSelect().Model(&chans).Column("id", "handle", "display_name").
		Where("ch.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return Translate(err)
	}
	byID := make(map[int64]*channel.Channel, len(chans))
	for _, c := range chans {
		byID[c.ID] = &channel.Channel{ID: c.ID, Handle: c.Handle, DisplayName: c.DisplayName}
	}
	docs := make([]*search.Document, 0, len(sessions))
	for _, s := range sessions {
		if ch := byID[s.ChannelID]; ch != nil { // a channel deleted meanwhile took its sessions along
			docs = append(docs, search.SessionDocument(s, ch))
		}
	}
	return ix.writeAnalyzed(ctx, docs)
}

// writeAnalyzed analyses docs on every core, then writes them in one transaction.
func (ix *SearchIndex) writeAnalyzed(ctx context.Context, docs []*search.Document) error {
	rows := make([]searchDocRow, len(docs))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(docs); i += workers {
				rows[i] = rowOf(docs[i])
				// The analyzer is ready (Reindex waited), so this cannot fail.
				toks, _ := search.TryAnalyzeDocument(ix.an, docs[i])
				rows[i].setTokens(toks)
			}
		}()
	}
	wg.Wait()
	if len(rows) == 0 {
		return nil
	}
	return ix.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return upsertDocs(ctx, tx, rows)
	})
}

// optimize compacts the index after a bulk write: FTS5 merges its segments; PostgreSQL
// makes the row versions a full rewrite leaves behind reusable (so the next rewrite does not
// grow the table again, whenever autovacuum comes by), refreshes the planner's statistics
// of the token columns and marks the postings visible, so walking them reads the index
// alone.
func (ix *SearchIndex) optimize(ctx context.Context) error {
	qs := []string{`VACUUM (ANALYZE) search_docs`, `VACUUM (ANALYZE) search_postings`}
	if ix.db.dialect == DialectSQLite {
		qs = nil
		for _, sec := range search.Sections {
			t := "search_fts_" + sectionName(sec)
			qs = append(qs, `INSERT INTO `+t+` (`+t+`) VALUES ('optimize')`)
		}
	}
	for _, q := range qs {
		if _, err := ix.db.bun.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("optimize search index: %w", Translate(err))
		}
	}
	return nil
}
