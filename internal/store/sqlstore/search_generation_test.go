package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/freelylive/freely/internal/search"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

// What a result card shows and whether a channel is suspended live outside search_docs;
// triggers raise the index generation (which the service's caches follow) and keep the
// documents' hidden flag when they change.
func TestSearchGenerationFollowsCardsAndSuspension(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newSearchFixture(t, db)
		ch := f.createChannel(t, "gen_ch", "세대채널", "", "art")
		first := f.openSession(t, ch, "세대 시험 방송", "art", 3, "세대")
		gen := func() int64 {
			t.Helper()
			g, err := f.ix.Generation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
		raised := func(what string, change func()) {
			t.Helper()
			before := gen()
			change()
			if after := gen(); after <= before {
				t.Errorf("%s: generation %d → %d, want it raised", what, before, after)
			}
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Bun().ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		raised("profile picture", func() { exec("UPDATE channels SET profile_key = ? WHERE id = ?", "blob/new", ch.ID) })
		raised("category name", func() { exec("UPDATE categories SET name_en = ? WHERE slug = ?", "Drawing", "art") })

		hidden := func() int {
			t.Helper()
			n, err := db.Bun().NewSelect().TableExpr("search_docs").Where("channel_id = ? AND hidden", ch.ID).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		found := func() int {
			t.Helper()
			res, err := f.svc.Search(ctx, search.Query{Text: "세대"})
			if err != nil {
				t.Fatal(err)
			}
			return len(res.Live) + len(res.Channels) + len(res.Past)
		}
		if n := found(); n == 0 {
			t.Fatal("the session is not found before the suspension")
		}
		raised("suspension", func() {
			if err := db.SetSuspended(ctx, ch.ID, true); err != nil {
				t.Fatal(err)
			}
		})
		if n := hidden(); n != 2 {
			t.Errorf("%d documents hidden after the suspension, want 2 (channel and session)", n)
		}
		if n := found(); n != 0 {
			t.Errorf("%d hits for a suspended channel", n)
		}
		// Documents written while the channel is suspended are hidden too.
		f.closeSession(t, first)
		f.openSession(t, ch, "세대 두번째 방송", "art", 1)
		if n := hidden(); n != 3 {
			t.Errorf("%d documents hidden after a new session, want 3", n)
		}
		raised("lifted suspension", func() {
			if err := db.SetSuspended(ctx, ch.ID, false); err != nil {
				t.Fatal(err)
			}
		})
		if n := hidden(); n != 0 {
			t.Errorf("%d documents still hidden", n)
		}
		if n := found(); n == 0 {
			t.Error("the channel is not found again after the suspension is lifted")
		}
	})
}

// On PostgreSQL a node keeps the generation in memory: it reads it again after its own
// writes (at once) and after another process's, which it hears of by notification.
func TestGenerationKeptInMemoryOnPostgres(t *testing.T) {
	t.Parallel()
	url := sqltest.PostgresURL(t)
	ctx := context.Background()
	open := func() *sqlstore.DB {
		t.Helper()
		db, err := sqlstore.Open(ctx, sqlstore.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	here, other := open(), open()
	ix := sqlstore.NewSearchIndex(here, nil)
	gen := func() int64 {
		t.Helper()
		g, err := ix.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	gen() // starts the listener
	deadline := time.Now().Add(10 * time.Second)
	for !sqlstore.GenerationListening(here) {
		if time.Now().After(deadline) {
			t.Fatal("the generation listener did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	g0 := gen()

	// A change that neither passes through this DB nor notifies is not seen: the
	// generation is not read for every search.
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE search_generation SET gen = gen + 1000 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != g0 {
		t.Fatalf("generation %d after an unannounced change, want the kept %d", g, g0)
	}

	// Another process's change arrives by notification.
	if _, err := other.Bun().ExecContext(ctx, `UPDATE categories SET name_en = ? WHERE slug = ?`, "Drawing", "art"); err != nil {
		t.Fatal(err)
	}
	for g := gen(); g <= g0+1000; g = gen() {
		if time.Now().After(deadline) {
			t.Fatalf("generation still %d after another process raised it past %d", g, g0+1000)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// This process's own change is seen by the next search, without waiting.
	before := gen()
	if _, err := here.Bun().ExecContext(ctx, `UPDATE categories SET name_en = ? WHERE slug = ?`, "Art", "art"); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g <= before {
		t.Errorf("generation %d right after this process's change, want above %d", g, before)
	}
}
