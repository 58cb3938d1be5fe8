package channel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/blob/disk"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/form"
	"github.com/freelylive/freely/internal/imageproc"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

type env struct {
	svc  *channel.Service
	db   *sqlstore.DB
	blob *disk.Store
}

func newEnv(t *testing.T, db *sqlstore.DB) *env {
	t.Helper()
	if err := db.UpsertCategories(context.Background(), channel.SeedCategories); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, blob: diskBlob(t)}
	e.svc = channel.NewService(channel.Options{
		Store: db, Images: imageproc.New(), Blob: e.blob,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return e
}

// owner creates user n with a channel whose handle is "chan_n".
func (e *env) owner(t *testing.T, n int) (*account.User, *channel.Channel) {
	t.Helper()
	u := &account.User{Email: fmt.Sprintf("u%d@example.com", n), Nickname: fmt.Sprintf("주인%d", n), PasswordHash: "$argon2id$unused"}
	ch := &channel.Channel{Handle: fmt.Sprintf("chan_%d", n), DisplayName: u.Nickname, StreamKey: channel.NewStreamKey()}
	if err := e.db.CreateUserWithChannel(context.Background(), u, ch); err != nil {
		t.Fatal(err)
	}
	return u, ch
}

func codes(err error) string {
	var out []string
	for _, fe := range form.FieldErrors(err) {
		out = append(out, fe.Field+":"+fe.Code)
	}
	return strings.Join(out, " ")
}

func TestByHandle(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		_, ch := e.owner(t, 1)
		got, err := e.svc.ByHandle(ctx, "CHAN_1")
		if err != nil || got.ID != ch.ID {
			t.Fatalf("ByHandle: %v %+v", err, got)
		}
		for _, h := range []string{"chan_2", "admin", "../x", "", strings.Repeat("a", 500)} {
			if _, err := e.svc.ByHandle(ctx, h); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ByHandle(%q) = %v, want not found", h, err)
			}
		}
		if _, err := e.svc.ByOwner(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ByOwner(unknown) = %v", err)
		}
	})
}

func TestUpdateSettings(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u, _ := e.owner(t, 1)

		ch, err := e.svc.UpdateSettings(ctx, u.ID, channel.SettingsInput{
			DisplayName:   "  민수의   롤 방송 ",
			Introduction:  "매일 밤 9시!\r\n다이아 가는 중 #롤",
			CategorySlugs: []string{"league-of-legends", "", "just-chatting", "league-of-legends"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if ch.DisplayName != "민수의 롤 방송" || ch.Introduction != "매일 밤 9시!\n다이아 가는 중 #롤" || len(ch.Categories) != 2 {
			t.Fatalf("saved %+v", ch)
		}
		stored, err := e.svc.ByOwner(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		slugs := map[string]bool{}
		for _, c := range stored.Categories {
			slugs[c.Slug] = true
		}
		if stored.DisplayName != ch.DisplayName || stored.Introduction != ch.Introduction || !slugs["league-of-legends"] || !slugs["just-chatting"] {
			t.Fatalf("stored %+v", stored)
		}

		bad := []struct {
			in   channel.SettingsInput
			want string
		}{
			{channel.SettingsInput{DisplayName: "", Introduction: strings.Repeat("가", 1001), CategorySlugs: []string{"art", "music", "minecraft"}},
				"display_name:display_name_invalid introduction:intro_too_long categories:too_many_categories"},
			{channel.SettingsInput{DisplayName: "ok", CategorySlugs: []string{"no-such-game"}}, "categories:category_unknown"},
			{channel.SettingsInput{DisplayName: "ok", Introduction: "\u202Egnp.exe"}, "introduction:intro_invalid"},
			{channel.SettingsInput{DisplayName: strings.Repeat("x", 31)}, "display_name:display_name_invalid"},
		}
		for _, c := range bad {
			_, err := e.svc.UpdateSettings(ctx, u.ID, c.in)
			if got := codes(err); got != c.want {
				t.Errorf("UpdateSettings(%+v) codes %q (err %v), want %q", c.in, got, err, c.want)
			}
		}
		after, _ := e.svc.ByOwner(ctx, u.ID)
		if after.DisplayName != ch.DisplayName || after.Introduction != ch.Introduction || len(after.Categories) != 2 {
			t.Fatalf("refused updates changed the channel: %+v", after)
		}

		// Clearing categories and introduction is allowed.
		cleared, err := e.svc.UpdateSettings(ctx, u.ID, channel.SettingsInput{DisplayName: "민수"})
		if err != nil || len(cleared.Categories) != 0 || cleared.Introduction != "" {
			t.Fatalf("clear: %v %+v", err, cleared)
		}
	})
}

func TestStreamKeys(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u1, ch1 := e.owner(t, 1)
		_, ch2 := e.owner(t, 2)
		if ch1.StreamKey == ch2.StreamKey {
			t.Fatal("two channels share a stream key")
		}
		got, err := e.svc.ByStreamKey(ctx, ch1.StreamKey)
		if err != nil || got.ID != ch1.ID {
			t.Fatalf("ByStreamKey: %v", err)
		}

		old := ch1.StreamKey
		rotated, err := e.svc.RegenerateStreamKey(ctx, u1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.StreamKey == old || !strings.HasPrefix(rotated.StreamKey, channel.StreamKeyPrefix) || len(rotated.StreamKey) != len(old) {
			t.Fatalf("rotated key %q (old %q)", rotated.StreamKey, old)
		}
		for _, public := range []string{fmt.Sprint(ch1.ID), fmt.Sprint(u1.ID), ch1.Handle} {
			if strings.Contains(rotated.StreamKey, "_"+public+"_") || strings.HasSuffix(rotated.StreamKey, "_"+public) {
				t.Errorf("key %q carries public value %q", rotated.StreamKey, public)
			}
		}
		if _, err := e.svc.ByStreamKey(ctx, old); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old key still works: %v", err)
		}
		if got, err := e.svc.ByStreamKey(ctx, rotated.StreamKey); err != nil || got.ID != ch1.ID {
			t.Fatalf("new key: %v", err)
		}
		stored, _ := e.svc.ByOwner(ctx, u1.ID)
		if stored.StreamKey != rotated.StreamKey {
			t.Fatal("rotation not stored")
		}
		for _, bad := range []string{"", "live_", rotated.StreamKey + "x", strings.ToUpper(rotated.StreamKey), " " + rotated.StreamKey, fmt.Sprint(ch1.ID)} {
			if _, err := e.svc.ByStreamKey(ctx, bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ByStreamKey(%q) = %v, want not found", bad, err)
			}
		}
	})
}

func pngOf(t *testing.T, w, h int, alpha uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(i/4), uint8(i/4/w), 200, alpha
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestChannelImages(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		u, ch := e.owner(t, 1)

		withBanner, err := e.svc.SetBannerImage(ctx, u.ID, bytes.NewReader(pngOf(t, 800, 250, 255)))
		if err != nil {
			t.Fatal(err)
		}
		key := withBanner.BannerKey
		if !strings.HasPrefix(key, fmt.Sprintf("channels/%d/banner-", ch.ID)) || !strings.HasSuffix(key, ".jpg") {
			t.Fatalf("banner key %q", key)
		}
		rc, _, err := e.blob.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := image.DecodeConfig(rc)
		rc.Close()
		if err != nil || cfg.Width != 800 || cfg.Height != 200 {
			t.Fatalf("banner %dx%d %v", cfg.Width, cfg.Height, err)
		}
		if e.svc.ImageURL(key) != "/media/"+key || e.svc.ImageURL("") != "" {
			t.Fatal("ImageURL")
		}

		withProfile, err := e.svc.SetProfileImage(ctx, u.ID, bytes.NewReader(pngOf(t, 300, 300, 128)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(withProfile.ProfileKey, ".png") || withProfile.BannerKey != key {
			t.Fatalf("profile %q banner %q", withProfile.ProfileKey, withProfile.BannerKey)
		}
		replaced, err := e.svc.SetBannerImage(ctx, u.ID, bytes.NewReader(pngOf(t, 1000, 250, 255)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.blob.Stat(ctx, key); err == nil {
			t.Error("replaced banner object was not deleted")
		}
		stored, _ := e.svc.ByOwner(ctx, u.ID)
		if stored.BannerKey != replaced.BannerKey || stored.ProfileKey != withProfile.ProfileKey {
			t.Fatalf("stored %+v", stored)
		}
		_, err = e.svc.SetProfileImage(ctx, u.ID, strings.NewReader("GIF89a\x10\x00\x10\x00 truncated"))
		if got := codes(err); got != "profile_image:image_invalid" {
			t.Fatalf("bad profile image: %q (%v)", got, err)
		}
		objs, _ := e.blob.List(ctx, "channels/")
		if len(objs) != 2 {
			t.Fatalf("%d objects stored, want the current banner and profile image", len(objs))
		}
	})
}

func TestCategoriesAndTags(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		cats, err := e.svc.Categories(ctx)
		if err != nil || len(cats) != len(channel.SeedCategories) {
			t.Fatalf("%d categories, %v", len(cats), err)
		}
		tags, err := e.svc.EnsureTags(ctx, []string{"#롤", "LoL", "lol", "리그오브레전드"})
		if err != nil || len(tags) != 3 {
			t.Fatalf("tags %+v %v", tags, err)
		}
		again, err := e.svc.EnsureTags(ctx, []string{"lol"})
		if err != nil || len(again) != 1 {
			t.Fatalf("again %+v %v", again, err)
		}
		for _, tg := range tags {
			if tg.Name == "lol" && tg.ID != again[0].ID {
				t.Fatal("EnsureTags created a duplicate tag")
			}
		}
		if _, err := e.svc.EnsureTags(ctx, []string{"ok", "a\u200Bb"}); codes(err) != "tags:tag_invalid" {
			t.Fatalf("bad tag: %v", err)
		}
		if tags, err := e.svc.EnsureTags(ctx, nil); err != nil || tags != nil {
			t.Fatalf("no tags: %v %v", tags, err)
		}
	})
}
