package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// liveEpoch is a microsecond-precise instant, so times read back compare equal.
var liveEpoch = time.Date(2026, 11, 25, 20, 0, 0, 654321000, time.UTC)

type liveFixture struct {
	db   *sqlstore.DB
	ls   *sqlstore.LiveStore
	chA  *channel.Channel
	chB  *channel.Channel
	cat  *channel.Category
	cat2 *channel.Category
	tags []channel.Tag
}

func newLiveFixture(t *testing.T, db *sqlstore.DB) *liveFixture {
	t.Helper()
	ctx := context.Background()
	f := &liveFixture{db: db, ls: sqlstore.NewLiveStore(db)}
	for i, dst := range []**channel.Channel{&f.chA, &f.chB} {
		u := &account.User{
			Email:        fmt.Sprintf("streamer%d@example.com", i),
			Nickname:     fmt.Sprintf("스트리머%d", i),
			PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		}
		ch := &channel.Channel{Handle: fmt.Sprintf("streamer_%d", i), DisplayName: fmt.Sprintf("스트리머%d", i)}
		if err := db.CreateUserWithChannel(ctx, u, ch); err != nil {
			t.Fatalf("CreateUserWithChannel: %v", err)
		}
		*dst = ch
	}
	if err := db.UpsertCategories(ctx, []channel.Category{
		{Slug: "league-of-legends", NameKO: "리그 오브 레전드", NameEN: "League of Legends"},
		{Slug: "just-chatting", NameKO: "저스트 채팅", NameEN: "Just Chatting"},
	}); err != nil {
		t.Fatalf("UpsertCategories: %v", err)
	}
	var err error
	if f.cat, err = db.CategoryBySlug(ctx, "league-of-legends"); err != nil {
		t.Fatal(err)
	}
	if f.cat2, err = db.CategoryBySlug(ctx, "just-chatting"); err != nil {
		t.Fatal(err)
	}
	if f.tags, err = db.EnsureTags(ctx, []string{"랭크", "롤", "한국어"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *liveFixture) open(t *testing.T, ch *channel.Channel, at time.Time) *live.Session {
	t.Helper()
	s := &live.Session{ChannelID: ch.ID, Title: "첫 방송", Category: f.cat, Tags: f.tags[:2], StartedAt: at, LastSeenAt: at}
	if err := f.ls.OpenSession(context.Background(), s, nil); err != nil {
		t.Fatalf("OpenSession: %v", err)
	}
	return s
}

func TestLiveStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *liveFixture)
	}{
		{"one open session per channel", testOneOpenSession},
		{"concurrent opens", testConcurrentOpens},
		{"open hook shares the transaction", testOpenHook},
		{"stream info", testStreamInfo},
		{"touch and close", testTouchAndClose},
		{"close stale", testCloseStale},
		{"history", testHistory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) { tc.fn(t, newLiveFixture(t, db)) })
		})
	}
}

func testOneOpenSession(t *testing.T, f *liveFixture) {
	ctx := context.Background()
	first := f.open(t, f.chA, liveEpoch)
	if first.ID == 0 {
		t.Fatal("OpenSession did not set ID")
	}

	second := &live.Session{ChannelID: f.chA.ID, StartedAt: liveEpoch.Add(time.Minute), LastSeenAt: liveEpoch.Add(time.Minute)}
	err := f.ls.OpenSession(ctx, second, nil)
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second open session on the same channel: got %v, want store.ErrAlreadyExists", err)
	}
	if got := store.ConflictField(err); got != "live_session" {
		t.Errorf("conflict field %q, want live_session", got)
	}
	if second.ID != 0 {
		t.Errorf("refused session got ID %d", second.ID)
	}

	// Another channel is independent.
	other := f.open(t, f.chB, liveEpoch)
	open, err := f.ls.OpenSessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].ID != first.ID || open[1].ID != other.ID {
		t.Fatalf("OpenSessions = %v, want sessions %d and %d", sessionIDs(open), first.ID, other.ID)
	}

	// Once closed, the channel can open again.
	if _, err := f.ls.CloseSession(ctx, first.ID, liveEpoch.Add(time.Hour), 3); err != nil {
		t.Fatal(err)
	}
	again := f.open(t, f.chA, liveEpoch.Add(2*time.Hour))
	got, err := f.ls.OpenSessionByChannel(ctx, f.chA.ID)
	if err != nil || got.ID != again.ID {
		t.Fatalf("OpenSessionByChannel = %v, %v; want session %d", got, err, again.ID)
	}
	if got.Title != "첫 방송" || got.Category == nil || got.Category.Slug != "league-of-legends" ||
		!slices.Equal(got.TagNames(), []string{"랭크", "롤"}) || !got.StartedAt.Equal(liveEpoch.Add(2*time.Hour)) || !got.Open() {
		t.Errorf("stored session %+v differs from what was opened", got)
	}
}

func testConcurrentOpens(t *testing.T, f *liveFixture) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &live.Session{ChannelID: f.chA.ID, StartedAt: liveEpoch, LastSeenAt: liveEpoch}
			errs[i] = f.ls.OpenSession(context.Background(), s, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrAlreadyExists):
			t.Errorf("concurrent open: unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent opens succeeded, want exactly 1", ok, n)
	}
}

func testOpenHook(t *testing.T, f *liveFixture) {
	ctx := context.Background()
	boom := errors.New("queue unavailable")
	var seenID int64
	s := &live.Session{ChannelID: f.chA.ID, Tags: f.tags, StartedAt: liveEpoch, LastSeenAt: liveEpoch}
	err := f.ls.OpenSession(ctx, s, func(ctx context.Context, tx bun.Tx, s *live.Session) error {
		seenID = s.ID
		// A write through the hook's transaction is undone with the session.
		if _, err := tx.NewRaw("INSERT INTO tags (name) VALUES (?)", "훅에서-만든-태그").Exec(ctx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("OpenSession with failing hook: got %v, want the hook's error", err)
	}
	if seenID == 0 {
		t.Error("hook did not see the inserted session's ID")
	}
	if _, err := f.ls.OpenSessionByChannel(ctx, f.chA.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after hook error the session exists: %v", err)
	}
	if _, err := f.ls.SessionByID(ctx, seenID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session %d survived the rollback: %v", seenID, err)
	}
	var tagRows int
	if err := f.db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM live_session_tags").Scan(&tagRows); err != nil {
		t.Fatal(err)
	}
	if tagRows != 0 {
		t.Errorf("%d session tag rows survived the rollback", tagRows)
	}
	if tags, err := f.db.EnsureTags(ctx, []string{"훅에서-만든-태그"}); err != nil || tags[0].ID == 0 {
		t.Fatal(err)
	}

	// A succeeding hook commits with the session.
	s2 := &live.Session{ChannelID: f.chA.ID, StartedAt: liveEpoch, LastSeenAt: liveEpoch}
	err = f.ls.OpenSession(ctx, s2, func(ctx context.Context, tx bun.Tx, s *live.Session) error {
		_, err := tx.NewRaw("UPDATE live_sessions SET title = ? WHERE id = ?", "훅이 붙인 제목", s.ID).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("OpenSession with succeeding hook: %v", err)
	}
	got, err := f.ls.SessionByID(ctx, s2.ID)
	if err != nil || got.Title != "훅이 붙인 제목" {
		t.Fatalf("hook's write not committed with the session: %+v, %v", got, err)
	}
}

func testStreamInfo(t *testing.T, f *liveFixture) {
	ctx := context.Background()
	if _, err := f.ls.StreamInfo(ctx, f.chA.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("StreamInfo before any save: %v, want ErrNotFound", err)
	}
	info := &live.StreamInfo{ChannelID: f.chA.ID, Title: "오늘은 랭크", Category: f.cat, Tags: f.tags[:2], UpdatedAt: liveEpoch}
	sess, err := f.ls.SaveStreamInfo(ctx, info)
	if err != nil || sess != nil {
		t.Fatalf("SaveStreamInfo offline = %v, %v; want nil session", sess, err)
	}
	got, err := f.ls.StreamInfo(ctx, f.chA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "오늘은 랭크" || got.Category == nil || got.Category.ID != f.cat.ID ||
		!slices.Equal(tagNamesOf(got.Tags), []string{"랭크", "롤"}) || !got.UpdatedAt.Equal(liveEpoch) {
		t.Errorf("StreamInfo = %+v", got)
	}

	// During a broadcast the open session follows; an ended one does not.
	ended := f.open(t, f.chA, liveEpoch)
	if _, err := f.ls.CloseSession(ctx, ended.ID, liveEpoch.Add(time.Minute), 0); err != nil {
		t.Fatal(err)
	}
	open := f.open(t, f.chA, liveEpoch.Add(time.Hour))
	info = &live.StreamInfo{ChannelID: f.chA.ID, Title: "잡담으로 변경", Category: f.cat2, Tags: []channel.Tag{f.tags[2], f.tags[0]}, UpdatedAt: liveEpoch.Add(2 * time.Hour)}
	sess, err = f.ls.SaveStreamInfo(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if sess == nil || sess.ID != open.ID || sess.Title != "잡담으로 변경" || sess.Category.ID != f.cat2.ID ||
		!slices.Equal(sess.TagNames(), []string{"한국어", "랭크"}) {
		t.Fatalf("SaveStreamInfo live returned %+v, want the open session updated", sess)
	}
	if old, _ := f.ls.SessionByID(ctx, ended.ID); old.Title != "첫 방송" || old.Category.ID != f.cat.ID {
		t.Errorf("ended session changed: %+v", old)
	}

	// Clearing the category and tags.
	if _, err := f.ls.SaveStreamInfo(ctx, &live.StreamInfo{ChannelID: f.chA.ID, UpdatedAt: liveEpoch}); err != nil {
		t.Fatal(err)
	}
	cur, _ := f.ls.OpenSessionByChannel(ctx, f.chA.ID)
	if cur.Category != nil || len(cur.Tags) != 0 || cur.Title != "" {
		t.Errorf("cleared info left %+v", cur)
	}

	// An unknown category changes nothing.
	bad := &live.StreamInfo{ChannelID: f.chA.ID, Title: "바뀌면 안 됨", Category: &channel.Category{ID: 999999}, UpdatedAt: liveEpoch}
	if _, err := f.ls.SaveStreamInfo(ctx, bad); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown category: got %v, want ErrNotFound", err)
	}
	if got, _ := f.ls.StreamInfo(ctx, f.chA.ID); got.Title != "" {
		t.Errorf("failed save changed the title to %q", got.Title)
	}
}

func testTouchAndClose(t *testing.T, f *liveFixture) {
	ctx := context.Background()
	s := f.open(t, f.chA, liveEpoch)
	if err := f.ls.TouchSession(ctx, s.ID, liveEpoch.Add(20*time.Second), 7); err != nil {
		t.Fatal(err)
	}
	// An older heartbeat and a lower peak move nothing back.
	if err := f.ls.TouchSession(ctx, s.ID, liveEpoch.Add(10*time.Second), 2); err != nil {
		t.Fatal(err)
	}
	got, _ := f.ls.SessionByID(ctx, s.ID)
	if !got.LastSeenAt.Equal(liveEpoch.Add(20*time.Second)) || got.PeakViewers != 7 {
		t.Fatalf("after touches: last seen %v peak %d, want %v and 7", got.LastSeenAt, got.PeakViewers, liveEpoch.Add(20*time.Second))
	}

	end := liveEpoch.Add(90*time.Minute + 1500*time.Millisecond)
	ended, err := f.ls.CloseSession(ctx, s.ID, end, 5)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Open() || !ended.EndedAt.Equal(end) || ended.Duration != 90*time.Minute+1500*time.Millisecond || ended.PeakViewers != 7 {
		t.Fatalf("closed session: ended %v duration %v peak %d", ended.EndedAt, ended.Duration, ended.PeakViewers)
	}
	if _, err := f.ls.CloseSession(ctx, s.ID, end.Add(time.Hour), 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("closing twice: got %v, want ErrNotFound", err)
	}
	// Touching an ended session leaves it alone.
	if err := f.ls.TouchSession(ctx, s.ID, end.Add(time.Hour), 100); err != nil {
		t.Fatal(err)
	}
	got, _ = f.ls.SessionByID(ctx, s.ID)
	if !got.EndedAt.Equal(end) || got.PeakViewers != 7 {
		t.Errorf("touch changed an ended session: %+v", got)
	}
	if _, err := f.ls.SessionByID(ctx, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionByID unknown: %v", err)
	}
}

func testCloseStale(t *testing.T, f *liveFixture) {
	ctx := context.Background()
	s := f.open(t, f.chA, liveEpoch)
	seen := liveEpoch.Add(42 * time.Minute)
	if err := f.ls.TouchSession(ctx, s.ID, seen, 4); err != nil {
		t.Fatal(err)
	}
	// Someone who read the row before that heartbeat must not close it.
	if _, err := f.ls.CloseStaleSession(ctx, s.ID, liveEpoch.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("close with an outdated view: got %v, want ErrConflict", err)
	}
	ended, err := f.ls.CloseStaleSession(ctx, s.ID, seen)
	if err != nil {
		t.Fatal(err)
	}
	if !ended.EndedAt.Equal(seen) || ended.Duration != 42*time.Minute || ended.PeakViewers != 4 {
		t.Fatalf("stale close recorded end %v duration %v peak %d; want the last-seen time", ended.EndedAt, ended.Duration, ended.PeakViewers)
	}
	if _, err := f.ls.CloseStaleSession(ctx, s.ID, seen); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second stale close: %v, want ErrNotFound", err)
	}
}

func testHistory(t *testing.T, f *liveFixture) {
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		at := liveEpoch.Add(time.Duration(i) * time.Hour)
		s := f.open(t, f.chA, at)
		if _, err := f.ls.CloseSession(ctx, s.ID, at.Add(30*time.Minute), i); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	f.open(t, f.chB, liveEpoch)
	page, err := f.ls.SessionsByChannel(ctx, f.chA.ID, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(page); !slices.Equal(got, []int64{ids[4], ids[3]}) {
		t.Fatalf("first page %v, want %v", got, []int64{ids[4], ids[3]})
	}
	page, err = f.ls.SessionsByChannel(ctx, f.chA.ID, ids[3], 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(page); !slices.Equal(got, []int64{ids[2], ids[1], ids[0]}) {
		t.Fatalf("second page %v", got)
	}
	if !slices.Equal(page[0].TagNames(), []string{"랭크", "롤"}) {
		t.Errorf("history lost tags: %v", page[0].TagNames())
	}
}

func sessionIDs(ss []*live.Session) []int64 {
	out := make([]int64, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func tagNamesOf(tags []channel.Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Name
	}
	return out
}
