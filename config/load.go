package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is read when no --config is given and it exists.
const DefaultFile = "tocsin.yaml"

// maxFileSize bounds the configuration file; a larger one is a mistake.
const maxFileSize = 1 << 20

// Load returns the defaults overlaid with the file at path and then with
// TOCSIN_* variables from getenv, validated. An empty path reads
// DefaultFile when it exists; a path given explicitly must exist.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	file := path
	if file == "" {
		file = DefaultFile
	}
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		if err := Parse(&c, data); err != nil {
			return c, fmt.Errorf("%s: %w", file, err)
		}
	case path == "" && errors.Is(err, fs.ErrNotExist):
		// No file: defaults and environment only.
	default:
		return c, fmt.Errorf("config: %w", err)
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Parse overlays YAML data on c. Unknown keys are errors: a misspelt key
// silently ignored is a setting silently not applied.
func Parse(c *Config, data []byte) error {
	if len(data) > maxFileSize {
		return fmt.Errorf("config file is %d bytes; the limit is %d", len(data), maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // EOF: empty file
		return fmt.Errorf("invalid YAML: %s", describeYAMLError(data, err))
	}
	return nil
}

// EnvName returns the environment variable that overrides a key path such
// as "smtp.password".
func EnvName(key string) string {
	return "TOCSIN_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every key path with its environment variable, for help texts.
func Keys() []string {
	var keys []string
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value) error {
		keys = append(keys, key)
		return nil
	})
	return keys
}

func applyEnv(c *Config, getenv func(string) string) error {
	return walk(reflect.ValueOf(c).Elem(), "", func(key string, v reflect.Value) error {
		s := getenv(EnvName(key))
		if s == "" {
			return nil
		}
		if err := setFromString(v, s); err != nil {
			return fmt.Errorf("config: %s (from %s): %q %s", key, EnvName(key), s, err)
		}
		return nil
	})
}

// walk calls fn for every leaf field of the struct v with its dotted key.
func walk(v reflect.Value, prefix string, fn func(key string, v reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		if prefix != "" {
			key = prefix + "." + key
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Duration]() {
			if err := walk(fv, key, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(key, fv); err != nil {
			return err
		}
	}
	return nil
}

func setFromString(v reflect.Value, s string) error {
	if v.Type() == reflect.TypeFor[time.Duration]() {
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("is not a duration (examples: 30s, 15m, 8h)")
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("is not a whole number")
		}
		v.SetInt(n)
	case reflect.Uint8, reflect.Uint32:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("is not a whole number from 0 to %d", uint64(1)<<v.Type().Bits()-1)
		}
		v.SetUint(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("is not true or false")
		}
		v.SetBool(b)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return errors.New("is a list of entries: set it in the configuration file")
		}
		var items []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot be set from the environment (kind %s)", v.Kind())
	}
	return nil
}
