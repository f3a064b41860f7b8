package config

import (
	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/admin"
	"github.com/trailwatch/trailwatch/internal/awscfg"
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
	S3     awscfg.Config       `yaml:"s3"`
	Ingest ingest.Config       `yaml:"ingest"`
}

// Default returns the configuration with every default filled in.
func Default() File {
	return File{
		Log:    lifecycle.DefaultLogConfig(),
		Admin:  admin.DefaultConfig(),
		Kafka:  kafka.DefaultConfig(),
		Topics: kafka.DefaultTopicsConfig(),
		S3:     awscfg.DefaultConfig(),
		Ingest: ingest.DefaultConfig(),
	}
}

// Validate checks every section and returns the first error, which names
// the bad field by its YAML path.
func (f *File) Validate() error {
	for _, v := range []Validator{&f.Log, &f.Admin, &f.Kafka, &f.Topics, &f.S3, &f.Ingest} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}
