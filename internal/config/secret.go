package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// masked is what a set secret looks like in any printed or logged form.
const masked = "********"

// Secret is a configuration value that must never appear in logs or dumps. Formatting it with
// fmt, slog, YAML or JSON yields a mask; Reveal returns the value for the one place that
// needs it.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String masks the value, so %v and %s never print it.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// GoString masks the value for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// LogValue masks the value in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText masks the value in YAML and JSON output. Decoding is unaffected: Secret has no
// UnmarshalText, so decoders fill it as the plain string it is.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SecretKeyFile is the file in the data directory that keeps the generated secret key.
const SecretKeyFile = "secret.key"

// minSecretKeyLen is the shortest secret key accepted: 32 characters of a random key carry
// at least 128 bits even if they are hex.
const minSecretKeyLen = 32

// EnsureSecretKey makes SecretKey usable. When it is not configured, the key is read from
// <data_dir>/secret.key, which is created with a new random key on first start, so sessions
// and links signed before a restart stay valid. Two processes starting at once agree on one
// key: the file is published with a hard link, which fails if another process got there first.
func (c *Config) EnsureSecretKey() error {
	if c.SecretKey != "" {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(c.DataDir, SecretKeyFile)
	key, err := readSecretKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createSecretKey(path)
	}
	if err != nil {
		return err
	}
	c.SecretKey = Secret(key)
	return nil
}

func readSecretKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret key: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < minSecretKeyLen {
		return "", fmt.Errorf("secret key in %s is shorter than %d characters; delete the file to generate a new one (this logs everyone out)", path, minSecretKeyLen)
	}
	return key, nil
}

func createSecretKey(path string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate secret key: %w", err)
	}
	key := base64.RawURLEncoding.EncodeToString(raw)

	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*.tmp")
	if err != nil {
		return "", fmt.Errorf("write secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write secret key: %w", err)
	}
	if _, err := tmp.WriteString(key + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write secret key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write secret key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write secret key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readSecretKey(path)
		}
		return "", fmt.Errorf("write secret key: %w", err)
	}
	return key, nil
}
