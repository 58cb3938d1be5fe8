package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// syncWorld uses only the ordinary store methods: the index must follow them by itself.
type syncWorld struct {
	db   *sqlstore.DB
	ls   *sqlstore.LiveStore
	ix   *sqlstore.SearchIndex
	svc  *search.Service
	cats map[string]*channel.Category
	n    int
}

func newSyncWorld(t *testing.T, db *sqlstore.DB, attach bool) *syncWorld {
	t.Helper()
	ctx := context.Background()
	an := readyAnalyzer(t)
	w := &syncWorld{db: db, ls: sqlstore.NewLiveStore(db), ix: sqlstore.NewSearchIndex(db, an), cats: map[string]*channel.Category{}}
	if attach {
		db.UseSearchIndex(w.ix)
	}
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatal(err)
	}
	cats, err := db.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cats {
		w.cats[cats[i].Slug] = &cats[i]
	}
	if w.svc, err = search.New(search.Options{Store: w.ix, Analyzer: an}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *syncWorld) signUp(t *testing.T, handle, name string, cats ...string) *channel.Channel {
	t.Helper()
	w.n++
	u := &account.User{Email: fmt.Sprintf("sync%d@example.com", w.n), Nickname: fmt.Sprintf("sync%d", w.n),
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"}
	ch := &channel.Channel{Handle: handle, DisplayName: name}
	for _, c := range cats {
		ch.Categories = append(ch.Categories, *w.cats[c])
	}
	if err := w.db.CreateUserWithChannel(context.Background(), u, ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

func (w *syncWorld) tags(t *testing.T, raw ...string) []channel.Tag {
	t.Helper()
	tags, err := w.db.EnsureTags(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

// find returns the handles (channels) or titles (sessions) each section holds for text.
func (w *syncWorld) find(t *testing.T, text string) (live, channels, past []string) {
	t.Helper()
	res, err := w.svc.Search(context.Background(), search.Query{Text: text})
	if err != nil {
		t.Fatalf("search %q: %v", text, err)
	}
	for _, h := range res.Live {
		live = append(live, h.Title)
	}
	for _, h := range res.Channels {
		channels = append(channels, h.Handle)
	}
	for _, h := range res.Past {
		past = append(past, h.Title)
	}
	return live, channels, past
}

func TestStoreWritesKeepSearchInSync(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newSyncWorld(t, db, true)

		// Sign-up: the channel is searchable as soon as the account exists.
		ch := w.signUp(t, "sync_one", "달빛요정", "just-chatting")
		if _, chans, _ := w.find(t, "달빛요정"); !slices.Equal(chans, []string{"sync_one"}) {
			t.Fatalf("after sign-up: channels = %v", chans)
		}

		// Rename and recategorise.
		ch.DisplayName = "별빛기사"
		ch.Categories = []channel.Category{*w.cats["valorant"]}
		if err := db.UpdateChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if _, chans, _ := w.find(t, "달빛요정"); len(chans) != 0 {
			t.Errorf("old name still finds %v", chans)
		}
		if _, chans, _ := w.find(t, "별빛기사"); !slices.Equal(chans, []string{"sync_one"}) {
			t.Errorf("new name: channels = %v", chans)
		}

		// Going live: title and tags are searchable, the channel is live.
		s := &live.Session{ChannelID: ch.ID, Title: "새벽 랭크 도전", Tags: w.tags(t, "브론즈탈출"),
			Category: w.cats["valorant"], StartedAt: time.Now()}
		if err := w.ls.OpenSession(ctx, s, nil); err != nil {
			t.Fatal(err)
		}
		if lv, _, _ := w.find(t, "랭크"); !slices.Equal(lv, []string{"새벽 랭크 도전"}) {
			t.Errorf("open session by title: live = %v", lv)
		}
		if lv, _, _ := w.find(t, "브론즈탈출"); len(lv) != 1 {
			t.Errorf("open session by tag: live = %v", lv)
		}
		res, err := w.svc.Search(ctx, search.Query{Text: "별빛기사"})
		if err != nil || len(res.Channels) != 1 || !res.Channels[0].Live {
			t.Errorf("channel of an open session should be live: %+v, %v", res, err)
		}

		// Retitle and retag the open broadcast.
		if _, err := w.ls.SaveStreamInfo(ctx, &live.StreamInfo{ChannelID: ch.ID, Title: "저녁 합방",
			Tags: w.tags(t, "합방"), Category: w.cats["valorant"], UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if lv, _, _ := w.find(t, "랭크"); len(lv) != 0 {
			t.Errorf("old title still finds %v", lv)
		}
		if lv, _, _ := w.find(t, "브론즈탈출"); len(lv) != 0 {
			t.Errorf("old tag still finds %v", lv)
		}
		if lv, _, _ := w.find(t, "합방"); !slices.Equal(lv, []string{"저녁 합방"}) {
			t.Errorf("new title/tag: live = %v", lv)
		}

		// Viewer heartbeats reach the ranking data.
		if err := w.ls.TouchSession(ctx, s.ID, time.Now(), 321); err != nil {
			t.Fatal(err)
		}
		// (A fresh service: rankings cached under one index generation keep their viewer
		// counts by design; the running site shows live counts from the live directory.)
		uncached, err := search.New(search.Options{Store: w.ix, Analyzer: readyAnalyzer(t), RankCache: -1})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := uncached.Search(ctx, search.Query{Text: "합방"}); err != nil || len(res.Live) != 1 || res.Live[0].Viewers != 321 {
			t.Errorf("peak viewers after heartbeat: %+v, %v", res, err)
		}

		// The broadcast ends: it moves to past broadcasts and the channel is no longer live.
		if _, err := w.ls.CloseSession(ctx, s.ID, time.Now(), 0); err != nil {
			t.Fatal(err)
		}
		if lv, _, past := w.find(t, "합방"); len(lv) != 0 || !slices.Equal(past, []string{"저녁 합방"}) {
			t.Errorf("ended session: live = %v, past = %v", lv, past)
		}
		if res, err := w.svc.Search(ctx, search.Query{Text: "별빛기사"}); err != nil || len(res.Channels) != 1 || res.Channels[0].Live {
			t.Errorf("channel after the end should not be live: %+v, %v", res, err)
		}
		// A heartbeat arriving after the end changes nothing and is no error.
		if err := w.ls.TouchSession(ctx, s.ID, time.Now(), 999); err != nil {
			t.Errorf("late heartbeat: %v", err)
		}

		// Deleting the channel removes it and its broadcasts from search.
		if _, err := db.Bun().NewDelete().TableExpr("channels").Where("id = ?", ch.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if lv, chans, past := w.find(t, "별빛기사"); len(lv)+len(chans)+len(past) != 0 {
			t.Errorf("deleted channel still found: %v %v %v", lv, chans, past)
		}
		if _, _, past := w.find(t, "합방"); len(past) != 0 {
			t.Errorf("deleted channel's broadcast still found: %v", past)
		}
	})
}

// A DB with no search index attached (a seeding command) still writes every index row,
// pending analysis; the service's catch-up pass makes them searchable.
func TestWritesWithoutIndexArePendingThenCaughtUp(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newSyncWorld(t, db, false)
		ch := w.signUp(t, "pending_one", "구름다리")
		s := &live.Session{ChannelID: ch.ID, Title: "구름 위 산책", Tags: w.tags(t, "산책"), StartedAt: time.Now()}
		if err := w.ls.OpenSession(ctx, s, nil); err != nil {
			t.Fatal(err)
		}
		if lv, chans, _ := w.find(t, "구름다리"); len(lv)+len(chans) != 0 {
			t.Fatalf("unanalysed rows matched: %v %v", lv, chans)
		}
		n, err := w.ix.AnalyzePending(ctx, 100)
		if err != nil || n != 2 {
			t.Fatalf("AnalyzePending = %d, %v; want 2 rows (channel, session)", n, err)
		}
		if _, chans, _ := w.find(t, "구름다리"); !slices.Equal(chans, []string{"pending_one"}) {
			t.Errorf("after catch-up: channels = %v", chans)
		}
		if lv, _, _ := w.find(t, "산책"); !slices.Equal(lv, []string{"구름 위 산책"}) {
			t.Errorf("after catch-up: live = %v", lv)
		}
	})
}
