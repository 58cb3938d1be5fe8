package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/filter"
)

// ChatStore implements chat.Store on the tables of migrations/*/0200_chat.up.sql (and the
// column 0201_chat_follow_age.up.sql adds).
type ChatStore struct{ db *DB }

var _ chat.Store = (*ChatStore)(nil)

// NewChatStore returns the chat store of db.
func NewChatStore(db *DB) *ChatStore { return &ChatStore{db: db} }

func init() {
	RegisterConflictField("chat_managers.channel_id, chat_managers.user_id", "manager")
	RegisterConflictField("chat_managers_pkey", "manager")
}

// chatInsertChunk bounds the rows of one INSERT, well inside both databases' limits on
// statement size and parameters.
const chatInsertChunk = 500

type chatMessageRow struct {
	bun.BaseModel `bun:"table:chat_messages,alias:cm"`

	ID        int64     `bun:"id,pk"`
	ChannelID int64     `bun:"channel_id,notnull"`
	UserID    int64     `bun:"user_id,notnull"`
	Nickname  string    `bun:"nickname,notnull"`
	Badges    string    `bun:"badges,notnull"`
	Body      string    `bun:"body,notnull"`
	Masked    bool      `bun:"masked,notnull"`
	SentAt    time.Time `bun:"sent_at,notnull"`
	DeletedAt time.Time `bun:"deleted_at,nullzero"`
}

type chatSettingsRow struct {
	bun.BaseModel `bun:"table:chat_settings,alias:cs"`

	ChannelID        int64     `bun:"channel_id,pk"`
	SlowSeconds      int       `bun:"slow_seconds,notnull"`
	FollowersOnly    bool      `bun:"followers_only,notnull"`
	MinFollowSeconds int64     `bun:"min_follow_seconds,notnull"`
	VerifiedOnly     bool      `bun:"verified_only,notnull"`
	FilterMode       string    `bun:"filter_mode,notnull"`
	Words            string    `bun:"words,notnull"`
	AllowedWords     string    `bun:"allowed_words,notnull"`
	UpdatedAt        time.Time `bun:"updated_at,notnull"`
}

type chatRestrictionRow struct {
	bun.BaseModel `bun:"table:chat_restrictions,alias:cr"`

	ChannelID int64     `bun:"channel_id,pk"`
	UserID    int64     `bun:"user_id,pk"`
	Kind      string    `bun:"kind,notnull"`
	Until     time.Time `bun:"until,nullzero"`
	Reason    string    `bun:"reason,notnull"`
	ByUserID  int64     `bun:"by_user_id,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

type chatManagerRow struct {
	bun.BaseModel `bun:"table:chat_managers,alias:cmg"`

	ChannelID   int64     `bun:"channel_id,pk"`
	UserID      int64     `bun:"user_id,pk"`
	AppointedBy int64     `bun:"appointed_by,notnull"`
	AppointedAt time.Time `bun:"appointed_at,notnull"`
}

type chatAuditRow struct {
	bun.BaseModel `bun:"table:chat_audit,alias:ca"`

	ID           int64     `bun:"id,pk,autoincrement"`
	ChannelID    int64     `bun:"channel_id,notnull"`
	ActorID      int64     `bun:"actor_id,notnull"`
	Action       string    `bun:"action,notnull"`
	TargetUserID int64     `bun:"target_user_id,notnull"`
	MessageID    int64     `bun:"message_id,notnull"`
	Detail       string    `bun:"detail,notnull"`
	At           time.Time `bun:"at,notnull"`
}

func messageRow(m *chat.Message) chatMessageRow {
	return chatMessageRow{
		ID: m.ID, ChannelID: m.ChannelID, UserID: m.UserID, Nickname: m.Nickname,
		Badges: strings.Join(m.Badges, ","), Body: m.Text, Masked: m.Masked,
		SentAt: dbTime(m.SentAt), DeletedAt: dbTime(m.DeletedAt),
	}
}

func (r *chatMessageRow) message() chat.Message {
	m := chat.Message{
		ID: r.ID, ChannelID: r.ChannelID, UserID: r.UserID, Nickname: r.Nickname, Text: r.Body,
		Masked: r.Masked, SentAt: readTime(r.SentAt), DeletedAt: readTime(r.DeletedAt),
	}
	if r.Badges != "" {
		m.Badges = strings.Split(r.Badges, ",")
	}
	return m
}

func messages(rows []chatMessageRow) []chat.Message {
	out := make([]chat.Message, len(rows))
	for i := range rows {
		out[i] = rows[i].message()
	}
	return out
}

// SaveMessages implements chat.Store.
func (cs *ChatStore) SaveMessages(ctx context.Context, msgs []chat.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rows := make([]chatMessageRow, len(msgs))
	for i := range msgs {
		rows[i] = messageRow(&msgs[i])
	}
	err := cs.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for chunk := range slices.Chunk(rows, chatInsertChunk) {
			if _, err := tx.NewInsert().Model(&chunk).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save %d chat messages: %w", len(msgs), Translate(err))
	}
	return nil
}

// DeleteMessages implements chat.Store.
func (cs *ChatStore) DeleteMessages(ctx context.Context, channelID int64, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := cs.db.idb(ctx).NewUpdate().Model((*chatMessageRow)(nil)).
		Set("deleted_at = ?", dbTime(at)).
		Where("channel_id = ?", channelID).
		Where("id IN (?)", bun.In(ids)).
		Where("deleted_at IS NULL").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete chat messages of channel %d: %w", channelID, Translate(err))
	}
	return nil
}

// ClearMessages implements chat.Store.
func (cs *ChatStore) ClearMessages(ctx context.Context, channelID, upToID int64, at time.Time) error {
	_, err := cs.db.idb(ctx).NewUpdate().Model((*chatMessageRow)(nil)).
		Set("deleted_at = ?", dbTime(at)).
		Where("channel_id = ?", channelID).
		Where("id <= ?", upToID).
		Where("deleted_at IS NULL").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("clear chat of channel %d: %w", channelID, Translate(err))
	}
	return nil
}

// MessageByID implements chat.Store.
func (cs *ChatStore) MessageByID(ctx context.Context, channelID, id int64) (*chat.Message, error) {
	var row chatMessageRow
	err := cs.db.idb(ctx).NewSelect().Model(&row).Where("cm.id = ? AND cm.channel_id = ?", id, channelID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("chat message %d: %w", id, Translate(err))
	}
	m := row.message()
	return &m, nil
}

// RecentMessages implements chat.Store.
func (cs *ChatStore) RecentMessages(ctx context.Context, channelID int64, limit int) ([]chat.Message, error) {
	var rows []chatMessageRow
	err := cs.db.idb(ctx).NewSelect().Model(&rows).
		Where("cm.channel_id = ? AND cm.deleted_at IS NULL", channelID).
		OrderExpr("cm.id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("recent chat of channel %d: %w", channelID, Translate(err))
	}
	slices.Reverse(rows)
	return messages(rows), nil
}

// MessagesAfter implements chat.Store.
func (cs *ChatStore) MessagesAfter(ctx context.Context, channelID, afterID int64, limit int) ([]chat.Message, error) {
	var rows []chatMessageRow
	err := cs.db.idb(ctx).NewSelect().Model(&rows).
		Where("cm.channel_id = ? AND cm.id > ? AND cm.deleted_at IS NULL", channelID, afterID).
		OrderExpr("cm.id ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("chat of channel %d after %d: %w", channelID, afterID, Translate(err))
	}
	return messages(rows), nil
}

// UserMessages implements chat.Store.
func (cs *ChatStore) UserMessages(ctx context.Context, channelID, userID, beforeID int64, limit int) ([]chat.Message, error) {
	var rows []chatMessageRow
	q := cs.db.idb(ctx).NewSelect().Model(&rows).
		Where("cm.channel_id = ? AND cm.user_id = ?", channelID, userID)
	if beforeID > 0 {
		q = q.Where("cm.id < ?", beforeID)
	}
	if err := q.OrderExpr("cm.id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("chat log of user %d in channel %d: %w", userID, channelID, Translate(err))
	}
	return messages(rows), nil
}

// ChatSettings implements chat.Store.
func (cs *ChatStore) ChatSettings(ctx context.Context, channelID int64) (*chat.Settings, error) {
	var row chatSettingsRow
	if err := cs.db.idb(ctx).NewSelect().Model(&row).Where("cs.channel_id = ?", channelID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("chat settings of channel %d: %w", channelID, Translate(err))
	}
	s := &chat.Settings{
		ChannelID: row.ChannelID, SlowSeconds: row.SlowSeconds, FollowersOnly: row.FollowersOnly,
		MinFollowAge: time.Duration(row.MinFollowSeconds) * time.Second,
		VerifiedOnly: row.VerifiedOnly, FilterMode: filter.Mode(row.FilterMode), UpdatedAt: readTime(row.UpdatedAt),
	}
	if err := json.Unmarshal([]byte(row.Words), &s.Words); err != nil {
		return nil, fmt.Errorf("chat settings of channel %d: words: %w", channelID, err)
	}
	if err := json.Unmarshal([]byte(row.AllowedWords), &s.AllowedWords); err != nil {
		return nil, fmt.Errorf("chat settings of channel %d: allowed words: %w", channelID, err)
	}
	return s, nil
}

// SaveChatSettings implements chat.Store.
func (cs *ChatStore) SaveChatSettings(ctx context.Context, s *chat.Settings, audit *chat.AuditEntry) error {
	words, err := json.Marshal(nonNil(s.Words))
	if err != nil {
		return fmt.Errorf("save chat settings: %w", err)
	}
	allowed, err := json.Marshal(nonNil(s.AllowedWords))
	if err != nil {
		return fmt.Errorf("save chat settings: %w", err)
	}
	row := chatSettingsRow{
		ChannelID: s.ChannelID, SlowSeconds: s.SlowSeconds, FollowersOnly: s.FollowersOnly,
		MinFollowSeconds: int64(s.MinFollowAge / time.Second), VerifiedOnly: s.VerifiedOnly,
		FilterMode: string(s.FilterMode), Words: string(words), AllowedWords: string(allowed),
		UpdatedAt: dbTime(orNow(s.UpdatedAt, time.Now())),
	}
	err = cs.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&row).
			On("CONFLICT (channel_id) DO UPDATE").
			Set("slow_seconds = EXCLUDED.slow_seconds").
			Set("followers_only = EXCLUDED.followers_only").
			Set("min_follow_seconds = EXCLUDED.min_follow_seconds").
			Set("verified_only = EXCLUDED.verified_only").
			Set("filter_mode = EXCLUDED.filter_mode").
			Set("words = EXCLUDED.words").
			Set("allowed_words = EXCLUDED.allowed_words").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("save chat settings of channel %d: %w", s.ChannelID, Translate(err))
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Restrictions implements chat.Store.
func (cs *ChatStore) Restrictions(ctx context.Context, channelID int64, now time.Time) ([]chat.Restriction, error) {
	var rows []chatRestrictionRow
	err := cs.db.idb(ctx).NewSelect().Model(&rows).
		Where("cr.channel_id = ?", channelID).
		Where("(cr.kind = ? OR cr.until > ?)", string(chat.KindBan), dbTime(now)).
		OrderExpr("cr.created_at DESC, cr.user_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("chat restrictions of channel %d: %w", channelID, Translate(err))
	}
	out := make([]chat.Restriction, len(rows))
	for i, r := range rows {
		out[i] = chat.Restriction{
			ChannelID: r.ChannelID, UserID: r.UserID, Kind: chat.RestrictionKind(r.Kind), Until: readTime(r.Until),
			Reason: r.Reason, ByUserID: r.ByUserID, CreatedAt: readTime(r.CreatedAt),
		}
	}
	return out, nil
}

// PutRestriction implements chat.Store.
func (cs *ChatStore) PutRestriction(ctx context.Context, x *chat.Restriction, audit *chat.AuditEntry) error {
	if x.Kind != chat.KindBan && x.Kind != chat.KindTimeout {
		return fmt.Errorf("put chat restriction: unknown kind %q", x.Kind)
	}
	row := chatRestrictionRow{
		ChannelID: x.ChannelID, UserID: x.UserID, Kind: string(x.Kind), Until: dbTime(x.Until),
		Reason: x.Reason, ByUserID: x.ByUserID, CreatedAt: dbTime(orNow(x.CreatedAt, time.Now())),
	}
	if x.Kind == chat.KindBan {
		row.Until = time.Time{}
	}
	err := cs.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&row).
			On("CONFLICT (channel_id, user_id) DO UPDATE").
			Set("kind = EXCLUDED.kind").
			Set("until = EXCLUDED.until").
			Set("reason = EXCLUDED.reason").
			Set("by_user_id = EXCLUDED.by_user_id").
			Set("created_at = EXCLUDED.created_at").
			Exec(ctx)
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("restrict user %d in channel %d: %w", x.UserID, x.ChannelID, Translate(err))
	}
	return nil
}

// DeleteRestriction implements chat.Store.
func (cs *ChatStore) DeleteRestriction(ctx context.Context, channelID, userID int64, audit *chat.AuditEntry) error {
	err := cs.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*chatRestrictionRow)(nil)).
			Where("channel_id = ? AND user_id = ?", channelID, userID).Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("lift restriction of user %d in channel %d: %w", userID, channelID, Translate(err))
	}
	return nil
}

// Managers implements chat.Store.
func (cs *ChatStore) Managers(ctx context.Context, channelID int64) ([]chat.Manager, error) {
	var rows []chatManagerRow
	err := cs.db.idb(ctx).NewSelect().Model(&rows).Where("cmg.channel_id = ?", channelID).
		OrderExpr("cmg.appointed_at, cmg.user_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("chat managers of channel %d: %w", channelID, Translate(err))
	}
	out := make([]chat.Manager, len(rows))
	for i, r := range rows {
		out[i] = chat.Manager{ChannelID: r.ChannelID, UserID: r.UserID, AppointedBy: r.AppointedBy, AppointedAt: readTime(r.AppointedAt)}
	}
	return out, nil
}

// AddManager implements chat.Store.
func (cs *ChatStore) AddManager(ctx context.Context, m *chat.Manager, audit *chat.AuditEntry) error {
	row := chatManagerRow{ChannelID: m.ChannelID, UserID: m.UserID, AppointedBy: m.AppointedBy, AppointedAt: dbTime(orNow(m.AppointedAt, time.Now()))}
	err := cs.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("appoint user %d manager of channel %d: %w", m.UserID, m.ChannelID, Translate(err))
	}
	return nil
}

// RemoveManager implements chat.Store.
func (cs *ChatStore) RemoveManager(ctx context.Context, channelID, userID int64, audit *chat.AuditEntry) error {
	err := cs.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*chatManagerRow)(nil)).
			Where("channel_id = ? AND user_id = ?", channelID, userID).Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		return insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("dismiss manager %d of channel %d: %w", userID, channelID, Translate(err))
	}
	return nil
}

// AppendAudit implements chat.Store.
func (cs *ChatStore) AppendAudit(ctx context.Context, e *chat.AuditEntry) error {
	if err := insertAudit(ctx, cs.db.idb(ctx), e); err != nil {
		return fmt.Errorf("append chat audit entry: %w", Translate(err))
	}
	return nil
}

func insertAudit(ctx context.Context, idb bun.IDB, e *chat.AuditEntry) error {
	if e == nil {
		return nil
	}
	row := chatAuditRow{
		ChannelID: e.ChannelID, ActorID: e.ActorID, Action: string(e.Action), TargetUserID: e.TargetUserID,
		MessageID: e.MessageID, Detail: e.Detail, At: dbTime(orNow(e.At, time.Now())),
	}
	if _, err := idb.NewInsert().Model(&row).Exec(ctx); err != nil {
		return err
	}
	e.ID, e.At = row.ID, row.At
	return nil
}

// AuditLog implements chat.Store.
func (cs *ChatStore) AuditLog(ctx context.Context, channelID, beforeID int64, limit int) ([]chat.AuditEntry, error) {
	var rows []chatAuditRow
	q := cs.db.idb(ctx).NewSelect().Model(&rows).Where("ca.channel_id = ?", channelID)
	if beforeID > 0 {
		q = q.Where("ca.id < ?", beforeID)
	}
	if err := q.OrderExpr("ca.id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("chat audit log of channel %d: %w", channelID, Translate(err))
	}
	out := make([]chat.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = chat.AuditEntry{
			ID: r.ID, ChannelID: r.ChannelID, ActorID: r.ActorID, Action: chat.Action(r.Action),
			TargetUserID: r.TargetUserID, MessageID: r.MessageID, Detail: r.Detail, At: readTime(r.At),
		}
	}
	return out, nil
}
