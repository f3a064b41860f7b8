package orggen

// Static reference data: the commercial regions and public address blocks
// the generator draws from. The address blocks are real, publicly routed
// ranges of large providers and ISPs, so that GeoIP and ASN enrichment of
// generated data gives plausible answers; the generator never uses private
// or reserved space for a caller from outside AWS.

// regionInfo is one commercial AWS region.
type regionInfo struct {
	name string
	// azPrefix starts the region's AZ ids (use1 -> use1-az1).
	azPrefix string
	// ec2 are public EC2 address blocks of the region (NAT gateways,
	// instances and Lambda functions call AWS APIs from them).
	ec2 []string
	// ipv6 is the region's block for VPC IPv6 CIDRs.
	ipv6 string
}

// regions are the 17 long-standing commercial regions that have no opt-in.
var regions = []regionInfo{
	{"us-east-1", "use1", []string{"3.80.0.0/12", "34.192.0.0/12", "54.144.0.0/14"}, "2600:1f18::/33"},
	{"us-east-2", "use2", []string{"3.128.0.0/12", "18.216.0.0/14"}, "2600:1f16::/36"},
	{"us-west-1", "usw1", []string{"13.52.0.0/16", "54.183.0.0/16"}, "2600:1f1c::/36"},
	{"us-west-2", "usw2", []string{"34.208.0.0/12", "52.24.0.0/14"}, "2600:1f14::/35"},
	{"ca-central-1", "cac1", []string{"35.182.0.0/15", "3.96.0.0/15"}, "2600:1f11::/36"},
	{"eu-west-1", "euw1", []string{"34.240.0.0/13", "52.208.0.0/13"}, "2a05:d018::/36"},
	{"eu-west-2", "euw2", []string{"3.8.0.0/14", "18.130.0.0/16"}, "2a05:d01c::/36"},
	{"eu-west-3", "euw3", []string{"15.236.0.0/15", "35.180.0.0/16"}, "2a05:d012::/36"},
	{"eu-central-1", "euc1", []string{"3.120.0.0/14", "18.184.0.0/15"}, "2a05:d014::/35"},
	{"eu-north-1", "eun1", []string{"13.48.0.0/15"}, "2a05:d016::/36"},
	{"ap-northeast-1", "apne1", []string{"13.112.0.0/14", "54.64.0.0/15"}, "2406:da14::/36"},
	{"ap-northeast-2", "apne2", []string{"13.124.0.0/16", "3.34.0.0/15"}, "2406:da12::/36"},
	{"ap-northeast-3", "apne3", []string{"13.208.0.0/16"}, "2406:da16::/36"},
	{"ap-southeast-1", "apse1", []string{"13.228.0.0/15", "18.136.0.0/16"}, "2406:da18::/36"},
	{"ap-southeast-2", "apse2", []string{"13.210.0.0/15", "3.24.0.0/14"}, "2406:da1c::/36"},
	{"ap-south-1", "aps1", []string{"13.232.0.0/14", "3.6.0.0/15"}, "2406:da1a::/36"},
	{"sa-east-1", "sae1", []string{"18.228.0.0/16", "54.232.0.0/16"}, "2600:1f1e::/36"},
}

// regionIndex returns the index of name in regions, or -1.
func regionIndex(name string) int {
	for i := range regions {
		if regions[i].name == name {
			return i
		}
	}
	return -1
}

// netKind says what an address block is used for.
type netKind uint8

const (
	netResidential netKind = iota // home and mobile ISPs: people
	netHosting                    // VPS and hosting providers: attackers, scanners
	netCorporate                  // secure web gateways: office egress
	netCI                         // hosted CI runners
	netContent                    // CDNs and big sites: egress destinations of flows
	netScanner                    // internet-wide scanners: inbound flow noise
)

// netBlock is a public address block with who routes it.
type netBlock struct {
	cidr    string
	country string // ISO 3166-1 alpha-2
	asn     uint32
	org     string
	kind    netKind
}

// netBlocks are the public address blocks external callers come from.
var netBlocks = []netBlock{
	// Home and mobile ISPs.
	{"73.0.0.0/8", "US", 7922, "Comcast Cable Communications", netResidential},
	{"2601::/20", "US", 7922, "Comcast Cable Communications", netResidential},
	{"96.224.0.0/11", "US", 701, "Verizon Business", netResidential},
	{"172.56.0.0/14", "US", 21928, "T-Mobile USA", netResidential},
	{"99.224.0.0/11", "CA", 812, "Rogers Communications", netResidential},
	{"70.48.0.0/13", "CA", 577, "Bell Canada", netResidential},
	{"86.128.0.0/10", "GB", 2856, "British Telecommunications", netResidential},
	{"84.128.0.0/10", "DE", 3320, "Deutsche Telekom", netResidential},
	{"91.0.0.0/10", "DE", 3320, "Deutsche Telekom", netResidential},
	{"2003::/19", "DE", 3320, "Deutsche Telekom", netResidential},
	{"90.0.0.0/9", "FR", 3215, "Orange", netResidential},
	{"2a01:cb00::/24", "FR", 3215, "Orange", netResidential},
	{"88.0.0.0/11", "ES", 3352, "Telefonica de Espana", netResidential},
	{"93.32.0.0/11", "IT", 12874, "Fastweb", netResidential},
	{"83.0.0.0/11", "PL", 5617, "Orange Polska", netResidential},
	{"157.32.0.0/12", "IN", 55836, "Reliance Jio Infocomm", netResidential},
	{"2409:4000::/22", "IN", 55836, "Reliance Jio Infocomm", netResidential},
	{"122.160.0.0/12", "IN", 24560, "Bharti Airtel", netResidential},
	{"126.0.0.0/8", "JP", 17676, "SoftBank", netResidential},
	{"58.160.0.0/12", "AU", 1221, "Telstra", netResidential},
	{"177.0.0.0/13", "BR", 28573, "Claro NXT", netResidential},
	{"113.160.0.0/11", "VN", 45899, "VNPT", netResidential},
	{"95.24.0.0/13", "RU", 8402, "PJSC Vimpelcom", netResidential},
	{"116.224.0.0/12", "CN", 4812, "China Telecom Shanghai", netResidential},
	{"123.112.0.0/12", "CN", 4808, "China Unicom Beijing", netResidential},
	{"105.112.0.0/12", "NG", 36873, "Airtel Networks Nigeria", netResidential},
	// Hosting providers.
	{"167.99.0.0/16", "US", 14061, "DigitalOcean", netHosting},
	{"159.65.0.0/16", "US", 14061, "DigitalOcean", netHosting},
	{"2604:a880::/32", "US", 14061, "DigitalOcean", netHosting},
	{"51.75.0.0/16", "FR", 16276, "OVH", netHosting},
	{"54.36.0.0/14", "FR", 16276, "OVH", netHosting},
	{"88.198.0.0/16", "DE", 24940, "Hetzner Online", netHosting},
	{"78.46.0.0/15", "DE", 24940, "Hetzner Online", netHosting},
	{"2a01:4f8::/29", "DE", 24940, "Hetzner Online", netHosting},
	{"45.33.0.0/17", "US", 63949, "Akamai Connected Cloud", netHosting},
	{"45.76.0.0/16", "US", 20473, "The Constant Company", netHosting},
	{"149.28.0.0/16", "US", 20473, "The Constant Company", netHosting},
	{"47.74.0.0/15", "SG", 45102, "Alibaba US Technology", netHosting},
	// Office egress through secure web gateways.
	{"165.225.0.0/17", "US", 62044, "Zscaler", netCorporate},
	{"104.28.0.0/16", "US", 13335, "Cloudflare", netCorporate},
	// Hosted CI runners.
	{"20.0.0.0/11", "US", 8075, "Microsoft", netCI},
	{"40.64.0.0/10", "US", 8075, "Microsoft", netCI},
	{"34.64.0.0/10", "US", 396982, "Google Cloud", netCI},
	// Egress destinations.
	{"142.250.0.0/15", "US", 15169, "Google", netContent},
	{"2607:f8b0::/32", "US", 15169, "Google", netContent},
	{"104.16.0.0/13", "US", 13335, "Cloudflare", netContent},
	{"2606:4700::/32", "US", 13335, "Cloudflare", netContent},
	{"151.101.0.0/16", "US", 54113, "Fastly", netContent},
	{"2a04:4e42::/32", "US", 54113, "Fastly", netContent},
	{"140.82.112.0/20", "US", 36459, "GitHub", netContent},
	{"23.0.0.0/12", "US", 20940, "Akamai International", netContent},
	// Internet-wide scanners.
	{"167.94.138.0/24", "US", 398324, "Censys", netScanner},
	{"162.142.125.0/24", "US", 398324, "Censys", netScanner},
}

// countryInfo is what the generator needs to know about a country.
type countryInfo struct {
	code string
	// utcOffset is the standard offset in minutes (daylight saving is
	// ignored: it moves a curve by an hour, which nobody can tell apart).
	utcOffset int
	// lat and lon place the country roughly, for choosing far-apart pairs.
	lat, lon float64
}

var countries = []countryInfo{
	{"US", -300, 39, -98}, {"CA", -300, 56, -96}, {"GB", 0, 54, -2}, {"DE", 60, 51, 10},
	{"FR", 60, 46, 2}, {"ES", 60, 40, -4}, {"IT", 60, 42, 12}, {"PL", 60, 52, 19},
	{"IN", 330, 21, 78}, {"JP", 540, 36, 138}, {"AU", 600, -25, 134}, {"BR", -180, -10, -55},
	{"VN", 420, 16, 108}, {"RU", 180, 56, 38}, {"CN", 480, 35, 105}, {"NG", 60, 9, 8},
	{"SG", 480, 1, 104},
}

// country returns the info of an ISO code; unknown codes are UTC at 0,0.
func country(code string) countryInfo {
	for _, c := range countries {
		if c.code == code {
			return c
		}
	}
	return countryInfo{code: code}
}
