package config

import (
	"github.com/trailwatch/trailwatch/internal/admin"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
)

// File is the whole trailwatch configuration file. Each role reads the
// sections it needs; every section has working defaults for the local
// stack, so an empty file (or none) runs the demo.
type File struct {
	Log    lifecycle.LogConfig `yaml:"log"`
	Admin  admin.Config        `yaml:"admin"`
	Kafka  kafka.Config        `yaml:"kafka"`
	Topics kafka.TopicsConfig  `yaml:"topics"`
}

// Default returns the configuration with every default filled in.
func Default() File {
	return File{
		Log:    lifecycle.DefaultLogConfig(),
		Admin:  admin.DefaultConfig(),
		Kafka:  kafka.DefaultConfig(),
		Topics: kafka.DefaultTopicsConfig(),
	}
}

// Validate checks every section and returns the first error, which names
// the bad field by its YAML path.
func (f *File) Validate() error {
	for _, v := range []Validator{&f.Log, &f.Admin, &f.Kafka, &f.Topics} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}
