package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// normalize tidies harmless spelling differences before validation.
func (c *Config) normalize() {
	c.Log.Format = strings.ToLower(strings.TrimSpace(c.Log.Format))
	c.Log.Level = strings.ToLower(strings.TrimSpace(c.Log.Level))
	c.SMTP.TLS = strings.ToLower(strings.TrimSpace(c.SMTP.TLS))
	c.HTTP.PublicURL = strings.TrimRight(strings.TrimSpace(c.HTTP.PublicURL), "/")
	c.Database.URL = strings.TrimSpace(c.Database.URL)
	c.Redis.URL = strings.TrimSpace(c.Redis.URL)
	c.RTMP.PublicHost = strings.TrimSpace(c.RTMP.PublicHost)
	if len(c.HLS.AllowedOrigins) == 0 {
		c.HLS.AllowedOrigins = nil
	}
	for i, o := range c.HLS.AllowedOrigins {
		c.HLS.AllowedOrigins[i] = strings.TrimRight(strings.TrimSpace(o), "/")
	}
	if len(c.HTTP.CORSAllowedOrigins) == 0 {
		c.HTTP.CORSAllowedOrigins = nil // "[]" in a file and no value at all mean the same
	}
	for i, o := range c.HTTP.CORSAllowedOrigins {
		c.HTTP.CORSAllowedOrigins[i] = strings.TrimRight(strings.TrimSpace(o), "/")
	}
}

// Validate checks every setting and reports all problems at once, each prefixed with its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}
	if c.SecretKey != "" && len(c.SecretKey) < minSecretKeyLen {
		bad("secret_key", "must be at least %d characters (leave it empty to have one generated)", minSecretKeyLen)
	}

	if err := checkListenAddr(c.HTTP.Addr); err != nil {
		bad("http.addr", "%v", err)
	}
	if c.HTTP.PublicURL != "" {
		if err := checkPublicURL(c.HTTP.PublicURL); err != nil {
			bad("http.public_url", "%v", err)
		}
	}
	for _, o := range c.HTTP.CORSAllowedOrigins {
		if err := checkOrigin(o); err != nil {
			bad("http.cors_allowed_origins", "%v", err)
		}
	}
	if c.HTTP.ShutdownTimeout <= 0 {
		bad("http.shutdown_timeout", "must be positive, e.g. 30s")
	}

	if err := checkListenAddr(c.RTMP.Addr); err != nil {
		bad("rtmp.addr", "%v", err)
	}
	if c.RTMP.PublicHost != "" {
		if err := checkPublicHost(c.RTMP.PublicHost); err != nil {
			bad("rtmp.public_host", "%v", err)
		}
	}

	if c.Live.GracePeriod < time.Second || c.Live.GracePeriod > time.Hour {
		bad("live.grace_period", "must be between 1s and 1h, not %s", c.Live.GracePeriod)
	}
	// An alert that arrived overnight must still be in the list in the morning.
	if c.Alerts.Retention != 0 && c.Alerts.Retention < 24*time.Hour {
		bad("alerts.retention", "must be 0 (keep alerts forever) or at least 24h, not %s", c.Alerts.Retention)
	}
	if c.HLS.SegmentDuration < 200*time.Millisecond || c.HLS.SegmentDuration > 10*time.Second {
		bad("hls.segment_duration", "must be between 200ms and 10s, not %s", c.HLS.SegmentDuration)
	}
	if c.HLS.PartDuration < 50*time.Millisecond || c.HLS.PartDuration > c.HLS.SegmentDuration {
		bad("hls.part_duration", "must be between 50ms and hls.segment_duration, not %s", c.HLS.PartDuration)
	}
	if c.HLS.SegmentCount < 7 || c.HLS.SegmentCount > 100 {
		bad("hls.segment_count", "must be between 7 (what LL-HLS needs) and 100, not %d", c.HLS.SegmentCount)
	}
	for _, o := range c.HLS.AllowedOrigins {
		if o == "*" {
			continue // media carries no cookies, so any origin may be allowed
		}
		if err := checkOrigin(o); err != nil {
			bad("hls.allowed_origins", "%v", err)
		}
	}
	if c.Thumbnail.Interval < 5*time.Second || c.Thumbnail.Interval > time.Hour {
		bad("thumbnail.interval", "must be between 5s and 1h, not %s", c.Thumbnail.Interval)
	}

	if err := checkDatabaseURL(c.Database.URL); err != nil {
		bad("database.url", "%v", err)
	}
	if c.Redis.NodeID < 0 || c.Redis.NodeID > maxNodeID {
		bad("redis.node_id", "must be between 0 (random) and %d", maxNodeID)
	}
	if err := checkRedisURL(c.Redis.URL); err != nil {
		bad("redis.url", "%v", err)
	}

	if err := checkURLPrefix(c.Blob.URLPrefix); err != nil {
		bad("blob.url_prefix", "%v", err)
	}

	if c.Jobs.MaxWorkers < 1 || c.Jobs.MaxWorkers > 10000 {
		bad("jobs.max_workers", "must be between 1 and 10000, not %d", c.Jobs.MaxWorkers)
	}

	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, not %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}

	if c.SMTP.Host != "" {
		if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
			bad("smtp.port", "must be between 1 and 65535, not %d", c.SMTP.Port)
		}
		if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
			bad("smtp.from", "%q is not an email address (e.g. \"Freely <no-reply@example.com>\")", c.SMTP.From)
		}
		if c.SMTP.Password != "" && c.SMTP.Username == "" {
			bad("smtp.username", "must be set when smtp.password is")
		}
	}
	switch c.SMTP.TLS {
	case "auto", "starttls", "tls":
	default:
		bad("smtp.tls", "must be auto, starttls or tls, not %q", c.SMTP.TLS)
	}

	if c.Session.Lifetime < time.Minute {
		bad("session.lifetime", "must be at least 1m, not %s", c.Session.Lifetime)
	}
	return errors.Join(errs...)
}

func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. \":8080\" or \"127.0.0.1:8080\")", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q has an invalid host", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port (0-65535)", addr)
	}
	return nil
}

// portOf returns the port of a validated listen address.
func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// hostOf returns the host name of a validated public URL ("localhost" if it has none).
func hostOf(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	return u.Hostname()
}

// checkPublicHost accepts "host" or "host:port" as OBS would be given it.
func checkPublicHost(s string) error {
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Contains(s, ":") {
		return fmt.Errorf("%q is not host or host:port (IPv6 addresses need brackets: [::1]:1935)", s)
	}
	if host == "" || strings.ContainsAny(host, " /?#@[]") || strings.Contains(s, "://") {
		return fmt.Errorf("%q is not host or host:port (e.g. live.example.com:1935)", s)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q has an invalid port (1-65535)", s)
		}
	}
	return nil
}

func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL (e.g. https://live.example.com)", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must not carry a query, fragment or user name", s)
	}
	return nil
}

func checkOrigin(s string) error {
	if s == "*" {
		return errors.New(`"*" is not allowed: responses carry session cookies; list each origin`)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin (scheme://host[:port], e.g. https://example.com)", s)
	}
	return nil
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func checkDatabaseURL(s string) error {
	switch {
	case s == "":
		return nil
	case isPostgresURL(s):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s is not a PostgreSQL URL (postgres://user:pass@host:5432/db)", redactURL(s))
		}
		return nil
	case strings.HasPrefix(s, "sqlite:"):
		if strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//") == "" {
			return fmt.Errorf("%q names no file (e.g. sqlite:/var/lib/freely/freely.db)", s)
		}
		return nil
	case !strings.Contains(s, "://"):
		if strings.ContainsAny(s, "?#") {
			return fmt.Errorf("%q: a SQLite file name must not contain '?' or '#'", s)
		}
		return nil // a plain path to a SQLite file
	default:
		return fmt.Errorf("%s: want empty (SQLite in data_dir), a SQLite file path, sqlite:/path/file.db or postgres://...", redactURL(s))
	}
}

// maxNodeID is the largest node id chat message ids have room for (chat.MaxNodeID).
const maxNodeID = 1023

func checkRedisURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("%s is not a Redis URL (redis://host:6379/0)", redactURL(s))
	}
	return nil
}

func checkURLPrefix(s string) error {
	if strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") && !strings.HasPrefix(s, "//") {
		return nil
	}
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.HasSuffix(u.Path, "/") && u.RawQuery == "" {
		return nil
	}
	return fmt.Errorf("%q must be a path like /media/ or an absolute URL like https://cdn.example.com/media/, ending in /", s)
}

// redactURL hides a password in a URL so it can appear in messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return strconv.Quote(u.Redacted())
}
