package chatweb

import (
	"net/http"

	"github.com/freelylive/freely/internal/web"
)

// panelView is what the chat panel renders; the script takes over from its data attributes.
type panelView struct {
	Handle      string
	SocketPath  string
	LoggedIn    bool
	Verified    bool
	CanModerate bool // shows the moderation controls; the hub checks every action again
	CanManage   bool // links to the chat dashboard
	Suspended   bool
}

// loadPanel fills the channel page's chat box.
func (w *Web) loadPanel(r *http.Request, in web.SlotInput) (any, error) {
	ch := in.Channel
	if ch == nil {
		return nil, nil
	}
	v := panelView{
		Handle:     ch.Handle,
		SocketPath: socketPath(ch.Handle),
		LoggedIn:   in.Viewer != nil,
		Suspended:  ch.Suspended,
	}
	if in.Viewer != nil {
		v.Verified = in.Viewer.Verified()
		perms, err := w.opts.Hub.Permissions(r.Context(), in.Viewer, ch.ID)
		if err != nil {
			return nil, err
		}
		v.CanModerate, v.CanManage = perms.CanModerate, perms.CanManage
	}
	return v, nil
}
