package config

import (
	"fmt"

	"github.com/trailwatch/trailwatch/enrich"
	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/admin"
	"github.com/trailwatch/trailwatch/internal/awscfg"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
	"github.com/trailwatch/trailwatch/sink"
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
	// GeoIP names the city, ASN and country databases enrich reads.
	GeoIP enrich.GeoConfig `yaml:"geoip"`
	// ClickHouse is where the sink writes and migrate applies the schema.
	ClickHouse sink.ClickHouseConfig `yaml:"clickhouse"`
}

// Default returns the configuration with every default filled in.
func Default() File {
	return File{
		Log:        lifecycle.DefaultLogConfig(),
		Admin:      admin.DefaultConfig(),
		Kafka:      kafka.DefaultConfig(),
		Topics:     kafka.DefaultTopicsConfig(),
		S3:         awscfg.DefaultConfig(),
		Ingest:     ingest.DefaultConfig(),
		GeoIP:      enrich.DefaultGeoConfig(),
		ClickHouse: sink.DefaultClickHouseConfig(),
	}
}

// Validate checks every section and returns the first error, which names
// the bad field by its YAML path.
func (f *File) Validate() error {
	for _, v := range []Validator{&f.Log, &f.Admin, &f.Kafka, &f.Topics, &f.S3, &f.Ingest, &f.ClickHouse} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	// The GeoIP check opens the databases: name the section, since the
	// geo config's own errors name only its fields.
	if err := f.GeoIP.Validate(); err != nil {
		return fmt.Errorf("geoip.%w", err)
	}
	return nil
}
