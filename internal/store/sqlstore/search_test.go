package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/search/analysis"
	"github.com/freelylive/freely/internal/search/analysis/analysistest"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// readyAnalyzer is the test binary's one loaded analyzer.
func readyAnalyzer(t testing.TB) *analysis.Analyzer { return analysistest.Ready(t) }

// searchFixture drives the real stores the way the application wires them: every write to
// a channel or session indexes it in the same transaction.
type searchFixture struct {
	db   *sqlstore.DB
	ix   *sqlstore.SearchIndex
	ls   *sqlstore.LiveStore
	svc  *search.Service
	cats map[string]*channel.Category
	n    int
}

func newSearchFixture(t *testing.T, db *sqlstore.DB) *searchFixture {
	t.Helper()
	ctx := context.Background()
	an := readyAnalyzer(t)
	f := &searchFixture{db: db, ix: sqlstore.NewSearchIndex(db, an), ls: sqlstore.NewLiveStore(db), cats: map[string]*channel.Category{}}
	if err := db.UpsertCategories(ctx, channel.SeedCategories); err != nil {
		t.Fatal(err)
	}
	cats, err := db.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cats {
		f.cats[cats[i].Slug] = &cats[i]
	}
	svc, err := search.New(search.Options{Store: f.ix, Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// createChannel creates a user and channel and indexes the channel in the same transaction.
func (f *searchFixture) createChannel(t *testing.T, handle, name, intro string, catSlugs ...string) *channel.Channel {
	t.Helper()
	f.n++
	u := &account.User{
		Email:        fmt.Sprintf("s%d@example.com", f.n),
		Nickname:     fmt.Sprintf("nick%d", f.n),
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
	}
	ch := &channel.Channel{Handle: handle, DisplayName: name, Introduction: intro}
	for _, s := range catSlugs {
		ch.Categories = append(ch.Categories, *f.cats[s])
	}
	err := f.db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if err := f.db.CreateUserWithChannel(ctx, u, ch); err != nil {
			return err
		}
		return f.ix.IndexChannelTx(ctx, tx, ch)
	})
	if err != nil {
		t.Fatalf("create channel %s: %v", handle, err)
	}
	return ch
}

func (f *searchFixture) tags(t *testing.T, raw ...string) []channel.Tag {
	t.Helper()
	names, err := channel.NormalizeTags(raw)
	if err != nil {
		t.Fatalf("normalise tags %q: %v", raw, err)
	}
	tags, err := f.db.EnsureTags(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

// openSession opens a session indexed by the store's on-open hook.
func (f *searchFixture) openSession(t *testing.T, ch *channel.Channel, title, catSlug string, viewers int, tags ...string) *live.Session {
	t.Helper()
	s := &live.Session{
		ChannelID:   ch.ID,
		Title:       title,
		Tags:        f.tags(t, tags...),
		StartedAt:   time.Now(),
		PeakViewers: viewers,
	}
	if catSlug != "" {
		s.Category = f.cats[catSlug]
	}
	if err := f.ls.OpenSession(context.Background(), s, f.ix.OpenHook()); err != nil {
		t.Fatalf("open session: %v", err)
	}
	return s
}

func (f *searchFixture) closeSession(t *testing.T, s *live.Session) {
	t.Helper()
	err := f.db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		ended, err := f.ls.CloseSession(ctx, s.ID, time.Now(), s.PeakViewers)
		if err != nil {
			return err
		}
		return f.ix.IndexSessionTx(ctx, tx, ended)
	})
	if err != nil {
		t.Fatalf("close session %d: %v", s.ID, err)
	}
}

func (f *searchFixture) search(t *testing.T, q search.Query) *search.Result {
	t.Helper()
	res, err := f.svc.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return res
}

func handles(hits []search.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Handle
	}
	return out
}

// checkFTS asks SQLite to verify each section's FTS index and that it holds exactly the
// documents of that section.
func checkFTS(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	if db.Dialect() != sqlstore.DialectSQLite {
		return
	}
	ctx := context.Background()
	for _, sec := range []string{"live", "past", "chan"} {
		table := "search_fts_" + sec
		if _, err := db.Bun().ExecContext(ctx, `INSERT INTO `+table+` (`+table+`) VALUES ('integrity-check')`); err != nil {
			t.Fatalf("FTS integrity check of %s: %v", table, err)
		}
		var inFTS, inDocs int
		if err := db.Bun().NewRaw(`SELECT count(*) FROM `+table).Scan(ctx, &inFTS); err != nil {
			t.Fatal(err)
		}
		if err := db.Bun().NewRaw(`SELECT count(*) FROM search_docs WHERE section = ?`, sec).Scan(ctx, &inDocs); err != nil {
			t.Fatal(err)
		}
		if inFTS != inDocs {
			t.Errorf("%s holds %d rows, search_docs %d of section %s", table, inFTS, inDocs, sec)
		}
	}
}

func TestSearchIndexStaysInSync(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newSearchFixture(t, db)
		ch := f.createChannel(t, "hong_gd", "홍길동입니다", "발로란트 랭크 방송", "valorant")
		other := f.createChannel(t, "someone", "다른채널", "")

		res := f.search(t, search.Query{Text: "홍길동"})
		if got := handles(res.Channels); len(got) != 1 || got[0] != "hong_gd" {
			t.Fatalf("created channel: channels = %v", got)
		}
		if res := f.search(t, search.Query{Text: "길동"}); len(res.Channels) != 1 {
			t.Errorf("decompounded name part: channels = %v", handles(res.Channels))
		}

		// Rename, in the transaction of the update.
		ch.DisplayName = "김철수"
		err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := db.UpdateChannel(ctx, ch); err != nil {
				return err
			}
			return f.ix.IndexChannelTx(ctx, tx, ch)
		})
		if err != nil {
			t.Fatal(err)
		}
		if res := f.search(t, search.Query{Text: "홍길동"}); len(res.Channels) != 0 {
			t.Errorf("old name still found: %v", handles(res.Channels))
		}
		if res := f.search(t, search.Query{Text: "김철수"}); len(res.Channels) != 1 {
			t.Errorf("new name not found: %v", handles(res.Channels))
		}

		// Go live: the on-open hook indexes the session and moves the index generation on,
		// so no ranking computed before is reused; a viewer count does not.
		gen0, err := f.ix.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s := f.openSession(t, ch, "랭크 올리기", "valorant", 12, "발로란트", "신입")
		gen1, err := f.ix.Generation(ctx)
		if err != nil || gen1 <= gen0 {
			t.Errorf("generation %d → %d (%v) after a session opened; want it raised", gen0, gen1, err)
		}
		if err := f.ix.SetSessionViewersTx(ctx, db.Bun(), s.ID, 40); err != nil {
			t.Fatal(err)
		}
		if gen2, err := f.ix.Generation(ctx); err != nil || gen2 != gen1 {
			t.Errorf("generation %d → %d (%v) after a viewer count; want it unchanged", gen1, gen2, err)
		}
		if err := f.ix.SetSessionViewersTx(ctx, db.Bun(), s.ID, 12); err != nil {
			t.Fatal(err)
		}
		res = f.search(t, search.Query{Text: "발로란트"})
		if len(res.Live) != 1 || res.Live[0].SessionID != s.ID || res.Live[0].Title != "랭크 올리기" {
			t.Fatalf("live session: %+v", res.Live)
		}
		if h := res.Live[0]; h.Category == nil || h.Category.Slug != "valorant" || h.Viewers != 12 || strings.Join(h.Tags, ",") != "발로란트,신입" {
			t.Errorf("live hit fields: %+v", h)
		}
		if res := f.search(t, search.Query{Text: "김철수"}); len(res.Live) != 1 || len(res.Channels) != 1 || !res.Channels[0].Live {
			t.Errorf("channel name finds its live session and the channel shows live: live=%v channels=%+v", handles(res.Live), res.Channels)
		}

		// Retag during the broadcast.
		newTags := f.tags(t, "로스트아크")
		err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			sess, err := f.ls.SaveStreamInfo(ctx, &live.StreamInfo{ChannelID: ch.ID, Title: "로아 숙제", Category: f.cats["lost-ark"], Tags: newTags, UpdatedAt: time.Now()})
			if err != nil {
				return err
			}
			return f.ix.IndexSessionTx(ctx, tx, sess)
		})
		if err != nil {
			t.Fatal(err)
		}
		if res := f.search(t, search.Query{Text: "발로란트", Section: search.SectionLive}); len(res.Live) != 0 {
			t.Errorf("old tag still finds the session: %+v", res.Live)
		}
		if res := f.search(t, search.Query{Text: "로스트아크", Section: search.SectionLive}); len(res.Live) != 1 {
			t.Errorf("new tag does not find the session: %+v", res.Live)
		}

		// Rename again: the session follows the channel's name.
		ch.DisplayName = "이영희"
		if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := db.UpdateChannel(ctx, ch); err != nil {
				return err
			}
			return f.ix.IndexChannelTx(ctx, tx, ch)
		}); err != nil {
			t.Fatal(err)
		}
		if res := f.search(t, search.Query{Text: "이영희", Section: search.SectionLive}); len(res.Live) != 1 {
			t.Errorf("session not found by the channel's new name: %+v", res.Live)
		}

		// End the broadcast: it moves to past broadcasts.
		f.closeSession(t, s)
		res = f.search(t, search.Query{Text: "로스트아크"})
		if len(res.Live) != 0 || len(res.Past) != 1 || res.Past[0].SessionID != s.ID {
			t.Errorf("ended session: live=%v past=%v", handles(res.Live), handles(res.Past))
		}
		if res := f.search(t, search.Query{Text: "이영희", Section: search.SectionChannels}); len(res.Channels) != 1 || res.Channels[0].Live {
			t.Errorf("channel still shows live after the end: %+v", res.Channels)
		}

		// A failed transaction leaves no index row behind.
		boom := errors.New("boom")
		err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			other.DisplayName = "사라질이름"
			if err := f.ix.IndexChannelTx(ctx, tx, other); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if res := f.search(t, search.Query{Text: "사라질이름"}); len(res.Channels) != 0 {
			t.Errorf("rolled-back rename is searchable: %v", handles(res.Channels))
		}

		// Suspension hides the channel and its broadcasts.
		if err := db.SetSuspended(ctx, ch.ID, true); err != nil {
			t.Fatal(err)
		}
		if res := f.search(t, search.Query{Text: "이영희"}); len(res.Channels)+len(res.Past) != 0 {
			t.Errorf("suspended channel still found: %+v", res)
		}
		if err := db.SetSuspended(ctx, ch.ID, false); err != nil {
			t.Fatal(err)
		}

		// Deleting the owner deletes the channel, its sessions and their index rows.
		if _, err := db.Bun().NewDelete().TableExpr("users").Where("id = ?", ch.OwnerID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := db.Bun().NewSelect().TableExpr("search_docs").Where("channel_id = ?", ch.ID).Count(ctx)
		if err != nil || n != 0 {
			t.Errorf("index rows of a deleted channel: %d, %v", n, err)
		}
		if res := f.search(t, search.Query{Text: "로스트아크"}); len(res.Past) != 0 {
			t.Errorf("deleted channel's broadcast still found: %v", handles(res.Past))
		}
		checkFTS(t, db)
	})
}

func TestSearchIndexPendingAnalysisAndReindex(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newSearchFixture(t, db)

		// Written while the analyzer is still loading: stored pending, filterable by
		// category at once, searchable by text after the catch-up.
		hold := make(chan struct{})
		loading := sqlstore.NewSearchIndex(db, analysis.New(analysis.Options{Hold: hold}))
		fLoading := *f
		fLoading.ix = loading
		ch := fLoading.createChannel(t, "early_bird", "얼리버드", "", "minecraft")
		if res := f.search(t, search.Query{Text: "얼리버드"}); len(res.Channels) != 0 {
			t.Fatalf("pending document matched text before analysis: %v", handles(res.Channels))
		}
		if res := f.search(t, search.Query{Category: "minecraft", Section: search.SectionChannels}); len(res.Channels) != 1 {
			t.Errorf("pending document not found by category: %v", handles(res.Channels))
		}
		close(hold)
		if n, err := loading.AnalyzePending(ctx, 100); err != nil || n != 1 {
			t.Fatalf("AnalyzePending = %d, %v; want 1", n, err)
		}
		if res := f.search(t, search.Query{Text: "얼리버드"}); len(res.Channels) != 1 || res.Channels[0].ChannelID != ch.ID {
			t.Errorf("after analysis: %v", handles(res.Channels))
		}
		if n, err := loading.AnalyzePending(ctx, 100); err != nil || n != 0 {
			t.Errorf("second AnalyzePending = %d, %v; want 0", n, err)
		}

		// Reindex rebuilds rows from the source tables.
		s := f.openSession(t, ch, "마크 야생 서버", "minecraft", 3, "마인크래프트")
		f.closeSession(t, s)
		f.openSession(t, ch, "건축 방송", "minecraft", 5)
		if _, err := db.Bun().NewUpdate().TableExpr("search_docs").
			Set("tok_name = ''").Set("tok_tags = ''").Set("tok_body = ''").Set("tok_channel = ''").Where("1 = 1").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if res := f.search(t, search.Query{Text: "마인크래프트"}); len(res.Past) != 0 {
			t.Fatalf("wiped tokens still match: %v", handles(res.Past))
		}
		var calls, lastDone, lastTotal int
		if err := f.ix.Reindex(ctx, func(done, total int) { calls++; lastDone, lastTotal = done, total }); err != nil {
			t.Fatal(err)
		}
		if calls == 0 || lastDone != lastTotal || lastTotal != 3 {
			t.Errorf("progress: %d calls, last %d/%d; want done = total = 3 (1 channel, 2 sessions)", calls, lastDone, lastTotal)
		}
		res := f.search(t, search.Query{Text: "야생"})
		if len(res.Past) != 1 || len(res.Live) != 0 {
			t.Errorf("after reindex: live=%v past=%v", handles(res.Live), handles(res.Past))
		}
		if res := f.search(t, search.Query{Text: "얼리버드"}); len(res.Live) != 1 || len(res.Channels) != 1 || len(res.Past) != 1 {
			t.Errorf("after reindex by channel name: %+v", res)
		}
		checkFTS(t, db)
	})
}

func TestSearchQueriesAreSafe(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newSearchFixture(t, db)
		ch := f.createChannel(t, "safe", "안전한채널", "NEAR OR 롤")
		f.openSession(t, ch, `"롤" OR 배그* NEAR(a b) -로아 title:x`, "league-of-legends", 1, "롤")
		for _, q := range []string{
			`"`, `*`, `NEAR`, `OR`, `-`, `:`, `AND`, `NOT`, `^`, `(`, `)`, `{`, `}`, `'`, `\`, `&`, `|`, `!`,
			`"롤" OR 배그* NEAR(a b) -로아 title:x`, `롤" OR "1"="1`, `'; DROP TABLE search_docs; --`,
			`tok_meta:live`, "\ue000live", "\ue000c1 롤", `롤 & ! | <->`, `롤:*`, "a", "롤", "NEAR/3", `"""`,
			strings.Repeat("롤", search.MaxQueryRunes),
		} {
			res, err := f.svc.Search(ctx, search.Query{Text: q})
			if err != nil && !errors.Is(err, search.ErrEmptyQuery) {
				t.Errorf("Search(%q): %v", q, err)
				continue
			}
			if res != nil {
				for _, h := range append(append(res.Live, res.Channels...), res.Past...) {
					if h.Handle != "safe" {
						t.Errorf("Search(%q) found %q", q, h.Handle)
					}
				}
			}
		}
		// The operator words are ordinary words: the title holding them is found by them.
		res := f.search(t, search.Query{Text: "near or", Section: search.SectionLive})
		if len(res.Live) != 1 {
			t.Errorf("operator words as text: %v", handles(res.Live))
		}
		for _, c := range []struct {
			q    search.Query
			want error
		}{
			{search.Query{Text: ""}, search.ErrEmptyQuery},
			{search.Query{Text: "😀🎮✨"}, search.ErrEmptyQuery},
			{search.Query{Text: "ㅋㅋㅋ !!!"}, search.ErrEmptyQuery},
			{search.Query{Text: strings.Repeat("가", 500)}, search.ErrQueryTooLong},
			{search.Query{Text: "롤", Category: "no-such-category"}, search.ErrUnknownCategory},
			{search.Query{Text: "롤", Section: "bogus"}, search.ErrUnknownSection},
			{search.Query{Text: "롤", Cursor: "x"}, search.ErrBadCursor},
			{search.Query{Text: "롤", Section: search.SectionLive, Cursor: "!!!"}, search.ErrBadCursor},
		} {
			if _, err := f.svc.Search(ctx, c.q); !errors.Is(err, c.want) {
				t.Errorf("Search(%.40q…): err = %v, want %v", c.q.Text, err, c.want)
			}
		}
	})
}
