package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store"
)

var _ channel.Store = (*DB)(nil)

// Paging limits of ListChannels: a zero or negative limit means DefaultPageSize, and no page
// is larger than MaxPageSize.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ChannelByID implements channel.Store.
func (db *DB) ChannelByID(ctx context.Context, id int64) (*channel.Channel, error) {
	return db.channelWhere(ctx, fmt.Sprintf("channel %d", id), "ch.id = ?", id)
}

// ChannelByHandle implements channel.Store; the handle is compared lower-cased.
func (db *DB) ChannelByHandle(ctx context.Context, handle string) (*channel.Channel, error) {
	return db.channelWhere(ctx, fmt.Sprintf("channel @%s", handle), "ch.handle = ?", normalizeHandle(handle))
}

// ChannelByOwner implements channel.Store.
func (db *DB) ChannelByOwner(ctx context.Context, ownerID int64) (*channel.Channel, error) {
	return db.channelWhere(ctx, fmt.Sprintf("channel of user %d", ownerID), "ch.owner_id = ?", ownerID)
}

// ChannelByStreamKey implements channel.Store. The empty key matches no channel.
func (db *DB) ChannelByStreamKey(ctx context.Context, key string) (*channel.Channel, error) {
	if key == "" {
		return nil, fmt.Errorf("channel by stream key: %w", store.ErrNotFound)
	}
	// The key is a secret: it stays out of the error text.
	return db.channelWhere(ctx, "channel by stream key", "ch.stream_key = ?", key)
}

func (db *DB) channelWhere(ctx context.Context, what, where string, arg any) (*channel.Channel, error) {
	var r channelRow
	if err := db.idb(ctx).NewSelect().Model(&r).Where(where, arg).Scan(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", what, Translate(err))
	}
	ch := r.toDomain()
	cats, err := loadChannelCategories(ctx, db.idb(ctx), []int64{ch.ID})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ch.Categories = cats[ch.ID]
	return ch, nil
}

// UpdateChannel implements channel.Store. Categories are taken by ID in the given order
// (duplicates dropped); an unknown category ID gives store.ErrNotFound and changes nothing.
// ch.Categories is refilled with the stored categories and ch.UpdatedAt set.
func (db *DB) UpdateChannel(ctx context.Context, ch *channel.Channel) error {
	if ch == nil {
		return errors.New("update channel: nil channel")
	}
	ids, err := categoryIDs(ch.Categories)
	if err != nil {
		return fmt.Errorf("update channel %d: %w", ch.ID, err)
	}
	now := dbTime(time.Now())
	var cats []channel.Category
	err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*channelRow)(nil)).
			Set("display_name = ?", ch.DisplayName).
			Set("introduction = ?", ch.Introduction).
			Set("profile_key = ?", ch.ProfileKey).
			Set("banner_key = ?", ch.BannerKey).
			Set("updated_at = ?", now).
			Where("id = ?", ch.ID).
			Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if cats, err = replaceChannelCategories(ctx, tx, ch.ID, ids); err != nil {
			return err
		}
		return db.indexChannelTx(ctx, tx, ch.ID) // search_sync.go
	})
	if err != nil {
		return fmt.Errorf("update channel %d: %w", ch.ID, Translate(err))
	}
	ch.Categories = cats
	ch.UpdatedAt = now
	return nil
}

// SetStreamKey implements channel.Store. A key already used by another channel gives a
// ConflictError for "stream_key".
func (db *DB) SetStreamKey(ctx context.Context, channelID int64, key string) error {
	if key == "" {
		return fmt.Errorf("set stream key of channel %d: empty key", channelID)
	}
	res, err := db.idb(ctx).NewUpdate().Model((*channelRow)(nil)).
		Set("stream_key = ?", key).
		Set("updated_at = ?", dbTime(time.Now())).
		Where("id = ?", channelID).
		Exec(ctx)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("set stream key of channel %d: %w", channelID, err)
	}
	return nil
}

// SetSuspended implements channel.Store.
func (db *DB) SetSuspended(ctx context.Context, channelID int64, suspended bool) error {
	res, err := db.idb(ctx).NewUpdate().Model((*channelRow)(nil)).
		Set("suspended = ?", suspended).
		Set("updated_at = ?", dbTime(time.Now())).
		Where("id = ?", channelID).
		Exec(ctx)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("set suspended=%t on channel %d: %w", suspended, channelID, err)
	}
	return nil
}

// ListChannels implements channel.Store. limit ≤ 0 means DefaultPageSize; larger limits are
// capped at MaxPageSize. An empty page means there are no more channels.
func (db *DB) ListChannels(ctx context.Context, afterID int64, limit int) ([]*channel.Channel, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	var rows []channelRow
	err := db.idb(ctx).NewSelect().Model(&rows).
		Where("ch.id > ?", afterID).
		OrderExpr("ch.id ASC").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list channels after %d: %w", afterID, Translate(err))
	}
	out := make([]*channel.Channel, len(rows))
	ids := make([]int64, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
		ids[i] = rows[i].ID
	}
	cats, err := loadChannelCategories(ctx, db.idb(ctx), ids)
	if err != nil {
		return nil, fmt.Errorf("list channels after %d: %w", afterID, err)
	}
	for _, ch := range out {
		ch.Categories = cats[ch.ID]
	}
	return out, nil
}

// Categories implements channel.Store: every category, in channel.CompareCategories order
// (sorted here, so both databases agree whatever their collation).
func (db *DB) Categories(ctx context.Context) ([]channel.Category, error) {
	var rows []categoryRow
	if err := db.idb(ctx).NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list categories: %w", Translate(err))
	}
	out := make([]channel.Category, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	slices.SortFunc(out, channel.CompareCategories)
	return out, nil
}

// CategoryBySlug implements channel.Store.
func (db *DB) CategoryBySlug(ctx context.Context, slug string) (*channel.Category, error) {
	var r categoryRow
	if err := db.idb(ctx).NewSelect().Model(&r).Where("cat.slug = ?", slug).Scan(ctx); err != nil {
		return nil, fmt.Errorf("category %q: %w", slug, Translate(err))
	}
	c := r.toDomain()
	return &c, nil
}

// UpsertCategories implements channel.Store. It is idempotent and safe to run on every start
// from several processes at once; IDs of existing categories never change. A slug listed
// twice in one call is an error (it would be ambiguous which names win).
func (db *DB) UpsertCategories(ctx context.Context, cats []channel.Category) error {
	if len(cats) == 0 {
		return nil
	}
	rows := make([]categoryRow, len(cats))
	seen := make(map[string]bool, len(cats))
	for i, c := range cats {
		switch {
		case c.Slug == "":
			return fmt.Errorf("upsert categories: entry %d has no slug", i)
		case c.NameKO == "" || c.NameEN == "":
			return fmt.Errorf("upsert categories: %q needs a Korean and an English name", c.Slug)
		case seen[c.Slug]:
			return fmt.Errorf("upsert categories: slug %q listed twice", c.Slug)
		}
		seen[c.Slug] = true
		rows[i] = categoryRow{Slug: c.Slug, NameKO: c.NameKO, NameEN: c.NameEN}
	}
	_, err := db.idb(ctx).NewInsert().Model(&rows).
		On("CONFLICT (slug) DO UPDATE").
		Set("name_ko = EXCLUDED.name_ko").
		Set("name_en = EXCLUDED.name_en").
		Returning("NULL").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("upsert %d categories: %w", len(rows), Translate(err))
	}
	return nil
}

// EnsureTags implements channel.Store. Tags come back in the order of names, duplicates
// dropped. Concurrent callers creating the same tag all get the one row: the insert skips
// names that exist (or are being inserted) and the select that follows sees them.
func (db *DB) EnsureTags(ctx context.Context, names []string) ([]channel.Tag, error) {
	uniq := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			return nil, errors.New("ensure tags: empty tag name")
		}
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	if len(uniq) == 0 {
		return []channel.Tag{}, nil
	}
	rows := make([]tagRow, len(uniq))
	for i, n := range uniq {
		rows[i] = tagRow{Name: n}
	}
	_, err := db.idb(ctx).NewInsert().Model(&rows).
		On("CONFLICT (name) DO NOTHING").
		Returning("NULL").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("ensure %d tags: %w", len(uniq), Translate(err))
	}
	var found []tagRow
	if err := db.idb(ctx).NewSelect().Model(&found).Where("tg.name IN (?)", bun.In(uniq)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("ensure %d tags: %w", len(uniq), Translate(err))
	}
	byName := make(map[string]int64, len(found))
	for _, r := range found {
		byName[r.Name] = r.ID
	}
	out := make([]channel.Tag, 0, len(uniq))
	for _, n := range uniq {
		id, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("ensure tags: tag %q missing after insert", n)
		}
		out = append(out, channel.Tag{ID: id, Name: n})
	}
	return out, nil
}

// categoryIDs validates a channel's category list and returns the IDs in order, without
// duplicates.
func categoryIDs(cats []channel.Category) ([]int64, error) {
	ids := make([]int64, 0, len(cats))
	for _, c := range cats {
		if c.ID <= 0 {
			return nil, fmt.Errorf("category %q has no ID", c.Slug)
		}
		dup := false
		for _, id := range ids {
			dup = dup || id == c.ID
		}
		if !dup {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) > channel.MaxCategories {
		return nil, fmt.Errorf("%d categories, at most %d allowed", len(ids), channel.MaxCategories)
	}
	return ids, nil
}

// replaceChannelCategories makes ids the channel's category list and returns the stored
// categories in order.
func replaceChannelCategories(ctx context.Context, idb bun.IDB, channelID int64, ids []int64) ([]channel.Category, error) {
	if _, err := idb.NewDelete().Model((*channelCategoryRow)(nil)).Where("channel_id = ?", channelID).Exec(ctx); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows := make([]channelCategoryRow, len(ids))
	for i, id := range ids {
		rows[i] = channelCategoryRow{ChannelID: channelID, CategoryID: id, Position: i}
	}
	if _, err := idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return nil, err
	}
	cats, err := loadChannelCategories(ctx, idb, []int64{channelID})
	if err != nil {
		return nil, err
	}
	return cats[channelID], nil
}

// loadChannelCategories returns the categories of each channel, in the channel's order.
func loadChannelCategories(ctx context.Context, idb bun.IDB, channelIDs []int64) (map[int64][]channel.Category, error) {
	out := make(map[int64][]channel.Category, len(channelIDs))
	if len(channelIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ChannelID int64  `bun:"channel_id"`
		ID        int64  `bun:"id"`
		Slug      string `bun:"slug"`
		NameKO    string `bun:"name_ko"`
		NameEN    string `bun:"name_en"`
	}
	err := idb.NewRaw(`SELECT cc.channel_id, c.id, c.slug, c.name_ko, c.name_en
		FROM channel_categories AS cc JOIN categories AS c ON c.id = cc.category_id
		WHERE cc.channel_id IN (?)
		ORDER BY cc.channel_id, cc.position`, bun.In(channelIDs)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load channel categories: %w", Translate(err))
	}
	for _, r := range rows {
		out[r.ChannelID] = append(out[r.ChannelID], channel.Category{ID: r.ID, Slug: r.Slug, NameKO: r.NameKO, NameEN: r.NameEN})
	}
	return out, nil
}
