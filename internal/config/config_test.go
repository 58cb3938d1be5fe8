package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "freely.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, src Sources) *Config {
	t.Helper()
	cfg, err := Load(src)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestDefaultsLoadAndResolve(t *testing.T) {
	t.Parallel()
	cfg := mustLoad(t, Sources{})
	if cfg.HTTP.Addr != ":8080" || cfg.RTMP.Addr != ":1935" || cfg.DataDir != "./data" {
		t.Errorf("defaults: http %q rtmp %q data %q", cfg.HTTP.Addr, cfg.RTMP.Addr, cfg.DataDir)
	}
	if cfg.HTTP.PublicURL != "http://localhost:8080" {
		t.Errorf("derived public URL = %q", cfg.HTTP.PublicURL)
	}
	if cfg.Blob.Dir != filepath.Join("data", "media") {
		t.Errorf("derived blob dir = %q", cfg.Blob.Dir)
	}
	if cfg.DatabaseDialect() != "sqlite" || cfg.SMTPConfigured() {
		t.Errorf("dialect %q, smtp configured %v", cfg.DatabaseDialect(), cfg.SMTPConfigured())
	}
}

// The example file documents every key with its default; if either drifts, this fails.
func TestExampleFileEqualsDefaults(t *testing.T) {
	t.Parallel()
	example := filepath.Join("..", "..", "freely.example.yaml")
	fromFile := mustLoad(t, Sources{File: example})
	if want := mustLoad(t, Sources{}); !reflect.DeepEqual(fromFile, want) {
		t.Errorf("freely.example.yaml differs from the defaults:\nfile:     %+v\ndefaults: %+v", fromFile, want)
	}

	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	inFile := yamlPaths(doc.Content[0], "")
	for _, k := range Keys() {
		if !slices.Contains(inFile, k.Name) {
			t.Errorf("freely.example.yaml does not document %s", k.Name)
		}
	}
}

func yamlPaths(n *yaml.Node, prefix string) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := prefix+n.Content[i].Value, n.Content[i+1]
		if val.Kind == yaml.MappingNode {
			out = append(out, yamlPaths(val, name+".")...)
		} else {
			out = append(out, name)
		}
	}
	return out
}

func TestReferenceDocMentionsEveryKey(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range Keys() {
		if !strings.Contains(doc, "`"+k.Name+"`") || !strings.Contains(doc, k.Env) {
			t.Errorf("docs/configuration.md does not describe %s (%s)", k.Name, k.Env)
		}
	}
}

func TestKeysHaveUniqueEnvNames(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, k := range Keys() {
		if other, dup := seen[k.Env]; dup {
			t.Errorf("%s and %s share %s", k.Name, other, k.Env)
		}
		seen[k.Env] = k.Name
	}
	if seen["FREELY_DATABASE_URL"] != "database.url" || seen["FREELY_REDIS_URL"] != "redis.url" {
		t.Errorf("documented variable names moved: %v", seen)
	}
}

// Every key must be settable from text, or the environment and --set cannot reach it.
func TestEveryKeyCanBeSet(t *testing.T) {
	t.Parallel()
	samples := map[reflect.Type]string{
		reflect.TypeFor[string]():        "x",
		reflect.TypeFor[Secret]():        "x",
		reflect.TypeFor[bool]():          "true",
		reflect.TypeFor[int]():           "7",
		reflect.TypeFor[time.Duration](): "90s",
		reflect.TypeFor[[]string]():      "a, b",
	}
	for _, k := range Keys() {
		cfg := Default()
		f, err := cfg.field(k.Name)
		if err != nil {
			t.Fatal(err)
		}
		sample, ok := samples[f.Type()]
		if !ok {
			t.Errorf("%s has type %s, which Set does not handle", k.Name, f.Type())
			continue
		}
		if err := cfg.Set(k.Name, sample); err != nil {
			t.Errorf("Set(%s, %q): %v", k.Name, sample, err)
		}
	}
	cfg := Default()
	if err := cfg.Set("http.cors_allowed_origins", " https://a.example , ,https://b.example"); err != nil {
		t.Fatal(err)
	}
	if got := cfg.HTTP.CORSAllowedOrigins; !slices.Equal(got, []string{"https://a.example", "https://b.example"}) {
		t.Errorf("list = %q", got)
	}
	for _, key := range []string{"nope", "http", "http.addr.x", "http.nope"} {
		if err := cfg.Set(key, "1"); err == nil {
			t.Errorf("Set(%q) accepted an unknown key", key)
		}
	}
}

func TestLayersApplyInOrder(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "http:\n  addr: \":1001\"\nlog:\n  level: debug\nsmtp:\n  port: 25\n")
	env := []string{"FREELY_HTTP_ADDR=:1002", "FREELY_SMTP_PORT=2525", "PATH=/bin", "FREELY_SESSION_LIFETIME=2h"}

	cfg := mustLoad(t, Sources{File: file})
	if cfg.HTTP.Addr != ":1001" || cfg.Log.Level != "debug" || cfg.SMTP.Port != 25 {
		t.Errorf("file layer: addr %q level %q port %d", cfg.HTTP.Addr, cfg.Log.Level, cfg.SMTP.Port)
	}
	if cfg.RTMP.Addr != ":1935" {
		t.Errorf("a key absent from the file lost its default: %q", cfg.RTMP.Addr)
	}

	cfg = mustLoad(t, Sources{File: file, Environ: env})
	if cfg.HTTP.Addr != ":1002" || cfg.SMTP.Port != 2525 || cfg.Log.Level != "debug" || cfg.Session.Lifetime != 2*time.Hour {
		t.Errorf("env layer: addr %q port %d level %q lifetime %s", cfg.HTTP.Addr, cfg.SMTP.Port, cfg.Log.Level, cfg.Session.Lifetime)
	}
	if cfg.HTTP.PublicURL != "http://localhost:1002" {
		t.Errorf("public URL derived from the final addr: %q", cfg.HTTP.PublicURL)
	}

	cfg = mustLoad(t, Sources{File: file, Environ: env, Overrides: map[string]string{"http.addr": "127.0.0.1:1003"}})
	if cfg.HTTP.Addr != "127.0.0.1:1003" || cfg.SMTP.Port != 2525 {
		t.Errorf("override layer: addr %q port %d", cfg.HTTP.Addr, cfg.SMTP.Port)
	}
}

func TestFileErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, want string }{
		{"unknown key", "http:\n  adress: \":80\"\n", "line 2: field adress not found"},
		{"unknown section", "data_dir: x\nhttps:\n  addr: x\n", "line 2: field https not found"},
		{"wrong type", "smtp:\n  port: many\n", "line 2"},
		{"bad duration", "session:\n  lifetime: forever\n", "line 2"},
		{"two documents", "data_dir: a\n---\ndata_dir: b\n", "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(Sources{File: writeFile(t, tt.content)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := Load(Sources{File: filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Error("a missing config file was accepted")
	}
	if _, err := Load(Sources{File: writeFile(t, "# only comments\n")}); err != nil {
		t.Errorf("an empty file is fine: %v", err)
	}
}

func TestEnvErrorsAndWarnings(t *testing.T) {
	t.Parallel()
	_, err := Load(Sources{Environ: []string{"FREELY_SMTP_PORT=lots", "FREELY_HTTP_TRUST_PROXY=maybe"}})
	if err == nil || !strings.Contains(err.Error(), "FREELY_SMTP_PORT") || !strings.Contains(err.Error(), "FREELY_HTTP_TRUST_PROXY") {
		t.Errorf("error = %v, want both variables named", err)
	}
	cfg := mustLoad(t, Sources{Environ: []string{"FREELY_HTTP_ADRESS=:1", "FREELY_TEST_POSTGRES=x", "FREELY_E2E=1", "FREELY_CONFIG="}})
	if w := cfg.Warnings(); len(w) != 1 || !strings.Contains(w[0], "FREELY_HTTP_ADRESS") {
		t.Errorf("warnings = %q, want one naming FREELY_HTTP_ADRESS", w)
	}
}

func TestValidationNamesTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, value, want string }{
		{"http.addr", "8080", "http.addr"},
		{"http.addr", "localhost:http", "http.addr"},
		{"rtmp.addr", ":99999", "rtmp.addr"},
		{"data_dir", " ", "data_dir"},
		{"secret_key", "short", "secret_key"},
		{"http.public_url", "live.example.com", "http.public_url"},
		{"http.public_url", "https://live.example.com/?a=b", "http.public_url"},
		{"http.cors_allowed_origins", "*", "http.cors_allowed_origins"},
		{"http.cors_allowed_origins", "https://a.example/path", "http.cors_allowed_origins"},
		{"http.shutdown_timeout", "0s", "http.shutdown_timeout"},
		{"database.url", "mysql://root@localhost/freely", "database.url"},
		{"database.url", "postgres://", "database.url"},
		{"database.url", "sqlite:", "database.url"},
		{"database.url", "/tmp/x.db?mode=memory", "database.url"},
		{"redis.url", "http://localhost:6379", "redis.url"},
		{"redis.node_id", "1024", "redis.node_id"},
		{"redis.node_id", "-1", "redis.node_id"},
		{"blob.url_prefix", "media", "blob.url_prefix"},
		{"blob.url_prefix", "//cdn.example.com/", "blob.url_prefix"},
		{"jobs.max_workers", "0", "jobs.max_workers"},
		{"log.format", "xml", "log.format"},
		{"log.level", "verbose", "log.level"},
		{"smtp.tls", "maybe", "smtp.tls"},
		{"session.lifetime", "30s", "session.lifetime"},
		{"rtmp.public_host", "rtmp://live.example.com/live", "rtmp.public_host"},
		{"rtmp.public_host", "live.example.com:0", "rtmp.public_host"},
		{"rtmp.public_host", "::1", "rtmp.public_host"},
		{"live.grace_period", "0s", "live.grace_period"},
		{"hls.segment_duration", "20s", "hls.segment_duration"},
		{"hls.part_duration", "2s", "hls.part_duration"},
		{"hls.segment_count", "3", "hls.segment_count"},
		{"hls.allowed_origins", "cdn.example.com", "hls.allowed_origins"},
		{"thumbnail.interval", "1s", "thumbnail.interval"},
		{"alerts.retention", "23h59m", "alerts.retention"},
		{"alerts.retention", "-720h", "alerts.retention"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			_, err := Load(Sources{Overrides: map[string]string{tt.key: tt.value}})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
				t.Errorf("error = %v, want it to start with %q", err, tt.want+":")
			}
		})
	}

	smtp := map[string]string{"smtp.host": "mail.example.com", "smtp.port": "0", "smtp.from": "nobody", "smtp.password": "pw"}
	_, err := Load(Sources{Overrides: smtp})
	for _, key := range []string{"smtp.port", "smtp.from", "smtp.username"} {
		if err == nil || !strings.Contains(err.Error(), key+":") {
			t.Errorf("SMTP error %v does not name %s", err, key)
		}
	}
	if _, err := Load(Sources{Overrides: map[string]string{"smtp.port": "0"}}); err != nil {
		t.Errorf("SMTP settings are not checked while SMTP is off: %v", err)
	}
}

func TestAcceptedValues(t *testing.T) {
	t.Parallel()
	cfg := mustLoad(t, Sources{Overrides: map[string]string{
		"database.url":              "postgres://freely:pw@db.internal:5432/freely?sslmode=disable",
		"redis.url":                 "rediss://:pw@cache:6380/1",
		"http.public_url":           "https://live.example.com/",
		"http.cors_allowed_origins": "https://a.example,http://localhost:5173",
		"blob.url_prefix":           "https://cdn.example.com/media/",
		"log.format":                "JSON",
		"smtp.host":                 "mail.example.com",
		"smtp.from":                 "Freely <no-reply@example.com>",
		"smtp.tls":                  "TLS",
	}})
	if cfg.HTTP.PublicURL != "https://live.example.com" {
		t.Errorf("public URL keeps no trailing slash: %q", cfg.HTTP.PublicURL)
	}
	if cfg.RTMP.PublicHost != "live.example.com:1935" {
		t.Errorf("derived RTMP public host = %q, want the public URL's host with the RTMP port", cfg.RTMP.PublicHost)
	}
	for _, h := range []string{"ingest.example.com", "ingest.example.com:1936", "[2001:db8::1]:1935", "203.0.113.7"} {
		if got := mustLoad(t, Sources{Overrides: map[string]string{"rtmp.public_host": h}}); got.RTMP.PublicHost != h {
			t.Errorf("rtmp.public_host %q became %q", h, got.RTMP.PublicHost)
		}
	}
	if got := mustLoad(t, Sources{Overrides: map[string]string{"hls.allowed_origins": "*"}}); len(got.HLS.AllowedOrigins) != 1 {
		t.Errorf("hls.allowed_origins \"*\" refused: %q", got.HLS.AllowedOrigins)
	}
	for v, want := range map[string]time.Duration{"0": 0, "0s": 0, "24h": 24 * time.Hour, "2160h": 90 * 24 * time.Hour} {
		if got := mustLoad(t, Sources{Overrides: map[string]string{"alerts.retention": v}}); got.Alerts.Retention != want {
			t.Errorf("alerts.retention %q became %s, want %s", v, got.Alerts.Retention, want)
		}
	}
	if cfg.DatabaseDialect() != "postgres" || cfg.Log.Format != "json" || cfg.SMTP.TLS != "tls" || !cfg.SMTPConfigured() {
		t.Errorf("dialect %q format %q tls %q", cfg.DatabaseDialect(), cfg.Log.Format, cfg.SMTP.TLS)
	}
	for _, u := range []string{"sqlite:/var/lib/freely/f.db", "sqlite:///var/lib/freely/f.db", "/var/lib/freely/f.db", "postgresql://h/db"} {
		if _, err := Load(Sources{Overrides: map[string]string{"database.url": u}}); err != nil {
			t.Errorf("database.url %q refused: %v", u, err)
		}
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	t.Parallel()
	cfg := mustLoad(t, Sources{Overrides: map[string]string{
		"secret_key":    "k-0123456789abcdef0123456789abcdef",
		"smtp.host":     "mail.example.com",
		"smtp.username": "mailer",
		"smtp.password": "smtp-hunter2",
		"database.url":  "postgres://freely:db-hunter2@db:5432/freely",
		"redis.url":     "redis://:redis-hunter2@cache:6379/0",
	}})
	var buf bytes.Buffer
	if err := cfg.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, secret := range []string{"0123456789abcdef", "smtp-hunter2", "db-hunter2", "redis-hunter2"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed config reveals %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"mailer", "freely:xxxxx@db:5432", "addr: :8080", "lifetime: 720h0m0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed config lacks %q:\n%s", want, out)
		}
	}
	// The dump is a valid config file, and the original is untouched.
	var back Config
	dec := yaml.NewDecoder(strings.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(&back); err != nil {
		t.Errorf("printed config does not read back: %v", err)
	}
	if cfg.SMTP.Password.Reveal() != "smtp-hunter2" {
		t.Error("Print changed the configuration it printed")
	}
}

func TestSecretNeverFormatsItsValue(t *testing.T) {
	t.Parallel()
	s := Secret("hunter2-hunter2")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "secret", s)
	js, _ := json.Marshal(struct{ S Secret }{s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%s %v %+v %#v", s, s, s, s), logged.String(), string(js)} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, masked) {
			t.Errorf("formatted secret: %q", out)
		}
	}
	if s.Reveal() != "hunter2-hunter2" {
		t.Error("Reveal lost the value")
	}
	if Secret("").String() != "" {
		t.Error("an unset secret should print as empty")
	}
}

func TestEnsureSecretKeyPersists(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	first := mustLoad(t, Sources{Overrides: map[string]string{"data_dir": dir}})
	if err := first.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	if len(first.SecretKey) < minSecretKeyLen {
		t.Fatalf("generated key too short: %d", len(first.SecretKey))
	}
	info, err := os.Stat(filepath.Join(dir, SecretKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("secret key file mode %o, want 600", perm)
	}
	second := mustLoad(t, Sources{Overrides: map[string]string{"data_dir": dir}})
	if err := second.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	if second.SecretKey != first.SecretKey {
		t.Error("a restart got a different secret key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only %s (no temp files left)", len(entries), SecretKeyFile)
	}
}

func TestEnsureSecretKeyConcurrentStartsAgree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keys := make([]Secret, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			cfg := Default()
			cfg.DataDir = dir
			if err := cfg.EnsureSecretKey(); err != nil {
				t.Error(err)
			}
			keys[i] = cfg.SecretKey
		})
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] || k == "" {
			t.Fatalf("concurrent starts disagree on the key")
		}
	}
}

func TestEnsureSecretKeyKeepsConfiguredKeyAndRejectsShortFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Default()
	cfg.DataDir = dir
	cfg.SecretKey = "configured-configured-configured-1"
	if err := cfg.EnsureSecretKey(); err != nil || cfg.SecretKey != "configured-configured-configured-1" {
		t.Errorf("configured key changed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, SecretKeyFile)); !os.IsNotExist(err) {
		t.Error("a key file was written although a key is configured")
	}
	if err := os.WriteFile(filepath.Join(dir, SecretKeyFile), []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.SecretKey = ""
	if err := cfg.EnsureSecretKey(); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("short key file accepted: %v", err)
	}
}

func TestFlagsOverrideOnlyWhenGiven(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "log:\n  format: json\n")
	env := []string{"FREELY_CONFIG=" + file, "FREELY_DATA_DIR=/srv/freely", "FREELY_HTTP_ADDR=:1"}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags := RegisterFlags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:9090", "--set", "smtp.port=2525", "--set=jobs.max_workers=3"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := flags.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:9090" || cfg.SMTP.Port != 2525 || cfg.Jobs.MaxWorkers != 3 {
		t.Errorf("flags: addr %q port %d workers %d", cfg.HTTP.Addr, cfg.SMTP.Port, cfg.Jobs.MaxWorkers)
	}
	if cfg.DataDir != "/srv/freely" || cfg.Log.Format != "json" {
		t.Errorf("flags that were not given overrode env/file: data %q format %q", cfg.DataDir, cfg.Log.Format)
	}

	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	flags = RegisterFlags(fs)
	if err := fs.Parse([]string{"--set", "novalue"}); err == nil {
		t.Error("--set without = accepted")
	}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	flags = RegisterFlags(fs)
	if err := fs.Parse([]string{"--set", "smtp.prot=1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := flags.Load(nil); err == nil || !strings.Contains(err.Error(), "smtp.prot") {
		t.Errorf("unknown --set key: %v", err)
	}
}
