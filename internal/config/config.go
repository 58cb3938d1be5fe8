// Package config owns Freely's configuration: the Config struct, its defaults, the layers that
// override them (YAML file → FREELY_* environment → command-line flags), validation and the
// masked dump that `freely config` prints. Only the composition root (cmd/freely, internal/app)
// imports it; every other package takes an options struct, so nothing else reads configuration.
// It must not import any other Freely package.
package config

import (
	"net"
	"path/filepath"
	"time"
)

// Config is the whole effective configuration. Field tags give the YAML key; the environment
// variable of a key is FREELY_ followed by the key in upper case with dots as underscores
// (http.addr → FREELY_HTTP_ADDR). New settings need no other wiring: add a field with a yaml
// tag, a default in Default, a line in freely.example.yaml and docs/configuration.md (tests
// check both), and validation if the zero value is not meaningful.
type Config struct {
	// DataDir holds everything the single-node deployment writes: the SQLite database,
	// media objects and the generated secret key.
	DataDir string `yaml:"data_dir"`
	// SecretKey signs sessions, verification links and other tokens. Empty means "generate
	// one on first start and keep it in DataDir" (see EnsureSecretKey).
	SecretKey Secret `yaml:"secret_key"`

	HTTP      HTTP      `yaml:"http"`
	RTMP      RTMP      `yaml:"rtmp"`
	Live      Live      `yaml:"live"`
	Alerts    Alerts    `yaml:"alerts"`
	HLS       HLS       `yaml:"hls"`
	Thumbnail Thumbnail `yaml:"thumbnail"`
	Database  Database  `yaml:"database"`
	Redis     Redis     `yaml:"redis"`
	Blob      Blob      `yaml:"blob"`
	Jobs      Jobs      `yaml:"jobs"`
	Log       Log       `yaml:"log"`
	SMTP      SMTP      `yaml:"smtp"`
	Session   Session   `yaml:"session"`

	// warnings are problems that do not stop the program (unknown FREELY_* variables).
	warnings []string
}

// HTTP configures the web and API server.
type HTTP struct {
	// Addr is the listen address, host:port. An empty host listens on every interface.
	Addr string `yaml:"addr"`
	// PublicURL is the absolute URL browsers use to reach this server; links in emails are
	// built from it. Empty means http://localhost:<port of Addr>.
	PublicURL string `yaml:"public_url"`
	// TrustProxy takes the client address and scheme from X-Forwarded-For/-Proto. Turn it
	// on only behind a reverse proxy that sets those headers, or clients can forge them.
	TrustProxy bool `yaml:"trust_proxy"`
	// CORSAllowedOrigins lists origins (scheme://host[:port]) allowed to call the API from
	// another site. Empty allows none; "*" is refused because responses carry cookies.
	CORSAllowedOrigins []string `yaml:"cors_allowed_origins"`
	// ShutdownTimeout bounds how long in-flight requests may take to finish on shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// RTMP configures stream ingest.
type RTMP struct {
	// Addr is the RTMP listen address, host:port.
	Addr string `yaml:"addr"`
	// PublicHost is the host[:port] streamers put in OBS (rtmp://PublicHost/live), shown on
	// the dashboard. Empty means the host of http.public_url with the port of Addr.
	PublicHost string `yaml:"public_host"`
}

// Live configures live sessions.
type Live struct {
	// GracePeriod is how long a broadcast waits for its publisher to come back after a drop
	// before it ends; a reconnect within it continues the same session.
	GracePeriod time.Duration `yaml:"grace_period"`
}

// Alerts configures followers' alerts (the bell).
type Alerts struct {
	// Retention is how long an alert stays in its recipients' lists: alerts whose event
	// (went live, notice) is older are deleted by a periodic job. 0 keeps alerts forever.
	Retention time.Duration `yaml:"retention"`
}

// HLS configures the HLS / Low-Latency HLS output served under /hls/.
type HLS struct {
	// SegmentDuration is the minimum segment length; segments are cut at the next keyframe.
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// PartDuration is the target LL-HLS part length.
	PartDuration time.Duration `yaml:"part_duration"`
	// SegmentCount is the window of segments kept in memory and listed per channel (≥ 7).
	SegmentCount int `yaml:"segment_count"`
	// CDNOrigin makes media playlists cacheable for one part so a CDN in front can absorb
	// the requests; off, they are sent with no-cache.
	CDNOrigin bool `yaml:"cdn_origin"`
	// AllowedOrigins lists other origins allowed to fetch the streams (CORS), e.g. a player
	// embedded on another site. The site's own origin needs no entry; "*" allows any.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// Thumbnail configures preview frames of live channels (taken with ffmpeg when installed).
type Thumbnail struct {
	// Interval is the time between two frames of a live channel.
	Interval time.Duration `yaml:"interval"`
}

// Database selects the relational store.
type Database struct {
	// URL is empty for SQLite at <data_dir>/freely.db, "sqlite:/path/file.db" for another
	// SQLite file (a plain path works too), or "postgres://user:pass@host:5432/db?sslmode=disable"
	// for PostgreSQL.
	URL string `yaml:"url"`
}

// Redis configures the cross-node event bus. Empty URL keeps events in-process (one node).
type Redis struct {
	// URL such as "redis://127.0.0.1:6379/0" (or rediss:// for TLS).
	URL string `yaml:"url"`
	// NodeID tells this node apart from the others sharing the bus (1–1023, a different
	// one on each node): chat message ids embed it. 0 picks one at random at start, which
	// is enough for a single node.
	NodeID int `yaml:"node_id"`
}

// Blob configures the media object store (uploads, thumbnails, recordings).
type Blob struct {
	// Dir is the local directory objects are kept in. Empty means <data_dir>/media.
	Dir string `yaml:"dir"`
	// URLPrefix is prepended to object keys to form their public URL: a path on this server
	// ("/media/") or an absolute CDN URL ending in "/".
	URLPrefix string `yaml:"url_prefix"`
}

// Jobs configures the background job queue.
type Jobs struct {
	// MaxWorkers is how many jobs this node runs at once.
	MaxWorkers int `yaml:"max_workers"`
}

// Log configures the process log.
type Log struct {
	// Format is "text" (human-readable) or "json" (for log collectors).
	Format string `yaml:"format"`
	// Level is the least severe level written: debug, info, warn or error.
	Level string `yaml:"level"`
}

// SMTP configures outgoing mail. With Host empty, mail is written to the log instead, which
// is enough for development: verification links appear there.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// From is the sender address, e.g. "Freely <no-reply@example.com>".
	From string `yaml:"from"`
	// TLS is "auto" (STARTTLS when the server offers it), "starttls" (require STARTTLS) or
	// "tls" (TLS from the first byte, usually port 465).
	TLS string `yaml:"tls"`
}

// Session configures log-in sessions.
type Session struct {
	// Lifetime is how long a session lasts without activity; activity extends it.
	Lifetime time.Duration `yaml:"lifetime"`
}

// Default returns the built-in configuration: everything on one machine, nothing external.
func Default() *Config {
	return &Config{
		DataDir: "./data",
		HTTP: HTTP{
			Addr:            ":8080",
			ShutdownTimeout: 30 * time.Second,
		},
		RTMP: RTMP{Addr: ":1935"},
		Live: Live{GracePeriod: 30 * time.Second},
		// Thirty days: a user who visits monthly still finds every alert since the last
		// visit, and a channel with a million daily-streaming followers keeps about 30M
		// alert rows instead of adding 365M a year.
		Alerts: Alerts{Retention: 30 * 24 * time.Hour},
		HLS: HLS{
			SegmentDuration: time.Second,
			PartDuration:    200 * time.Millisecond,
			SegmentCount:    7,
		},
		Thumbnail: Thumbnail{Interval: 20 * time.Second},
		Blob:      Blob{URLPrefix: "/media/"},
		Jobs:      Jobs{MaxWorkers: 10},
		Log:       Log{Format: "text", Level: "info"},
		SMTP: SMTP{
			Port: 587,
			From: "Freely <no-reply@localhost>",
			TLS:  "auto",
		},
		Session: Session{Lifetime: 30 * 24 * time.Hour},
	}
}

// Warnings returns problems found while loading that did not stop it, such as FREELY_*
// environment variables that name no setting (usually a typo). The caller logs them.
func (c *Config) Warnings() []string { return append([]string(nil), c.warnings...) }

// SMTPConfigured reports whether mail should go out over SMTP rather than to the log.
func (c *Config) SMTPConfigured() bool { return c.SMTP.Host != "" }

// DatabaseDialect reports "postgres" when Database.URL names PostgreSQL and "sqlite" otherwise.
func (c *Config) DatabaseDialect() string {
	if isPostgresURL(c.Database.URL) {
		return "postgres"
	}
	return "sqlite"
}

// resolve fills settings whose default depends on other settings. It runs after every layer
// and after validation, so the derived values follow flags like --addr and --data-dir.
func (c *Config) resolve() {
	if c.HTTP.PublicURL == "" {
		c.HTTP.PublicURL = "http://localhost:" + portOf(c.HTTP.Addr)
	}
	if c.Blob.Dir == "" {
		c.Blob.Dir = filepath.Join(c.DataDir, "media")
	}
	if c.RTMP.PublicHost == "" {
		c.RTMP.PublicHost = net.JoinHostPort(hostOf(c.HTTP.PublicURL), portOf(c.RTMP.Addr))
	}
}
