package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

func testUpsertCategories(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	first := seedCategories(t, db)
	if len(first) != len(channel.SeedCategories) {
		t.Fatalf("%d categories stored, want %d", len(first), len(channel.SeedCategories))
	}
	lol, ok := first["league-of-legends"]
	if !ok || lol.NameKO != "리그 오브 레전드" || lol.NameEN != "League of Legends" || lol.ID == 0 {
		t.Errorf("league-of-legends stored as %+v", lol)
	}

	// Running the seed again (every start does) changes nothing.
	second := seedCategories(t, db)
	for slug, c := range first {
		if second[slug] != c {
			t.Errorf("second upsert changed %s: %+v → %+v", slug, c, second[slug])
		}
	}

	// Upserting renames an existing slug in place and adds new ones.
	renamed := channel.Category{Slug: "league-of-legends", NameKO: "롤", NameEN: "LoL"}
	added := channel.Category{Slug: "zz-new-game", NameKO: "새 게임", NameEN: "New Game"}
	if err := db.UpsertCategories(ctx, []channel.Category{renamed, added}); err != nil {
		t.Fatalf("UpsertCategories: %v", err)
	}
	got, err := db.CategoryBySlug(ctx, "league-of-legends")
	if err != nil {
		t.Fatalf("CategoryBySlug: %v", err)
	}
	if got.ID != lol.ID || got.NameKO != "롤" || got.NameEN != "LoL" {
		t.Errorf("after rename: %+v (ID was %d)", got, lol.ID)
	}

	all, err := db.Categories(ctx)
	if err != nil {
		t.Fatalf("Categories: %v", err)
	}
	if len(all) != len(channel.SeedCategories)+1 {
		t.Errorf("%d categories, want %d", len(all), len(channel.SeedCategories)+1)
	}
	// Hangul names first in 가나다 order, then Latin ones, the same on every database.
	var names []string
	for _, c := range all {
		names = append(names, c.NameKO)
	}
	if !slices.IsSortedFunc(all, channel.CompareCategories) {
		t.Errorf("Categories not in channel.CompareCategories order: %q", names)
	}
	latin := slices.IndexFunc(all, func(c channel.Category) bool { return c.NameKO == "Parasocial" })
	hangul := slices.IndexFunc(all, func(c channel.Category) bool { return c.NameKO == "롤" })
	if latin < 0 || hangul < 0 || hangul > latin {
		t.Errorf("롤 at %d, Parasocial at %d, want 롤 before the Latin names: %q", hangul, latin, names)
	}

	// Bad input is refused whole.
	for name, bad := range map[string][]channel.Category{
		"empty slug":     {{Slug: "", NameKO: "가", NameEN: "A"}, {Slug: "bad-1", NameKO: "나", NameEN: "B"}},
		"no names":       {{Slug: "bad-2"}},
		"duplicate slug": {{Slug: "bad-3", NameKO: "다", NameEN: "C"}, {Slug: "bad-3", NameKO: "라", NameEN: "D"}},
	} {
		if err := db.UpsertCategories(ctx, bad); err == nil {
			t.Errorf("UpsertCategories with %s accepted", name)
		}
	}
	for _, slug := range []string{"bad-1", "bad-2", "bad-3"} {
		_, err := db.CategoryBySlug(ctx, slug)
		wantNotFound(t, "category from refused upsert "+slug, err)
	}
	if err := db.UpsertCategories(ctx, nil); err != nil {
		t.Errorf("UpsertCategories(nil): %v", err)
	}
}

// Several processes start at once and each seeds the categories.
func testUpsertCategoriesConcurrent(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	errs := race(6, func(int) error { return db.UpsertCategories(ctx, channel.SeedCategories) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent UpsertCategories %d: %v", i, err)
		}
	}
	all, err := db.Categories(ctx)
	if err != nil {
		t.Fatalf("Categories: %v", err)
	}
	if len(all) != len(channel.SeedCategories) {
		t.Errorf("%d categories after concurrent seeding, want %d", len(all), len(channel.SeedCategories))
	}
}

func testUpdateChannel(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	cats := seedCategories(t, db)
	lol, lostArk, valorant := cats["league-of-legends"], cats["lost-ark"], cats["valorant"]
	_, ch := signUp(t, db, 1)
	_, other := signUp(t, db, 2)

	ch.DisplayName = "로아 하는 방송"
	ch.Introduction = "매일 저녁 8시 <script>alert(1)</script>"
	ch.ProfileKey = "profiles/1.webp"
	ch.BannerKey = "banners/1.webp"
	ch.Categories = []channel.Category{{ID: lostArk.ID}, {ID: lol.ID}}
	before := ch.UpdatedAt
	if err := db.UpdateChannel(ctx, ch); err != nil {
		t.Fatalf("UpdateChannel: %v", err)
	}
	if !slices.Equal(ch.Categories, []channel.Category{lostArk, lol}) {
		t.Errorf("UpdateChannel refilled categories %+v, want lost-ark, league-of-legends", ch.Categories)
	}
	if ch.UpdatedAt.Before(before) {
		t.Errorf("UpdatedAt went back: %v → %v", before, ch.UpdatedAt)
	}
	got, err := db.ChannelByID(ctx, ch.ID)
	if err != nil {
		t.Fatalf("ChannelByID: %v", err)
	}
	if got.DisplayName != ch.DisplayName || got.Introduction != ch.Introduction ||
		got.ProfileKey != ch.ProfileKey || got.BannerKey != ch.BannerKey {
		t.Errorf("stored channel %+v, want %+v", got, ch)
	}
	if !slices.Equal(got.Categories, []channel.Category{lostArk, lol}) {
		t.Errorf("stored categories %+v, want lost-ark then league-of-legends (the given order)", got.Categories)
	}

	// More than MaxCategories is refused and changes nothing.
	tooMany := *got
	tooMany.Introduction = "바뀌면 안 됨"
	tooMany.Categories = []channel.Category{{ID: lol.ID}, {ID: lostArk.ID}, {ID: valorant.ID}}
	if err := db.UpdateChannel(ctx, &tooMany); err == nil {
		t.Errorf("UpdateChannel with %d categories accepted", len(tooMany.Categories))
	}
	// An unknown category ID is not found and changes nothing either.
	unknown := *got
	unknown.Introduction = "바뀌면 안 됨"
	unknown.Categories = []channel.Category{{ID: lol.ID}, {ID: 999999}}
	wantNotFound(t, "UpdateChannel with an unknown category", db.UpdateChannel(ctx, &unknown))
	again, err := db.ChannelByID(ctx, ch.ID)
	if err != nil {
		t.Fatalf("ChannelByID: %v", err)
	}
	if again.Introduction != ch.Introduction || !slices.Equal(again.Categories, []channel.Category{lostArk, lol}) {
		t.Errorf("refused updates changed the channel: %+v", again)
	}

	// Duplicates collapse; the other channel is untouched.
	dup := *again
	dup.Categories = []channel.Category{{ID: valorant.ID}, {ID: valorant.ID}}
	if err := db.UpdateChannel(ctx, &dup); err != nil {
		t.Fatalf("UpdateChannel with a duplicate: %v", err)
	}
	if got, _ := db.ChannelByID(ctx, ch.ID); !slices.Equal(got.Categories, []channel.Category{valorant}) {
		t.Errorf("categories %+v, want just valorant", got.Categories)
	}
	if got, _ := db.ChannelByID(ctx, other.ID); len(got.Categories) != 0 {
		t.Errorf("other channel got categories %+v", got.Categories)
	}

	// No categories clears the list.
	dup.Categories = nil
	if err := db.UpdateChannel(ctx, &dup); err != nil {
		t.Fatalf("UpdateChannel clearing categories: %v", err)
	}
	if got, _ := db.ChannelByHandle(ctx, ch.Handle); len(got.Categories) != 0 {
		t.Errorf("categories %+v after clearing", got.Categories)
	}

	missing := &channel.Channel{ID: 999999, DisplayName: "x"}
	wantNotFound(t, "UpdateChannel of an unknown channel", db.UpdateChannel(ctx, missing))
}

func testStreamKeyAndSuspension(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	_, ch1 := signUp(t, db, 1)
	_, ch2 := signUp(t, db, 2)

	if err := db.SetStreamKey(ctx, ch1.ID, "live_key_1"); err != nil {
		t.Fatalf("SetStreamKey: %v", err)
	}
	got, err := db.ChannelByStreamKey(ctx, "live_key_1")
	if err != nil || got.ID != ch1.ID || got.StreamKey != "live_key_1" {
		t.Fatalf("ChannelByStreamKey: %+v, %v", got, err)
	}
	wantConflict(t, "SetStreamKey to another channel's key", db.SetStreamKey(ctx, ch2.ID, "live_key_1"), "stream_key")

	// Rotating the key retires the old one.
	if err := db.SetStreamKey(ctx, ch1.ID, "live_key_1b"); err != nil {
		t.Fatalf("rotate stream key: %v", err)
	}
	_, err = db.ChannelByStreamKey(ctx, "live_key_1")
	wantNotFound(t, "old stream key", err)
	if err := db.SetStreamKey(ctx, ch2.ID, "live_key_1"); err != nil {
		t.Errorf("reuse of a retired key: %v", err)
	}
	if err := db.SetStreamKey(ctx, ch1.ID, ""); err == nil {
		t.Error("SetStreamKey accepted an empty key")
	}
	wantNotFound(t, "SetStreamKey on an unknown channel", db.SetStreamKey(ctx, 999999, "k"))

	if err := db.SetSuspended(ctx, ch1.ID, true); err != nil {
		t.Fatalf("SetSuspended: %v", err)
	}
	if got, _ := db.ChannelByID(ctx, ch1.ID); !got.Suspended {
		t.Error("channel not suspended")
	}
	if got, _ := db.ChannelByID(ctx, ch2.ID); got.Suspended {
		t.Error("the other channel got suspended")
	}
	if err := db.SetSuspended(ctx, ch1.ID, false); err != nil {
		t.Fatalf("SetSuspended(false): %v", err)
	}
	if got, _ := db.ChannelByID(ctx, ch1.ID); got.Suspended {
		t.Error("channel still suspended")
	}
	wantNotFound(t, "SetSuspended on an unknown channel", db.SetSuspended(ctx, 999999, true))
}

func testListChannels(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	cats := seedCategories(t, db)
	var want []int64
	for i := range 7 {
		_, ch := signUp(t, db, i)
		want = append(want, ch.ID)
		if i == 4 {
			ch.Categories = []channel.Category{cats["minecraft"], cats["music"]}
			if err := db.UpdateChannel(ctx, ch); err != nil {
				t.Fatalf("UpdateChannel: %v", err)
			}
		}
	}
	var got []int64
	after := int64(0)
	for page := 0; ; page++ {
		chs, err := db.ListChannels(ctx, after, 3)
		if err != nil {
			t.Fatalf("ListChannels: %v", err)
		}
		if len(chs) > 3 {
			t.Fatalf("page of %d, limit 3", len(chs))
		}
		if len(chs) == 0 {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
		for _, ch := range chs {
			got = append(got, ch.ID)
			if ch.ID == want[4] && !slices.Equal(ch.Categories, []channel.Category{cats["minecraft"], cats["music"]}) {
				t.Errorf("listed channel lost its categories: %+v", ch.Categories)
			}
			if ch.Handle == "" || ch.CreatedAt.IsZero() {
				t.Errorf("listed channel incomplete: %+v", ch)
			}
		}
		after = chs[len(chs)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged IDs %v, want %v", got, want)
	}
	// A zero limit means the default page size, not "nothing" and not "everything".
	all, err := db.ListChannels(ctx, 0, 0)
	if err != nil || len(all) != 7 {
		t.Errorf("ListChannels(limit 0): %d channels, %v", len(all), err)
	}
	tail, err := db.ListChannels(ctx, want[5], 1<<30)
	if err != nil || len(tail) != 1 || tail[0].ID != want[6] {
		t.Errorf("ListChannels after the sixth: %v, %v", tail, err)
	}
}

func testEnsureTags(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	tags, err := db.EnsureTags(ctx, []string{"롤", "한국어", "롤", "vtuber"})
	if err != nil {
		t.Fatalf("EnsureTags: %v", err)
	}
	if len(tags) != 3 || tags[0].Name != "롤" || tags[1].Name != "한국어" || tags[2].Name != "vtuber" {
		t.Fatalf("EnsureTags returned %+v, want 롤, 한국어, vtuber in that order", tags)
	}
	for _, tg := range tags {
		if tg.ID == 0 {
			t.Errorf("tag %q has no ID", tg.Name)
		}
	}
	again, err := db.EnsureTags(ctx, []string{"vtuber", "새태그", "롤"})
	if err != nil {
		t.Fatalf("EnsureTags again: %v", err)
	}
	if again[0] != tags[2] || again[2] != tags[0] || again[1].Name != "새태그" || again[1].ID == 0 {
		t.Errorf("second EnsureTags %+v, want existing IDs reused (%+v)", again, tags)
	}
	if empty, err := db.EnsureTags(ctx, nil); err != nil || len(empty) != 0 {
		t.Errorf("EnsureTags(nil): %v, %v", empty, err)
	}
	if _, err := db.EnsureTags(ctx, []string{"ok", " "}); err == nil {
		t.Error("EnsureTags accepted a blank name")
	}
	var n int
	if err := db.Bun().NewSelect().Table("tags").ColumnExpr("COUNT(*)").Scan(ctx, &n); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("%d tags stored, want 4", n)
	}
}

func testEnsureTagsConcurrent(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	names := []string{"배그", "발로란트", "저챗", "마크", "버튜버"}
	const n = 10
	results := make([][]channel.Tag, n)
	var mu sync.Mutex
	errs := race(n, func(i int) error {
		// Each caller asks in a different order, so inserts interleave.
		mine := slices.Clone(names)
		for j := range mine {
			k := (j + i) % len(mine)
			mine[j], mine[k] = mine[k], mine[j]
		}
		tags, err := db.EnsureTags(ctx, mine)
		mu.Lock()
		results[i] = tags
		mu.Unlock()
		return err
	})
	ids := map[string]int64{}
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureTags caller %d: %v", i, err)
			continue
		}
		if len(results[i]) != len(names) {
			t.Errorf("caller %d got %d tags, want %d", i, len(results[i]), len(names))
		}
		for _, tg := range results[i] {
			if prev, ok := ids[tg.Name]; ok && prev != tg.ID {
				t.Errorf("tag %q has IDs %d and %d", tg.Name, prev, tg.ID)
			}
			ids[tg.Name] = tg.ID
		}
	}
	var count int
	if err := db.Bun().NewSelect().Table("tags").ColumnExpr("COUNT(*)").Scan(ctx, &count); err != nil {
		t.Fatal(err)
	}
	if count != len(names) {
		t.Errorf("%d tag rows after concurrent EnsureTags, want %d", count, len(names))
	}
}
