package main

import (
	"flag"
	"os"

	"github.com/trailwatch/trailwatch/internal/config"
)

// configFlag adds the --config flag every role takes. The default comes
// from TRAILWATCH_CONFIG, so a deployment can set it once.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", os.Getenv("TRAILWATCH_CONFIG"), "YAML config `file` (default $TRAILWATCH_CONFIG; none: built-in defaults, overridden by TRAILWATCH_* variables)")
}

// loadConfig loads the config file at path (may be empty) over the defaults,
// applies the environment and validates it.
func loadConfig(path string) (config.File, error) {
	f := config.Default()
	err := config.Load(path, &f, os.Environ())
	return f, err
}
