package live

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/freelylive/freely/internal/store"
)

// maxStreamKeyLen bounds what is looked up; real keys are far shorter.
const maxStreamKeyLen = 256

// Publication is one admitted publisher connection. The media side calls Started when the
// first keyframe arrives and Ended exactly once when the connection is gone.
type Publication struct {
	m         *Manager
	cs        *channelState
	channelID int64
	handle    string
	remote    string
	// started is guarded by cs.mu.
	started bool
	ended   atomic.Bool
}

// Channel is the public handle of the channel being published (the /hls/{handle}/ path).
func (p *Publication) Channel() string { return p.handle }

// ChannelID is the channel's numeric id.
func (p *Publication) ChannelID() int64 { return p.channelID }

// Admit decides whether a publisher presenting key may publish. It refuses a missing or
// wrong key (ErrStreamKeyInvalid), a channel whose owner has not verified their e-mail
// (ErrOwnerUnverified), a suspended channel (ErrChannelSuspended) and a second publisher
// while one is connected (ErrAlreadyPublishing). Each refusal is logged with a fingerprint
// of the key, never the key. Other errors come from the stores.
func (m *Manager) Admit(ctx context.Context, key, remoteAddr string) (*Publication, error) {
	if m.closing.Load() {
		return nil, ErrClosed
	}
	fp := keyFingerprint(key)
	refuse := func(err error, reason string, args ...any) (*Publication, error) {
		m.log.Warn("live: publisher refused", append([]any{"reason", reason, "remote", remoteAddr, "key_fp", fp}, args...)...)
		return nil, err
	}
	if key == "" || len(key) > maxStreamKeyLen {
		return refuse(ErrStreamKeyInvalid, "malformed stream key")
	}
	ch, err := m.opts.Channels.ChannelByStreamKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(ErrStreamKeyInvalid, "unknown stream key")
	}
	if err != nil {
		return nil, fmt.Errorf("live: look up stream key: %w", err)
	}
	// The lookup already matched, but the comparison that decides is the constant-time one:
	// a store that matched loosely (collation, prefix index) must not let a near key in.
	if ch.StreamKey == "" || subtle.ConstantTimeCompare([]byte(ch.StreamKey), []byte(key)) != 1 {
		return refuse(ErrStreamKeyInvalid, "stream key mismatch", "channel_id", ch.ID)
	}
	if ch.Suspended {
		return refuse(ErrChannelSuspended, "channel suspended", "channel_id", ch.ID)
	}
	owner, err := m.opts.Accounts.UserByID(ctx, ch.OwnerID)
	if err != nil {
		return nil, fmt.Errorf("live: look up owner of channel %d: %w", ch.ID, err)
	}
	if !owner.Verified() {
		return refuse(ErrOwnerUnverified, "owner e-mail not verified", "channel_id", ch.ID)
	}

	cs := m.state(ch.ID)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if m.closing.Load() {
		return nil, ErrClosed
	}
	if cs.pub != nil {
		return refuse(ErrAlreadyPublishing, "another publisher is connected", "channel_id", ch.ID)
	}
	cs.ch = publicChannel(ch)
	p := &Publication{m: m, cs: cs, channelID: ch.ID, handle: ch.Handle, remote: remoteAddr}
	cs.pub = p
	m.log.Info("live: publisher admitted", "channel_id", ch.ID, "handle", ch.Handle, "remote", remoteAddr)
	return p, nil
}

// Started reports the publisher's first keyframe. It opens a new session, or continues the
// channel's open session when the publisher comes back within the grace period (no second
// live.started). An error means the broadcast must not go on (the media side drops the
// publisher and still calls Ended).
func (p *Publication) Started(ctx context.Context) error {
	m, cs := p.m, p.cs
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if m.closing.Load() || cs.pub != p {
		return ErrPublicationEnded
	}
	if p.started {
		return nil
	}
	now := m.clock.Now()
	if cs.session != nil {
		m.resumeLocked(ctx, cs, now, "publisher reconnected within grace period")
		p.started = true
		return nil
	}
	if err := m.openLocked(ctx, cs, now); err != nil {
		return err
	}
	p.started = true
	return nil
}

// Ended reports that the publisher is gone. The session stays open for the grace period; if
// no publisher of the channel starts within it, the session ends. Calls after the first do
// nothing.
func (p *Publication) Ended() {
	if p.ended.Swap(true) {
		return
	}
	m, cs := p.m, p.cs
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.pub != p {
		return
	}
	cs.pub = nil
	m.log.Info("live: publisher left", "channel_id", p.channelID, "handle", p.handle, "remote", p.remote)
	if cs.session == nil || m.closing.Load() {
		return
	}
	now := m.clock.Now()
	if p.started {
		cs.lastSeen = now
	}
	if cs.grace != nil {
		return // a reconnect that never sent a keyframe: the first departure's timer runs on
	}
	m.armGraceLocked(cs, max(0, cs.lastSeen.Add(m.opts.GracePeriod).Sub(now)))
}

// keyFingerprint identifies a key in logs (to correlate attempts) without revealing it.
func keyFingerprint(key string) string {
	if key == "" {
		return "-"
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}
