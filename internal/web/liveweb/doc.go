// Package liveweb is the web face of live video: the streamer dashboard (stream key, OBS
// settings, stream information, live status), the player on the channel page, the "live now"
// grid on the home page, the public live-status JSON and the status stream that lets an open
// watch page follow a broadcast without reloading.
//
// It plugs into internal/web as a web.Extension and reaches live sessions and channels
// through the small interfaces declared here (live.Manager and channel.Service implement
// them). It must not import SQL drivers, store adapters, the media packages or the
// configuration package; the composition root hands it everything through Options.
package liveweb
