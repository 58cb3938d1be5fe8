package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/filter"
	"github.com/freelylive/freely/internal/store"
	"github.com/freelylive/freely/internal/store/sqlstore"
	"github.com/freelylive/freely/internal/store/sqlstore/sqltest"
)

var chatEpoch = time.Date(2026, 11, 25, 21, 0, 0, 123456000, time.UTC)

type chatFixture struct {
	cs    *sqlstore.ChatStore
	users []*account.User
	chans []*channel.Channel
}

func newChatFixture(t *testing.T, db *sqlstore.DB) *chatFixture {
	t.Helper()
	f := &chatFixture{cs: sqlstore.NewChatStore(db)}
	for i := range 3 {
		u := &account.User{Email: fmt.Sprintf("chat%d@example.com", i), Nickname: fmt.Sprintf("채터%d", i), PasswordHash: "x"}
		ch := &channel.Channel{Handle: fmt.Sprintf("chatter_%d", i), DisplayName: u.Nickname}
		if err := db.CreateUserWithChannel(context.Background(), u, ch); err != nil {
			t.Fatalf("CreateUserWithChannel: %v", err)
		}
		f.users, f.chans = append(f.users, u), append(f.chans, ch)
	}
	return f
}

func TestChatStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *chatFixture)
	}{
		{"messages", testChatMessages},
		{"deletions", testChatDeletions},
		{"user log paging", testChatUserLog},
		{"settings", testChatSettings},
		{"restrictions", testChatRestrictions},
		{"managers", testChatManagers},
		{"audit log", testChatAudit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sqltest.Each(t, func(t *testing.T, db *sqlstore.DB) { tc.fn(t, newChatFixture(t, db)) })
		})
	}
}

func msg(id, channelID, userID int64, text string) chat.Message {
	return chat.Message{ID: id, ChannelID: channelID, UserID: userID, Nickname: "닉", Text: text,
		SentAt: chatEpoch.Add(time.Duration(id) * time.Millisecond)}
}

func ids(ms []chat.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func testChatMessages(t *testing.T, f *chatFixture) {
	ctx := context.Background()
	ch, other := f.chans[0].ID, f.chans[1].ID
	batch := []chat.Message{msg(1, ch, 1, "하나"), msg(2, ch, 2, "둘"), msg(3, other, 1, "다른 방"), msg(4, ch, 1, "넷")}
	batch[1].Badges = []string{"owner", "admin"}
	batch[1].Masked = true
	if err := f.cs.SaveMessages(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// A retried batch (some rows already stored) inserts nothing twice.
	if err := f.cs.SaveMessages(ctx, append(batch, msg(5, ch, 2, "다섯"))); err != nil {
		t.Fatalf("retried batch: %v", err)
	}
	recent, err := f.cs.RecentMessages(ctx, ch, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(recent); !slices.Equal(got, []int64{2, 4, 5}) {
		t.Fatalf("RecentMessages = %v, want [2 4 5] (newest three, oldest first)", got)
	}
	if m := recent[0]; m.Text != "둘" || !m.Masked || !slices.Equal(m.Badges, []string{"owner", "admin"}) ||
		!m.SentAt.Equal(batch[1].SentAt) || !m.DeletedAt.IsZero() || m.ChannelID != ch || m.UserID != 2 {
		t.Fatalf("message read back as %+v", m)
	}
	after, err := f.cs.MessagesAfter(ctx, ch, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(after); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("MessagesAfter(1, 2) = %v, want [2 4]", got)
	}
	m, err := f.cs.MessageByID(ctx, ch, 4)
	if err != nil || m.Text != "넷" {
		t.Fatalf("MessageByID = %+v, %v", m, err)
	}
	if _, err := f.cs.MessageByID(ctx, other, 4); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("MessageByID in the wrong channel: %v, want ErrNotFound", err)
	}
	big := make([]chat.Message, 1200) // more than one INSERT's worth
	for i := range big {
		big[i] = msg(int64(1000+i), other, 1, "대량")
	}
	if err := f.cs.SaveMessages(ctx, big); err != nil {
		t.Fatalf("large batch: %v", err)
	}
	all, err := f.cs.MessagesAfter(ctx, other, 999, 5000)
	if err != nil || len(all) != 1200 {
		t.Fatalf("large batch read back %d messages, %v", len(all), err)
	}
}

func testChatDeletions(t *testing.T, f *chatFixture) {
	ctx := context.Background()
	ch, other := f.chans[0].ID, f.chans[1].ID
	var batch []chat.Message
	for id := int64(1); id <= 6; id++ {
		batch = append(batch, msg(id, ch, 1, "x"))
	}
	batch = append(batch, msg(7, other, 1, "y"))
	deleted := msg(8, ch, 1, "already deleted")
	deleted.DeletedAt = chatEpoch
	batch = append(batch, deleted)
	if err := f.cs.SaveMessages(ctx, batch); err != nil {
		t.Fatal(err)
	}
	at := chatEpoch.Add(time.Hour)
	if err := f.cs.DeleteMessages(ctx, ch, []int64{2, 7, 99}, at); err != nil {
		t.Fatal(err)
	}
	if err := f.cs.ClearMessages(ctx, ch, 4, at); err != nil {
		t.Fatal(err)
	}
	left, _ := f.cs.RecentMessages(ctx, ch, 50)
	if got := ids(left); !slices.Equal(got, []int64{5, 6}) {
		t.Fatalf("after delete and clear: %v, want [5 6]", got)
	}
	if o, _ := f.cs.RecentMessages(ctx, other, 50); len(o) != 1 {
		t.Fatal("deleting in one channel touched another")
	}
	m, err := f.cs.MessageByID(ctx, ch, 2)
	if err != nil || !m.DeletedAt.Equal(at) {
		t.Fatalf("deleted message: %+v, %v", m, err)
	}
	if err := f.cs.DeleteMessages(ctx, ch, nil, at); err != nil {
		t.Fatalf("empty delete: %v", err)
	}
}

func testChatUserLog(t *testing.T, f *chatFixture) {
	ctx := context.Background()
	ch := f.chans[0].ID
	var batch []chat.Message
	for id := int64(1); id <= 9; id++ {
		batch = append(batch, msg(id, ch, 1+id%2, "x"))
	}
	if err := f.cs.SaveMessages(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := f.cs.DeleteMessages(ctx, ch, []int64{3}, chatEpoch); err != nil {
		t.Fatal(err)
	}
	page1, err := f.cs.UserMessages(ctx, ch, 2, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page1); !slices.Equal(got, []int64{9, 7, 5}) {
		t.Fatalf("first page %v, want [9 7 5]", got)
	}
	page2, _ := f.cs.UserMessages(ctx, ch, 2, page1[len(page1)-1].ID, 3)
	if got := ids(page2); !slices.Equal(got, []int64{3, 1}) {
		t.Fatalf("second page %v, want [3 1] (deleted messages included)", got)
	}
	if page2[0].DeletedAt.IsZero() {
		t.Fatal("deleted message not marked in the log")
	}
}

func testChatSettings(t *testing.T, f *chatFixture) {
	ctx := context.Background()
	ch := f.chans[0].ID
	if _, err := f.cs.ChatSettings(ctx, ch); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("settings never saved: %v, want ErrNotFound", err)
	}
	s := &chat.Settings{ChannelID: ch, SlowSeconds: 30, FollowersOnly: true, MinFollowAge: 7 * 24 * time.Hour,
		FilterMode: filter.ModeBlock, Words: []string{"바보", "멍청이"}, UpdatedAt: chatEpoch}
	audit := &chat.AuditEntry{ChannelID: ch, ActorID: f.users[0].ID, Action: chat.ActionSlow, Detail: "30s", At: chatEpoch}
	if err := f.cs.SaveChatSettings(ctx, s, audit); err != nil {
		t.Fatal(err)
	}
	if audit.ID == 0 {
		t.Fatal("audit entry id not set")
	}
	got, err := f.cs.ChatSettings(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if got.SlowSeconds != 30 || !got.FollowersOnly || got.MinFollowAge != 7*24*time.Hour || got.VerifiedOnly || got.FilterMode != filter.ModeBlock ||
		!slices.Equal(got.Words, s.Words) || len(got.AllowedWords) != 0 || !got.UpdatedAt.Equal(chatEpoch) {
		t.Fatalf("settings read back as %+v", got)
	}
	s.SlowSeconds, s.FollowersOnly, s.MinFollowAge, s.AllowedWords = 0, false, 10*time.Minute, []string{"시발점"}
	if err := f.cs.SaveChatSettings(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = f.cs.ChatSettings(ctx, ch)
	if got.SlowSeconds != 0 || got.FollowersOnly || got.MinFollowAge != 10*time.Minute || !slices.Equal(got.AllowedWords, []string{"시발점"}) {
		t.Fatalf("replaced settings read back as %+v", got)
	}
	bad := *s
	bad.FilterMode = "loud"
	if err := f.cs.SaveChatSettings(ctx, &bad, audit); err == nil {
		t.Fatal("unknown filter mode stored")
	}
	bad = *s
	bad.MinFollowAge = -time.Minute
	if err := f.cs.SaveChatSettings(ctx, &bad, audit); err == nil {
		t.Fatal("negative minimum follow age stored")
	}
	log, _ := f.cs.AuditLog(ctx, ch, 0, 10)
	if len(log) != 1 {
		t.Fatalf("audit entries %d, want 1 (a failed save writes none)", len(log))
	}
}

func testChatRestrictions(t *testing.T, f *chatFixture) {
	ctx := context.Background()
	ch := f.chans[0].ID
	owner, u1, u2 := f.users[0], f.users[1], f.users[2]
	timeout := &chat.Restriction{ChannelID: ch, UserID: u1.ID, Kind: chat.KindTimeout, Until: chatEpoch.Add(10 * time.Minute),
		Reason: "도배", ByUserID: owner.ID, CreatedAt: chatEpoch}
	if err := f.cs.PutRestriction(ctx, timeout, &chat.AuditEntry{ChannelID: ch, ActorID: owner.ID, Action: chat.ActionTimeout, TargetUserID: u1.ID}); err != nil {
		t.Fatal(err)
	}
	ban := &chat.Restriction{ChannelID: ch, UserID: u2.ID, Kind: chat.KindBan, ByUserID: owner.ID, CreatedAt: chatEpoch}
	if err := f.cs.PutRestriction(ctx, ban, nil); err != nil {
		t.Fatal(err)
	}
	active, err := f.cs.Restrictions(ctx, ch, chatEpoch.Add(time.Minute))
	if err != nil || len(active) != 2 {
		t.Fatalf("active restrictions %+v, %v; want 2", active, err)
	}
	later, _ := f.cs.Restrictions(ctx, ch, chatEpoch.Add(11*time.Minute))
	if len(later) != 1 || later[0].UserID != u2.ID || later[0].Kind != chat.KindBan {
		t.Fatalf("after the timeout ran out: %+v, want only the ban", later)
	}
	// A ban replaces the timeout.
	ban1 := &chat.Restriction{ChannelID: ch, UserID: u1.ID, Kind: chat.KindBan, Reason: "욕설", ByUserID: owner.ID, CreatedAt: chatEpoch}
	if err := f.cs.PutRestriction(ctx, ban1, nil); err != nil {
		t.Fatal(err)
	}
	later, _ = f.cs.Restrictions(ctx, ch, chatEpoch.Add(11*time.Minute))
	if len(later) != 2 {
		t.Fatalf("replacing a timeout by a ban: %+v", later)
	}
	audit := &chat.AuditEntry{ChannelID: ch, ActorID: owner.ID, Action: chat.ActionUnban, TargetUserID: u1.ID}
	if err := f.cs.DeleteRestriction(ctx, ch, u1.ID, audit); err != nil {
		t.Fatal(err)
	}
	if err := f.cs.DeleteRestriction(ctx, ch, u1.ID, audit); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lifting a lifted restriction: %v, want ErrNotFound", err)
	}
	log, _ := f.cs.AuditLog(ctx, ch, 0, 10)
	if len(log) != 2 {
		t.Fatalf("audit has %d entries, want 2 (timeout, one unban)", len(log))
	}
	if err := f.cs.PutRestriction(ctx, &chat.Restriction{ChannelID: ch, UserID: u1.ID, Kind: "mute"}, nil); err == nil {
		t.Fatal("unknown restriction kind stored")
	}
}

func testChatManagers(t *testing.T, f *chatFixture) {
	ctx := context.Background()
	ch := f.chans[0].ID
	owner, u1, u2 := f.users[0], f.users[1], f.users[2]
	for i, u := range []*account.User{u1, u2} {
		m := &chat.Manager{ChannelID: ch, UserID: u.ID, AppointedBy: owner.ID, AppointedAt: chatEpoch.Add(time.Duration(i) * time.Second)}
		if err := f.cs.AddManager(ctx, m, &chat.AuditEntry{ChannelID: ch, ActorID: owner.ID, Action: chat.ActionAppoint, TargetUserID: u.ID}); err != nil {
			t.Fatal(err)
		}
	}
	err := f.cs.AddManager(ctx, &chat.Manager{ChannelID: ch, UserID: u1.ID, AppointedBy: owner.ID}, &chat.AuditEntry{ChannelID: ch, ActorID: owner.ID, Action: chat.ActionAppoint})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("appointing twice: %v, want ErrAlreadyExists", err)
	}
	ms, err := f.cs.Managers(ctx, ch)
	if err != nil || len(ms) != 2 || ms[0].UserID != u1.ID || !ms[0].AppointedAt.Equal(chatEpoch) {
		t.Fatalf("Managers = %+v, %v", ms, err)
	}
	if err := f.cs.RemoveManager(ctx, ch, u1.ID, &chat.AuditEntry{ChannelID: ch, ActorID: owner.ID, Action: chat.ActionDismiss}); err != nil {
		t.Fatal(err)
	}
	if err := f.cs.RemoveManager(ctx, ch, u1.ID, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dismissing a non-manager: %v, want ErrNotFound", err)
	}
	ms, _ = f.cs.Managers(ctx, ch)
	if len(ms) != 1 || ms[0].UserID != u2.ID {
		t.Fatalf("after dismissal: %+v", ms)
	}
	log, _ := f.cs.AuditLog(ctx, ch, 0, 10)
	if len(log) != 3 {
		t.Fatalf("audit has %d entries, want 3 (the failed appointment wrote none)", len(log))
	}
}

func testChatAudit(t *testing.T, f *chatFixture) {
	ctx := context.Background()
	ch := f.chans[0].ID
	for i := range 5 {
		e := &chat.AuditEntry{ChannelID: ch, ActorID: f.users[0].ID, Action: chat.ActionDelete, MessageID: int64(i + 1),
			TargetUserID: f.users[1].ID, Detail: "스팸", At: chatEpoch.Add(time.Duration(i) * time.Second)}
		if err := f.cs.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := f.cs.AuditLog(ctx, ch, 0, 3)
	if err != nil || len(page) != 3 || page[0].MessageID != 5 || page[0].Detail != "스팸" || !page[0].At.Equal(chatEpoch.Add(4*time.Second)) {
		t.Fatalf("first page %+v, %v", page, err)
	}
	rest, _ := f.cs.AuditLog(ctx, ch, page[2].ID, 3)
	if len(rest) != 2 || rest[1].MessageID != 1 {
		t.Fatalf("second page %+v", rest)
	}
	if other, _ := f.cs.AuditLog(ctx, f.chans[1].ID, 0, 10); len(other) != 0 {
		t.Fatal("audit log leaks across channels")
	}
}
