// Package rtmp is the RTMP ingest listener: it accepts publishers (OBS, ffmpeg, any RTMP or
// Enhanced RTMP encoder) with gortmplib, asks a Gatekeeper whether each may go live, and feeds
// their audio and video into the media hub. It must not import net/http, SQL drivers or the
// live-session package: live implements the Gatekeeper declared here.
package rtmp
