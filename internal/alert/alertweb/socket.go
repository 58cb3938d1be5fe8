package alertweb

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/freelylive/freely/internal/alert"
)

// writeTimeout bounds each frame write; a page that does not take a frame in time is closed
// and reconnects.
const writeTimeout = 10 * time.Second

// socket streams the viewer's pushes: first the current unread count, then every new alert
// and unread-count change, until the page goes away. The page sends nothing. After Accept
// the handler answers through the socket only, so it always returns nil.
func (h *handlers) socket(w http.ResponseWriter, r *http.Request) error {
	userID := h.viewerID(r)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Same origin only (the default): another site cannot open a socket with the
		// visitor's cookie. Pushes are small; per-connection deflate state is not worth it.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil // Accept answered the request (403 for a foreign origin, 400 for a bad handshake)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(512)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()

	sub, err := h.opts.Hub.Subscribe(ctx, userID)
	if err != nil {
		h.log.Warn("alertweb: subscribe", "user_id", userID, "err", err)
		conn.Close(websocket.StatusTryAgainLater, "unavailable")
		return nil
	}
	defer sub.Close()
	// Reading is only for control frames; CloseRead ends ctx when the page closes.
	ctx = conn.CloseRead(ctx)

	if !h.sendUnread(ctx, conn, userID) {
		return nil
	}
	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()
	var dropped uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case p, ok := <-sub.C():
			if !ok {
				conn.Close(websocket.StatusServiceRestart, "restarting")
				return nil
			}
			if !h.send(ctx, conn, p) {
				return nil
			}
			// Pushes this page missed while it lagged: resynchronise its bell.
			if d := sub.Dropped(); d != dropped {
				dropped = d
				if !h.sendUnread(ctx, conn, userID) {
					return nil
				}
			}
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(ctx, writeTimeout)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				return nil
			}
		}
	}
}

func (h *handlers) sendUnread(ctx context.Context, conn *websocket.Conn, userID int64) bool {
	n, err := h.opts.Alerts.UnreadCount(ctx, userID)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("alertweb: unread count", "user_id", userID, "err", err)
			conn.Close(websocket.StatusInternalError, "internal error")
		}
		return false
	}
	return h.send(ctx, conn, alert.Push{Type: alert.PushUnread, Unread: &n})
}

// pushJSON is a push as pages receive it: the alert's storage key for the channel image is
// replaced by its URL.
type pushJSON struct {
	Type   string     `json:"type"`
	Alert  *alertJSON `json:"alert,omitempty"`
	Unread *int       `json:"unread,omitempty"`
}

func (h *handlers) send(ctx context.Context, conn *websocket.Conn, p alert.Push) bool {
	out := pushJSON{Type: p.Type, Unread: p.Unread}
	if p.Alert != nil {
		out.Alert = h.alertJSON(*p.Alert, time.Time{})
	}
	data, err := json.Marshal(out)
	if err != nil {
		h.log.Error("alertweb: encode push", "err", err)
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, data) == nil
}
