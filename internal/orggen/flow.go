package orggen

import (
	"fmt"
	"net/netip"
	"strings"
)

// VPC flow logs: the network model behind them (VPCs, ENIs, who talks to
// whom), the two log formats the generator writes, and the record
// renderer.

// eniRole is what an ENI is for; it decides the traffic it sees.
type eniRole uint8

const (
	eniWeb     eniRole = iota // public-facing instance or load balancer node
	eniApp                    // private application instance
	eniDB                     // database
	eniNAT                    // NAT gateway
	eniBastion                // SSH jump host
	eniLambda                 // Lambda hyperplane ENI
)

// eni is one network interface.
type eni struct {
	id       string
	role     eniRole
	ip       string // private IPv4
	ip6      string // IPv6, or ""
	subnet   string
	instance string // "-" when not an instance
	az       string // AZ id
	public   bool   // reachable from the internet (a public IPv4)
}

// vpc is one VPC with its flow log.
type vpc struct {
	id      string
	flowLog string
	net     string // first two octets of its 10.x.0.0/16
	region  int
	format  *flowFormat
	// parquetWhenMixed says whether the flow log delivers Parquet when
	// Config.FlowFormat is FlowFormatMixed.
	parquetWhenMixed bool
	enis             []*eni
	// byRole lists the ENIs of each role; public those with a public
	// address.
	byRole [eniLambda + 1][]*eni
	public []*eni
	// resolver is the VPC's DNS resolver; health the private addresses
	// of its load balancer health checkers.
	resolver string
	health   []string
	// weight is the VPC's share of its account's flow records.
	weight float64
}

// flowField is one field of the flow log format.
type flowField uint8

const (
	fVersion flowField = iota
	fAccountID
	fInterfaceID
	fSrcAddr
	fDstAddr
	fSrcPort
	fDstPort
	fProtocol
	fPackets
	fBytes
	fStart
	fEnd
	fAction
	fLogStatus
	fVpcID
	fSubnetID
	fInstanceID
	fTCPFlags
	fType
	fPktSrcAddr
	fPktDstAddr
	fRegion
	fAZID
	fSublocationType
	fSublocationID
	fPktSrcAWSService
	fPktDstAWSService
	fFlowDirection
	fTrafficPath
	nFlowFields
)

var flowFieldNames = [nFlowFields]string{
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets",
	"bytes", "start", "end", "action", "log-status", "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type",
	"pkt-srcaddr", "pkt-dstaddr", "region", "az-id", "sublocation-type", "sublocation-id", "pkt-src-aws-service",
	"pkt-dst-aws-service", "flow-direction", "traffic-path",
}

// flowFormat is a flow log's record format: its fields in order, the
// header line that names them, and the schema of its Parquet files.
type flowFormat struct {
	name    string
	version int
	fields  []flowField
	header  string
	parquet flowParquetSchema
}

func newFlowFormat(name string, version int, spec string) (*flowFormat, error) {
	f := &flowFormat{name: name, version: version, header: spec}
	for _, n := range strings.Fields(spec) {
		found := false
		for i, fn := range flowFieldNames {
			if fn == n {
				f.fields = append(f.fields, flowField(i))
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("flow format %s: unknown field %q", name, n)
		}
	}
	f.parquet = newFlowParquetSchema(f.fields)
	return f, nil
}

// newFlowFormats builds the two formats the organisation's flow logs use,
// once per organisation: VPCs share them, and with them the Parquet
// schema each format's files are written with.
func newFlowFormats() ([2]*flowFormat, error) {
	v2, err := newFlowFormat("v2", 2, flowFormatV2Spec)
	if err != nil {
		return [2]*flowFormat{}, err
	}
	v5, err := newFlowFormat("v5-custom", 5, flowFormatV5Spec)
	return [2]*flowFormat{v2, v5}, err
}

// The two formats. v2 is the default format of a flow log created without
// a custom format; the v5 one is a custom order, as many organisations
// use, with every field up to version 5 and the version field first.
const (
	flowFormatV2Spec = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	flowFormatV5Spec = "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"
)

// flowAction and flowStatus are the action and log-status of a record.
const (
	flowAccept uint8 = iota
	flowReject
)

const (
	flowOK uint8 = iota
	flowNoData
	flowSkipData
)

// flowRec is one flow record before it is formatted.
type flowRec struct {
	eni              *eni
	src, dst         string
	pktSrc, pktDst   string // "" means the same as src/dst
	srcPort, dstPort int32
	proto            uint8
	packets, bytes   int64
	start, end       int64
	action, status   uint8
	tcpFlags         int32
	v6               bool
	srcSvc, dstSvc   string
	egress           bool
	path             int8 // traffic-path, 0 for none
}

// flowValueKind says what one field of a record holds.
type flowValueKind uint8

const (
	flowNull flowValueKind = iota // absent: "-" in text, null in Parquet
	flowNum                       // an integer
	flowStr                       // a string
)

// flowValue is one field of a record, in the one form both the text and
// the Parquet writer render from, so a record reads the same in either.
type flowValue struct {
	kind flowValueKind
	num  int64
	str  string
}

func flowNumber(n int64, absent bool) flowValue {
	if absent {
		return flowValue{}
	}
	return flowValue{kind: flowNum, num: n}
}

// flowString is s, or absent when s is empty (or "-", what an ENI that
// belongs to no instance has as its instance).
func flowString(s string, absent bool) flowValue {
	if absent || s == "" || s == "-" {
		return flowValue{}
	}
	return flowValue{kind: flowStr, str: s}
}

// flowFieldValue returns field of r in format f for account a, region,
// vpc v. A record without data (NODATA, SKIPDATA) has only the fields
// that name the interface and the window.
func flowFieldValue(field flowField, f *flowFormat, a *account, region string, v *vpc, r *flowRec) flowValue {
	nodata := r.status != flowOK
	switch field {
	case fVersion:
		return flowNumber(int64(f.version), false)
	case fAccountID:
		return flowString(a.id, false)
	case fInterfaceID:
		return flowString(r.eni.id, false)
	case fSrcAddr:
		return flowString(r.src, nodata)
	case fDstAddr:
		return flowString(r.dst, nodata)
	case fSrcPort:
		return flowNumber(int64(r.srcPort), nodata)
	case fDstPort:
		return flowNumber(int64(r.dstPort), nodata)
	case fProtocol:
		return flowNumber(int64(r.proto), nodata)
	case fPackets:
		return flowNumber(r.packets, nodata)
	case fBytes:
		return flowNumber(r.bytes, nodata)
	case fStart:
		return flowNumber(r.start, false)
	case fEnd:
		return flowNumber(r.end, false)
	case fAction:
		return flowString([...]string{flowAccept: "ACCEPT", flowReject: "REJECT"}[r.action], nodata)
	case fLogStatus:
		return flowString([...]string{"OK", "NODATA", "SKIPDATA"}[r.status], false)
	case fVpcID:
		return flowString(v.id, false)
	case fSubnetID:
		return flowString(r.eni.subnet, false)
	case fInstanceID:
		return flowString(r.eni.instance, false)
	case fTCPFlags:
		return flowNumber(int64(r.tcpFlags), nodata)
	case fType:
		if r.v6 {
			return flowString("IPv6", nodata)
		}
		return flowString("IPv4", nodata)
	case fPktSrcAddr:
		return flowString(orDefault(r.pktSrc, r.src), nodata)
	case fPktDstAddr:
		return flowString(orDefault(r.pktDst, r.dst), nodata)
	case fRegion:
		return flowString(region, false)
	case fAZID:
		return flowString(r.eni.az, false)
	case fPktSrcAWSService:
		return flowString(r.srcSvc, nodata)
	case fPktDstAWSService:
		return flowString(r.dstSvc, nodata)
	case fFlowDirection:
		if r.egress {
			return flowString("egress", nodata)
		}
		return flowString("ingress", nodata)
	case fTrafficPath:
		return flowNumber(int64(r.path), r.path == 0 || nodata)
	}
	// sublocation-type and sublocation-id: no Local Zones or Outposts.
	return flowValue{}
}

// appendFlowRec formats r in format f for account a, region, vpc v, as
// one text line.
func appendFlowRec(b []byte, f *flowFormat, a *account, region string, v *vpc, r *flowRec) []byte {
	for i, field := range f.fields {
		if i > 0 {
			b = append(b, ' ')
		}
		switch val := flowFieldValue(field, f, a, region, v, r); val.kind {
		case flowNum:
			b = appendInt(b, val.num)
		case flowStr:
			b = append(b, val.str...)
		default:
			b = append(b, '-')
		}
	}
	return append(b, '\n')
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// network builds an account's VPCs in its enabled regions and the NAT
// address its workloads call out from.
func (b *orgBuilder) network(a *account) {
	r := &b.r
	a.vpcs = make([][]*vpc, len(regions))
	a.natIP = make([]string, len(regions))
	for _, reg := range a.regions {
		a.natIP[reg] = b.ec2Addr(reg)
		n := 1
		if r.chance(0.3) {
			n = 2
		}
		for k := 0; k < n; k++ {
			a.vpcs[reg] = append(a.vpcs[reg], b.newVPC(reg))
		}
	}
}

func (b *orgBuilder) newVPC(reg int) *vpc {
	r := &b.r
	num := b.vpcNum
	b.vpcNum++
	v := &vpc{
		id:      "vpc-0" + randString(r, 16, hexDigits),
		flowLog: "fl-0" + randString(r, 16, hexDigits),
		net:     fmt.Sprintf("10.%d", 16+num%200),
		region:  reg,
		// Alternate the formats across the organisation so both always
		// exist, and deliver Parquet from every other pair of flow logs
		// shifted by one (text v2, Parquet v5, Parquet v2, text v5, ...):
		// any two flow logs then include a text and a Parquet one, and
		// either format comes in both kinds from four flow logs on.
		format:           b.flowFormats[num%2],
		parquetWhenMixed: num%4 == 1 || num%4 == 2,
		weight:           0.5 + r.float(),
	}
	v.resolver = v.net + ".0.2"
	v.health = []string{v.net + ".0.10", v.net + ".0.11", v.net + ".0.12"}
	var v6 netip.Prefix
	if r.chance(0.5) {
		base := netip.MustParsePrefix(regions[reg].ipv6)
		a6 := randAddr(r, base).As16()
		for i := 7; i < 16; i++ { // a /56
			a6[i] = 0
		}
		v6 = netip.PrefixFrom(netip.AddrFrom16(a6), 56)
	}
	nAZ := 2 + r.intn(2)
	type subnetInfo struct{ id, az string }
	var public, private []subnetInfo
	for z := 1; z <= nAZ; z++ {
		az := fmt.Sprintf("%s-az%d", regions[reg].azPrefix, z)
		public = append(public, subnetInfo{"subnet-0" + randString(r, 16, hexDigits), az})
		private = append(private, subnetInfo{"subnet-0" + randString(r, 16, hexDigits), az})
	}
	host := 10
	addENI := func(role eniRole, pub bool, instance bool) {
		sn := pick(r, private)
		third := 128 + r.intn(64)
		if pub {
			sn = pick(r, public)
			third = r.intn(16)
		}
		e := &eni{
			id: "eni-0" + randString(r, 16, hexDigits), role: role,
			ip:     fmt.Sprintf("%s.%d.%d", v.net, third, host),
			subnet: sn.id, az: sn.az, instance: "-", public: pub,
		}
		host++
		if instance {
			e.instance = "i-0" + randString(r, 16, hexDigits)
		}
		if v6.IsValid() && (role == eniWeb || role == eniApp) && r.chance(0.7) {
			e.ip6 = randAddr(r, v6).String()
		}
		v.enis = append(v.enis, e)
		v.byRole[role] = append(v.byRole[role], e)
		if pub {
			v.public = append(v.public, e)
		}
	}
	for i := 0; i < 2+r.intn(3); i++ {
		addENI(eniWeb, true, r.chance(0.6))
	}
	for i := 0; i < 3+r.intn(4); i++ {
		addENI(eniApp, false, true)
	}
	for i := 0; i < 1+r.intn(2); i++ {
		addENI(eniDB, false, false)
	}
	addENI(eniNAT, true, false)
	if r.chance(0.5) {
		addENI(eniBastion, true, true)
	}
	for i := 0; i < r.intn(3); i++ {
		addENI(eniLambda, false, false)
	}
	return v
}

// flowPools are the external addresses flow records draw from, built once
// per organisation so the hot path does not format addresses.
type flowPools struct {
	clients, clients6, scanners, content, content6, office []string
	awsByRegion                                            [][]string
}

func (b *orgBuilder) flowPools() *flowPools {
	p := &flowPools{awsByRegion: make([][]string, len(regions))}
	draw := func(kind netKind, n int, v6 bool) []string {
		var cands []netBlockP
		for _, nb := range b.blocks[kind] {
			if nb.prefix.Addr().Is6() == v6 {
				cands = append(cands, nb)
			}
		}
		out := make([]string, n)
		for i := range out {
			out[i] = randAddr(&b.r, pick(&b.r, cands).prefix).String()
		}
		return out
	}
	p.clients = draw(netResidential, 2048, false)
	p.clients6 = draw(netResidential, 256, true)
	p.scanners = append(draw(netScanner, 64, false), draw(netHosting, 192, false)...)
	p.content = draw(netContent, 256, false)
	p.content6 = draw(netContent, 64, true)
	p.office = draw(netCorporate, 16, false)
	for reg := range regions {
		for i := 0; i < 32; i++ {
			p.awsByRegion[reg] = append(p.awsByRegion[reg], b.ec2Addr(reg))
		}
	}
	return p
}

// scanPorts are the ports internet background noise probes.
var scanPorts = []int32{22, 23, 80, 443, 445, 3389, 8080, 8443, 5900, 1433, 3306, 5432, 6379, 9200, 2375, 27017, 11211, 25, 53, 161}

// flowGen draws background flow records for one file.
type flowGen struct {
	r     *rng
	v     *vpc
	pools *flowPools
	slot  int64 // slot start, unix seconds
	span  int64 // slot length in seconds
}

// ephemeral draws a client-side port.
func (g *flowGen) ephemeral() int32 { return int32(32768 + g.r.intn(28232)) }

// times sets a record's start and end inside the slot.
func (g *flowGen) times(rec *flowRec) {
	rec.start = g.slot + int64(g.r.intn(int(max(g.span-60, 1))))
	rec.end = rec.start + 1 + int64(g.r.intn(59))
}

// accepted sets packets, bytes and flags of an accepted TCP conversation.
func (g *flowGen) accepted(rec *flowRec, big bool) {
	p := int64(2 + g.r.intn(20))
	if big || g.r.chance(0.2) {
		p += int64(g.r.intn(2000))
	}
	rec.packets, rec.bytes = p, p*int64(60+g.r.intn(1340))
	rec.tcpFlags = pick(g.r, []int32{3, 19, 19, 19, 27})
}

// rejected sets packets, bytes and flags of a rejected probe.
func (g *flowGen) rejected(rec *flowRec) {
	rec.action = flowReject
	rec.packets = int64(1 + g.r.intn(3))
	rec.bytes = rec.packets * int64(40+g.r.intn(20))
	rec.tcpFlags = 2
}

// next draws one background record into rec.
func (g *flowGen) next(rec *flowRec) {
	r, v, p := g.r, g.v, g.pools
	*rec = flowRec{proto: 6}
	g.times(rec)
	roll := r.intn(1000)
	switch {
	case roll < 15: // an interface that saw nothing
		rec.eni, rec.status = pick(r, v.enis), flowNoData
		if r.chance(0.1) {
			rec.status = flowSkipData
		}
		return
	case roll < 300 && len(v.byRole[eniWeb]) > 0: // customers to the web tier
		rec.eni = pick(r, v.byRole[eniWeb])
		rec.src, rec.dst = pick(r, p.clients), rec.eni.ip
		if rec.eni.ip6 != "" && r.chance(0.3) {
			rec.src, rec.dst, rec.v6 = pick(r, p.clients6), rec.eni.ip6, true
		}
		rec.srcPort, rec.dstPort = g.ephemeral(), pick(r, []int32{443, 443, 443, 80})
		g.accepted(rec, false)
		if r.chance(0.5) { // the response, as the interface logs it
			rec.src, rec.dst = rec.dst, rec.src
			rec.srcPort, rec.dstPort = rec.dstPort, rec.srcPort
			rec.egress, rec.path = true, 8
			rec.tcpFlags = 19
		}
	case roll < 420: // internet background noise
		rec.eni = pick(r, v.public)
		rec.src, rec.dst = pick(r, p.scanners), rec.eni.ip
		rec.srcPort, rec.dstPort = g.ephemeral(), pick(r, scanPorts)
		if rec.eni.role == eniWeb && (rec.dstPort == 443 || rec.dstPort == 80) {
			g.accepted(rec, false)
		} else {
			g.rejected(rec)
		}
	case roll < 570 && len(v.byRole[eniDB]) > 0: // application to database
		db := pick(r, v.byRole[eniDB])
		app := pick(r, v.byRole[eniApp])
		port := pick(r, []int32{5432, 3306})
		rec.src, rec.dst, rec.srcPort, rec.dstPort = app.ip, db.ip, g.ephemeral(), port
		rec.eni, rec.egress, rec.path = app, true, 1
		if r.chance(0.5) {
			rec.eni, rec.egress, rec.path = db, false, 0
		}
		g.accepted(rec, true)
	case roll < 720: // application out to the internet through NAT
		app := pick(r, v.byRole[eniApp])
		rec.eni, rec.src, rec.srcPort, rec.dstPort = app, app.ip, g.ephemeral(), 443
		rec.dst, rec.egress, rec.path = pick(r, p.content), true, 1
		if app.ip6 != "" && r.chance(0.2) {
			rec.src, rec.dst, rec.v6, rec.path = app.ip6, pick(r, p.content6), true, 8
		}
		g.accepted(rec, true)
	case roll < 820: // application to AWS services (S3, DynamoDB, STS)
		app := pick(r, v.byRole[eniApp])
		rec.eni, rec.src, rec.srcPort, rec.dstPort = app, app.ip, g.ephemeral(), 443
		rec.dst, rec.egress, rec.path = pick(r, p.awsByRegion[v.region]), true, 7
		rec.dstSvc = pick(r, []string{"S3", "S3", "DYNAMODB", "AMAZON", "EC2"})
		g.accepted(rec, true)
	case roll < 900: // DNS to the VPC resolver
		app := pick(r, v.enis)
		rec.eni, rec.src, rec.dst = app, app.ip, v.resolver
		rec.srcPort, rec.dstPort, rec.proto = g.ephemeral(), 53, 17
		rec.egress, rec.path = true, 1
		rec.packets = int64(1 + r.intn(4))
		rec.bytes = rec.packets * int64(60+r.intn(120))
	case roll < 930 && len(v.byRole[eniBastion]) > 0: // SSH from the office
		e := pick(r, v.byRole[eniBastion])
		rec.eni, rec.src, rec.dst, rec.srcPort, rec.dstPort = e, pick(r, p.office), e.ip, g.ephemeral(), 22
		g.accepted(rec, true)
	case roll < 990: // service to service inside the VPC
		a, b := pick(r, v.byRole[eniApp]), pick(r, v.byRole[eniApp])
		rec.eni, rec.src, rec.dst, rec.srcPort, rec.dstPort = b, a.ip, b.ip, g.ephemeral(), pick(r, []int32{8080, 8443, 9090, 6379})
		g.accepted(rec, false)
	default: // ICMP health checks
		e := pick(r, v.enis)
		rec.eni, rec.src, rec.dst, rec.proto = e, pick(r, p.office), e.ip, 1
		rec.packets, rec.bytes = 1, 84
		if !e.public {
			rec.src = pick(r, v.health)
		}
		if r.chance(0.3) {
			rec.action = flowReject
		}
	}
	if rec.eni == nil { // a role this VPC lacks: fall back to the web tier
		rec.eni = pick(r, v.enis)
		rec.src, rec.dst, rec.srcPort, rec.dstPort = pick(r, p.clients), rec.eni.ip, g.ephemeral(), 443
		g.rejected(rec)
	}
}
