package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store"
)

// LiveStore implements live.Store on the tables of migrations/*/0100_live_sessions.up.sql.
// It is a separate type (not methods on DB) because its natural method names — TouchSession,
// SessionByID — would collide with the account store's.
type LiveStore struct{ db *DB }

var _ live.Store = (*LiveStore)(nil)

// NewLiveStore returns the live-session store of db.
func NewLiveStore(db *DB) *LiveStore { return &LiveStore{db: db} }

func init() {
	// The partial unique index allowing one open session per channel, as each database
	// names it in a violation.
	RegisterConflictField("live_sessions.channel_id", "live_session")
	RegisterConflictField("uq_live_sessions_open_channel", "live_session")
}

type liveStreamInfoRow struct {
	bun.BaseModel `bun:"table:live_stream_info,alias:lsi"`

	ChannelID  int64     `bun:"channel_id,pk"`
	Title      string    `bun:"title,notnull"`
	CategoryID int64     `bun:"category_id,nullzero"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

type liveStreamInfoTagRow struct {
	bun.BaseModel `bun:"table:live_stream_info_tags,alias:lsit"`

	ChannelID int64 `bun:"channel_id,pk"`
	TagID     int64 `bun:"tag_id,pk"`
	Position  int   `bun:"position,notnull"`
}

type liveSessionRow struct {
	bun.BaseModel `bun:"table:live_sessions,alias:ls"`

	ID          int64     `bun:"id,pk,autoincrement"`
	ChannelID   int64     `bun:"channel_id,notnull"`
	Title       string    `bun:"title,notnull"`
	CategoryID  int64     `bun:"category_id,nullzero"`
	StartedAt   time.Time `bun:"started_at,notnull"`
	LastSeenAt  time.Time `bun:"last_seen_at,notnull"`
	EndedAt     time.Time `bun:"ended_at,nullzero"`
	DurationMS  int64     `bun:"duration_ms,notnull"`
	PeakViewers int       `bun:"peak_viewers,notnull"`
}

type liveSessionTagRow struct {
	bun.BaseModel `bun:"table:live_session_tags,alias:lst"`

	SessionID int64 `bun:"session_id,pk"`
	TagID     int64 `bun:"tag_id,pk"`
	Position  int   `bun:"position,notnull"`
}

// StreamInfo implements live.Store.
func (ls *LiveStore) StreamInfo(ctx context.Context, channelID int64) (*live.StreamInfo, error) {
	var r liveStreamInfoRow
	if err := ls.db.bun.NewSelect().Model(&r).Where("lsi.channel_id = ?", channelID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("stream info of channel %d: %w", channelID, Translate(err))
	}
	info := &live.StreamInfo{ChannelID: r.ChannelID, Title: r.Title, UpdatedAt: readTime(r.UpdatedAt)}
	var err error
	if info.Category, err = loadCategory(ctx, ls.db.bun, r.CategoryID); err != nil {
		return nil, fmt.Errorf("stream info of channel %d: %w", channelID, err)
	}
	var tags []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	err = ls.db.bun.NewRaw(`SELECT t.id, t.name FROM live_stream_info_tags AS it
		JOIN tags AS t ON t.id = it.tag_id WHERE it.channel_id = ? ORDER BY it.position`, channelID).Scan(ctx, &tags)
	if err != nil {
		return nil, fmt.Errorf("stream info tags of channel %d: %w", channelID, Translate(err))
	}
	info.Tags = make([]channel.Tag, len(tags))
	for i, t := range tags {
		info.Tags[i] = channel.Tag{ID: t.ID, Name: t.Name}
	}
	return info, nil
}

// SaveStreamInfo implements live.Store.
func (ls *LiveStore) SaveStreamInfo(ctx context.Context, info *live.StreamInfo) (*live.Session, error) {
	if info == nil {
		return nil, errors.New("save stream info: nil info")
	}
	tagIDs, err := uniqueTagIDs(info.Tags)
	if err != nil {
		return nil, fmt.Errorf("save stream info of channel %d: %w", info.ChannelID, err)
	}
	row := liveStreamInfoRow{
		ChannelID:  info.ChannelID,
		Title:      info.Title,
		CategoryID: categoryID(info.Category),
		UpdatedAt:  dbTime(info.UpdatedAt),
	}
	var sess *live.Session
	err = ls.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&row).
			On("CONFLICT (channel_id) DO UPDATE").
			Set("title = EXCLUDED.title").
			Set("category_id = EXCLUDED.category_id").
			Set("updated_at = EXCLUDED.updated_at").
			Returning("NULL").
			Exec(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*liveStreamInfoTagRow)(nil)).Where("channel_id = ?", info.ChannelID).Exec(ctx); err != nil {
			return err
		}
		if len(tagIDs) > 0 {
			rows := make([]liveStreamInfoTagRow, len(tagIDs))
			for i, id := range tagIDs {
				rows[i] = liveStreamInfoTagRow{ChannelID: info.ChannelID, TagID: id, Position: i}
			}
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return err
			}
		}

		var open []int64
		err = tx.NewSelect().Model((*liveSessionRow)(nil)).Column("id").
			Where("channel_id = ? AND ended_at IS NULL", info.ChannelID).Scan(ctx, &open)
		if err != nil || len(open) == 0 {
			return err
		}
		_, err = tx.NewUpdate().Model((*liveSessionRow)(nil)).
			Set("title = ?", row.Title).
			Set("category_id = ?", nullID(row.CategoryID)).
			Where("id = ?", open[0]).
			Exec(ctx)
		if err != nil {
			return err
		}
		if err := replaceSessionTags(ctx, tx, open[0], tagIDs); err != nil {
			return err
		}
		sessions, err := loadSessions(ctx, tx, "ls.id = ?", open[0])
		if err != nil {
			return err
		}
		sess = sessions[0]
		return ls.db.syncIndex().IndexSessionTx(ctx, tx, sess) // search_sync.go

	})
	if err != nil {
		return nil, fmt.Errorf("save stream info of channel %d: %w", info.ChannelID, Translate(err))
	}
	info.UpdatedAt = row.UpdatedAt
	return sess, nil
}

// OpenSession implements live.Store. The insert, its tags and onOpen share one transaction.
func (ls *LiveStore) OpenSession(ctx context.Context, s *live.Session, onOpen live.OpenHook) error {
	if s == nil || !s.EndedAt.IsZero() {
		return errors.New("open live session: need a session without an end")
	}
	tagIDs, err := uniqueTagIDs(s.Tags)
	if err != nil {
		return fmt.Errorf("open live session for channel %d: %w", s.ChannelID, err)
	}
	row := liveSessionRow{
		ChannelID:   s.ChannelID,
		Title:       s.Title,
		CategoryID:  categoryID(s.Category),
		StartedAt:   dbTime(s.StartedAt),
		LastSeenAt:  dbTime(s.LastSeenAt),
		PeakViewers: max(0, s.PeakViewers),
	}
	if row.LastSeenAt.Before(row.StartedAt) {
		row.LastSeenAt = row.StartedAt
	}
	var hookErr error
	err = ls.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return err
		}
		if err := replaceSessionTags(ctx, tx, row.ID, tagIDs); err != nil {
			return err
		}
		if err := ls.db.indexSessionTx(ctx, tx, row.ID); err != nil { // search_sync.go
			return err
		}
		if onOpen == nil {
			return nil
		}
		s.ID, s.StartedAt, s.LastSeenAt = row.ID, row.StartedAt, row.LastSeenAt
		if err := onOpen(ctx, tx, s); err != nil {
			hookErr = err
			return err
		}
		return nil
	})
	if err != nil {
		s.ID = 0
		if hookErr != nil {
			return fmt.Errorf("open live session for channel %d: on-open hook: %w", s.ChannelID, hookErr)
		}
		return fmt.Errorf("open live session for channel %d: %w", s.ChannelID, Translate(err))
	}
	s.ID, s.StartedAt, s.LastSeenAt, s.PeakViewers = row.ID, row.StartedAt, row.LastSeenAt, row.PeakViewers
	return nil
}

// OpenSessionByChannel implements live.Store.
func (ls *LiveStore) OpenSessionByChannel(ctx context.Context, channelID int64) (*live.Session, error) {
	sessions, err := loadSessions(ctx, ls.db.bun, "ls.channel_id = ? AND ls.ended_at IS NULL", channelID)
	if err != nil {
		return nil, fmt.Errorf("open live session of channel %d: %w", channelID, err)
	}
	if len(sessions) == 0 {
		return nil, fmt.Errorf("open live session of channel %d: %w", channelID, store.ErrNotFound)
	}
	return sessions[0], nil
}

// OpenSessions implements live.Store.
func (ls *LiveStore) OpenSessions(ctx context.Context) ([]*live.Session, error) {
	sessions, err := loadSessions(ctx, ls.db.bun, "ls.ended_at IS NULL")
	if err != nil {
		return nil, fmt.Errorf("open live sessions: %w", err)
	}
	return sessions, nil
}

// SessionByID implements live.Store.
func (ls *LiveStore) SessionByID(ctx context.Context, id int64) (*live.Session, error) {
	sessions, err := loadSessions(ctx, ls.db.bun, "ls.id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("live session %d: %w", id, err)
	}
	if len(sessions) == 0 {
		return nil, fmt.Errorf("live session %d: %w", id, store.ErrNotFound)
	}
	return sessions[0], nil
}

// SessionsByChannel implements live.Store. limit ≤ 0 means DefaultPageSize; it is capped at
// MaxPageSize.
func (ls *LiveStore) SessionsByChannel(ctx context.Context, channelID, beforeID int64, limit int) ([]*live.Session, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	where, args := "ls.channel_id = ?", []any{channelID}
	if beforeID > 0 {
		where += " AND ls.id < ?"
		args = append(args, beforeID)
	}
	sessions, err := loadSessionsPage(ctx, ls.db.bun, where, "ls.id DESC", limit, args...)
	if err != nil {
		return nil, fmt.Errorf("live sessions of channel %d: %w", channelID, err)
	}
	return sessions, nil
}

// TouchSession implements live.Store. last_seen_at only moves forward, so a late heartbeat
// cannot undo a newer one.
func (ls *LiveStore) TouchSession(ctx context.Context, id int64, lastSeen time.Time, peakViewers int) error {
	seen := dbTime(lastSeen)
	err := ls.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var peak int
		err := tx.NewUpdate().Model((*liveSessionRow)(nil)).
			Set("last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END", seen, seen).
			Set("peak_viewers = CASE WHEN peak_viewers < ? THEN ? ELSE peak_viewers END", peakViewers, peakViewers).
			Where("id = ? AND ended_at IS NULL", id).
			Returning("peak_viewers").
			Scan(ctx, &peak)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // already ended: nothing to record
		}
		if err != nil {
			return err
		}
		// The index ranks sessions by peak viewers (search_sync.go).
		return ls.db.syncIndex().SetSessionViewersTx(ctx, tx, id, peak)
	})
	if err != nil {
		return fmt.Errorf("touch live session %d: %w", id, Translate(err))
	}
	return nil
}

// CloseSession implements live.Store. An endedAt before the start is recorded as the start
// (zero duration).
func (ls *LiveStore) CloseSession(ctx context.Context, id int64, endedAt time.Time, peakViewers int) (*live.Session, error) {
	return ls.close(ctx, id, func(started, lastSeen time.Time) (time.Time, error) {
		return dbTime(endedAt), nil
	}, peakViewers, time.Time{})
}

// CloseStaleSession implements live.Store.
func (ls *LiveStore) CloseStaleSession(ctx context.Context, id int64, seenBefore time.Time) (*live.Session, error) {
	limit := dbTime(seenBefore)
	return ls.close(ctx, id, func(started, lastSeen time.Time) (time.Time, error) {
		if lastSeen.After(limit) {
			return time.Time{}, store.ErrConflict
		}
		return lastSeen, nil
	}, 0, limit)
}

// close ends open session id at the time end picks from its start and last-seen times.
// With a non-zero seenLimit the update also requires last_seen_at ≤ seenLimit, so a
// heartbeat landing between the read and the write wins.
func (ls *LiveStore) close(ctx context.Context, id int64, end func(started, lastSeen time.Time) (time.Time, error),
	peakViewers int, seenLimit time.Time) (*live.Session, error) {
	var ended *live.Session
	err := ls.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var r liveSessionRow
		err := tx.NewSelect().Model(&r).Column("started_at", "last_seen_at").
			Where("ls.id = ? AND ls.ended_at IS NULL", id).Scan(ctx)
		if err != nil {
			return err
		}
		started, lastSeen := readTime(r.StartedAt), readTime(r.LastSeenAt)
		endedAt, err := end(started, lastSeen)
		if err != nil {
			return err
		}
		if endedAt.Before(started) {
			endedAt = started
		}
		q := tx.NewUpdate().Model((*liveSessionRow)(nil)).
			Set("ended_at = ?", endedAt).
			Set("duration_ms = ?", endedAt.Sub(started).Milliseconds()).
			Set("last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END", endedAt, endedAt).
			Set("peak_viewers = CASE WHEN peak_viewers < ? THEN ? ELSE peak_viewers END", peakViewers, peakViewers).
			Where("id = ? AND ended_at IS NULL", id)
		if !seenLimit.IsZero() {
			q = q.Where("last_seen_at <= ?", seenLimit)
		}
		res, err := q.Exec(ctx)
		if err := oneRow(res, err); err != nil {
			if errors.Is(err, store.ErrNotFound) && !seenLimit.IsZero() {
				return store.ErrConflict
			}
			return err
		}
		sessions, err := loadSessions(ctx, tx, "ls.id = ?", id)
		if err != nil {
			return err
		}
		ended = sessions[0]
		return ls.db.syncIndex().IndexSessionTx(ctx, tx, ended) // search_sync.go

	})
	if err != nil {
		return nil, fmt.Errorf("close live session %d: %w", id, Translate(err))
	}
	return ended, nil
}

// sessionScanRow is a live_sessions row with its category joined in.
type sessionScanRow struct {
	ID          int64          `bun:"id"`
	ChannelID   int64          `bun:"channel_id"`
	Title       string         `bun:"title"`
	CategoryID  sql.NullInt64  `bun:"category_id"`
	Slug        sql.NullString `bun:"slug"`
	NameKO      sql.NullString `bun:"name_ko"`
	NameEN      sql.NullString `bun:"name_en"`
	StartedAt   time.Time      `bun:"started_at"`
	LastSeenAt  time.Time      `bun:"last_seen_at"`
	EndedAt     bun.NullTime   `bun:"ended_at"`
	DurationMS  int64          `bun:"duration_ms"`
	PeakViewers int            `bun:"peak_viewers"`
}

func loadSessions(ctx context.Context, idb bun.IDB, where string, args ...any) ([]*live.Session, error) {
	return loadSessionsPage(ctx, idb, where, "ls.started_at ASC, ls.id ASC", 0, args...)
}

// loadSessionsPage reads sessions matching where (over alias ls) with their categories and
// tags.
func loadSessionsPage(ctx context.Context, idb bun.IDB, where, order string, limit int, args ...any) ([]*live.Session, error) {
	var rows []sessionScanRow
	q := idb.NewSelect().
		TableExpr("live_sessions AS ls").
		ColumnExpr("ls.id, ls.channel_id, ls.title, ls.category_id, c.slug, c.name_ko, c.name_en").
		ColumnExpr("ls.started_at, ls.last_seen_at, ls.ended_at, ls.duration_ms, ls.peak_viewers").
		Join("LEFT JOIN categories AS c ON c.id = ls.category_id").
		Where(where, args...).
		OrderExpr(order)
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, Translate(err)
	}
	out := make([]*live.Session, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		s := &live.Session{
			ID:          r.ID,
			ChannelID:   r.ChannelID,
			Title:       r.Title,
			StartedAt:   readTime(r.StartedAt),
			LastSeenAt:  readTime(r.LastSeenAt),
			EndedAt:     readTime(r.EndedAt.Time),
			Duration:    time.Duration(r.DurationMS) * time.Millisecond,
			PeakViewers: r.PeakViewers,
			Tags:        []channel.Tag{},
		}
		if r.CategoryID.Valid {
			s.Category = &channel.Category{ID: r.CategoryID.Int64, Slug: r.Slug.String, NameKO: r.NameKO.String, NameEN: r.NameEN.String}
		}
		out[i], ids[i] = s, r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var tags []struct {
		SessionID int64  `bun:"session_id"`
		ID        int64  `bun:"id"`
		Name      string `bun:"name"`
	}
	err := idb.NewRaw(`SELECT st.session_id, t.id, t.name FROM live_session_tags AS st
		JOIN tags AS t ON t.id = st.tag_id WHERE st.session_id IN (?)
		ORDER BY st.session_id, st.position`, bun.In(ids)).Scan(ctx, &tags)
	if err != nil {
		return nil, Translate(err)
	}
	byID := make(map[int64]*live.Session, len(out))
	for _, s := range out {
		byID[s.ID] = s
	}
	for _, t := range tags {
		s := byID[t.SessionID]
		s.Tags = append(s.Tags, channel.Tag{ID: t.ID, Name: t.Name})
	}
	return out, nil
}

func replaceSessionTags(ctx context.Context, idb bun.IDB, sessionID int64, tagIDs []int64) error {
	if _, err := idb.NewDelete().Model((*liveSessionTagRow)(nil)).Where("session_id = ?", sessionID).Exec(ctx); err != nil {
		return err
	}
	if len(tagIDs) == 0 {
		return nil
	}
	rows := make([]liveSessionTagRow, len(tagIDs))
	for i, id := range tagIDs {
		rows[i] = liveSessionTagRow{SessionID: sessionID, TagID: id, Position: i}
	}
	_, err := idb.NewInsert().Model(&rows).Exec(ctx)
	return err
}

// loadCategory returns the category with id, nil for id 0.
func loadCategory(ctx context.Context, idb bun.IDB, id int64) (*channel.Category, error) {
	if id == 0 {
		return nil, nil
	}
	var r categoryRow
	if err := idb.NewSelect().Model(&r).Where("cat.id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("category %d: %w", id, Translate(err))
	}
	c := r.toDomain()
	return &c, nil
}

// uniqueTagIDs returns the tags' IDs in order without duplicates; every tag must have one.
func uniqueTagIDs(tags []channel.Tag) ([]int64, error) {
	ids := make([]int64, 0, len(tags))
	seen := make(map[int64]bool, len(tags))
	for _, t := range tags {
		if t.ID <= 0 {
			return nil, fmt.Errorf("tag %q has no ID", t.Name)
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}

func categoryID(c *channel.Category) int64 {
	if c == nil {
		return 0
	}
	return c.ID
}

// nullID turns 0 into SQL NULL for nullable foreign keys.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
