package orggen

// Exported for the tests of package orggen_test, which import ingest
// (orggen itself does not).
var (
	// Generate runs a Config into memory, keyed bucket/key.
	Generate = generate
	// ParquetTestConfig is the small run of the Parquet tests.
	ParquetTestConfig = parquetTestConfig
)
