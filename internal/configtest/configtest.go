// Package configtest checks configuration Validate methods with
// table-driven cases, so every component's config test reads the same
// way: start from the defaults, change one thing, expect the error to name
// the bad field by its YAML path.
package configtest

import (
	"strings"
	"testing"
)

// Case is one change to a default configuration and what Validate must say.
type Case[T any] struct {
	// Name names the subtest.
	Name string
	// Mutate changes a fresh default configuration.
	Mutate func(*T)
	// WantErr is how the error must start (the bad field's YAML
	// path, usually); "" means the configuration must be valid.
	WantErr string
}

// Validate runs every case as a subtest on a fresh defaults() value.
func Validate[T any](t *testing.T, defaults func() T, validate func(*T) error, cases []Case[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			c := defaults()
			tc.Mutate(&c)
			err := validate(&c)
			switch {
			case tc.WantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.WantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.WantErr)):
				t.Fatalf("Validate = %v, want an error starting %q", err, tc.WantErr)
			}
		})
	}
}
