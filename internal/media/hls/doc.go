// Package hls serves each live channel as Low-Latency HLS (1 s segments, ~200 ms parts,
// blocking playlist reload, preload hints) and as standard HLS for players without LL support,
// from memory, under /hls/{channel}/. It follows the media hub as a media.Consumer: every ingest
// feeds a gohlslib muxer; the segments and parts it produces are copied into a per-channel
// window, and playlists are rendered once per change so requests are answered from prepared
// bytes. A publisher that reconnects (or changes codec parameters) continues the same playlist
// after a discontinuity.
//
// It must not import SQL drivers, configuration, or the live-session package: the viewer hook
// and EndStream are how the live service participates.
package hls
