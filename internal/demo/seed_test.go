package demo_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/demo"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

type nullMailer struct{ sent int }

func (m *nullMailer) Send(context.Context, string, string, string) error { m.sent++; return nil }

func services(db *sqlstore.DB, mailer account.Mailer) (*account.Service, *channel.Service) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cheap := account.PasswordParams{Memory: 1024, Time: 1, Threads: 1}
	acc := account.NewService(account.Options{Store: db, Mailer: mailer, Logger: log, PasswordParams: &cheap})
	return acc, channel.NewService(channel.Options{Store: db, Logger: log})
}

func TestEmbeddedStreams(t *testing.T) {
	t.Parallel()
	s, err := demo.Streams()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 655 {
		t.Fatalf("%d listings, want the 655 of the snapshot", len(s))
	}
	for i, st := range s {
		if st.Category == "" || len(st.Tags) == 0 || st.SearchTag == "" || (st.Title == "" && i != 220) {
			t.Fatalf("listing %d incomplete: %+v", i, st)
		}
	}
	s[0].Title = "changed"
	again, _ := demo.Streams()
	if again[0].Title == "changed" {
		t.Fatal("Streams shares its slice between callers")
	}
	if _, err := demo.ParseStreams([]byte(`[{"title":"x","category":""}]`)); err == nil {
		t.Fatal("listing without a category accepted")
	}
	if _, err := demo.ParseStreams([]byte(`{`)); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

// TestSeedEmbeddedSnapshot seeds every listing into SQLite: each title must produce input the
// services accept.
func TestSeedEmbeddedSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 652 channels")
	}
	t.Parallel()
	ctx := context.Background()
	db := sqltest.SQLite(t)
	mailer := &nullMailer{}
	acc, chs := services(db, mailer)
	var calls, lastDone, lastTotal int
	start := time.Now()
	res, err := demo.Seed(ctx, demo.Options{Accounts: acc, Channels: chs, Store: db, Progress: func(done, total int) {
		calls++
		if done != lastDone+1 {
			t.Errorf("progress jumped from %d to %d", lastDone, done)
		}
		lastDone, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d channels in %v", res.Created, time.Since(start))
	if res.Created != 652 || calls != 652 || lastTotal != 652 || mailer.sent != 0 {
		t.Fatalf("result %+v, %d progress calls (total %d), %d mails", res, calls, lastTotal, mailer.sent)
	}
	ch, err := chs.ByHandle(ctx, "demo_003")
	if err != nil {
		t.Fatal(err)
	}
	// The third listing: "눈가루 카멘 강화 완료ㅣLOST ARK", lost-ark, tags 한국어, English, 로스트아크, 리그오브레전드.
	if !strings.HasPrefix(ch.Introduction, "눈가루 카멘 강화 완료ㅣLOST ARK") || !strings.Contains(ch.Introduction, "#로스트아크") {
		t.Errorf("introduction %q", ch.Introduction)
	}
	if len(ch.Categories) != 1 || ch.Categories[0].Slug != "lost-ark" {
		t.Errorf("categories %+v", ch.Categories)
	}
	if !strings.Contains(ch.DisplayName, "로스트아크") {
		t.Errorf("display name %q does not come from the tags", ch.DisplayName)
	}
}

func TestSeedResumesAndRefusesForeignData(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		acc, chs := services(db, &nullMailer{})
		all, err := demo.Streams()
		if err != nil {
			t.Fatal(err)
		}
		// Five listings, one a repeated title: four channels.
		streams := append(all[:4:4], all[0])
		res, err := demo.Seed(ctx, demo.Options{Accounts: acc, Channels: chs, Store: db, Streams: streams[:2]})
		if err != nil || res.Created != 2 {
			t.Fatalf("first run: %+v %v", res, err)
		}
		// A second run (as after an interruption) adds only what is missing.
		res, err = demo.Seed(ctx, demo.Options{Accounts: acc, Channels: chs, Store: db, Streams: streams})
		if err != nil || res.Created != 2 || res.Resumed != 2 {
			t.Fatalf("second run: %+v %v", res, err)
		}
		page, err := db.ListChannels(ctx, 0, 100)
		if err != nil || len(page) != 4 {
			t.Fatalf("%d channels after two runs, want 4 (%v)", len(page), err)
		}

		token, u, _, err := acc.LogIn(ctx, res.Email, demo.Password, account.SessionMeta{})
		if err != nil || token == "" || !u.Verified() || u.Nickname != "데모스트리머001" {
			t.Fatalf("demo log-in: %v %+v", err, u)
		}

		// Once a real user exists, the seeder refuses and changes nothing.
		if _, err := acc.SignUp(ctx, account.SignUpInput{Email: "real@example.com", Password: "password-1", Nickname: "진짜사람", Handle: "real_person"}); err != nil {
			t.Fatal(err)
		}
		_, err = demo.Seed(ctx, demo.Options{Accounts: acc, Channels: chs, Store: db, Streams: all[:10]})
		if !errors.Is(err, demo.ErrNotEmpty) {
			t.Fatalf("seed into a used database: %v", err)
		}
		if page, _ := db.ListChannels(ctx, 0, 100); len(page) != 5 {
			t.Fatalf("%d channels after the refused run, want 5", len(page))
		}
	})
}

func TestSeedStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	db := sqltest.SQLite(t)
	acc, chs := services(db, &nullMailer{})
	ctx, cancel := context.WithCancel(context.Background())
	all, _ := demo.Streams()
	res, err := demo.Seed(ctx, demo.Options{Accounts: acc, Channels: chs, Store: db, Streams: all[:20], Progress: func(done, _ int) {
		if done == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || res.Created != 3 {
		t.Fatalf("cancelled seed: %+v %v", res, err)
	}
}
