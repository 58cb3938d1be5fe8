// Package obs owns the process's observability plumbing: the slog logger, the Prometheus
// registry with its Go and process collectors, and HTTP middleware that counts and times
// requests by route pattern. It takes plain options (never the config package) and must not
// import any other Freely package.
package obs

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// LogOptions choose the logger's shape.
type LogOptions struct {
	// Format is "text" (the default when empty) or "json".
	Format string
	// Level is "debug", "info" (the default when empty), "warn" or "error".
	Level string
}

// NewLogger returns a logger writing to w in the given format and level.
func NewLogger(w io.Writer, opts LogOptions) (*slog.Logger, error) {
	level, err := ParseLevel(opts.Level)
	if err != nil {
		return nil, err
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(opts.Format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want text or json", opts.Format)
	}
}

// ParseLevel turns "debug", "info", "warn" or "error" into a slog level; empty means info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	default:
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
}

// Discard returns a logger that writes nothing, for optional Logger fields left nil.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
