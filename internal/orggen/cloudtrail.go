package orggen

import "sort"

// CloudTrail record rendering: one event is appended to a reused buffer
// field by field, in the order CloudTrail writes them.

// errKind is the error an event failed with.
type errKind uint8

const (
	errNone     errKind = iota
	errDeny             // AccessDenied in the service's words
	errNotFound         // the API's not-found error
	errThrottle         // throttled
	errCustom           // errCode and errMsg as given
)

// spec is one event to render. Background events are drawn into a reused
// spec; planned ones (session set-up, scenarios) are allocated.
type spec struct {
	at     int64 // unix seconds
	acct   *account
	region int
	ident  *identity
	sess   *session
	api    *api
	// target and tsess are the identity and session an AssumeRole*
	// call creates.
	target *identity
	tsess  *session
	// ui, ip and ua override what ident and sess give.
	ui, ip, ua string
	errKind    errKind
	errCode    string
	errMsg     string
	eventID    string // preset for scenario events, drawn otherwise
	shared     string // sharedEventID
}

// callCtx resolves template variables for one event. Every variable is
// drawn at most once per event and kept in arena.
type callCtx struct {
	w     *world
	r     *rng
	s     *spec
	rr    *regionRes
	arena []byte
	off   [nVars]int32
	ln    [nVars]int32
	have  uint64
}

func (c *callCtx) reset(s *spec) {
	c.s, c.have, c.arena = s, 0, c.arena[:0]
	c.rr = &s.acct.res[s.region]
}

// tmpl appends template t.
func (c *callCtx) tmpl(b []byte, t template) []byte {
	for i := range t {
		b = append(b, t[i].lit...)
		if t[i].v != vNone {
			b = c.val(b, t[i].v)
		}
	}
	return b
}

// val appends variable v, drawing it on first use.
func (c *callCtx) val(b []byte, v tvar) []byte {
	if c.have&(1<<v) == 0 {
		start := len(c.arena)
		c.arena = c.produce(c.arena, v)
		c.off[v], c.ln[v] = int32(start), int32(len(c.arena)-start)
		c.have |= 1 << v
	}
	return append(b, c.arena[c.off[v]:c.off[v]+c.ln[v]]...)
}

// produce appends a fresh value of v.
func (c *callCtx) produce(b []byte, v tvar) []byte {
	s, r, rr, o := c.s, c.r, c.rr, c.w.org
	switch v {
	case vAcct:
		return append(b, s.acct.id...)
	case vRegion:
		return append(b, regions[s.region].name...)
	case vHomeRegion:
		return append(b, regions[o.home].name...)
	case vMgmt:
		return append(b, o.mgmt.id...)
	case vOrgID:
		return append(b, o.id...)
	case vTrailBucket:
		return append(b, c.w.cfg.TrailBucket...)
	case vTrailARN:
		return append(b, o.trailARN...)
	case vLocalTrail:
		return append(b, s.acct.localTrail...)
	case vBucket:
		return append(b, pick(r, s.acct.buckets)...)
	case vObjKey:
		b = append(b, pick(r, objectPrefixes)...)
		b = append(b, '/')
		b = appendDatePath(b, s.at)
		b = append(b, "/part-"...)
		b = appendRandom(b, r, 8, hexDigits)
		return append(b, pick(r, objectExts)...)
	case vTrailKey:
		acct := pick(r, o.accounts)
		region := regions[pick(r, acct.regions)].name
		b = c.w.appendLogKey(b, o.id+"/"+acct.id+"/CloudTrail/"+region, acct.id+"_CloudTrail_"+region, (s.at-3600)/300*300)
		b = appendAlnum(b, r, 16)
		return append(b, ".json.gz"...)
	case vKMSKey:
		return append(b, pick(r, rr.kmsKeys)...)
	case vInstance:
		return append(b, pick(r, rr.instances)...)
	case vVPC:
		return append(b, pick(r, rr.vpcs)...)
	case vSubnet:
		return append(b, pick(r, rr.subnets)...)
	case vSG:
		return append(b, pick(r, rr.sgs)...)
	case vAMI:
		return append(b, pick(r, rr.amis)...)
	case vVolume:
		return append(b, pick(r, rr.volumes)...)
	case vFlowLog:
		return append(b, pick(r, rr.flowLogs)...)
	case vFunction:
		return append(b, pick(r, rr.functions)...)
	case vTable:
		return append(b, pick(r, rr.tables)...)
	case vSecret:
		return append(b, pick(r, rr.secrets)...)
	case vParam:
		return append(b, pick(r, rr.params)...)
	case vLogGroup:
		return append(b, pick(r, rr.logGroups)...)
	case vCluster:
		return append(b, pick(r, rr.clusters)...)
	case vDB:
		return append(b, pick(r, rr.dbs)...)
	case vRepo:
		return append(b, pick(r, rr.repos)...)
	case vStack:
		return append(b, pick(r, rr.stacks)...)
	case vUser:
		if len(s.acct.users) == 0 {
			return append(b, "admin"...)
		}
		return append(b, pick(r, s.acct.users)...)
	case vRoleName:
		if len(s.acct.roleNames) == 0 {
			return append(b, "admin-role"...)
		}
		return append(b, pick(r, s.acct.roleNames)...)
	case vUUID, vUUID2:
		return appendUUID(b, r)
	case vHex8:
		return appendRandom(b, r, 8, hexDigits)
	case vHex17:
		return appendRandom(b, r, 16, hexDigits)
	case vHex32:
		return appendRandom(b, r, 32, hexDigits)
	case vXID2:
		b = appendRandom(b, r, 75, base64Chars)
		return append(b, '=')
	case vB64:
		b = appendRandom(b, r, 43, base64Chars)
		return append(b, '=')
	case vNum:
		n := int64(200 + r.intn(20000))
		if r.chance(0.2) {
			n *= int64(1 + r.intn(500))
		}
		return appendInt(b, n)
	case vSmall:
		return appendInt(b, int64(1+r.intn(50)))
	case vTime:
		return appendISOTime(b, s.at)
	case vMillis:
		return appendInt(b, s.at*1000+int64(r.intn(1000)))
	case vMillisAgo:
		return appendInt(b, (s.at-3600)*1000)
	case vDate:
		return appendDatePath(b, s.at)
	case vCallerARN:
		if s.ident != nil {
			return append(b, s.ident.arn...)
		}
	case vCallerID:
		if s.ident != nil {
			return append(b, s.ident.principalID...)
		}
	case vCallerName:
		switch {
		case s.ident == nil:
		case s.ident.root:
			return append(b, "root-account-mfa-device"...)
		default:
			return append(b, s.ident.name...)
		}
	case vTargetRoleARN:
		return append(b, s.target.roleARN...)
	case vTargetRoleID:
		return append(b, s.target.roleID...)
	case vTargetSession:
		return append(b, s.target.name...)
	case vTargetKey:
		if s.tsess == nil { // a new long-term key (CreateAccessKey)
			b = append(b, "AKIA"...)
			return appendRandom(b, r, 16, keyIDChars)
		}
		return append(b, s.tsess.key...)
	case vTargetToken:
		b = append(b, "IQoJb3JpZ2luX2VjE"...)
		return appendRandom(b, r, 300, base64Chars)
	case vTargetExpiry:
		if s.tsess == nil {
			return appendSTSTime(b, s.at)
		}
		return appendSTSTime(b, s.tsess.created+s.tsess.duration)
	case vTargetAssumed:
		return append(b, s.target.arn...)
	case vTargetAcct:
		return append(b, s.target.acct.id...)
	case vTargetDuration:
		return appendInt(b, s.tsess.duration)
	case vSAMLProvider:
		return append(b, s.acct.samlARN...)
	case vSAMLIssuer:
		return append(b, s.acct.samlIssuer...)
	case vSvc:
		return append(b, s.api.sdkID...)
	case vCmd:
		return append(b, s.api.cliCmd...)
	}
	return b
}

// ctWriter renders CloudTrail delivery files. One per worker goroutine.
type ctWriter struct {
	w   *world
	r   rng
	c   callCtx
	bg  spec
	cum []float64
	idx []int
	// oldest and newest event time of the last file, for digests.
	oldest, newest int64
}

func newCTWriter(w *world) *ctWriter {
	cw := &ctWriter{w: w}
	cw.c.w, cw.c.r = w, &cw.r
	return cw
}

// file appends the JSON body of f to b.
func (cw *ctWriter) file(b []byte, f *ctFile) []byte {
	w := cw.w
	cw.r = newRNG(f.seed)
	r := &cw.r
	H := w.nHours
	h := w.hourOf(w.start + int64(f.slot)*w.slotSec)
	slotStart := w.start + int64(f.slot)*w.slotSec
	// Cumulative weights of the behaviours active in this hour.
	cw.cum, cw.idx = cw.cum[:0], cw.idx[:0]
	var acc float64
	bs := w.beh[f.acct.idx*len(regions)+f.region]
	if f.n > 0 {
		for i := range bs {
			if v := w.iw[bs[i].ident*H+h]; v > 0 {
				acc += bs[i].frac * v
				cw.cum = append(cw.cum, acc)
				cw.idx = append(cw.idx, i)
			}
		}
	}
	cw.oldest, cw.newest = 1<<62, -1<<62
	b = append(b, `{"Records":[`...)
	total := f.n + len(f.fixed)
	fixedLeft, bgLeft := len(f.fixed), f.n
	if len(cw.cum) == 0 {
		bgLeft = 0
	}
	for k := 0; k < total; k++ {
		var s *spec
		// Interleave planned events uniformly among background ones.
		if fixedLeft > 0 && (bgLeft == 0 || r.intn(fixedLeft+bgLeft) < fixedLeft) {
			s = f.fixed[len(f.fixed)-fixedLeft]
			fixedLeft--
		} else if bgLeft > 0 {
			bgLeft--
			s = cw.background(f, bs, slotStart)
		} else {
			continue
		}
		if b[len(b)-1] != '[' {
			b = append(b, ',')
		}
		b = cw.render(b, s)
		cw.oldest, cw.newest = min(cw.oldest, s.at), max(cw.newest, s.at)
	}
	return append(b, "]}"...)
}

// background draws one routine event of the file's account and region.
func (cw *ctWriter) background(f *ctFile, bs []behaviour, slotStart int64) *spec {
	w, r := cw.w, &cw.r
	x := r.float() * cw.cum[len(cw.cum)-1]
	i := sort.SearchFloat64s(cw.cum, x)
	if i >= len(cw.cum) {
		i = len(cw.cum) - 1
	}
	b := &bs[cw.idx[i]]
	id := w.org.idents[b.ident]
	at := slotStart + int64(r.intn(int(w.slotSec)))
	if r.chance(0.004) { // a straggler delivered well after its time
		late := at - int64(300+r.intn(1500))
		if late >= w.start && (!id.hasSessions() || w.sessionAt(id, late) != nil) {
			at = late
		}
	}
	s := &cw.bg
	*s = spec{at: at, acct: f.acct, region: f.region, ident: id, api: b.api}
	if id.hasSessions() {
		s.sess = w.sessionAt(id, at)
	}
	if r.chance(id.errRate) {
		switch x := r.intn(20); {
		case x < 13:
			s.errKind = errDeny
		case x < 18 && b.api.nfCode != "":
			s.errKind = errNotFound
		case x < 18:
			s.errKind = errDeny
		default:
			s.errKind = errThrottle
		}
	}
	return s
}

// render appends one CloudTrail record.
func (cw *ctWriter) render(b []byte, s *spec) []byte {
	c, r, a, id := &cw.c, &cw.r, s.api, s.ident
	c.reset(s)
	b = append(b, `{"eventVersion":"`...)
	b = append(b, a.version...)
	b = append(b, `","userIdentity":`...)
	switch {
	case s.ui != "":
		b = append(b, s.ui...)
	case s.sess != nil:
		b = append(b, id.uiHead...)
		b = append(b, s.sess.key...)
		b = append(b, id.uiMid...)
		b = appendISOTime(b, s.sess.created)
		b = append(b, id.uiTail...)
	default:
		b = append(b, id.staticUI...)
	}
	b = append(b, `,"eventTime":"`...)
	b = appendISOTime(b, s.at)
	b = append(b, `","eventSource":"`...)
	b = append(b, a.source...)
	b = append(b, `","eventName":"`...)
	b = append(b, a.name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, regions[s.region].name...)
	b = append(b, `","sourceIPAddress":"`...)
	viaEndpoint := id != nil && id.vpce && a.viaEndpoint
	service := id != nil && (id.kind == kService || id.invokedBy != "") && s.ip == ""
	switch {
	case s.ip != "":
		b = append(b, s.ip...)
	case viaEndpoint:
		b = append(b, c.rr.privNet...)
		b = append(b, '.')
		b = appendInt(b, int64(128+r.intn(64)))
		b = append(b, '.')
		b = appendInt(b, int64(10+r.intn(40)))
	case id.kind == kService:
		b = append(b, id.name...)
	case s.sess != nil:
		b = append(b, s.sess.ip...)
	default:
		b = append(b, pick(r, id.ips)...)
	}
	b = append(b, `","userAgent":"`...)
	switch {
	case s.ua != "":
		b = append(b, s.ua...)
	case id.kind == kService:
		b = append(b, id.name...)
	case s.sess != nil && s.sess.console:
		b = c.tmpl(b, cw.w.consoleUAs[s.sess.ua])
	case s.sess != nil:
		b = c.tmpl(b, id.uas[s.sess.ua])
	default:
		b = c.tmpl(b, pick(r, id.uas))
	}
	b = append(b, '"')
	failed := s.errKind != errNone
	switch s.errKind {
	case errDeny:
		b = append(b, `,"errorCode":"`...)
		b = append(b, a.denyCode...)
		b = append(b, `","errorMessage":"`...)
		switch {
		case a.denyMessage != "":
			b = append(b, a.denyMessage...)
		default:
			if a.denyCode == "Client.UnauthorizedOperation" {
				b = append(b, "You are not authorized to perform this operation. "...)
			}
			b = append(b, "User: "...)
			b = append(b, id.arn...)
			b = append(b, " is not authorized to perform: "...)
			b = append(b, a.action...)
			b = append(b, " because no identity-based policy allows the "...)
			b = append(b, a.action...)
			b = append(b, " action"...)
		}
		b = append(b, '"')
	case errNotFound:
		b = append(b, `,"errorCode":"`...)
		b = append(b, a.nfCode...)
		b = append(b, `","errorMessage":"`...)
		b = c.tmpl(b, a.nfMsg)
		b = append(b, '"')
	case errThrottle:
		if a.source == "ec2.amazonaws.com" {
			b = append(b, `,"errorCode":"Client.RequestLimitExceeded","errorMessage":"Request limit exceeded."`...)
		} else {
			b = append(b, `,"errorCode":"ThrottlingException","errorMessage":"Rate exceeded"`...)
		}
	case errCustom:
		if s.errCode != "" {
			b = append(b, `,"errorCode":`...)
			b = appendJSONString(b, s.errCode)
		}
		b = append(b, `,"errorMessage":`...)
		b = appendJSONString(b, s.errMsg)
	}
	b = append(b, `,"requestParameters":`...)
	if a.req == nil {
		b = append(b, "null"...)
	} else {
		b = c.tmpl(b, a.req)
	}
	b = append(b, `,"responseElements":`...)
	// A failed call has no response, except a failed console sign-in,
	// which says so in its response.
	if a.resp == nil || failed && a.eventType != "AwsConsoleSignIn" {
		b = append(b, "null"...)
	} else {
		b = c.tmpl(b, a.resp)
	}
	if a.add != nil {
		b = append(b, `,"additionalEventData":`...)
		b = c.tmpl(b, a.add)
	}
	if a.eventType != "AwsConsoleSignIn" {
		b = append(b, `,"requestID":"`...)
		if a.s3 {
			b = appendUpperAlnum(b, r, 16)
		} else {
			b = appendUUID(b, r)
		}
		b = append(b, '"')
	}
	b = append(b, `,"eventID":"`...)
	if s.eventID != "" {
		b = append(b, s.eventID...)
	} else {
		b = appendUUID(b, r)
	}
	b = append(b, `","readOnly":`...)
	b = append(b, boolString(a.ro)...)
	if a.res != nil {
		b = append(b, `,"resources":`...)
		b = c.tmpl(b, a.res)
	}
	b = append(b, `,"eventType":"`...)
	b = append(b, a.eventType...)
	b = append(b, `","managementEvent":`...)
	b = append(b, boolString(!a.data)...)
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, s.acct.id...)
	b = append(b, '"')
	if s.shared != "" {
		b = append(b, `,"sharedEventID":"`...)
		b = append(b, s.shared...)
		b = append(b, '"')
	}
	if viaEndpoint {
		b = append(b, `,"vpcEndpointId":"`...)
		b = append(b, c.rr.vpce...)
		b = append(b, '"')
	}
	if a.data {
		b = append(b, `,"eventCategory":"Data"`...)
	} else {
		b = append(b, `,"eventCategory":"Management"`...)
	}
	if !service && a.eventType != "AwsConsoleSignIn" {
		b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
		b = c.tmpl(b, a.host)
		b = append(b, `"}`...)
	}
	if s.sess != nil && s.sess.console && a.eventType != "AwsConsoleSignIn" {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	return append(b, '}')
}
