package chat

import (
	"context"
	"errors"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/store"
)

// Read-only views for the channel dashboard. Like moderation, each checks the viewer's
// role on the server.

// Permissions says what a user may do in a channel's chat, for pages to show the right
// controls (the server checks again on every action).
type Permissions struct {
	CanModerate bool // delete, timeout, ban, slow mode, modes, clear, chat log
	CanManage   bool // managers, word filter, audit log
}

// Permissions returns what user (nil: anonymous) may do in channelID's chat.
func (h *Hub) Permissions(ctx context.Context, user *account.User, channelID int64) (Permissions, error) {
	if user == nil {
		return Permissions{}, nil
	}
	var p Permissions
	err := h.withRoom(ctx, user, channelID, func(r *room) error {
		rl := r.roleOf(user)
		p = Permissions{CanModerate: rl >= roleManager, CanManage: rl >= roleOwner}
		return nil
	})
	return p, err
}

// ManagerInfo is one manager as the dashboard lists them.
type ManagerInfo struct {
	UserID      int64
	Nickname    string
	AppointedAt time.Time
}

// Managers lists the channel's managers (for the owner and admins).
func (h *Hub) Managers(ctx context.Context, actor *account.User, channelID int64) ([]ManagerInfo, error) {
	var out []ManagerInfo
	err := h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleOwner); err != nil {
			return err
		}
		ms, err := h.store.Managers(ctx, channelID)
		if err != nil {
			return internalError("list managers", err)
		}
		for _, m := range ms {
			info := ManagerInfo{UserID: m.UserID, AppointedAt: m.AppointedAt}
			if u, err := h.opts.Users.UserByID(ctx, m.UserID); err == nil {
				info.Nickname = u.Nickname
			} else if !errors.Is(err, store.ErrNotFound) {
				return internalError("look up manager", err)
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// RestrictionInfo is one active ban or timeout as the dashboard lists it.
type RestrictionInfo struct {
	Restriction
	Nickname string
}

// Restrictions lists the channel's bans and running timeouts (for moderators).
func (h *Hub) Restrictions(ctx context.Context, actor *account.User, channelID int64) ([]RestrictionInfo, error) {
	var out []RestrictionInfo
	err := h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleManager); err != nil {
			return err
		}
		xs, err := h.store.Restrictions(ctx, channelID, h.now())
		if err != nil {
			return internalError("list restrictions", err)
		}
		for _, x := range xs {
			info := RestrictionInfo{Restriction: x}
			if u, err := h.opts.Users.UserByID(ctx, x.UserID); err == nil {
				info.Nickname = u.Nickname
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// AuditLog pages through the channel's moderation log, newest first: entries with id <
// beforeID (0 for the newest), at most limit (capped at MaxPageSize). Owner and admins only.
func (h *Hub) AuditLog(ctx context.Context, actor *account.User, channelID, beforeID int64, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleOwner); err != nil {
			return err
		}
		var err error
		out, err = h.store.AuditLog(ctx, channelID, max(beforeID, 0), pageSize(limit))
		if err != nil {
			return internalError("read audit log", err)
		}
		return nil
	})
	return out, err
}

// UserMessages pages through one user's messages in the channel across broadcasts, deleted
// ones included, newest first (for moderators): ids < beforeID (0 for the newest).
func (h *Hub) UserMessages(ctx context.Context, actor *account.User, channelID, userID, beforeID int64, limit int) ([]Message, error) {
	var out []Message
	err := h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleManager); err != nil {
			return err
		}
		var err error
		out, err = h.store.UserMessages(ctx, channelID, userID, max(beforeID, 0), pageSize(limit))
		if err != nil {
			return internalError("read chat log", err)
		}
		return nil
	})
	return out, err
}

// FindUser resolves a nickname or channel handle to a user, for dashboard forms that search
// the chat log by name (moderators only).
func (h *Hub) FindUser(ctx context.Context, actor *account.User, channelID int64, nameOrHandle string) (*account.User, error) {
	var u *account.User
	err := h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleManager); err != nil {
			return err
		}
		var err error
		u, err = h.findUser(ctx, nameOrHandle)
		return err
	})
	return u, err
}

// Settings returns the channel's chat settings including the owner's words (owner and
// admins only).
func (h *Hub) Settings(ctx context.Context, actor *account.User, channelID int64) (Settings, error) {
	var s Settings
	err := h.withRoom(ctx, actor, channelID, func(r *room) error {
		if err := require(r.roleOf(actor), roleOwner); err != nil {
			return err
		}
		r.mu.Lock()
		s = r.settings
		r.mu.Unlock()
		return nil
	})
	return s, err
}

func pageSize(limit int) int {
	if limit <= 0 || limit > MaxPageSize {
		return MaxPageSize
	}
	return limit
}
