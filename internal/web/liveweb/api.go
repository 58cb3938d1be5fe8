package liveweb

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/web"
)

const (
	// streamRetry is how long a browser waits before reconnecting a dropped status stream.
	streamRetry = 3 * time.Second
	// streamKeepAlive keeps proxies from closing a quiet status stream.
	streamKeepAlive = 25 * time.Second
	// streamWriteTimeout drops a page that does not read its status stream.
	streamWriteTimeout = 10 * time.Second
)

var errStreamUnavailable = &web.StatusError{Status: http.StatusServiceUnavailable, Message: "error.internal"}

// channelOf resolves the {handle} of the request to a channel (404 for a malformed or
// unknown handle).
func (w *Web) channelOf(r *http.Request) (*channel.Channel, error) {
	handle, err := channel.NormalizeHandle(r.PathValue("handle"))
	if err != nil {
		return nil, &web.StatusError{Status: http.StatusNotFound, Message: "error.not_found"}
	}
	ch, err := w.opts.Channels.ByHandle(r.Context(), handle)
	if err != nil {
		return nil, fmt.Errorf("live status of %q: %w", handle, err)
	}
	return ch, nil
}

// apiLiveStatus answers GET /api/v1/channels/{handle}/live with the channel's public live
// status. It may be cached for a second, so a CDN can absorb a crowd polling it.
func (w *Web) apiLiveStatus(rw http.ResponseWriter, r *http.Request) error {
	ch, err := w.channelOf(r)
	if err != nil {
		return err
	}
	st := w.statusOf(ch.Handle, w.opts.BaseURL+w.playlistPath(ch.Handle))
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode live status of %q: %w", ch.Handle, err)
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=1")
	rw.Write(append(body, '\n')) //nolint:errcheck // the client went away; nothing to do
	return nil
}

// liveEvents answers GET /api/v1/channels/{handle}/live/events with a server-sent event
// stream of the channel's status: the current one at once, then every change (start, end,
// title/category/tags, viewer count, thumbnail). Watch pages and the dashboard follow a
// broadcast with it instead of polling.
func (w *Web) liveEvents(rw http.ResponseWriter, r *http.Request) error {
	ch, err := w.channelOf(r)
	if err != nil {
		return err
	}
	wt := w.watch.subscribe(ch.Handle)
	if wt == nil {
		return errStreamUnavailable
	}
	defer w.watch.unsubscribe(ch.Handle, wt)

	h := rw.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through as they come
	rc := http.NewResponseController(rw)
	// The connection may serve another request after this one: leave no deadline behind.
	defer rc.SetWriteDeadline(time.Time{}) //nolint:errcheck // best effort
	write := func(b []byte) bool {
		if err := rc.SetWriteDeadline(w.now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := rw.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(fmt.Appendf(nil, "retry: %d\n\n", streamRetry.Milliseconds())) {
		return nil
	}
	keepAlive := time.NewTicker(streamKeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-wt.gone:
			return nil
		case frame := <-wt.out:
			if !write(frame) {
				return nil
			}
		case <-keepAlive.C:
			if !write([]byte(": keep-alive\n\n")) {
				return nil
			}
		}
	}
}
