// Package media is the stream hub: it carries each channel's live audio and video from the one
// publisher allowed on that channel to any number of readers (the HLS muxer, later a recorder or
// WebRTC egress), each through its own bounded buffer, so a slow reader loses units (and counts
// them) instead of stalling the publisher or other readers.
//
// Transports sit on both sides: ingest (internal/media/rtmp) claims a channel and writes units;
// outputs (internal/media/hls) register as Consumers and attach Readers. This package must not
// import net/http, SQL drivers, configuration or any transport package.
package media
