package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rivo/uniseg"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
)

// Password is the password of every demo account. Demo data is for looking around on a
// machine of your own; never seed a public server with it.
const Password = "freely-demo"

// HandlePrefix starts the handle of every demo channel ("demo_001"); the seeder recognises its
// own earlier, possibly interrupted, run by it.
const HandlePrefix = "demo_"

// ErrNotEmpty: the database holds users that the demo did not create.
var ErrNotEmpty = errors.New("demo data goes only into an empty database, and this one already has users; use a fresh data directory")

// Store is what the seeder needs beyond the services.
type Store interface {
	// ListChannels pages channels by ID ascending, starting after afterID.
	ListChannels(ctx context.Context, afterID int64, limit int) ([]*channel.Channel, error)
	// UpsertCategories makes sure the categories exist (idempotent).
	UpsertCategories(ctx context.Context, cats []channel.Category) error
}

// Options say what to seed and where.
type Options struct {
	Accounts *account.Service
	Channels *channel.Service
	Store    Store
	// Streams are the listings to build channels from; nil means the embedded snapshot.
	Streams []Stream
	// Progress, when set, hears (done, total) after each channel.
	Progress func(done, total int)
	Now      func() time.Time
}

// Result tells the caller what to print.
type Result struct {
	Created  int    // channels created by this run
	Resumed  int    // demo channels an earlier run had created, brought up to date
	Email    string // the first demo account's address, e.g. demo001@example.com
	Password string // Password
}

// Seed creates one verified demo user and channel per distinct stream title: handle demo_001,
// nickname 데모스트리머001, e-mail demo001@example.com, password Password; display name,
// introduction and category come from the listing, and its tags are created. It refuses
// (ErrNotEmpty) a database holding any channel it did not make. Running it again, for instance
// after an interruption, creates only what is missing and rewrites the rest identically.
func Seed(ctx context.Context, opts Options) (Result, error) {
	res := Result{Email: email(1), Password: Password}
	if opts.Accounts == nil || opts.Channels == nil || opts.Store == nil {
		return res, errors.New("demo seed: Accounts, Channels and Store are required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	streams := opts.Streams
	if streams == nil {
		var err error
		if streams, err = Streams(); err != nil {
			return res, err
		}
	}
	existing, err := demoChannels(ctx, opts.Store)
	if err != nil {
		return res, err
	}
	if err := opts.Store.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		return res, fmt.Errorf("demo seed: categories: %w", err)
	}
	cats, err := opts.Channels.Categories(ctx)
	if err != nil {
		return res, err
	}
	known := make(map[string]bool, len(cats))
	for _, c := range cats {
		known[c.Slug] = true
	}
	// One argon2 hash for everyone: they share the password, and hashing 650 times would
	// cost half a minute for nothing.
	hash, err := opts.Accounts.HashPassword(Password)
	if err != nil {
		return res, fmt.Errorf("demo seed: %w", err)
	}

	plans := plan(streams, known)
	for i, p := range plans {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("demo seed interrupted after %d of %d: %w", i, len(plans), err)
		}
		ownerID, ok := existing[p.handle]
		if ok {
			res.Resumed++
		} else {
			u, err := opts.Accounts.ImportUser(ctx, account.SignUpInput{Email: p.email, Nickname: p.nickname, Handle: p.handle}, hash, now())
			if err != nil {
				return res, fmt.Errorf("demo seed: user %s: %w", p.handle, err)
			}
			ownerID = u.ID
			res.Created++
		}
		if _, err := opts.Channels.UpdateSettings(ctx, ownerID, p.settings); err != nil {
			return res, fmt.Errorf("demo seed: channel %s: %w", p.handle, err)
		}
		if len(p.tags) > 0 {
			if _, err := opts.Channels.EnsureTags(ctx, p.tags); err != nil {
				return res, fmt.Errorf("demo seed: tags of %s: %w", p.handle, err)
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(plans))
		}
	}
	return res, nil
}

// demoChannels maps the handles of channels an earlier demo run made to their owners, and
// refuses a database holding any other channel (every user owns one, so this covers users).
func demoChannels(ctx context.Context, st Store) (map[string]int64, error) {
	out := map[string]int64{}
	var after int64
	for {
		page, err := st.ListChannels(ctx, after, 200)
		if err != nil {
			return nil, fmt.Errorf("demo seed: list channels: %w", err)
		}
		for _, ch := range page {
			if !isDemoHandle(ch.Handle) {
				return nil, ErrNotEmpty
			}
			out[ch.Handle] = ch.OwnerID
			after = ch.ID
		}
		if len(page) < 200 {
			return out, nil
		}
	}
}

func isDemoHandle(h string) bool {
	rest, ok := strings.CutPrefix(h, HandlePrefix)
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func email(n int) string { return fmt.Sprintf("demo%03d@example.com", n) }

type channelPlan struct {
	handle, nickname, email string
	settings                channel.SettingsInput
	tags                    []string
}

// plan turns listings into channels: one per distinct title, in file order, numbered from 1.
func plan(streams []Stream, knownCategories map[string]bool) []channelPlan {
	seen := map[string]bool{}
	var out []channelPlan
	for _, s := range streams {
		title := strings.TrimSpace(s.Title)
		if seen[title] {
			continue
		}
		seen[title] = true
		n := len(out) + 1
		tags := usableTags(s.Tags)
		var slugs []string
		if knownCategories[s.Category] {
			slugs = []string{s.Category}
		}
		out = append(out, channelPlan{
			handle:   fmt.Sprintf("%s%03d", HandlePrefix, n),
			nickname: fmt.Sprintf("데모스트리머%03d", n),
			email:    email(n),
			settings: channel.SettingsInput{
				DisplayName:   displayName(n, tags),
				Introduction:  introduction(title, tags),
				CategorySlugs: slugs,
			},
			tags: tags,
		})
	}
	return out
}

// usableTags keeps the tags that normalise cleanly, in order, at most channel.MaxTags.
func usableTags(raw []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range raw {
		t, err := channel.NormalizeTag(r)
		if err != nil || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) == channel.MaxTags {
			break
		}
	}
	return out
}

// genericTags say nothing about the channel (language, "new", "drops enabled"), so they make
// poor names.
var genericTags = map[string]bool{
	"한국어": true, "korean": true, "english": true, "日本語": true, "신입": true, "뉴비": true,
	"초보": true, "하꼬": true, "유입": true, "유입환영": true, "시참": true, "시청자참여": true,
	"드롭활성화됨": true, "드롭스활성화됨": true, "소통": true, "게임": true, "korea": true,
}

var namePatterns = []string{"%s 장인", "%s 하는 사람", "오늘도 %s", "%s 방송국", "%s 연구소", "%s 러버", "%s 한 판", "매일 %s"}

// displayName makes a streamer-like channel name from the listing's most telling tag.
func displayName(n int, tags []string) string {
	for _, t := range tags {
		if genericTags[t] {
			continue
		}
		return fmt.Sprintf(namePatterns[n%len(namePatterns)], clipGraphemes(t, 20))
	}
	return fmt.Sprintf("데모 스트리머 %03d", n)
}

func introduction(title string, tags []string) string {
	var b strings.Builder
	b.WriteString(clipGraphemes(title, 200))
	if len(tags) > 0 {
		if title != "" {
			b.WriteString("\n\n")
		}
		for i, t := range tags {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("#" + t)
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	b.WriteString("데모 채널입니다. 실제 방송 목록의 제목과 태그로 만들었습니다.\nA demo channel, made from the title and tags of a real stream listing.")
	return b.String()
}

func clipGraphemes(s string, n int) string {
	g := uniseg.NewGraphemes(s)
	var b strings.Builder
	for i := 0; i < n && g.Next(); i++ {
		b.WriteString(g.Str())
	}
	return b.String()
}
