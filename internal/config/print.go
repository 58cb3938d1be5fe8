package config

import (
	"fmt"
	"io"
	"net/url"

	"go.yaml.in/yaml/v3"
)

// Masked returns a copy that is safe to print or log: secrets are replaced by a mask and
// passwords inside database and Redis URLs are hidden.
func (c *Config) Masked() *Config {
	m := *c
	m.HTTP.CORSAllowedOrigins = append([]string(nil), c.HTTP.CORSAllowedOrigins...)
	m.warnings = nil
	m.SecretKey = Secret(c.SecretKey.String())
	m.SMTP.Password = Secret(c.SMTP.Password.String())
	m.Database.URL = maskURLPassword(c.Database.URL)
	m.Redis.URL = maskURLPassword(c.Redis.URL)
	return &m
}

// Print writes the configuration as YAML, masked, in the same shape the config file takes.
func (c *Config) Print(w io.Writer) error {
	b, err := yaml.Marshal(c.Masked())
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	if _, err := fmt.Fprintf(w, "# Effective Freely configuration (secrets masked).\n%s", b); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	return nil
}

func maskURLPassword(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	return u.Redacted() // user:xxxxx@host

}
