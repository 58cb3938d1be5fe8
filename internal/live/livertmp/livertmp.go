// Package livertmp connects the live-session manager to the RTMP listener: it adapts
// live.Manager to rtmp.Gatekeeper. It exists so that neither package imports the other;
// only the composition root imports it.
package livertmp

import (
	"context"

	"github.com/freelylive/freely/internal/live"
	"github.com/freelylive/freely/internal/media/rtmp"
)

// Gatekeeper returns m as the RTMP listener's gatekeeper.
func Gatekeeper(m *live.Manager) rtmp.Gatekeeper { return gatekeeper{m} }

type gatekeeper struct{ m *live.Manager }

// Admit implements rtmp.Gatekeeper. A refusal returns a nil interface, not a typed nil
// pointer the listener would mistake for a publication.
func (g gatekeeper) Admit(ctx context.Context, key, remoteAddr string) (rtmp.Publication, error) {
	p, err := g.m.Admit(ctx, key, remoteAddr)
	if err != nil {
		return nil, err
	}
	return p, nil
}
