package orggen

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Attack scenarios, injected on top of the routine activity. Each runs in
// two steps: prepare picks the actor, place and time (and marks the actor
// active, so a session exists for it), emit plans the events once
// sessions exist. Every scenario draws from its own stream, so adding one
// does not move another.

// scenarioDef is one kind of attack.
type scenarioDef struct {
	name        string
	description string
	techniques  []string
	prepare     func(w *world, s *scenarioRun) error
	emit        func(w *world, s *scenarioRun) error
}

// scenarioRun is one injected instance of a scenario.
type scenarioRun struct {
	def   *scenarioDef
	r     rng
	truth ScenarioTruth
	actor *identity
	acct  *account
	// region is where the attack's regional calls land.
	region int
	at     int64 // when it starts
	span   int64 // how long it lasts, seconds
	v      *vpc
	target *eni
}

// errNoCandidate is returned by prepare when the organisation has nothing
// the scenario can act on.
var errNoCandidate = errors.New("the organisation has no identity or resource this scenario can use")

var scenarioDefs = []*scenarioDef{
	{
		name:        ScenarioBruteForce,
		description: "password spraying against console users from one address, ending in a sign-in without MFA",
		techniques:  []string{"T1110.001", "T1078.004"},
		prepare:     prepareBruteForce, emit: emitBruteForce,
	},
	{
		name:        ScenarioImpossibleTravel,
		description: "the same long-term access key used from two countries thousands of kilometres apart within minutes",
		techniques:  []string{"T1078.004", "T1552.001"},
		prepare:     prepareImpossibleTravel, emit: emitImpossibleTravel,
	},
	{
		name:        ScenarioAuditTampering,
		description: "a stolen administrator session weakens, stops and deletes the account's trail and its flow logs",
		techniques:  []string{"T1562.008", "T1070"},
		prepare:     prepareAuditTampering, emit: emitAuditTampering,
	},
	{
		name:        ScenarioPublicLogBucket,
		description: "the organisation trail's bucket loses its public access block and gains a public policy and ACL, then is read anonymously",
		techniques:  []string{"T1530", "T1562.008"},
		prepare:     preparePublicLogBucket, emit: emitPublicLogBucket,
	},
	{
		name:        ScenarioFirstSeen,
		description: "a workload identity reads secrets in bulk, a service and a region it has never used",
		techniques:  []string{"T1555.006", "T1535"},
		prepare:     prepareFirstSeen, emit: emitFirstSeen,
	},
	{
		name:        ScenarioPortScan,
		description: "one internet address probes about a thousand TCP ports of a public interface, almost all rejected",
		techniques:  []string{"T1046", "T1595.001"},
		prepare:     preparePortScan, emit: emitPortScan,
	},
}

func newScenarioRun(w *world, name string) (*scenarioRun, error) {
	for _, d := range scenarioDefs {
		if d.name == name {
			s := &scenarioRun{def: d, r: newRNG(seedOf(w.cfg.Seed, hashString("scenario"), hashString(name)))}
			s.truth = ScenarioTruth{Name: d.name, Description: d.description, Techniques: d.techniques, SourceIPs: []string{}}
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

// schedule picks when a scenario lasting span seconds starts: in the
// [lo, hi) fraction of the window (late, so there is a baseline before
// it), ending before the window does.
func (w *world) schedule(s *scenarioRun, lo, hi float64, span int64) {
	room := float64(max(w.end-w.start-span-1, 0))
	s.at = w.start + int64(room*(lo+(hi-lo)*s.r.float()))
	s.span = span
}

// activate marks the actor active for the whole of the scenario.
func (w *world) activate(s *scenarioRun) {
	for h := w.hourOf(s.at); h <= w.hourOf(s.at+s.span); h++ {
		w.forceActive(s.actor, h)
	}
}

// event plans one scenario event and records it in the ground truth.
func (w *world) event(s *scenarioRun, sp *spec) {
	sp.eventID = string(appendUUID(nil, &s.r))
	s.truth.EventIDs = append(s.truth.EventIDs, sp.eventID)
	s.note(sp.at)
	w.addFixed(sp)
}

// note widens the scenario's time range to include t.
func (s *scenarioRun) note(t int64) {
	tt := time.Unix(t, 0).UTC()
	if s.truth.Start.IsZero() || tt.Before(s.truth.Start) {
		s.truth.Start = tt
	}
	if tt.After(s.truth.End) {
		s.truth.End = tt
	}
}

// source records an address the attack comes from.
func (s *scenarioRun) source(ip, country string) {
	if !containsString(s.truth.SourceIPs, ip) {
		s.truth.SourceIPs = append(s.truth.SourceIPs, ip)
		s.truth.SourceCountries = append(s.truth.SourceCountries, country)
	}
}

// externalAddr draws an address of a block of kind, in country when given.
func externalAddr(r *rng, kind netKind, country string) (string, string) {
	var cands []netBlock
	for _, nb := range netBlocks {
		p := netip.MustParsePrefix(nb.cidr)
		if nb.kind == kind && p.Addr().Is4() && (country == "" || nb.country == country) {
			cands = append(cands, nb)
		}
	}
	nb := pick(r, cands)
	return randAddr(r, netip.MustParsePrefix(nb.cidr)).String(), nb.country
}

// countryOf returns the country of a public address from the block table.
func countryOf(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	for _, nb := range netBlocks {
		if netip.MustParsePrefix(nb.cidr).Contains(a) {
			return nb.country
		}
	}
	return ""
}

// pickIdentity returns a random identity that ok accepts.
func (w *world) pickIdentity(r *rng, ok func(*identity) bool) *identity {
	var cands []*identity
	for _, id := range w.org.idents {
		if ok(id) {
			cands = append(cands, id)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return pick(r, cands)
}

// apis looks up the catalogue entries a scenario calls.
func (w *world) apis(keys ...string) ([]*api, error) {
	out := make([]*api, len(keys))
	for i, k := range keys {
		a, err := w.cat.get(k)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// regionFor returns where a call to a lands: us-east-1 for global APIs.
func regionFor(a *api, region int) int {
	if a.global {
		return regionIndex("us-east-1")
	}
	return region
}

func prepareBruteForce(w *world, s *scenarioRun) error {
	s.actor = w.pickIdentity(&s.r, func(id *identity) bool { return id.kind == kConsole && !id.root && !id.mfa })
	if s.actor == nil {
		s.actor = w.pickIdentity(&s.r, func(id *identity) bool { return id.kind == kConsole && !id.root })
	}
	if s.actor == nil {
		return errNoCandidate
	}
	s.acct, s.region = s.actor.acct, regionIndex("us-east-1")
	w.schedule(s, 0.5, 0.9, 20*60)
	return nil
}

func emitBruteForce(w *world, s *scenarioRun) error {
	r, id := &s.r, s.actor
	ip, cc := externalAddr(r, netHosting, "")
	s.source(ip, cc)
	s.truth.AccountID, s.truth.Region, s.truth.Principal = s.acct.id, regions[s.region].name, id.arn
	s.truth.Target = id.arn
	ua := browserAgents[2]
	hidden := `{"type":"IAMUser","accountId":"` + s.acct.id + `","accessKeyId":"","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"}`
	as, err := w.apis("signin:ConsoleLogin#failure", "signin:ConsoleLogin#nomfa",
		"iam:GetAccountSummary", "iam:ListUsers", "s3:ListBuckets", "iam:ListAccessKeys")
	if err != nil {
		return err
	}
	fail, success := as[0], as[1]
	t := s.at
	for i := 0; i < 40; i++ {
		ui := id.loginUI
		if r.chance(0.3) { // a guessed user name that does not exist
			ui = hidden
		}
		w.event(s, &spec{at: t, acct: s.acct, region: s.region, ident: id, api: fail, ui: ui, ip: ip, ua: ua,
			errKind: errCustom, errMsg: "Failed authentication"})
		t += int64(5 + r.intn(20))
	}
	if id.mfa { // MFA stops the attack: only failures
		return nil
	}
	sess := &session{created: t, duration: 43200, key: keyID(r, "ASIA"), ip: ip, console: true}
	w.event(s, &spec{at: t, acct: s.acct, region: s.region, ident: id, api: success, ui: id.loginUI, ip: ip, ua: ua})
	for _, a := range as[2:] {
		t += int64(10 + r.intn(50))
		w.event(s, &spec{at: t, acct: s.acct, region: regionFor(a, s.acct.home), ident: id, sess: sess, api: a, ip: ip, ua: "console.amazonaws.com"})
	}
	return nil
}

func prepareImpossibleTravel(w *world, s *scenarioRun) error {
	s.actor = w.pickIdentity(&s.r, func(id *identity) bool { return id.kind == kUser && id.human() })
	if s.actor == nil {
		s.actor = w.pickIdentity(&s.r, func(id *identity) bool { return id.saml })
	}
	if s.actor == nil {
		return errNoCandidate
	}
	s.acct, s.region = s.actor.acct, s.actor.acct.home
	w.schedule(s, 0.5, 0.85, 15*60)
	w.activate(s)
	return nil
}

// farCountries are where stolen keys are used from in the scenario.
var farCountries = []string{"VN", "RU", "CN", "NG", "BR", "AU", "JP", "IN"}

// distanceKm is the great-circle distance between two countries' centres.
func distanceKm(a, b countryInfo) float64 {
	rad := math.Pi / 180
	dlat, dlon := (b.lat-a.lat)*rad, (b.lon-a.lon)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.lat*rad)*math.Cos(b.lat*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * 6371 * math.Asin(math.Sqrt(h))
}

func emitImpossibleTravel(w *world, s *scenarioRun) error {
	r, id := &s.r, s.actor
	home := pick(r, id.ips)
	if sess := w.sessionAt(id, s.at); sess != nil {
		home = sess.ip
	}
	homeCountry := countryOf(home)
	var far []string
	for _, c := range farCountries {
		if distanceKm(country(homeCountry), country(c)) > 7000 {
			far = append(far, c)
		}
	}
	if len(far) == 0 {
		far = farCountries
	}
	foreign, fc := externalAddr(r, netResidential, pick(r, far))
	s.source(home, homeCountry)
	s.source(foreign, fc)
	s.truth.AccountID, s.truth.Region, s.truth.Principal = s.acct.id, regions[s.region].name, id.arn
	usual, err := w.apis("sts:GetCallerIdentity", "logs:FilterLogEvents", "lambda:GetFunction20150331v2")
	if err != nil {
		return err
	}
	stolen, err := w.apis("sts:GetCallerIdentity", "iam:ListUsers", "iam:ListAccessKeys", "s3:ListBuckets", "ec2:DescribeInstances", "secretsmanager:ListSecrets")
	if err != nil {
		return err
	}
	t := s.at
	for _, a := range usual {
		w.event(s, &spec{at: t, acct: s.acct, region: regionFor(a, s.region), ident: id, sess: w.sessionAt(id, t), api: a, ip: home})
		t += int64(15 + r.intn(40))
	}
	t = s.at + int64(300+r.intn(240))
	attackerUA := pick(r, attackerAgents)
	for _, a := range stolen {
		sp := &spec{at: t, acct: s.acct, region: regionFor(a, s.region), ident: id, sess: w.sessionAt(id, t), api: a, ip: foreign}
		sp.ua = renderAgent(attackerUA, a)
		if a.name == "ListAccessKeys" {
			sp.errKind = errDeny
		}
		w.event(s, sp)
		t += int64(3 + r.intn(20))
	}
	return nil
}

// renderAgent fills a user agent's {{svc}} and {{cmd}} for one API.
func renderAgent(ua string, a *api) string {
	t, err := compileTemplate(ua)
	if err != nil {
		return ua
	}
	var b []byte
	for _, seg := range t {
		b = append(b, seg.lit...)
		switch seg.v {
		case vSvc:
			b = append(b, a.sdkID...)
		case vCmd:
			b = append(b, a.cliCmd...)
		}
	}
	return string(b)
}

// adminSession picks an administrator's Identity Center session, in
// account want when it has one.
func (w *world) adminSession(r *rng, want func(*account) bool) *identity {
	if id := w.pickIdentity(r, func(id *identity) bool { return id.saml && id.profile == "admin" && want(id.acct) }); id != nil {
		return id
	}
	return w.pickIdentity(r, func(id *identity) bool { return id.saml && id.profile == "admin" })
}

func prepareAuditTampering(w *world, s *scenarioRun) error {
	s.actor = w.adminSession(&s.r, func(a *account) bool { return a.idx >= 3 })
	if s.actor == nil {
		return errNoCandidate
	}
	s.acct, s.region = s.actor.acct, s.actor.acct.home
	w.schedule(s, 0.55, 0.9, 15*60)
	w.activate(s)
	return nil
}

func emitAuditTampering(w *world, s *scenarioRun) error {
	r, id := &s.r, s.actor
	ip, cc := externalAddr(r, netHosting, "")
	s.source(ip, cc)
	s.truth.AccountID, s.truth.Region, s.truth.Principal = s.acct.id, regions[s.region].name, id.arn
	s.truth.Target = s.acct.localTrail
	ua := pick(r, attackerAgents)
	as, err := w.apis("cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:PutEventSelectors",
		"cloudtrail:UpdateTrail", "cloudtrail:StopLogging", "ec2:DescribeFlowLogs", "ec2:DeleteFlowLogs", "cloudtrail:DeleteTrail")
	if err != nil {
		return err
	}
	t := s.at
	for _, a := range as {
		w.event(s, &spec{at: t, acct: s.acct, region: s.region, ident: id, sess: w.sessionAt(id, t), api: a, ip: ip, ua: renderAgent(ua, a)})
		t += int64(20 + r.intn(70))
	}
	return nil
}

func preparePublicLogBucket(w *world, s *scenarioRun) error {
	s.actor = w.adminSession(&s.r, func(a *account) bool { return a == w.org.logArchive })
	if s.actor == nil {
		return errNoCandidate
	}
	s.acct, s.region = w.org.logArchive, w.org.home
	w.schedule(s, 0.5, 0.85, 50*60)
	w.activate(s)
	return nil
}

func emitPublicLogBucket(w *world, s *scenarioRun) error {
	r, id := &s.r, s.actor
	s.truth.AccountID, s.truth.Region, s.truth.Principal = s.acct.id, regions[s.region].name, id.arn
	s.truth.Target = "arn:aws:s3:::" + w.cfg.TrailBucket
	as, err := w.apis("s3:GetBucketPolicy#trail", "s3:DeleteBucketPublicAccessBlock#trail", "s3:PutBucketPolicy#public",
		"s3:PutBucketAcl#public", "s3:GetObject#trail")
	if err != nil {
		return err
	}
	t := s.at
	for _, a := range as[:4] {
		sess := w.sessionAt(id, t)
		if sess != nil {
			s.source(sess.ip, countryOf(sess.ip))
		}
		w.event(s, &spec{at: t, acct: s.acct, region: s.region, ident: id, sess: sess, api: a})
		t += int64(30 + r.intn(60))
	}
	// Someone finds the bucket and reads it without credentials.
	anon := `{"type":"AWSAccount","principalId":"","accountId":"anonymous"}`
	get := as[4]
	t += int64(600 + r.intn(900))
	for i := 0; i < 2; i++ {
		ip, cc := externalAddr(r, netHosting, "")
		s.source(ip, cc)
		ua := []string{"curl/8.5.0", "python-requests/2.32.3"}[i]
		for k := 0; k < 3+r.intn(3); k++ {
			w.event(s, &spec{at: t, acct: s.acct, region: s.region, api: get, ui: anon, ip: ip, ua: ua})
			t += int64(2 + r.intn(30))
		}
	}
	return nil
}

func prepareFirstSeen(w *world, s *scenarioRun) error {
	s.actor = w.pickIdentity(&s.r, func(id *identity) bool { return id.profile == "app" })
	if s.actor == nil {
		s.actor = w.pickIdentity(&s.r, func(id *identity) bool { return id.profile == "terraform" || id.profile == "lambda" })
	}
	if s.actor == nil {
		return errNoCandidate
	}
	s.acct = s.actor.acct
	var unused []int
	for i := range regions {
		if !containsInt(s.acct.regions, i) {
			unused = append(unused, i)
		}
	}
	if len(unused) == 0 {
		return errNoCandidate
	}
	s.region = pick(&s.r, unused)
	w.schedule(s, 0.6, 0.9, 10*60)
	w.activate(s)
	return nil
}

func emitFirstSeen(w *world, s *scenarioRun) error {
	r, id := &s.r, s.actor
	s.truth.AccountID, s.truth.Region, s.truth.Principal = s.acct.id, regions[s.region].name, id.arn
	s.truth.Target = "secretsmanager:GetSecretValue in " + regions[s.region].name
	t := s.at
	as, err := w.apis("secretsmanager:ListSecrets", "secretsmanager:GetSecretValue")
	if err != nil {
		return err
	}
	list, get := as[0], as[1]
	for i := 0; i < 2; i++ {
		sess := w.sessionAt(id, t)
		if sess != nil {
			s.source(sess.ip, countryOf(sess.ip))
		}
		w.event(s, &spec{at: t, acct: s.acct, region: s.region, ident: id, sess: sess, api: list})
		t += int64(2 + r.intn(5))
	}
	for i := 0; i < 15+r.intn(16); i++ {
		sp := &spec{at: t, acct: s.acct, region: s.region, ident: id, sess: w.sessionAt(id, t), api: get}
		if r.chance(0.2) {
			sp.errKind = errDeny
		}
		w.event(s, sp)
		t += int64(3 + r.intn(8))
	}
	return nil
}

func preparePortScan(w *world, s *scenarioRun) error {
	var vpcs []*vpc
	var owners []*account
	for _, a := range w.org.accounts {
		for _, reg := range a.regions {
			for _, v := range a.vpcs[reg] {
				vpcs = append(vpcs, v)
				owners = append(owners, a)
			}
		}
	}
	if len(vpcs) == 0 {
		return errNoCandidate
	}
	i := s.r.intn(len(vpcs))
	s.v, s.acct, s.region = vpcs[i], owners[i], vpcs[i].region
	s.target = pick(&s.r, s.v.public)
	w.schedule(s, 0.5, 0.9, 4*60)
	return nil
}

// scanExtraPorts are the high ports a scan adds to the first 1024.
var scanExtraPorts = []int32{1433, 1521, 2049, 2375, 3000, 3306, 3389, 5000, 5432, 5601, 5900, 5985, 6379, 6443, 7001, 8000, 8080, 8081, 8443, 8888, 9000, 9090, 9200, 9300, 10250, 11211, 27017}

func emitPortScan(w *world, s *scenarioRun) error {
	r := &s.r
	ip, cc := externalAddr(r, netHosting, "")
	s.source(ip, cc)
	s.truth.AccountID, s.truth.Region = s.acct.id, regions[s.region].name
	s.truth.Target = s.target.id + " (" + s.target.ip + ")"
	ports := make([]int32, 0, 1024+len(scanExtraPorts))
	for p := int32(1); p <= 1024; p++ {
		ports = append(ports, p)
	}
	ports = append(ports, scanExtraPorts...)
	for i := len(ports) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		ports[i], ports[j] = ports[j], ports[i]
	}
	srcPort := int32(40000 + r.intn(20000))
	open := map[int32]bool{80: s.target.role == eniWeb, 443: s.target.role == eniWeb, 22: s.target.role == eniBastion}
	for i, p := range ports {
		t := s.at + int64(i)*s.span/int64(len(ports))
		rec := flowRec{eni: s.target, src: ip, dst: s.target.ip, srcPort: srcPort, dstPort: p, proto: 6,
			start: t, end: t + int64(1+r.intn(4)), packets: 1, bytes: 44, tcpFlags: 2, action: flowReject}
		if open[p] {
			rec.action, rec.packets, rec.bytes, rec.tcpFlags = flowAccept, 3, 132, 19
		}
		k := flowKey{s.v, w.slotOf(t)}
		w.flowInject[k] = append(w.flowInject[k], rec)
		w.flowScen[k] = s
		s.note(t)
	}
	return nil
}
