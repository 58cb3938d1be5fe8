package config

import (
	"flag"
	"fmt"
	"strings"
)

// commonFlags maps the flags every server command accepts to the keys they set. Anything else
// is reachable with --set key=value.
var commonFlags = []struct{ flag, key, usage string }{
	{"addr", "http.addr", "HTTP listen address (host:port)"},
	{"public-url", "http.public_url", "absolute URL browsers use to reach this server"},
	{"rtmp-addr", "rtmp.addr", "RTMP ingest listen address (host:port)"},
	{"data-dir", "data_dir", "directory for the SQLite database, media and the secret key"},
	{"database-url", "database.url", "empty for SQLite in the data dir, or postgres://..."},
	{"redis-url", "redis.url", "Redis URL for the cross-node event bus (empty: in-process)"},
	{"log-format", "log.format", "log format: text or json"},
	{"log-level", "log.level", "log level: debug, info, warn or error"},
}

// Flags are the configuration flags registered on a command's flag set.
type Flags struct {
	fs     *flag.FlagSet
	file   string
	values map[string]*string // flag name → value
	sets   []string           // --set key=value, in order
}

// RegisterFlags adds --config, --set and the common settings' flags to fs. After fs.Parse,
// Load applies only the flags that were given, over the file and the environment.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs, values: make(map[string]*string)}
	fs.StringVar(&f.file, "config", "", "YAML configuration file (default $"+EnvConfigFile+", else none)")
	fs.Func("set", "set any configuration key, e.g. --set smtp.port=2525 (repeatable)", func(s string) error {
		if _, _, ok := strings.Cut(s, "="); !ok {
			return fmt.Errorf("want key=value, got %q", s)
		}
		f.sets = append(f.sets, s)
		return nil
	})
	for _, cf := range commonFlags {
		f.values[cf.flag] = fs.String(cf.flag, "", cf.usage+" ("+cf.key+")")
	}
	return f
}

// Load builds the configuration from the defaults, the config file (--config, else
// $FREELY_CONFIG), environ and the flags that were set.
func (f *Flags) Load(environ []string) (*Config, error) {
	file := f.file
	if file == "" {
		file = lookupEnv(environ, EnvConfigFile)
	}
	overrides := make(map[string]string)
	for _, s := range f.sets {
		k, v, _ := strings.Cut(s, "=")
		overrides[strings.TrimSpace(k)] = v
	}
	byFlag := make(map[string]string, len(commonFlags))
	for _, cf := range commonFlags {
		byFlag[cf.flag] = cf.key
	}
	// Only flags given on the command line override; an unset flag's empty default must not
	// erase a value from the file or environment.
	f.fs.Visit(func(fl *flag.Flag) {
		if key, ok := byFlag[fl.Name]; ok {
			overrides[key] = *f.values[fl.Name]
		}
	})
	return Load(Sources{File: file, Environ: environ, Overrides: overrides})
}

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}
