package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment variable that sets a key.
const EnvPrefix = "FREELY_"

// EnvConfigFile names the YAML file to load when no --config flag is given.
const EnvConfigFile = "FREELY_CONFIG"

// Sources are the layers applied over the defaults, in this order.
type Sources struct {
	// File is a YAML file; empty means none. Unknown keys are an error.
	File string
	// Environ is the process environment as "NAME=value" (os.Environ()); FREELY_* entries
	// set keys.
	Environ []string
	// Overrides maps keys ("http.addr") to values, as flags give them. Applied last.
	Overrides map[string]string
}

// Load builds the effective configuration: defaults, then the file, then the environment,
// then the overrides; then it validates the result and fills derived defaults. The error
// names the source and key of every problem found.
func Load(src Sources) (*Config, error) {
	cfg := Default()
	if src.File != "" {
		if err := cfg.applyFile(src.File); err != nil {
			return nil, err
		}
	}
	if err := cfg.applyEnv(src.Environ); err != nil {
		return nil, err
	}
	if err := cfg.applyOverrides(src.Overrides); err != nil {
		return nil, err
	}
	cfg.normalize()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.resolve()
	return cfg, nil
}

func (c *Config) applyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		// yaml's messages already carry the line: "line 4: field adress not found in type config.HTTP".
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: holds more than one YAML document", path)
	}
	return nil
}

func (c *Config) applyEnv(environ []string) error {
	known := make(map[string]string)
	for _, k := range Keys() {
		known[k.Env] = k.Name
	}
	var errs []error
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, isKey := known[name]
		if !isKey {
			if !notConfigEnv(name) {
				c.warnings = append(c.warnings, fmt.Sprintf("environment variable %s sets no configuration key (typo?)", name))
			}
			continue
		}
		if err := c.Set(key, value); err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// notConfigEnv reports FREELY_* variables that have other meanings (tests, the file name).
func notConfigEnv(name string) bool {
	return name == EnvConfigFile || name == "FREELY_E2E" || strings.HasPrefix(name, "FREELY_TEST_")
}

func (c *Config) applyOverrides(overrides map[string]string) error {
	names := make([]string, 0, len(overrides))
	for k := range overrides {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic error order
	var errs []error
	for _, k := range names {
		if err := c.Set(k, overrides[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Key describes one setting.
type Key struct {
	// Name is the dotted YAML path, e.g. "smtp.password".
	Name string
	// Env is the environment variable that sets it, e.g. "FREELY_SMTP_PASSWORD".
	Env string
	// Secret keys are masked in every dump.
	Secret bool
}

// Keys lists every setting in declaration order.
func Keys() []Key {
	var keys []Key
	walkKeys(reflect.TypeFor[Config](), "", func(name string, f reflect.StructField) {
		keys = append(keys, Key{
			Name:   name,
			Env:    EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, ".", "_")),
			Secret: f.Type == reflect.TypeFor[Secret](),
		})
	})
	return keys
}

var durationType = reflect.TypeFor[time.Duration]()

// walkKeys calls fn for every leaf field of t (a struct type), naming it by yaml tags.
func walkKeys(t reflect.Type, prefix string, fn func(name string, f reflect.StructField)) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		name := prefix + tag
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			walkKeys(f.Type, name+".", fn)
			continue
		}
		fn(name, f)
	}
}

// Set assigns the key named by a dotted path from its text form, as the environment and
// flags give it: durations like "90s", booleans like "true", lists comma-separated.
func (c *Config) Set(key, value string) error {
	field, err := c.field(key)
	if err != nil {
		return err
	}
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration (e.g. 30s, 15m, 720h)", key, value)
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.String:
		field.SetString(value)
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", key, value)
		}
		field.SetBool(b)
	case field.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", key, value)
		}
		field.SetInt(int64(n))
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
		var items []string
		for item := range strings.SplitSeq(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		field.Set(reflect.ValueOf(items).Convert(field.Type()))
	default:
		// Unreachable while TestEveryKeyCanBeSet passes.
		return fmt.Errorf("%s: cannot be set from text (type %s)", key, field.Type())
	}
	return nil
}

// field finds the settable leaf field of a dotted key.
func (c *Config) field(key string) (reflect.Value, error) {
	v := reflect.ValueOf(c).Elem()
	for part := range strings.SplitSeq(key, ".") {
		if v.Kind() != reflect.Struct || v.Type() == durationType {
			return reflect.Value{}, fmt.Errorf("unknown configuration key %q", key)
		}
		next, ok := fieldByTag(v, part)
		if !ok {
			return reflect.Value{}, fmt.Errorf("unknown configuration key %q", key)
		}
		v = next
	}
	if v.Kind() == reflect.Struct && v.Type() != durationType {
		return reflect.Value{}, fmt.Errorf("configuration key %q is a section; name one of its keys", key)
	}
	return v, nil
}

func fieldByTag(v reflect.Value, tag string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name == tag {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
