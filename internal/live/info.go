package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/form"
	"github.com/freelylive/freely/internal/store"
)

// MaxTitleLen is the longest broadcast title, in grapheme clusters.
const MaxTitleLen = 100

// StreamInfo returns the channel's saved stream information; a channel that never saved any
// gets an empty one.
func (m *Manager) StreamInfo(ctx context.Context, channelID int64) (*StreamInfo, error) {
	info, err := m.opts.Store.StreamInfo(ctx, channelID)
	if errors.Is(err, store.ErrNotFound) {
		return &StreamInfo{ChannelID: channelID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live: stream info of channel %d: %w", channelID, err)
	}
	return info, nil
}

// SetStreamInfo validates and saves the stream information of channelID (the caller has
// checked that the signed-in user owns it). Bad input gives form.Errors on "title"
// (title_invalid, title_too_long), "category" (category_unknown) or "tags" (the codes of
// channel.NormalizeTags) and changes nothing. When the channel is live, the open session
// changes too and a live.updated event tells viewers.
func (m *Manager) SetStreamInfo(ctx context.Context, channelID int64, in StreamInfoInput) (*StreamInfo, error) {
	var errs form.Errors
	title, ferr := normalizeTitle(in.Title)
	errs.AddError(ferr)
	var category *channel.Category
	if slug := strings.ToLower(strings.TrimSpace(in.CategorySlug)); slug != "" {
		c, err := m.opts.Channels.CategoryBySlug(ctx, slug)
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs.Add("category", "category_unknown")
		case err != nil:
			return nil, fmt.Errorf("live: look up category: %w", err)
		default:
			category = c
		}
	}
	names, err := channel.NormalizeTags(in.Tags)
	if err != nil {
		var fe *form.FieldError
		if !errors.As(err, &fe) {
			return nil, fmt.Errorf("live: normalise tags: %w", err)
		}
		errs.AddError(fe)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var tags []channel.Tag
	if len(names) > 0 {
		if tags, err = m.opts.Channels.EnsureTags(ctx, names); err != nil {
			return nil, fmt.Errorf("live: create tags: %w", err)
		}
	}
	now := m.clock.Now()
	info := &StreamInfo{ChannelID: channelID, Title: title, Category: category, Tags: tags, UpdatedAt: now}
	sess, err := m.opts.Store.SaveStreamInfo(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("live: save stream info of channel %d: %w", channelID, err)
	}
	if sess != nil {
		m.sessionInfoChanged(ctx, sess, now)
	}
	return info, nil
}

// sessionInfoChanged brings the local copy and the directory up to date and tells viewers.
func (m *Manager) sessionInfoChanged(ctx context.Context, sess *Session, now time.Time) {
	handle := ""
	if cs := m.existingState(sess.ChannelID); cs != nil {
		cs.mu.Lock()
		if cs.session != nil && cs.session.ID == sess.ID {
			cs.session.Title, cs.session.Category, cs.session.Tags = sess.Title, sess.Category, sess.Tags
		}
		handle = cs.handle()
		cs.mu.Unlock()
	}
	if handle == "" {
		if lc, _, _, ok := m.dir.get(sess.ChannelID, now); ok {
			handle = lc.Handle
		} else if ch, err := m.opts.Channels.ChannelByID(ctx, sess.ChannelID); err == nil {
			handle = ch.Handle
		}
	}
	ev := updatedEvent(handle, sess, now)
	m.dir.update(ev)
	m.publish(sess.ChannelID, ev)
}

// normalizeTitle: NFC, trimmed, inner white space collapsed, at most MaxTitleLen grapheme
// clusters, no control or format characters. An empty title is allowed (pages show the
// channel's name instead).
func normalizeTitle(s string) (string, *form.FieldError) {
	if !utf8.ValidString(s) || len(s) > 16*MaxTitleLen {
		return "", form.New("title", "title_invalid")
	}
	for _, r := range s {
		// Checked before collapsing white space, which would hide line breaks and tabs.
		if r != ' ' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200D') {
			return "", form.New("title", "title_invalid")
		}
	}
	t := norm.NFC.String(strings.Join(strings.Fields(s), " "))
	if uniseg.GraphemeClusterCount(t) > MaxTitleLen {
		return "", form.New("title", "title_too_long")
	}
	return t, nil
}
