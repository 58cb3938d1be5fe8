package rtmp

import "context"

// Gatekeeper decides whether an RTMP publisher may go live. The live-session service implements
// it; the RTMP listener calls it once per publish request, before it accepts any media.
type Gatekeeper interface {
	// Admit checks a publish request before any media is accepted. key is the RTMP stream name
	// (the client publishes to rtmp://HOST/live/{key}); it is secret and must be compared in
	// constant time. remoteAddr is the publisher's "ip:port", for logs.
	//
	// Admit refuses (returns a non-nil error and a nil Publication) when the key is missing or
	// unknown, the channel's owner is not verified, the channel is suspended, or a publisher is
	// already live on the channel. The listener then answers NetStream.Publish.Unauthorized,
	// closes the connection and logs the error text, so the error must not contain the key.
	//
	// Admit must return promptly (it runs on the connection's goroutine while the publisher
	// waits) and must honour ctx, which the listener cancels after a few seconds or at shutdown.
	// It must be safe for concurrent use.
	Admit(ctx context.Context, key string, remoteAddr string) (Publication, error)
}

// Publication is one admitted publisher connection on one channel. The listener calls its
// methods from the connection's goroutine, in this order: Channel any number of times, Started
// at most once, then Ended exactly once.
type Publication interface {
	// Channel returns the channel's public handle. The media hub keys the stream by it and HLS
	// is served under /hls/{handle}/. It must return the same value on every call.
	Channel() string

	// Started is called when the first keyframe has arrived and the stream's tracks are known:
	// the live session opens, or resumes if this publisher reconnected within the grace period.
	// A non-nil error refuses the stream: the listener closes the connection (and still calls
	// Ended). ctx is cancelled after a few seconds or at shutdown.
	Started(ctx context.Context) error

	// Ended is called exactly once after a successful Admit, when the publisher is gone
	// (disconnect, network error, malformed input, refusal by the media hub, shutdown) — whether
	// or not Started was called. The live service starts the grace period here; when the grace
	// period ends without a resumed publication it ends the session and tells the media hub
	// (media.Hub.EndSession). Ended must not block.
	Ended()
}
