package orggen

import (
	"fmt"
	"math"
	"sort"
)

// The plan decides, before any file is written, everything that crosses
// file boundaries: which identity is active in which hour, every session
// and the event that creates it, the scenario events, and how many
// background events and flow records each delivery file holds. Each file
// is then generated on its own from a seed derived from its identity, so
// the output does not depend on how many workers run or in which order.

// world is a planned run.
type world struct {
	cfg        Config
	cat        *catalog
	org        *org
	start, end int64 // unix seconds
	slotSec    int64
	nSlots     int
	nHours     int
	// beh lists the behaviours of each (account, region), indexed
	// account*len(regions)+region.
	beh [][]behaviour
	// iw is each identity's weight in each hour, indexed
	// identity*nHours+hour; 0 means inactive that hour.
	iw []float64
	// sess holds each session identity's session per hour (key "" when
	// none); nil for identities without sessions.
	sess       [][]session
	consoleUAs []template
	fixed      []*spec
	scenarios  []*scenarioRun
	// flowInject holds scenario flow records by flow file.
	flowInject map[flowKey][]flowRec
	flowScen   map[flowKey]*scenarioRun
	ctFiles    []*ctFile
	flowFiles  []*flowFile
}

// behaviour is one (identity, API) pair an identity calls in a region,
// with its share of the identity's calls.
type behaviour struct {
	ident int
	api   *api
	frac  float64
}

// session is one temporary session of an identity.
type session struct {
	created  int64
	duration int64
	key      string
	ip       string
	ua       int // index into the identity's agents, or consoleUAs
	console  bool
}

// ctFile is one CloudTrail delivery object.
type ctFile struct {
	acct    *account
	region  int
	slot    int
	part    int
	deliver int64
	n       int // background events
	fixed   []*spec
	seed    uint64
}

// flowKey names the flow file of a VPC and a slot.
type flowKey struct {
	v    *vpc
	slot int
}

// flowFile is one VPC flow log delivery object.
type flowFile struct {
	acct     *account
	v        *vpc
	slot     int
	deliver  int64
	n        int
	injected []flowRec
	scen     *scenarioRun
	seed     uint64
	// parquet delivers the file as Parquet rather than gzipped text.
	parquet bool
}

// Hourly activity curves by local hour.
var (
	workCurve    = [24]float64{0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.2, 0.6, 1, 1, 1, 0.7, 0.9, 1, 1, 0.9, 0.6, 0.3, 0.2, 0.15, 0.1, 0.05, 0.02}
	trafficCurve = [24]float64{0.45, 0.4, 0.35, 0.35, 0.38, 0.45, 0.55, 0.7, 0.85, 0.9, 0.95, 1, 1, 1, 0.95, 0.95, 0.95, 1, 1, 0.95, 0.85, 0.75, 0.6, 0.5}
)

// curveAt is an activity curve's value at unix time t for someone whose
// clock is tz minutes from UTC.
func curveAt(kind curveKind, tz int, t int64) float64 {
	c := civilOf(t + int64(tz)*60)
	weekend := c.weekday == 0 || c.weekday == 6
	switch kind {
	case curveWork:
		if weekend {
			return workCurve[c.hour] * 0.08
		}
		return workCurve[c.hour]
	case curveTraffic:
		return trafficCurve[c.hour]
	case curveCI:
		v := 0.1
		if !weekend {
			v += 0.9 * workCurve[c.hour]
		}
		if c.hour == 2 { // nightly runs
			v += 0.6
		}
		return v
	case curveRare:
		if weekend {
			return 0
		}
		return 0.3 * workCurve[c.hour]
	default:
		return 1
	}
}

// newWorld plans a run.
func newWorld(cfg Config, cat *catalog) (*world, error) {
	o, err := buildOrg(cfg.Seed, cfg.Accounts, cat)
	if err != nil {
		return nil, fmt.Errorf("build organisation: %w", err)
	}
	w := &world{cfg: cfg, cat: cat, org: o, flowInject: map[flowKey][]flowRec{}, flowScen: map[flowKey]*scenarioRun{}}
	w.start = cfg.Start.Unix()
	w.end = w.start + int64(cfg.Duration.Seconds())
	w.slotSec = int64(cfg.DeliveryInterval.Seconds())
	w.nSlots = int((w.end - w.start + w.slotSec - 1) / w.slotSec)
	w.nHours = int((w.end - w.start + 3599) / 3600)
	for _, s := range consoleAgents {
		t, err := compileTemplate(s)
		if err != nil {
			return nil, fmt.Errorf("console user agent: %w", err)
		}
		w.consoleUAs = append(w.consoleUAs, t)
	}
	if err := w.behaviours(); err != nil {
		return nil, err
	}
	names, err := cfg.scenarios()
	if err != nil {
		return nil, err
	}
	if cfg.Events > 0 {
		w.activity()
	}
	for _, name := range names {
		s, err := newScenarioRun(w, name)
		if err != nil {
			return nil, err
		}
		if err := s.def.prepare(w, s); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", name, err)
		}
		w.scenarios = append(w.scenarios, s)
	}
	w.propagateChains()
	if err := w.sessions(); err != nil {
		return nil, err
	}
	for _, s := range w.scenarios {
		if err := s.def.emit(w, s); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.def.name, err)
		}
	}
	w.planCloudTrail()
	w.planFlows()
	return w, nil
}

// hourOf returns the hour index of unix time t, clamped to the window.
func (w *world) hourOf(t int64) int {
	return min(max(int((t-w.start)/3600), 0), w.nHours-1)
}

// slotOf returns the delivery slot of unix time t, clamped to the window.
func (w *world) slotOf(t int64) int {
	return min(max(int((t-w.start)/w.slotSec), 0), w.nSlots-1)
}

// behaviours spreads every identity's profile over its regions.
func (w *world) behaviours() error {
	use1 := regionIndex("us-east-1")
	w.beh = make([][]behaviour, len(w.org.accounts)*len(regions))
	for _, id := range w.org.idents {
		prof := profiles[id.profile]
		var total, rtotal float64
		for _, aw := range prof {
			total += aw.w
		}
		for _, rw := range id.regionW {
			rtotal += rw.w
		}
		for _, aw := range prof {
			a, err := w.cat.get(aw.key)
			if err != nil {
				return fmt.Errorf("profile %s: %w", id.profile, err)
			}
			f := aw.w / total
			if a.global {
				k := id.acct.idx*len(regions) + use1
				w.beh[k] = append(w.beh[k], behaviour{id.idx, a, f})
				continue
			}
			for _, rw := range id.regionW {
				k := id.acct.idx*len(regions) + rw.region
				w.beh[k] = append(w.beh[k], behaviour{id.idx, a, f * rw.w / rtotal})
			}
		}
	}
	return nil
}

// activity decides which identity is active in which hour: each is
// active with the probability that a Poisson draw with its expected
// event count is not zero, so a small run has few, busy identities
// rather than every identity with a fraction of an event.
//
// Events is exact as long as it is larger than the planned events
// (session set-up and scenarios); a run smaller than that writes the
// planned events only.
func (w *world) activity() {
	H := w.nHours
	w.iw = make([]float64, len(w.org.idents)*H)
	var total float64
	for _, id := range w.org.idents {
		for h := 0; h < H; h++ {
			v := id.weight * curveAt(id.curve, id.tz, w.start+int64(h)*3600+1800)
			w.iw[id.idx*H+h] = v
			total += v
		}
	}
	// Every active hour of a session identity costs a set-up event
	// (AssumeRole, ConsoleLogin). Scale the activity down until those
	// stay under a third of the events, which only bites on small runs.
	n := float64(w.cfg.Events)
	setups := func(k float64) float64 {
		var s float64
		for _, id := range w.org.idents {
			if id.hasSessions() {
				for h := 0; h < H; h++ {
					s += 1 - math.Exp(-k*n*w.iw[id.idx*H+h]/total)
				}
			}
		}
		return s
	}
	k := 1.0
	for i := 0; i < 30 && setups(k) > n/3; i++ {
		k *= 0.7
	}
	r := newRNG(seedOf(w.cfg.Seed, hashString("activity")))
	for i, v := range w.iw {
		lambda := k * n * v / total
		if r.float() >= 1-math.Exp(-lambda) {
			w.iw[i] = 0
		}
	}
}

// active reports whether identity id acts in hour h.
func (w *world) active(id *identity, h int) bool {
	return w.iw != nil && w.iw[id.idx*w.nHours+h] > 0
}

// forceActive makes identity id act in hour h (a scenario needs it),
// with a small weight when it was idle so that its own routine barely
// changes.
func (w *world) forceActive(id *identity, h int) {
	if w.iw == nil {
		w.iw = make([]float64, len(w.org.idents)*w.nHours)
	}
	if i := id.idx*w.nHours + h; w.iw[i] == 0 {
		w.iw[i] = id.weight * 1e-3
	}
}

// propagateChains makes the caller of every active chained session
// active too: someone has to assume the role.
func (w *world) propagateChains() {
	if w.iw == nil {
		return
	}
	ids := append([]*identity(nil), w.org.idents...)
	sort.SliceStable(ids, func(i, j int) bool { return ids[i].depth > ids[j].depth })
	for _, id := range ids {
		if id.parent == nil {
			continue
		}
		for h := 0; h < w.nHours; h++ {
			if w.active(id, h) && !w.active(id.parent, h) {
				w.iw[id.parent.idx*w.nHours+h] = id.parent.weight * 1e-6
			}
		}
	}
}

// sessions creates every session of every active session identity, and
// the AssumeRole, AssumeRoleWithSAML or ConsoleLogin event behind it.
func (w *world) sessions() error {
	o := w.org
	w.sess = make([][]session, len(o.idents))
	if w.iw == nil {
		return nil
	}
	ids := append([]*identity(nil), o.idents...)
	sort.SliceStable(ids, func(i, j int) bool { return ids[i].depth < ids[j].depth })
	as, err := w.apis("sts:AssumeRole", "sts:AssumeRoleWithSAML", "signin:ConsoleLogin", "signin:ConsoleLogin#nomfa",
		"signin:ConsoleLogin#failure")
	if err != nil {
		return err
	}
	assumeRole, assumeSAML, login, loginNoMFA, loginFail := as[0], as[1], as[2], as[3], as[4]
	use1 := regionIndex("us-east-1")
	for _, id := range ids {
		if !id.hasSessions() {
			continue
		}
		r := newRNG(seedOf(w.cfg.Seed, hashString("session"), uint64(id.idx)))
		row := make([]session, w.nHours)
		w.sess[id.idx] = row
		runStart := -1
		for h := 0; h < w.nHours; h++ {
			if !w.active(id, h) {
				runStart = -1
				continue
			}
			hourStart := w.start + int64(h)*3600
			if id.kind == kConsole && runStart >= 0 && h-runStart < 12 {
				row[h] = row[h-1] // the console session lasts the working day
				continue
			}
			runStart = h
			s := session{created: hourStart - int64(30+r.intn(270)), duration: 7200, key: keyID(&r, "ASIA")}
			if id.parent != nil && id.parent.hasSessions() {
				s.created = w.sess[id.parent.idx][h].created + int64(1+r.intn(4))
			}
			switch {
			case id.kind == kConsole:
				s.console, s.duration = true, 43200
			case id.saml || id.person != nil:
				s.console, s.duration = r.chance(0.5), 28800
			case id.ec2:
				s.duration = 21600
			}
			switch {
			case len(id.blocks) > 0:
				s.ip = randAddr(&r, pick(&r, id.blocks)).String()
			case len(id.ips) > 0:
				s.ip = pick(&r, id.ips)
			}
			if s.console {
				s.ua = r.intn(len(w.consoleUAs))
			} else {
				s.ua = r.intn(len(id.uas))
			}
			row[h] = s
			sp := &row[h]
			switch {
			case id.kind == kConsole:
				browser := browserAgents[0]
				if id.person != nil {
					browser = id.person.browser
				}
				api := login
				if !id.mfa {
					api = loginNoMFA
				}
				if r.chance(0.05) { // a mistyped password first
					w.addFixed(&spec{at: s.created - int64(20+r.intn(40)), acct: id.acct, region: use1, ident: id, api: loginFail,
						ui: id.loginUI, ip: s.ip, ua: browser, errKind: errCustom, errMsg: "Failed authentication"})
				}
				w.addFixed(&spec{at: s.created, acct: id.acct, region: use1, ident: id, api: api, ui: id.loginUI, ip: s.ip, ua: browser})
			case id.saml:
				w.addFixed(&spec{at: s.created, acct: id.acct, region: id.stsRegion, api: assumeSAML, target: id, tsess: sp,
					ui: samlUI(id), ip: s.ip, ua: id.person.browser})
			case id.parent != nil:
				caller := id.parent
				var cs *session
				if caller.hasSessions() {
					cs = &w.sess[caller.idx][h]
				}
				shared := ""
				if caller.acct != id.acct {
					shared = string(appendUUID(nil, &r))
					w.addFixed(&spec{at: s.created, acct: caller.acct, region: id.stsRegion, ident: caller, sess: cs,
						api: assumeRole, target: id, tsess: sp, shared: shared})
				}
				w.addFixed(&spec{at: s.created, acct: id.acct, region: id.stsRegion, ident: caller, sess: cs, api: assumeRole,
					target: id, tsess: sp, shared: shared})
			case id.external != "":
				w.addFixed(&spec{at: s.created, acct: id.acct, region: id.stsRegion, api: assumeRole, target: id, tsess: sp,
					ui: `{"type":"AWSAccount","principalId":"` + keyID(&r, "AROA") + `:poller","accountId":"` + id.external + `"}`,
					ip: s.ip, ua: renderAgent(goAgents[0], assumeRole)})
			default:
				svc := o.services[id.assumedBy]
				if svc == nil {
					return fmt.Errorf("identity %s: no service %q to assume it", id, id.assumedBy)
				}
				w.addFixed(&spec{at: s.created, acct: id.acct, region: id.stsRegion, ident: svc, api: assumeRole, target: id, tsess: sp})
			}
		}
	}
	return nil
}

// samlUI is the userIdentity of an Identity Center federation.
func samlUI(id *identity) string {
	return `{"type":"SAMLUser","principalId":"` + id.acct.samlIssuer + `:` + id.person.email + `","userName":"` + id.person.email +
		`","identityProvider":"` + id.acct.samlIssuer + `"}`
}

// addFixed plans an event that must appear in the output.
func (w *world) addFixed(s *spec) { w.fixed = append(w.fixed, s) }

// sessionAt returns identity id's session at unix time t, or nil.
func (w *world) sessionAt(id *identity, t int64) *session {
	row := w.sess[id.idx]
	if row == nil {
		return nil
	}
	s := &row[w.hourOf(t)]
	if s.key == "" {
		return nil
	}
	return s
}

// allocate splits total into integer counts proportional to weights, by
// rounding the running sum, so the counts add up exactly.
func allocate(weights []float64, total int) []int {
	var sum float64
	for _, v := range weights {
		sum += v
	}
	out := make([]int, len(weights))
	if sum == 0 || total == 0 {
		return out
	}
	var acc float64
	prev := 0
	for i, v := range weights {
		acc += v
		cur := int(math.Round(acc / sum * float64(total)))
		out[i] = cur - prev
		prev = cur
	}
	return out
}

// planCloudTrail sizes every CloudTrail delivery file.
func (w *world) planCloudTrail() {
	if w.cfg.Events == 0 {
		return
	}
	nAcct, R := len(w.org.accounts), len(regions)
	// Each (account, region, hour) weighs what its active behaviours do.
	hw := make([]float64, nAcct*R*w.nHours)
	for k, bs := range w.beh {
		for h := 0; h < w.nHours; h++ {
			var s float64
			for _, b := range bs {
				s += b.frac * w.iw[b.ident*w.nHours+h]
			}
			hw[k*w.nHours+h] = s
		}
	}
	type key struct{ acct, region, slot int }
	fixedBy := map[key][]*spec{}
	for _, s := range w.fixed {
		k := key{s.acct.idx, s.region, w.slotOf(s.at)}
		fixedBy[k] = append(fixedBy[k], s)
	}
	r := newRNG(seedOf(w.cfg.Seed, hashString("ct-plan")))
	weights := make([]float64, 0, w.nSlots*nAcct*R)
	keys := make([]key, 0, cap(weights))
	for slot := 0; slot < w.nSlots; slot++ {
		h := w.hourOf(w.start + int64(slot)*w.slotSec)
		for a := 0; a < nAcct; a++ {
			for reg := 0; reg < R; reg++ {
				v := hw[(a*R+reg)*w.nHours+h]
				if v == 0 && fixedBy[key{a, reg, slot}] == nil {
					continue
				}
				weights = append(weights, v*(0.75+0.5*r.float()))
				keys = append(keys, key{a, reg, slot})
			}
		}
	}
	counts := allocate(weights, max(0, w.cfg.Events-len(w.fixed)))
	for i, k := range keys {
		fixed := fixedBy[k]
		total := counts[i] + len(fixed)
		if total == 0 {
			continue
		}
		deliver := w.start + int64(k.slot+1)*w.slotSec
		if r.chance(0.1) { // a late delivery
			deliver += w.slotSec
		}
		parts := (total + w.cfg.MaxEventsPerObject - 1) / w.cfg.MaxEventsPerObject
		for p := 0; p < parts; p++ {
			f := &ctFile{acct: w.org.accounts[k.acct], region: k.region, slot: k.slot, part: p, deliver: deliver,
				n:    counts[i]/parts + btoi(p < counts[i]%parts),
				seed: seedOf(w.cfg.Seed, hashString("ct"), uint64(k.acct), uint64(k.region), uint64(k.slot), uint64(p))}
			for j := p; j < len(fixed); j += parts {
				f.fixed = append(f.fixed, fixed[j])
			}
			w.ctFiles = append(w.ctFiles, f)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// planFlows sizes every flow log delivery file: each VPC's share of the
// records follows the organisation's traffic curve.
func (w *world) planFlows() {
	if w.cfg.FlowRecords == 0 {
		return
	}
	tz := country(w.org.country).utcOffset
	r := newRNG(seedOf(w.cfg.Seed, hashString("flow-plan")))
	var weights []float64
	var keys []flowKey
	var accts []*account
	for slot := 0; slot < w.nSlots; slot++ {
		c := curveAt(curveTraffic, tz, w.start+int64(slot)*w.slotSec)
		for _, a := range w.org.accounts {
			for _, reg := range a.regions {
				for _, v := range a.vpcs[reg] {
					weights = append(weights, v.weight*c*(0.8+0.4*r.float()))
					keys = append(keys, flowKey{v, slot})
					accts = append(accts, a)
				}
			}
		}
	}
	counts := allocate(weights, w.cfg.FlowRecords)
	for i, k := range keys {
		inj := w.flowInject[k]
		if counts[i]+len(inj) == 0 {
			continue
		}
		a := accts[i]
		w.flowFiles = append(w.flowFiles, &flowFile{
			acct: a, v: k.v, slot: k.slot, deliver: w.start + int64(k.slot+1)*w.slotSec, n: counts[i],
			injected: inj, scen: w.flowScen[k],
			seed:    seedOf(w.cfg.Seed, hashString("flow"), hashString(k.v.id), uint64(k.slot)),
			parquet: w.cfg.FlowFormat == FlowFormatParquet || w.cfg.FlowFormat == FlowFormatMixed && k.v.parquetWhenMixed,
		})
	}
}
