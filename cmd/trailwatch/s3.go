package main

import (
	"context"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/config"
)

// objectGetter returns what ingest reads objects with, as ingest.s3_client
// says: the lean signed GET or the AWS SDK's client.
func objectGetter(ctx context.Context, cfg *config.File) (ingest.ObjectGetter, error) {
	if cfg.Ingest.S3Client == "sdk" {
		return cfg.S3.S3(ctx)
	}
	return cfg.S3.Getter(ctx, cfg.Ingest.Concurrency)
}
