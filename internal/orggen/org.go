package orggen

import (
	"fmt"
	"net/netip"
	"strings"
)

// The organisation model: accounts, people, identities and what each
// identity habitually does. It is a function of the seed and the account
// count only, so that changing the event volume or the window keeps the
// same organisation.

// org is one generated AWS organisation.
type org struct {
	id       string // o-xxxxxxxxxx
	company  string
	domain   string
	home     int    // home region index
	country  string // home country of the company
	accounts []*account
	people   []*person
	idents   []*identity
	// services are the AWSService identities by service principal.
	services map[string]*identity
	// mgmt, logArchive and security are the accounts with those jobs (the
	// same account when the organisation is small).
	mgmt, logArchive, security *account
	trailName                  string
	trailARN                   string
	// pools are the external addresses flow records draw from.
	pools *flowPools
}

// account is one member account.
type account struct {
	idx     int
	id      string
	name    string
	regions []int // enabled regions, home first; us-east-1 always present
	home    int
	// res holds the account's resources in every region (so that an API
	// call in a region the account never uses still names real-looking
	// ids).
	res        []regionRes
	buckets    []string
	users      []string // IAM user names
	roleNames  []string
	localTrail string
	samlARN    string
	samlIssuer string
	// vpcs are the account's VPCs by region index (enabled regions only).
	vpcs [][]*vpc
	// natIP is the NAT gateway's public address by region index: the
	// account's workloads call AWS APIs from it.
	natIP []string
}

// regionRes are an account's resources in one region.
type regionRes struct {
	kmsKeys, instances, vpcs, subnets, sgs, amis, volumes, flowLogs []string
	functions, tables, secrets, params, logGroups, clusters, dbs    []string
	repos, stacks                                                   []string
	vpce                                                            string
	// privNet is the first two octets of the region's first VPC, for
	// private source addresses of calls through a VPC endpoint.
	privNet string
}

// person is an employee behind human identities.
type person struct {
	login   string // first.last
	email   string
	country string
	tz      int // UTC offset in minutes
	// ips are the person's usual public addresses (home ISP, office).
	ips     []string
	browser string
	cli     string
	job     string // admin, developer, security
}

// identKind is the userIdentity.type family of an identity.
type identKind uint8

const (
	kUser    identKind = iota // IAMUser with a long-term access key
	kConsole                  // IAMUser or Root signed in to the console (session keys)
	kSession                  // AssumedRole
	kService                  // AWSService
)

// curveKind is an identity's activity curve over the day.
type curveKind uint8

const (
	curveFlat    curveKind = iota // machines
	curveTraffic                  // workloads that follow customer traffic
	curveWork                     // people
	curveCI                       // pipelines: work hours plus nightly runs
	curveRare                     // break-glass and root
)

// identity is one acting principal as it appears in userIdentity: an IAM
// user's key, a role session name, a service.
type identity struct {
	idx  int
	kind identKind
	acct *account
	root bool
	// name is the IAM user name, the role session name or the service
	// principal.
	name        string
	arn         string
	principalID string
	accessKey   string // AKIA... for kUser
	roleName    string
	roleARN     string
	roleID      string // AROA...
	// parent assumes this identity's role (a role chain); nil when a
	// service (assumedBy) or Identity Center (saml) does.
	parent    *identity
	assumedBy string
	saml      bool
	// external is the account id of a third party that assumes the role.
	external  string
	depth     int
	person    *person
	invokedBy string // service behind a service-linked role session
	ec2       bool   // an instance-profile session (ec2RoleDelivery)
	stsRegion int    // where its AssumeRole calls are logged
	// Source addresses: fixed choices, or a fresh address from blocks
	// for every session (Lambda, hosted CI).
	ips      []string
	blocks   []netip.Prefix
	uas      []template
	mfa      bool
	console  bool // sessions used from the console
	vpce     bool // reaches S3 and KMS through a VPC endpoint
	weight   float64
	curve    curveKind
	tz       int
	errRate  float64
	profile  string
	regionW  []regionWeight
	loginUI  string // ConsoleLogin userIdentity (no access key)
	staticUI string // the whole userIdentity when it has no session
	// uiHead + key + uiMid + creationDate + uiTail is the userIdentity of
	// a session identity.
	uiHead, uiMid, uiTail string
}

// regionWeight is a share of an identity's regional calls.
type regionWeight struct {
	region int
	w      float64
}

// hasSessions reports whether the identity acts through temporary
// sessions that something must create (AssumeRole, ConsoleLogin).
func (id *identity) hasSessions() bool { return id.kind == kSession || id.kind == kConsole }

// human reports whether a person is behind the identity.
func (id *identity) human() bool { return id.person != nil }

// apiWeight is one API of a profile with its relative weight.
type apiWeight struct {
	key string
	w   float64
}

// profiles are what kinds of identity habitually call. Nothing but the
// scenarios calls an API outside its identity's profile, which is what
// makes first-seen detections testable.
var profiles = map[string][]apiWeight{
	"admin": {
		{"ec2:DescribeInstances", 10}, {"ec2:DescribeSecurityGroups", 5}, {"ec2:DescribeVpcs", 3}, {"ec2:DescribeSubnets", 3},
		{"ec2:DescribeVolumes", 2}, {"ec2:DescribeAvailabilityZones", 2}, {"ec2:DescribeRegions", 1}, {"s3:ListBuckets", 4},
		{"s3:GetBucketAcl", 2}, {"s3:GetBucketPolicy", 2}, {"s3:GetBucketPublicAccessBlock", 1}, {"iam:ListUsers", 2},
		{"iam:ListRoles", 3}, {"iam:GetRole", 2}, {"iam:ListAttachedRolePolicies", 2}, {"cloudtrail:LookupEvents", 2},
		{"cloudtrail:DescribeTrails", 1}, {"logs:DescribeLogGroups", 3}, {"logs:FilterLogEvents", 3}, {"monitoring:GetMetricData", 5},
		{"monitoring:DescribeAlarms", 2}, {"lambda:ListFunctions20150331", 2}, {"lambda:GetFunction20150331v2", 1},
		{"rds:DescribeDBInstances", 2}, {"ce:GetCostAndUsage", 1}, {"health:DescribeEventAggregates", 1},
		{"sts:GetCallerIdentity", 2}, {"ec2:CreateTags", 0.5}, {"ec2:StopInstances", 0.2}, {"ec2:StartInstances", 0.2},
		{"ec2:AuthorizeSecurityGroupIngress", 0.2}, {"iam:AttachRolePolicy", 0.1}, {"route53:ListHostedZones", 1},
		{"cloudformation:DescribeStacks", 2}, {"organizations:DescribeOrganization", 0.5},
	},
	"developer": {
		{"logs:FilterLogEvents", 8}, {"logs:GetLogEvents", 5}, {"logs:DescribeLogGroups", 3}, {"lambda:ListFunctions20150331", 3},
		{"lambda:GetFunction20150331v2", 3}, {"lambda:UpdateFunctionCode20150331v2", 0.5}, {"dynamodb:DescribeTable", 2},
		{"dynamodb:ListTables", 1}, {"s3:ListBuckets", 2}, {"s3:ListObjects", 3}, {"s3:GetObject", 4}, {"s3:PutObject", 1},
		{"ecr:GetAuthorizationToken", 2}, {"ecr:DescribeRepositories", 1}, {"ecs:DescribeServices", 2}, {"ecs:ListClusters", 1},
		{"cloudformation:DescribeStacks", 3}, {"cloudformation:ListStacks", 1}, {"ssm:GetParameter", 2},
		{"secretsmanager:DescribeSecret", 0.5}, {"monitoring:GetMetricData", 4}, {"monitoring:GetMetricStatistics", 1},
		{"sts:GetCallerIdentity", 3}, {"ec2:DescribeInstances", 3}, {"ec2:DescribeInstances#one", 1}, {"eks:DescribeCluster", 1},
		{"elasticloadbalancing:DescribeTargetHealth", 1},
	},
	"audit": {
		{"iam:GetAccountSummary", 1}, {"iam:ListUsers", 2}, {"iam:ListRoles", 2}, {"iam:ListAccessKeys", 2}, {"iam:ListMFADevices", 1},
		{"iam:GetPolicyVersion", 2}, {"iam:ListRolePolicies", 2}, {"iam:GenerateCredentialReport", 0.3}, {"s3:ListBuckets", 2},
		{"s3:GetBucketAcl", 3}, {"s3:GetBucketPolicy", 3}, {"s3:GetBucketEncryption", 2}, {"s3:GetBucketPublicAccessBlock", 2},
		{"s3:GetBucketVersioning", 1}, {"cloudtrail:DescribeTrails", 2}, {"cloudtrail:GetTrailStatus", 2},
		{"cloudtrail:GetEventSelectors", 2}, {"guardduty:ListDetectors", 1}, {"guardduty:ListFindings", 1},
		{"securityhub:GetFindings", 2}, {"config:DescribeConfigRules", 1}, {"ec2:DescribeSecurityGroups", 3},
		{"ec2:DescribeFlowLogs", 1}, {"ec2:DescribeVpcs", 1}, {"kms:ListAliases", 1}, {"kms:DescribeKey", 1},
		{"access-analyzer:ListFindings", 1}, {"ec2:DescribeRegions", 1},
	},
	"app": {
		{"s3:GetObject", 30}, {"s3:PutObject", 12}, {"s3:HeadObject", 6}, {"kms:Decrypt", 18}, {"kms:GenerateDataKey", 9},
		{"ssm:UpdateInstanceInformation", 3}, {"ssm:GetParameter", 5}, {"sts:GetCallerIdentity", 1},
		{"dynamodb:DescribeTable", 1}, {"ec2:DescribeTags", 2}, {"logs:CreateLogStream", 1},
	},
	"app-secrets": {
		{"s3:GetObject", 25}, {"s3:PutObject", 10}, {"kms:Decrypt", 18}, {"kms:GenerateDataKey", 8},
		{"secretsmanager:GetSecretValue", 6}, {"ssm:UpdateInstanceInformation", 3}, {"ssm:GetParametersByPath", 2},
		{"sts:GetCallerIdentity", 1}, {"dynamodb:DescribeTable", 2}, {"logs:CreateLogStream", 1},
	},
	"lambda": {
		{"s3:GetObject", 20}, {"s3:PutObject", 10}, {"kms:Decrypt", 12}, {"kms:GenerateDataKey", 4},
		{"dynamodb:DescribeTable", 2}, {"ssm:GetParameter", 6}, {"logs:CreateLogStream", 2}, {"sts:GetCallerIdentity", 1},
	},
	"terraform": {
		{"ec2:DescribeVpcs", 5}, {"ec2:DescribeSubnets", 5}, {"ec2:DescribeSecurityGroups", 6}, {"ec2:DescribeInstances#one", 4},
		{"ec2:DescribeImages", 2}, {"ec2:DescribeNetworkInterfaces", 2}, {"ec2:DescribeAvailabilityZones", 2},
		{"iam:GetRole", 6}, {"iam:ListAttachedRolePolicies", 4}, {"iam:ListRolePolicies", 3}, {"iam:GetPolicyVersion", 2},
		{"s3:GetBucketPolicy", 3}, {"s3:GetBucketAcl", 2}, {"s3:GetBucketVersioning", 2}, {"s3:GetBucketEncryption", 2},
		{"s3:GetBucketLocation", 1}, {"lambda:GetFunction20150331v2", 3}, {"rds:DescribeDBInstances#one", 2},
		{"route53:ListHostedZones", 1}, {"logs:DescribeLogGroups", 2}, {"kms:DescribeKey", 2}, {"sts:GetCallerIdentity", 2},
		{"cloudformation:DescribeStacks", 1}, {"ec2:CreateTags", 0.5}, {"iam:PutRolePolicy", 0.2},
		{"lambda:UpdateFunctionCode20150331v2", 0.3}, {"route53:ChangeResourceRecordSets", 0.2},
		{"ec2:AuthorizeSecurityGroupIngress", 0.1}, {"s3:PutBucketPolicy", 0.1}, {"ec2:RunInstances", 0.05},
		{"eks:DescribeCluster", 1}, {"elasticloadbalancing:DescribeLoadBalancers", 1}, {"autoscaling:DescribeAutoScalingGroups", 1},
	},
	"state":   {{"s3:GetObject", 3}, {"s3:PutObject", 1}, {"s3:ListObjects", 1}, {"sts:GetCallerIdentity", 1}},
	"ci-root": {{"sts:GetCallerIdentity", 1}},
	"config": {
		{"ec2:DescribeInstances", 3}, {"ec2:DescribeSecurityGroups", 3}, {"ec2:DescribeVpcs", 2}, {"ec2:DescribeSubnets", 2},
		{"ec2:DescribeVolumes", 2}, {"ec2:DescribeNetworkInterfaces", 2}, {"s3:GetBucketAcl", 2}, {"s3:GetBucketPolicy", 2},
		{"s3:GetBucketEncryption", 1}, {"s3:GetBucketVersioning", 1}, {"s3:GetBucketPublicAccessBlock", 1}, {"iam:GetRole", 2},
		{"iam:ListAttachedRolePolicies", 2}, {"lambda:GetFunction20150331v2", 1}, {"kms:DescribeKey", 1},
		{"rds:DescribeDBInstances", 1}, {"cloudtrail:DescribeTrails", 1}, {"config:PutEvaluations", 2},
	},
	"cloudtrail": {{"s3:GetBucketAcl#trail", 3}, {"kms:GenerateDataKey#trail", 2}},
	"backup":     {{"s3:PutObject", 8}, {"s3:ListObjects", 2}, {"s3:GetBucketLocation", 1}, {"kms:GenerateDataKey", 3}},
	"vendor": {
		{"monitoring:GetMetricData", 10}, {"monitoring:DescribeAlarms", 1}, {"ec2:DescribeInstances", 3}, {"ec2:DescribeVolumes", 1},
		{"rds:DescribeDBInstances", 1}, {"elasticloadbalancing:DescribeLoadBalancers", 1}, {"lambda:ListFunctions20150331", 1},
		{"dynamodb:ListTables", 1}, {"autoscaling:DescribeAutoScalingGroups", 1},
	},
	"root": {{"iam:GetAccountSummary", 1}, {"organizations:DescribeOrganization", 1}, {"ce:GetCostAndUsage", 1}, {"s3:ListBuckets", 1}},
}

// orgBuilder carries the state of one buildOrg call.
type orgBuilder struct {
	r      rng
	o      *org
	cat    *catalog
	blocks map[netKind][]netBlockP
	vpcNum int
	// flowFormats are the flow log formats VPCs alternate between.
	flowFormats [2]*flowFormat
}

// netBlockP is a netBlock with its parsed prefix.
type netBlockP struct {
	netBlock
	prefix netip.Prefix
}

// buildOrg generates the organisation for a seed and account count. It
// draws from its own stream, so the organisation does not depend on the
// event volume or the window.
func buildOrg(seed uint64, nAccounts int, cat *catalog) (*org, error) {
	b := &orgBuilder{r: newRNG(seedOf(seed, hashString("org"))), cat: cat, blocks: map[netKind][]netBlockP{}}
	for _, nb := range netBlocks {
		p, err := netip.ParsePrefix(nb.cidr)
		if err != nil {
			return nil, fmt.Errorf("parse address block %s: %w", nb.cidr, err)
		}
		b.blocks[nb.kind] = append(b.blocks[nb.kind], netBlockP{nb, p})
	}
	var err error
	if b.flowFormats, err = newFlowFormats(); err != nil {
		return nil, err
	}
	r := &b.r
	o := &org{services: map[string]*identity{}}
	b.o = o
	o.company = pick(r, companyNames)
	o.domain = o.company + ".example"
	o.id = "o-" + randString(r, 10, "abcdefghijklmnopqrstuvwxyz012345")
	homes := []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"}
	o.home = regionIndex(pick(r, homes))
	o.country = map[string]string{"us-east-1": "US", "us-east-2": "US", "us-west-2": "US", "eu-west-1": "GB", "eu-central-1": "DE"}[regions[o.home].name]
	o.trailName = "org-trail"

	if err := b.accounts(nAccounts); err != nil {
		return nil, err
	}
	o.trailARN = "arn:aws:cloudtrail:" + regions[o.home].name + ":" + o.mgmt.id + ":trail/" + o.trailName
	b.people()
	o.pools = b.flowPools()
	if err := b.identities(); err != nil {
		return nil, err
	}
	for _, id := range o.idents {
		if _, ok := profiles[id.profile]; !ok {
			return nil, fmt.Errorf("identity %s: unknown profile %q", id.arn, id.profile)
		}
		id.render()
	}
	for _, svc := range o.services {
		svc.render()
	}
	return o, nil
}

// accountID draws a 12-digit account id.
func (b *orgBuilder) accountID() string {
	var d [12]byte
	d[0] = byte('1' + b.r.intn(9))
	for i := 1; i < 12; i++ {
		d[i] = byte('0' + b.r.intn(10))
	}
	return string(d[:])
}

func (b *orgBuilder) accounts(n int) error {
	r, o := &b.r, b.o
	use1 := regionIndex("us-east-1")
	for i := 0; i < n; i++ {
		a := &account{idx: i, id: b.accountID()}
		if i < len(accountNames) {
			a.name = accountNames[i]
		} else {
			a.name = fmt.Sprintf("workload-%02d", i)
		}
		// Most accounts live in the home region; some in a second one.
		a.home = o.home
		if i >= 3 && r.chance(0.3) {
			a.home = r.intn(len(regions))
		}
		a.regions = []int{a.home}
		if a.home != use1 {
			a.regions = append(a.regions, use1)
		}
		for extra := r.intn(3); extra > 0; extra-- {
			reg := r.intn(len(regions))
			if !containsInt(a.regions, reg) {
				a.regions = append(a.regions, reg)
			}
		}
		a.localTrail = "arn:aws:cloudtrail:" + regions[a.home].name + ":" + a.id + ":trail/account-audit-trail"
		a.samlARN = "arn:aws:iam::" + a.id + ":saml-provider/AWSSSO_" + randString(r, 16, hexDigits) + "_DO_NOT_DELETE"
		a.samlIssuer = randString(r, 22, base64Chars[:64])
		for _, w := range bucketWords {
			if r.chance(0.4) || len(a.buckets) == 0 {
				a.buckets = append(a.buckets, o.company+"-"+a.name+"-"+w+"-"+a.id[8:])
			}
		}
		o.accounts = append(o.accounts, a)
	}
	o.mgmt = o.accounts[0]
	o.logArchive = o.accounts[min(1, n-1)]
	o.security = o.accounts[min(2, n-1)]
	for _, a := range o.accounts {
		b.network(a)
		b.resources(a)
	}
	return nil
}

// resources fills an account's per-region resource ids.
func (b *orgBuilder) resources(a *account) {
	r := &b.r
	a.res = make([]regionRes, len(regions))
	for reg := range regions {
		rr := &a.res[reg]
		hexID := func(prefix string) string { return prefix + "-0" + randString(r, 16, hexDigits) }
		for i := 0; i < 2; i++ {
			rr.kmsKeys = append(rr.kmsKeys, string(appendUUID(nil, r)))
			rr.amis = append(rr.amis, hexID("ami"))
			rr.tables = append(rr.tables, pick(r, tableNames))
			rr.secrets = append(rr.secrets, pick(r, secretNames)+"-"+randString(r, 6, alnumChars[:32]))
			rr.repos = append(rr.repos, pick(r, appNames))
			rr.stacks = append(rr.stacks, a.name+"-"+pick(r, appNames))
		}
		for i := 0; i < 3; i++ {
			rr.instances = append(rr.instances, hexID("i"))
			rr.subnets = append(rr.subnets, hexID("subnet"))
			rr.sgs = append(rr.sgs, hexID("sg"))
			rr.volumes = append(rr.volumes, hexID("vol"))
			rr.params = append(rr.params, pick(r, paramNames))
			rr.functions = append(rr.functions, pick(r, functionNames))
		}
		for _, f := range rr.functions {
			rr.logGroups = append(rr.logGroups, "/aws/lambda/"+f)
		}
		rr.logGroups = append(rr.logGroups, "/ecs/"+pick(r, appNames), "/aws/vpc/flowlogs")
		rr.clusters = []string{a.name + "-cluster"}
		rr.dbs = []string{pick(r, appNames) + "-db"}
		rr.vpce = "vpce-0" + randString(r, 16, hexDigits)
		rr.privNet = fmt.Sprintf("10.%d", 100+reg)
		if vs := a.vpcs[reg]; len(vs) > 0 {
			rr.privNet = vs[0].net
			rr.vpcs, rr.flowLogs = nil, nil
			for _, v := range vs {
				rr.vpcs = append(rr.vpcs, v.id)
				rr.flowLogs = append(rr.flowLogs, v.flowLog)
				for _, e := range v.enis {
					if e.instance != "-" {
						rr.instances = append(rr.instances, e.instance)
					}
				}
			}
		} else {
			rr.vpcs = []string{hexID("vpc")}
			rr.flowLogs = []string{"fl-0" + randString(r, 16, hexDigits)}
		}
	}
}

func (b *orgBuilder) people() {
	r, o := &b.r, b.o
	n := min(40, max(5, 4+len(o.accounts)))
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		p := &person{}
		for {
			p.login = pick(r, firstNames) + "." + pick(r, lastNames)
			if !seen[p.login] {
				seen[p.login] = true
				break
			}
		}
		p.email = p.login + "@" + o.domain
		p.country = o.country
		if r.chance(0.4) {
			p.country = pick(r, peopleCountries)
		}
		p.tz = country(p.country).utcOffset
		switch {
		case i < 2:
			p.job = "admin"
		case i < 4:
			p.job = "security"
		default:
			p.job = "developer"
		}
		for k := 1 + r.intn(2); k > 0; k-- {
			p.ips = append(p.ips, b.addrIn(netResidential, p.country))
		}
		if r.chance(0.5) {
			p.ips = append(p.ips, b.addrIn(netCorporate, ""))
		}
		p.browser = pick(r, browserAgents)
		p.cli = pick(r, cliAgents)
		o.people = append(o.people, p)
	}
}

// addrIn draws a public address from a block of kind, in country when
// the table has one there (IPv4 preferred 4 to 1).
func (b *orgBuilder) addrIn(kind netKind, country string) string {
	r := &b.r
	var cands []netBlockP
	for _, nb := range b.blocks[kind] {
		if country == "" || nb.country == country {
			cands = append(cands, nb)
		}
	}
	if len(cands) == 0 {
		cands = b.blocks[kind]
	}
	var v4 []netBlockP
	for _, c := range cands {
		if c.prefix.Addr().Is4() {
			v4 = append(v4, c)
		}
	}
	if len(v4) > 0 && (len(v4) == len(cands) || r.chance(0.8)) {
		return randAddr(r, pick(r, v4).prefix).String()
	}
	return randAddr(r, pick(r, cands).prefix).String()
}

// randAddr draws an address inside p, avoiding the .0 and .255 of IPv4.
func randAddr(r *rng, p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	bits := p.Bits()
	if a.Is4() {
		v := a.As4()
		base := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
		host := uint32(0)
		if bits < 32 {
			host = uint32(r.u64()) & (1<<(32-bits) - 1)
		}
		x := base | host
		if bits <= 24 {
			x = x&^0xff | uint32(1+r.intn(254))
		}
		return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
	}
	v := a.As16()
	for i := bits / 8; i < 16; i++ {
		rb := byte(r.u64())
		if i == bits/8 && bits%8 != 0 {
			rb &= byte(0xff >> (bits % 8))
		}
		v[i] |= rb
	}
	return netip.AddrFrom16(v)
}

// ec2Addr draws a public EC2 address of a region.
func (b *orgBuilder) ec2Addr(region int) string {
	return randAddr(&b.r, netip.MustParsePrefix(pick(&b.r, regions[region].ec2))).String()
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// keyID draws an access key id with the given prefix (AKIA, ASIA, AIDA,
// AROA): the prefix plus 16 characters.
func keyID(r *rng, prefix string) string {
	return prefix + randString(r, 16, keyIDChars)
}

// identities creates every identity of the organisation, account by
// account, in a fixed order.
func (b *orgBuilder) identities() error {
	r, o := &b.r, b.o
	use1 := regionIndex("us-east-1")
	add := func(id *identity) *identity {
		id.idx = len(o.idents)
		if id.errRate == 0 {
			id.errRate = 0.03
		}
		if id.parent != nil {
			id.depth = id.parent.depth + 1
		}
		o.idents = append(o.idents, id)
		return id
	}
	newRole := func(a *account, name, path string) (string, string, string) {
		a.roleNames = append(a.roleNames, name)
		return name, "arn:aws:iam::" + a.id + ":role" + path + name, keyID(r, "AROA")
	}
	allRegions := func(a *account) []regionWeight {
		var rw []regionWeight
		for _, reg := range a.regions {
			rw = append(rw, regionWeight{reg, 1})
		}
		return rw
	}
	mostlyHome := func(a *account) []regionWeight {
		rw := []regionWeight{{a.home, 0.85}}
		for _, reg := range a.regions[1:] {
			rw = append(rw, regionWeight{reg, 0.15 / float64(len(a.regions)-1)})
		}
		return rw
	}
	session := func(a *account, role, path, sess string) *identity {
		name, arn, id := newRole(a, role, path)
		return &identity{kind: kSession, acct: a, name: sess, roleName: name, roleARN: arn, roleID: id, stsRegion: use1}
	}
	var agentErr error
	agents := func(list ...string) []template {
		var ts []template
		for _, s := range list {
			t, err := compileTemplate(s)
			if err != nil && agentErr == nil {
				agentErr = fmt.Errorf("user agent %q: %w", s, err)
			}
			ts = append(ts, t)
		}
		return ts
	}

	// AWS service principals, shared by every account.
	for _, svc := range []string{"cloudtrail.amazonaws.com", "config.amazonaws.com", "ec2.amazonaws.com", "lambda.amazonaws.com"} {
		o.services[svc] = &identity{kind: kService, name: svc, acct: o.mgmt, arn: svc}
	}
	ct := o.services["cloudtrail.amazonaws.com"]
	ct.acct, ct.profile, ct.weight, ct.curve = o.logArchive, "cloudtrail", 2, curveFlat
	ct.regionW = []regionWeight{{o.home, 1}}
	ct.errRate = 0.001
	add(ct)

	people := o.people
	admins, security, devs := people[:2], people[2:4], people[4:]
	var ciUser, ciHop *identity
	var adminSSO *identity // the first admin's session in the management account
	var scanner *identity
	// The vendor's own account, outside the organisation.
	vendorAccount := b.accountID()

	for _, a := range o.accounts {
		workload := a.idx >= 3 || len(o.accounts) <= 3
		// Users: a CI user in the shared-services account (or the
		// management account of a small organisation) and the
		// management account's break-glass user.
		if a.idx == min(3, len(o.accounts)-1) && ciUser == nil {
			u := "ci-deployer"
			a.users = append(a.users, u)
			ciUser = add(&identity{kind: kUser, acct: a, name: u, accessKey: keyID(r, "AKIA"), principalID: keyID(r, "AIDA"),
				profile: "ci-root", weight: 0.3, curve: curveCI, regionW: []regionWeight{{use1, 1}}, tz: country(o.country).utcOffset,
				uas: agents(terraformAgents[0]), errRate: 0.02})
			for k := 0; k < 6; k++ {
				ciUser.ips = append(ciUser.ips, b.addrIn(netCI, ""))
			}
			name, arn, id := newRole(a, "terraform-deployer", "/ci/")
			ciHop = add(&identity{kind: kSession, acct: a, name: "terraform", roleName: name, roleARN: arn, roleID: id,
				parent: ciUser, stsRegion: use1, profile: "state", weight: 1, curve: curveCI, tz: ciUser.tz,
				regionW: []regionWeight{{a.home, 1}}, uas: ciUser.uas, errRate: 0.02})
		}
		if a == o.mgmt {
			a.users = append(a.users, "breakglass-admin")
			bg := &identity{kind: kConsole, acct: a, name: "breakglass-admin", principalID: keyID(r, "AIDA"), mfa: true,
				profile: "admin", weight: 0.05, curve: curveRare, tz: country(o.country).utcOffset, regionW: mostlyHome(a)}
			bg.ips = []string{b.addrIn(netCorporate, "")}
			bg.uas = agents(consoleAgents...)
			add(bg)
			root := &identity{kind: kConsole, root: true, acct: a, name: "root", principalID: a.id, mfa: true, profile: "root",
				weight: 0.02, curve: curveRare, tz: bg.tz, regionW: []regionWeight{{use1, 1}}, ips: bg.ips, uas: bg.uas}
			add(root)
		}
		// Legacy IAM users for some developers: a long-term key used from
		// the CLI and a console password.
		if workload && a.idx == min(4, len(o.accounts)-1) {
			for i, p := range devs {
				if i%3 != 0 {
					continue
				}
				a.users = append(a.users, p.login)
				pid := keyID(r, "AIDA")
				add(&identity{kind: kUser, acct: a, name: p.login, accessKey: keyID(r, "AKIA"), principalID: pid, person: p,
					profile: "developer", weight: 2, curve: curveWork, tz: p.tz, regionW: mostlyHome(a), ips: p.ips,
					uas: agents(p.cli), errRate: 0.06})
				add(&identity{kind: kConsole, acct: a, name: p.login, principalID: pid, person: p, mfa: r.chance(0.6),
					profile: "developer", weight: 1.5, curve: curveWork, tz: p.tz, regionW: mostlyHome(a), ips: p.ips,
					uas: agents(consoleAgents...), errRate: 0.06})
			}
		}
		if workload {
			a.users = append(a.users, "backup-agent")
			add(&identity{kind: kUser, acct: a, name: "backup-agent", accessKey: keyID(r, "AKIA"), principalID: keyID(r, "AIDA"),
				profile: "backup", weight: 1, curve: curveFlat, regionW: []regionWeight{{a.home, 1}},
				ips: []string{b.addrIn(netCorporate, "")}, uas: agents(boto3Agents[0]), errRate: 0.01})
		}

		// Identity Center (SSO) sessions of people.
		ssoRole := func(p *person, permSet string, profile string, w float64) *identity {
			path := "/aws-reserved/sso.amazonaws.com/"
			if regions[o.home].name != "us-east-1" {
				path += regions[o.home].name + "/"
			}
			id := session(a, "AWSReservedSSO_"+permSet+"_"+randString(r, 16, hexDigits), path, p.email)
			id.saml, id.person, id.profile, id.weight, id.curve, id.tz = true, p, profile, w, curveWork, p.tz
			id.stsRegion = o.home
			id.regionW, id.ips = mostlyHome(a), p.ips
			id.uas = agents(p.cli, consoleAgents[0], consoleAgents[2])
			id.console = r.chance(0.5)
			id.errRate = 0.05
			id.mfa = true
			return add(id)
		}
		for _, p := range admins {
			id := ssoRole(p, "AdministratorAccess", "admin", 1.2)
			if a == o.mgmt && adminSSO == nil {
				adminSSO = id
			}
		}
		for _, p := range security {
			ssoRole(p, "SecurityAudit", "audit", 0.8)
		}
		if workload {
			for i, p := range devs {
				if (i+a.idx)%3 == 0 {
					ssoRole(p, "PowerUserAccess", "developer", 2.5)
				}
			}
		}

		// AWS Config's service-linked role sweeps every enabled region.
		cfg := session(a, "AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/", "AWSConfig-Describe")
		cfg.assumedBy, cfg.invokedBy, cfg.profile, cfg.weight, cfg.curve = "config.amazonaws.com", "config.amazonaws.com", "config", 2.5, curveFlat
		cfg.regionW, cfg.errRate, cfg.stsRegion = allRegions(a), 0.01, a.home
		add(cfg)

		if workload {
			// Applications on EC2, one session per instance.
			for k := 0; k < 2+r.intn(3); k++ {
				app := pick(r, appNames)
				region := a.home
				if r.chance(0.25) {
					region = pick(r, a.regions)
				}
				name, arn, rid := newRole(a, app+"-role", "/app/")
				profile := "app"
				if r.chance(0.5) {
					profile = "app-secrets"
				}
				ua := agents(pick(r, [][]string{goAgents, javaAgents, boto3Agents[:1]})[0])
				vpce := r.chance(0.3)
				for _, inst := range b.instancesFor(a, region, 1+r.intn(3)) {
					add(&identity{kind: kSession, acct: a, name: inst, roleName: name, roleARN: arn, roleID: rid, ec2: true,
						assumedBy: "ec2.amazonaws.com", stsRegion: region, profile: profile, weight: 5, curve: curveTraffic,
						tz: country(o.country).utcOffset, regionW: []regionWeight{{region, 1}}, ips: []string{a.natIP[region]},
						uas: ua, vpce: vpce, errRate: 0.015})
				}
			}
			// Lambda functions, a session per function, calling from
			// changing public addresses of the region.
			for k := 0; k < 1+r.intn(3); k++ {
				fn := pick(r, functionNames)
				id := session(a, fn+"-role", "/service-role/", fn)
				id.assumedBy, id.stsRegion, id.profile, id.weight, id.curve = "lambda.amazonaws.com", a.home, "lambda", 3.5, curveTraffic
				id.tz, id.regionW, id.errRate = country(o.country).utcOffset, []regionWeight{{a.home, 1}}, 0.015
				for _, p := range regions[a.home].ec2 {
					id.blocks = append(id.blocks, netip.MustParsePrefix(p))
				}
				id.uas = agents(pick(r, []string{boto3Agents[1], nodeAgents[0]}))
				add(id)
			}
			// An observability vendor assumes a read-only role from its
			// own account.
			v := session(a, "ObservabilityVendorRole", "/", "vendor-poller-"+randString(r, 8, hexDigits))
			v.external, v.profile, v.weight, v.curve, v.regionW = vendorAccount, "vendor", 1.2, curveFlat, allRegions(a)
			v.ips = []string{b.ec2Addr(regionIndex("us-east-1")), b.ec2Addr(regionIndex("us-east-1"))}
			v.uas, v.errRate = agents(goAgents[0]), 0.03
			add(v)
		}
		if a == o.security {
			fn := "org-security-scan"
			scanner = session(a, fn+"-role", "/service-role/", fn)
			scanner.assumedBy, scanner.stsRegion, scanner.profile, scanner.weight, scanner.curve = "lambda.amazonaws.com", a.home, "audit", 0.5, curveFlat
			scanner.regionW, scanner.uas = []regionWeight{{a.home, 1}}, agents(boto3Agents[1])
			for _, p := range regions[a.home].ec2 {
				scanner.blocks = append(scanner.blocks, netip.MustParsePrefix(p))
			}
			add(scanner)
		}
	}
	// Chains into every other account, created after the first pass so
	// that their parents exist: pipeline -> deployer -> TerraformApply,
	// admin -> OrganizationAccountAccessRole, scanner -> SecurityAudit.
	for _, a := range o.accounts {
		if ciHop != nil && a != ciHop.acct && a.idx >= 3 {
			id := session(a, "TerraformApply", "/ci/", "terraform")
			id.parent, id.profile, id.weight, id.curve, id.tz = ciHop, "terraform", 2, curveCI, ciHop.tz
			id.regionW, id.ips, id.uas, id.errRate = allRegions(a), nil, ciHop.uas, 0.05
			add(id)
		}
		if adminSSO != nil && a != o.mgmt {
			id := session(a, "OrganizationAccountAccessRole", "/", adminSSO.person.login)
			id.parent, id.person, id.profile, id.weight, id.curve, id.tz = adminSSO, adminSSO.person, "admin", 0.3, curveWork, adminSSO.tz
			id.regionW, id.uas, id.console, id.errRate = mostlyHome(a), adminSSO.uas, adminSSO.console, 0.05
			add(id)
		}
		if scanner != nil && a != o.security {
			id := session(a, "SecurityAuditRole", "/security/", "security-scan")
			id.parent, id.profile, id.weight, id.curve = scanner, "audit", 1.5, curveFlat
			id.regionW, id.uas, id.errRate = allRegions(a), scanner.uas, 0.05
			add(id)
		}
	}
	// Fill in what every identity derives from the rest.
	for _, id := range o.idents {
		if id.tz == 0 && id.person != nil {
			id.tz = id.person.tz
		}
		switch id.kind {
		case kUser, kConsole:
			if id.root {
				id.arn = "arn:aws:iam::" + id.acct.id + ":root"
			} else {
				id.arn = "arn:aws:iam::" + id.acct.id + ":user/" + id.name
			}
		case kSession:
			id.arn = "arn:aws:sts::" + id.acct.id + ":assumed-role/" + id.roleName + "/" + id.name
			id.principalID = id.roleID + ":" + id.name
			if id.invokedBy != "" || id.assumedBy == "config.amazonaws.com" {
				id.ips = []string{id.invokedBy}
				id.uas = agents(id.invokedBy)
			}
		}
		if len(id.ips) == 0 && len(id.blocks) == 0 && id.parent != nil {
			// Chained sessions call from where their root caller is.
			root := id.parent
			for root.parent != nil {
				root = root.parent
			}
			id.ips, id.blocks = root.ips, root.blocks
		}
		if len(id.ips) == 0 && len(id.blocks) == 0 && id.kind != kService {
			return fmt.Errorf("identity %s has no source address", id.arn)
		}
	}
	return agentErr
}

// instancesFor returns n instance ids of app ENIs in the account's region
// (so CloudTrail sessions and flow records name the same instances),
// topped up with fresh ids.
func (b *orgBuilder) instancesFor(a *account, region, n int) []string {
	var ids []string
	for _, v := range a.vpcs[region] {
		for _, e := range v.enis {
			if e.role == eniApp && e.instance != "-" && len(ids) < n && !containsString(ids, e.instance) {
				ids = append(ids, e.instance)
			}
		}
	}
	for len(ids) < n {
		ids = append(ids, "i-0"+randString(&b.r, 16, hexDigits))
	}
	return ids
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// render pre-renders the identity's userIdentity JSON.
func (id *identity) render() {
	a := id.acct
	switch id.kind {
	case kService:
		id.staticUI = `{"type":"AWSService","invokedBy":"` + id.name + `"}`
	case kUser:
		id.staticUI = `{"type":"IAMUser","principalId":"` + id.principalID + `","arn":"` + id.arn + `","accountId":"` + a.id +
			`","accessKeyId":"` + id.accessKey + `","userName":"` + id.name + `"}`
		id.loginUI = id.staticUI
	case kConsole:
		typ, user := "IAMUser", `,"userName":"`+id.name+`"`
		if id.root {
			typ, user = "Root", ""
		}
		id.uiHead = `{"type":"` + typ + `","principalId":"` + id.principalID + `","arn":"` + id.arn + `","accountId":"` + a.id +
			`","accessKeyId":"`
		id.uiMid = `"` + user + `,"sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"`
		id.uiTail = `","mfaAuthenticated":"` + boolString(id.mfa) + `"}}}`
		id.loginUI = `{"type":"` + typ + `","principalId":"` + id.principalID + `","arn":"` + id.arn + `","accountId":"` + a.id +
			`","accessKeyId":""` + user + `}`
	case kSession:
		id.uiHead = `{"type":"AssumedRole","principalId":"` + id.principalID + `","arn":"` + id.arn + `","accountId":"` + a.id +
			`","accessKeyId":"`
		id.uiMid = `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"` + id.roleID + `","arn":"` + id.roleARN +
			`","accountId":"` + a.id + `","userName":"` + id.roleName + `"},"webIdFederationData":{},"attributes":{"creationDate":"`
		tail := `","mfaAuthenticated":"` + boolString(id.mfa) + `"}`
		if id.ec2 {
			tail += `,"ec2RoleDelivery":"2.0"`
		}
		tail += `}`
		if id.invokedBy != "" {
			tail += `,"invokedBy":"` + id.invokedBy + `"`
		}
		id.uiTail = tail + `}`
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// String names an identity in errors: its ARN, or its name.
func (id *identity) String() string {
	if id.arn != "" {
		return id.arn
	}
	return strings.TrimSpace(id.name)
}
