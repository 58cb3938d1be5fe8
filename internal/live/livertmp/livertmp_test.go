package livertmp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/live/livertmp"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

func TestGatekeeper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqltest.SQLite(t)
	m, err := live.New(live.Options{
		Store:    sqlstore.NewLiveStore(db),
		Channels: db,
		Accounts: db,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	u := &account.User{Email: "obs@example.com", Nickname: "오비에스", PasswordHash: "x"}
	ch := &channel.Channel{Handle: "obs_user", DisplayName: "OBS"}
	if err := db.CreateUserWithChannel(ctx, u, ch); err != nil {
		t.Fatal(err)
	}
	key := channel.NewStreamKey()
	if err := db.SetStreamKey(ctx, ch.ID, key); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkEmailVerified(ctx, u.ID, u.CreatedAt); err != nil {
		t.Fatal(err)
	}

	gk := livertmp.Gatekeeper(m)
	p, err := gk.Admit(ctx, "live_wrong", "192.0.2.1:4000")
	if !errors.Is(err, live.ErrStreamKeyInvalid) || p != nil {
		t.Fatalf("wrong key: Admit = %#v, %v; want a nil Publication and ErrStreamKeyInvalid", p, err)
	}

	p, err = gk.Admit(ctx, key, "192.0.2.1:4000")
	if err != nil {
		t.Fatal(err)
	}
	if p.Channel() != "obs_user" {
		t.Fatalf("Channel() = %q", p.Channel())
	}
	if err := p.Started(ctx); err != nil {
		t.Fatal(err)
	}
	if lc, ok := m.Live("obs_user"); !ok || lc.ChannelID != ch.ID {
		t.Fatalf("not live after Started: %+v", lc)
	}
	p.Ended()
}
