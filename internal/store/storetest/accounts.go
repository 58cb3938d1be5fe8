package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

func testCreateUserWithChannel(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	u, ch := signUp(t, db, 1)

	if u.ID == 0 || ch.ID == 0 {
		t.Fatalf("IDs not filled in: user %d, channel %d", u.ID, ch.ID)
	}
	if ch.OwnerID != u.ID {
		t.Errorf("channel owner %d, want user %d", ch.OwnerID, u.ID)
	}
	if u.Email != "user1@example.com" {
		t.Errorf("stored e-mail %q, want lower-cased user1@example.com", u.Email)
	}
	if ch.Handle != "user_1" {
		t.Errorf("stored handle %q, want lower-cased user_1", ch.Handle)
	}
	for name, ts := range map[string]time.Time{"user created": u.CreatedAt, "user updated": u.UpdatedAt, "channel created": ch.CreatedAt} {
		if ts.Before(before) || ts.Location() != time.UTC {
			t.Errorf("%s at %v, want a UTC time after %v", name, ts, before)
		}
	}

	got, err := db.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if *got != *u {
		t.Errorf("UserByID returned\n %+v\nwant\n %+v", *got, *u)
	}
	if got.Verified() {
		t.Error("new user is verified")
	}
	if got, err := db.UserByEmail(ctx, "USER1@example.COM"); err != nil || got.ID != u.ID {
		t.Errorf("UserByEmail in other case: %v, %v", got, err)
	}
	if got, err := db.UserByNickname(ctx, u.Nickname); err != nil || got.ID != u.ID {
		t.Errorf("UserByNickname: %v, %v", got, err)
	}

	c, err := db.ChannelByOwner(ctx, u.ID)
	if err != nil {
		t.Fatalf("ChannelByOwner: %v", err)
	}
	if c.ID != ch.ID || c.Handle != "user_1" || c.DisplayName != ch.DisplayName || !c.CreatedAt.Equal(ch.CreatedAt) {
		t.Errorf("ChannelByOwner returned %+v, want %+v", c, ch)
	}
	if c2, err := db.ChannelByHandle(ctx, "USER_1"); err != nil || c2.ID != ch.ID {
		t.Errorf("ChannelByHandle in other case: %v, %v", c2, err)
	}
	if c3, err := db.ChannelByID(ctx, ch.ID); err != nil || c3.OwnerID != u.ID {
		t.Errorf("ChannelByID: %v, %v", c3, err)
	}

	// Nicknames match case-insensitively and regardless of Unicode normalisation form.
	latin, _ := newUser(2)
	latin.Nickname = "Café_Streamer"
	_, lch := newUser(2)
	if err := db.CreateUserWithChannel(ctx, latin, lch); err != nil {
		t.Fatalf("sign up latin nickname: %v", err)
	}
	for _, q := range []string{"café_streamer", "CAFÉ_STREAMER", norm.NFD.String("Café_Streamer")} {
		if got, err := db.UserByNickname(ctx, q); err != nil || got.ID != latin.ID {
			t.Errorf("UserByNickname(%q): %v, %v", q, got, err)
		} else if got.Nickname != "Café_Streamer" {
			t.Errorf("nickname stored as %q, want the original spelling", got.Nickname)
		}
	}

	// Fields the caller sets survive the round trip.
	full, fch := newUser(3)
	full.IsAdmin = true
	full.AvatarKey = "avatars/3.webp"
	full.EmailVerifiedAt = epoch
	fch.StreamKey = "live_sk_3"
	fch.Introduction = "안녕하세요 <b>반갑습니다</b>"
	if err := db.CreateUserWithChannel(ctx, full, fch); err != nil {
		t.Fatalf("sign up with all fields: %v", err)
	}
	gotFull, err := db.UserByID(ctx, full.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if !gotFull.IsAdmin || gotFull.AvatarKey != full.AvatarKey || !gotFull.EmailVerifiedAt.Equal(epoch) || !gotFull.Verified() {
		t.Errorf("round trip lost fields: %+v", gotFull)
	}
	if gotFull.EmailVerifiedAt.Location() != time.UTC {
		t.Errorf("EmailVerifiedAt in %v, want UTC", gotFull.EmailVerifiedAt.Location())
	}
	gotCh, err := db.ChannelByOwner(ctx, full.ID)
	if err != nil {
		t.Fatalf("ChannelByOwner: %v", err)
	}
	if gotCh.StreamKey != "live_sk_3" || gotCh.Introduction != fch.Introduction {
		t.Errorf("channel round trip lost fields: %+v", gotCh)
	}

	// Missing required fields are refused before anything is written.
	for name, mutate := range map[string]func(*account.User){
		"no email":    func(u *account.User) { u.Email = " " },
		"no nickname": func(u *account.User) { u.Nickname = "" },
		"no password": func(u *account.User) { u.PasswordHash = "" },
	} {
		bad, bch := newUser(9)
		mutate(bad)
		if err := db.CreateUserWithChannel(ctx, bad, bch); err == nil {
			t.Errorf("%s: sign-up accepted", name)
		}
	}
	if _, err := db.UserByNickname(ctx, "시청자9"); err == nil {
		t.Error("a refused sign-up left a user behind")
	}
}

func testNotFound(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	signUp(t, db, 1)
	_, err := db.UserByID(ctx, 999999)
	wantNotFound(t, "UserByID", err)
	_, err = db.UserByEmail(ctx, "nobody@example.com")
	wantNotFound(t, "UserByEmail", err)
	_, err = db.UserByNickname(ctx, "없는사람")
	wantNotFound(t, "UserByNickname", err)
	_, err = db.ChannelByID(ctx, 999999)
	wantNotFound(t, "ChannelByID", err)
	_, err = db.ChannelByHandle(ctx, "nobody")
	wantNotFound(t, "ChannelByHandle", err)
	_, err = db.ChannelByOwner(ctx, 999999)
	wantNotFound(t, "ChannelByOwner", err)
	_, err = db.ChannelByStreamKey(ctx, "no-such-key")
	wantNotFound(t, "ChannelByStreamKey", err)
	_, err = db.ChannelByStreamKey(ctx, "")
	wantNotFound(t, "ChannelByStreamKey(empty)", err)
	_, err = db.CategoryBySlug(ctx, "no-such-category")
	wantNotFound(t, "CategoryBySlug", err)
	_, err = db.SessionByTokenHash(ctx, "no-such-session", epoch)
	wantNotFound(t, "SessionByTokenHash", err)
	_, err = db.UseToken(ctx, "no-such-token", account.PurposeVerifyEmail, epoch)
	wantNotFound(t, "UseToken", err)

	ghost := &account.User{ID: 999999, Nickname: "유령"}
	wantNotFound(t, "UpdateProfile", db.UpdateProfile(ctx, ghost))
	wantNotFound(t, "SetPasswordHash", db.SetPasswordHash(ctx, 999999, "hash"))
	wantNotFound(t, "MarkEmailVerified", db.MarkEmailVerified(ctx, 999999, epoch))
	wantNotFound(t, "TouchSession", db.TouchSession(ctx, "no-such-session", epoch, epoch.Add(time.Hour)))
	wantNotFound(t, "CreateSession for unknown user", db.CreateSession(ctx, &account.Session{
		TokenHash: "s1", UserID: 999999, ExpiresAt: epoch.Add(time.Hour),
	}))
	wantNotFound(t, "CreateToken for unknown user", db.CreateToken(ctx, &account.OneTimeToken{
		TokenHash: "t1", UserID: 999999, Purpose: account.PurposeVerifyEmail, ExpiresAt: epoch.Add(time.Hour),
	}))
}

func testSignUpConflicts(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	_, ch1 := signUp(t, db, 1)
	if err := db.SetStreamKey(ctx, ch1.ID, "sk_taken"); err != nil {
		t.Fatalf("SetStreamKey: %v", err)
	}

	cases := []struct {
		name   string
		mutate func(u *account.User, ch *channel.Channel)
		field  string
	}{
		{"same email in other case", func(u *account.User, _ *channel.Channel) { u.Email = "USER1@example.com" }, "email"},
		{"same nickname in other case", func(u *account.User, _ *channel.Channel) { u.Nickname = "시청자1" }, "nickname"},
		{"same handle in other case", func(_ *account.User, ch *channel.Channel) { ch.Handle = "USER_1" }, "handle"},
		{"same stream key", func(_ *account.User, ch *channel.Channel) { ch.StreamKey = "sk_taken" }, "stream_key"},
	}
	for i, tc := range cases {
		u, ch := newUser(100 + i)
		tc.mutate(u, ch)
		err := db.CreateUserWithChannel(ctx, u, ch)
		wantConflict(t, tc.name, err, tc.field)
		// The user row must not outlive its refused channel: both or neither.
		if _, err := db.UserByNickname(ctx, u.Nickname); tc.field != "nickname" && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: user row left behind (lookup error %v)", tc.name, err)
		}
	}

	// Nicknames equal after case-folding and NFC are the same nickname.
	u, ch := newUser(200)
	u.Nickname = "Ärger"
	if err := db.CreateUserWithChannel(ctx, u, ch); err != nil {
		t.Fatalf("sign up: %v", err)
	}
	u2, ch2 := newUser(201)
	u2.Nickname = norm.NFD.String("äRGER")
	wantConflict(t, "nickname in NFD and other case", db.CreateUserWithChannel(ctx, u2, ch2), "nickname")
}

func testConcurrentSignUps(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	const n = 12
	for round, field := range []string{"email", "nickname", "handle"} {
		errs := race(n, func(i int) error {
			u, ch := newUser(1000*(round+1) + i)
			switch field {
			case "email":
				u.Email = "same@example.com"
			case "nickname":
				u.Nickname = "같은닉네임"
			case "handle":
				ch.Handle = "same_handle"
			}
			return db.CreateUserWithChannel(ctx, u, ch)
		})
		ok, conflicts := countOutcomes(t, "concurrent sign-ups with the same "+field, errs, field)
		if ok != 1 || conflicts != n-1 {
			t.Errorf("same %s: %d sign-ups succeeded and %d conflicted, want 1 and %d", field, ok, conflicts, n-1)
		}
	}
	// Every winner has exactly one channel; no loser left a user row behind.
	var users, channels int
	if err := db.Bun().NewSelect().Table("users").ColumnExpr("COUNT(*)").Scan(ctx, &users); err != nil {
		t.Fatal(err)
	}
	if err := db.Bun().NewSelect().Table("channels").ColumnExpr("COUNT(*)").Scan(ctx, &channels); err != nil {
		t.Fatal(err)
	}
	if users != 3 || channels != 3 {
		t.Errorf("%d users and %d channels after three races, want 3 and 3", users, channels)
	}
}

func testUpdateProfile(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u1, _ := signUp(t, db, 1)
	u2, _ := signUp(t, db, 2)

	u1.Nickname = "새이름"
	u1.AvatarKey = "avatars/1.webp"
	before := u1.UpdatedAt
	if err := db.UpdateProfile(ctx, u1); err != nil {
		t.Fatalf("UpdateProfile: %v", err)
	}
	got, err := db.UserByID(ctx, u1.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got.Nickname != "새이름" || got.AvatarKey != "avatars/1.webp" || got.UpdatedAt.Before(before) {
		t.Errorf("after UpdateProfile: %+v", got)
	}
	if _, err := db.UserByNickname(ctx, "시청자1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old nickname still finds the user: %v", err)
	}

	// Changing only the case of one's own nickname is not a conflict.
	u1.Nickname = "새이름"
	u2.Nickname = "SiChung"
	if err := db.UpdateProfile(ctx, u2); err != nil {
		t.Fatalf("UpdateProfile: %v", err)
	}
	u2.Nickname = "sichung"
	if err := db.UpdateProfile(ctx, u2); err != nil {
		t.Errorf("changing the case of one's own nickname: %v", err)
	}

	// Taking another user's nickname is.
	u2.Nickname = "새이름"
	u2.AvatarKey = "avatars/2.webp"
	wantConflict(t, "UpdateProfile to a taken nickname", db.UpdateProfile(ctx, u2), "nickname")
	got2, err := db.UserByID(ctx, u2.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got2.Nickname != "sichung" || got2.AvatarKey != "" {
		t.Errorf("refused update changed the row: %+v", got2)
	}

	u2.Nickname = ""
	if err := db.UpdateProfile(ctx, u2); err == nil {
		t.Error("UpdateProfile accepted an empty nickname")
	}
}

func testSetPasswordHash(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u1, _ := signUp(t, db, 1)
	u2, _ := signUp(t, db, 2)
	for i, uid := range []int64{u1.ID, u1.ID, u2.ID} {
		s := &account.Session{TokenHash: fmt.Sprintf("s%d", i), UserID: uid, CSRFSecret: "c", ExpiresAt: epoch.Add(time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	if err := db.SetPasswordHash(ctx, u1.ID, "new-hash"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	got, err := db.UserByID(ctx, u1.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got.PasswordHash != "new-hash" {
		t.Errorf("password hash %q, want new-hash", got.PasswordHash)
	}
	for _, h := range []string{"s0", "s1"} {
		_, err := db.SessionByTokenHash(ctx, h, epoch)
		wantNotFound(t, "session "+h+" after password change", err)
	}
	if _, err := db.SessionByTokenHash(ctx, "s2", epoch); err != nil {
		t.Errorf("another user's session went too: %v", err)
	}
	if err := db.SetPasswordHash(ctx, u1.ID, ""); err == nil {
		t.Error("SetPasswordHash accepted an empty hash")
	}
}

func testMarkEmailVerified(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	u, _ := signUp(t, db, 1)
	at := epoch.In(time.FixedZone("KST", 9*3600))
	if err := db.MarkEmailVerified(ctx, u.ID, at); err != nil {
		t.Fatalf("MarkEmailVerified: %v", err)
	}
	got, err := db.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if !got.Verified() || !got.EmailVerifiedAt.Equal(epoch) || got.EmailVerifiedAt.Location() != time.UTC {
		t.Errorf("EmailVerifiedAt %v, want %v in UTC", got.EmailVerifiedAt, epoch)
	}
	if err := db.MarkEmailVerified(ctx, u.ID, epoch.Add(time.Hour)); err != nil {
		t.Fatalf("MarkEmailVerified again: %v", err)
	}
	got, _ = db.UserByID(ctx, u.ID)
	if !got.EmailVerifiedAt.Equal(epoch) {
		t.Errorf("second verification moved EmailVerifiedAt to %v, want the first %v", got.EmailVerifiedAt, epoch)
	}
}
