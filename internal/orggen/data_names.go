package orggen

// Names the organisation model draws from. All fictional.

var companyNames = []string{"globex", "initech", "hooli", "vandelay", "umbrella", "soylent", "tyrell", "wonka", "stark", "cyberdyne", "oscorp", "massive-dynamic"}

// accountNames are the conventional accounts of a landing zone, in the
// order they are created: the first three have fixed jobs (management,
// log archive, security tooling), the rest run workloads.
var accountNames = []string{
	"management", "log-archive", "security-tooling", "shared-services", "prod-payments",
	"prod-web", "staging", "dev-sandbox", "data-platform", "prod-api", "ml-research",
	"network-hub", "prod-mobile-backend", "qa", "analytics", "backup-vault",
}

var firstNames = []string{
	"alice", "bob", "carol", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jamal",
	"kavya", "lars", "mei", "nikolai", "olga", "priya", "quentin", "rosa", "sanjay", "tomas",
	"uma", "viktor", "wen", "ximena", "yusuf", "zofia", "adaeze", "bjorn", "chen", "diego",
}

var lastNames = []string{
	"smith", "garcia", "muller", "nguyen", "kowalski", "tanaka", "okafor", "rossi", "dubois",
	"patel", "johansson", "kim", "silva", "ivanova", "oconnor", "haddad", "schmidt", "wang",
	"fernandez", "novak", "sato", "mensah", "lopez", "berg",
}

// peopleCountries weights where employees live; the organisation's home
// country is added on top.
var peopleCountries = []string{"US", "US", "CA", "GB", "DE", "FR", "ES", "PL", "IN", "BR", "AU", "JP"}

var appNames = []string{
	"orders-api", "checkout", "catalog", "payments-worker", "ledger", "search-indexer",
	"notifications", "auth-gateway", "reporting", "inventory", "pricing", "fraud-scorer",
	"media-transcoder", "etl-runner", "webhooks",
}

var functionNames = []string{
	"thumbnail-resizer", "invoice-pdf", "s3-event-router", "nightly-export", "slack-notifier",
	"cost-reporter", "user-cleanup", "kinesis-consumer", "cert-rotator", "audit-forwarder",
	"image-scan-hook", "ddb-stream-processor",
}

var bucketWords = []string{"artifacts", "data-lake", "backups", "static-assets", "uploads", "reports", "terraform-state", "ml-datasets", "exports", "config-snapshots"}

var tableNames = []string{"orders", "sessions", "customers", "idempotency-keys", "feature-flags", "rate-limits", "carts", "audit-index"}

var secretNames = []string{"prod/db/primary", "prod/stripe/api-key", "prod/oauth/client-secret", "shared/datadog/api-key", "prod/smtp/credentials", "app/jwt-signing-key"}

var paramNames = []string{"/app/config/feature-flags", "/app/db/endpoint", "/platform/vpc/id", "/app/cache/endpoint", "/shared/ami/latest", "/app/log-level"}

var objectPrefixes = []string{"incoming", "processed", "exports", "raw/events", "builds", "snapshots", "reports/daily", "media/originals"}

var objectExts = []string{".json", ".parquet", ".csv.gz", ".jpg", ".zip", ".tar.gz", ".pdf", ".avro"}

// User agents. {{svc}} and {{cmd}} are filled per event with the API's
// SDK service id and CLI command (api/ec2, command/ec2.describe-instances),
// as the real SDKs do.
var (
	cliAgents = []string{
		"aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#{{cmd}}",
		"aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off command/{{cmd}}",
		"aws-cli/2.18.4 md/awscrt#0.21.5 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#{{cmd}}",
		"aws-cli/2.16.1 md/awscrt#0.19.19 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#{{cmd}}",
	}
	boto3Agents = []string{
		"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
		"Boto3/1.35.24 md/Botocore#1.35.24 ua/2.0 os/linux#6.1.102-111.182.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython exec-env/AWS_Lambda_python3.11 cfg/retry-mode#legacy Botocore/1.35.24",
	}
	goAgents = []string{
		"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/{{svc}}#1.58.2",
		"aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#arm64 api/{{svc}}#1.66.0 m/E",
	}
	javaAgents = []string{
		"aws-sdk-java/2.25.16 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
	}
	nodeAgents = []string{
		"aws-sdk-js/3.556.0 ua/2.0 os/linux#5.10.214-202.855.amzn2.x86_64 lang/js md/nodejs#20.12.2 api/{{svc}}#3.556.0 exec-env/AWS_Lambda_nodejs20.x",
	}
	terraformAgents = []string{
		"APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.67.0 aws-sdk-go-v2/1.30.5 ua/2.1 os/linux lang/go#1.22.6 md/GOOS#linux md/GOARCH#amd64 api/{{svc}}#1.40.2",
		"APN/1.0 HashiCorp/1.0 Terraform/1.8.3 (+https://www.terraform.io) terraform-provider-aws/5.49.0 aws-sdk-go-v2/1.26.2 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/{{svc}}#1.33.0",
	}
	consoleAgents = []string{"console.amazonaws.com", "console.amazonaws.com", "AWS Internal"}
	browserAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:129.0) Gecko/20100101 Firefox/129.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36 Edg/127.0.2651.74",
	}
	// attackerAgents are what stolen credentials tend to be used with.
	attackerAgents = []string{
		"aws-cli/2.13.0 Python/3.11.4 Linux/6.3.0-kali1-amd64 exe/x86_64.kali.2023 prompt/off command/{{cmd}}",
		"Boto3/1.26.165 Python/3.10.12 Linux/5.15.0-91-generic Botocore/1.29.165",
		"aws-cli/1.18.69 Python/3.8.10 Linux/5.4.0-150-generic botocore/1.16.19",
	}
)
