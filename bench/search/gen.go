package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/demo"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// Rows written straight into the platform's tables: loading 150,000 documents through one
// transaction each would measure the loader, not search. The index is then built by
// SearchIndex.Reindex, the same code `freely reindex` runs, which is what gets timed.

type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        string    `bun:"email"`
	Nickname     string    `bun:"nickname"`
	NicknameKey  string    `bun:"nickname_key"`
	PasswordHash string    `bun:"password_hash"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

type channelRow struct {
	bun.BaseModel `bun:"table:channels"`

	ID           int64     `bun:"id,pk,autoincrement"`
	OwnerID      int64     `bun:"owner_id"`
	Handle       string    `bun:"handle"`
	DisplayName  string    `bun:"display_name"`
	Introduction string    `bun:"introduction"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

type channelCategoryRow struct {
	bun.BaseModel `bun:"table:channel_categories"`

	ChannelID  int64 `bun:"channel_id"`
	CategoryID int64 `bun:"category_id"`
	Position   int   `bun:"position"`
}

type sessionRow struct {
	bun.BaseModel `bun:"table:live_sessions"`

	ID          int64     `bun:"id,pk,autoincrement"`
	ChannelID   int64     `bun:"channel_id"`
	Title       string    `bun:"title"`
	CategoryID  int64     `bun:"category_id,nullzero"`
	StartedAt   time.Time `bun:"started_at"`
	LastSeenAt  time.Time `bun:"last_seen_at"`
	EndedAt     time.Time `bun:"ended_at,nullzero"`
	DurationMS  int64     `bun:"duration_ms"`
	PeakViewers int       `bun:"peak_viewers"`
}

type sessionTagRow struct {
	bun.BaseModel `bun:"table:live_session_tags"`

	SessionID int64 `bun:"session_id"`
	TagID     int64 `bun:"tag_id"`
	Position  int   `bun:"position"`
}

// corpus is the Korean stream snapshot with its tags normalised the way the platform does.
type corpus struct {
	streams []demo.Stream
	tags    [][]string // normalised tags per stream
}

func loadCorpus() (*corpus, error) {
	streams, err := demo.Streams()
	if err != nil {
		return nil, err
	}
	c := &corpus{streams: streams, tags: make([][]string, len(streams))}
	for i, s := range streams {
		for _, t := range s.Tags {
			if n, err := channel.NormalizeTag(t); err == nil {
				c.tags[i] = append(c.tags[i], n)
			}
		}
	}
	return c, nil
}

// nameSyllables build plausible Korean channel names.
var nameSyllables = []rune("가나다라마바사아자차카타파하민수지현우진영서연도윤하은준호성훈태경미소람별빛솔")

func randomName(r *rand.Rand) string {
	var b strings.Builder
	for range 2 + r.IntN(3) {
		b.WriteRune(nameSyllables[r.IntN(len(nameSyllables))])
	}
	switch r.IntN(4) {
	case 0:
		b.WriteString("TV")
	case 1:
		b.WriteString("방송")
	}
	return b.String()
}

// recombine builds a title from the first half of one title and the second half of another.
func recombine(r *rand.Rand, c *corpus) (title string, rec int) {
	a, b := r.IntN(len(c.streams)), r.IntN(len(c.streams))
	wa, wb := strings.Fields(c.streams[a].Title), strings.Fields(c.streams[b].Title)
	words := append(wa[:(len(wa)+1)/2:(len(wa)+1)/2], wb[len(wb)/2:]...)
	return strings.Join(words, " "), a
}

// generate loads channels and sessions (the first `live` channels each have one open
// session) into an empty database.
func generate(ctx context.Context, db *sqlstore.DB, c *corpus, channels, sessions, live int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		return err
	}
	cats, err := db.Categories(ctx)
	if err != nil {
		return err
	}
	catID := map[string]int64{}
	for _, cat := range cats {
		catID[cat.Slug] = cat.ID
	}
	var allTags []string
	seen := map[string]bool{}
	for _, ts := range c.tags {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				allTags = append(allTags, t)
			}
		}
	}
	tags, err := db.EnsureTags(ctx, allTags)
	if err != nil {
		return err
	}
	tagID := map[string]int64{}
	for _, t := range tags {
		tagID[t.Name] = t.ID
	}

	now := time.Now().UTC().Truncate(time.Microsecond)
	const batch = 1000
	channelIDs := make([]int64, 0, channels)
	for start := 0; start < channels; start += batch {
		n := min(batch, channels-start)
		users := make([]userRow, n)
		for i := range users {
			k := start + i
			users[i] = userRow{
				Email: fmt.Sprintf("bench%d@example.invalid", k), Nickname: fmt.Sprintf("벤치%d", k),
				NicknameKey: fmt.Sprintf("벤치%d", k), PasswordHash: "x", CreatedAt: now, UpdatedAt: now,
			}
		}
		err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewInsert().Model(&users).Exec(ctx); err != nil {
				return err
			}
			chans := make([]channelRow, n)
			for i := range chans {
				title, _ := recombine(r, c)
				chans[i] = channelRow{
					OwnerID: users[i].ID, Handle: fmt.Sprintf("ch%d", start+i), DisplayName: randomName(r),
					Introduction: title, CreatedAt: now.Add(-time.Duration(r.IntN(365*24)) * time.Hour), UpdatedAt: now,
				}
			}
			if _, err := tx.NewInsert().Model(&chans).Exec(ctx); err != nil {
				return err
			}
			links := make([]channelCategoryRow, n)
			for i := range chans {
				channelIDs = append(channelIDs, chans[i].ID)
				links[i] = channelCategoryRow{ChannelID: chans[i].ID, CategoryID: catID[c.streams[r.IntN(len(c.streams))].Category]}
			}
			_, err := tx.NewInsert().Model(&links).Exec(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("insert channels: %w", err)
		}
	}

	for start := 0; start < sessions; start += batch {
		n := min(batch, sessions-start)
		rows := make([]sessionRow, n)
		recs := make([]int, n)
		for i := range rows {
			k := start + i
			title, rec := recombine(r, c)
			recs[i] = rec
			// Sessions are written oldest first, so newer sessions get larger IDs, as in life;
			// the last `live` are open, one per channel.
			age := time.Duration(sessions-k) * 90 * 24 * time.Hour / time.Duration(sessions)
			started := now.Add(-age)
			row := sessionRow{
				Title: title, CategoryID: catID[c.streams[rec].Category], StartedAt: started,
				LastSeenAt: started, PeakViewers: c.streams[r.IntN(len(c.streams))].Viewers,
			}
			if k >= sessions-live {
				row.ChannelID = channelIDs[k-(sessions-live)]
				row.LastSeenAt = now
			} else {
				row.ChannelID = channelIDs[live+r.IntN(len(channelIDs)-live)]
				dur := time.Duration(30+r.IntN(300)) * time.Minute
				row.EndedAt, row.LastSeenAt, row.DurationMS = started.Add(dur), started.Add(dur), dur.Milliseconds()
			}
			rows[i] = row
		}
		err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return err
			}
			var links []sessionTagRow
			for i := range rows {
				// Tags of the record the title started from, shuffled and cut, plus a
				// neighbour's now and then: recombined, yet still about the same game.
				ts := append([]string(nil), c.tags[recs[i]]...)
				if r.IntN(3) == 0 {
					ts = append(ts, c.tags[r.IntN(len(c.tags))]...)
				}
				r.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
				used := map[int64]bool{}
				for _, t := range ts {
					id := tagID[t]
					if id == 0 || used[id] || len(used) == 10 {
						continue
					}
					used[id] = true
					links = append(links, sessionTagRow{SessionID: rows[i].ID, TagID: id, Position: len(used) - 1})
				}
			}
			if len(links) == 0 {
				return nil
			}
			_, err := tx.NewInsert().Model(&links).Exec(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("insert sessions: %w", err)
		}
	}
	return nil
}
