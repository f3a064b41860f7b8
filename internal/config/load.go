// Package config loads trailwatch's configuration: one YAML file, decoded
// strictly (an unknown key is an error, so a typo never silently falls back
// to a default), then overridden from the environment, then validated once
// at start-up.
//
// Every leaf of the configuration can be set from the environment: its
// variable is TRAILWATCH_ followed by its YAML path in upper case, joined
// with underscores (kafka.brokers -> TRAILWATCH_KAFKA_BROKERS). Lists are
// comma-separated; durations use Go syntax (10s, 5m). Secrets are fields
// tagged yaml:"-" with an env tag naming their variable: they can only come
// from the environment (or a *_file key), never from a flag or the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment variable that overrides the config.
const EnvPrefix = "TRAILWATCH_"

// Validator is implemented by every config struct. Validate reports the
// first bad field by its YAML path.
type Validator interface {
	Validate() error
}

// Load fills dst (a pointer to a struct already holding its defaults) from
// the YAML file at path, when path is not empty, then from environ (in
// os.Environ form), then calls dst.Validate when dst implements Validator.
func Load(path string, dst any, environ []string) error {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		if err := Decode(b, dst); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := ApplyEnv(dst, environ); err != nil {
		return err
	}
	if v, ok := dst.(Validator); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("invalid config: %w", err)
		}
	}
	return nil
}

// Decode decodes YAML into dst strictly: unknown keys are errors.
func Decode(b []byte, dst any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file keeps every default
		}
		return fmt.Errorf("decode yaml: %w", err)
	}
	return nil
}

// ApplyEnv overrides the fields of dst (a pointer to a struct) from environ.
// It returns an error naming the variable when a value does not parse.
func ApplyEnv(dst any, environ []string) error {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: ApplyEnv needs a pointer to a struct, got %T", dst)
	}
	return walkEnv(v.Elem(), strings.TrimSuffix(EnvPrefix, "_"), env)
}

var durationType = reflect.TypeOf(time.Duration(0))

func walkEnv(v reflect.Value, prefix string, env map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			// Secrets: only from the variable their env tag names.
			if envName := f.Tag.Get("env"); envName != "" {
				if s, ok := env[envName]; ok {
					if err := setFromString(fv, s); err != nil {
						return fmt.Errorf("environment %s: %w", envName, err)
					}
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + "_" + strings.ToUpper(name)
		if fv.Kind() == reflect.Struct && fv.Type() != durationType {
			if err := walkEnv(fv, key, env); err != nil {
				return err
			}
			continue
		}
		if s, ok := env[key]; ok {
			if err := setFromString(fv, s); err != nil {
				return fmt.Errorf("environment %s: %w", key, err)
			}
		}
	}
	return nil
}

func setFromString(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetFloat(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("lists of %s cannot be set from the environment", v.Type().Elem())
		}
		var parts []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("a %s cannot be set from the environment", v.Type())
	}
	return nil
}
