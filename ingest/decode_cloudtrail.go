package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// CloudTrailDecoder decodes CloudTrail objects as streams. It accepts every
// shape CloudTrail records come in: the S3 delivery object
// {"Records":[...]}, a bare JSON array of records, NDJSON (one record per
// line, as CloudWatch Logs and CloudTrail Lake exports give), and
// EventBridge envelopes ("AWS API Call via CloudTrail"), alone, in an
// array or one per line.
//
// A decoder is not safe for concurrent use; each worker goroutine keeps its
// own and reuses it across objects, so its buffers and string table are
// allocated once.
type CloudTrailDecoder struct {
	lim    Limits
	vr     *valueReader
	p      jsonParser
	env    jsonParser // a second parser for EventBridge envelopes
	ev     schemas.Event
	intern *interner
	emit   Emitter
	obj    ObjectInfo
	index  int64

	// framedOnly turns recordInPlace off, so tests can check that both
	// paths decode alike.
	framedOnly bool
}

// NewCloudTrailDecoder returns a decoder that enforces lim.
func NewCloudTrailDecoder(lim Limits) *CloudTrailDecoder {
	return &CloudTrailDecoder{
		lim:    lim,
		vr:     newValueReader(nil, lim.MaxRecordBytes, lim.MaxDepth),
		p:      jsonParser{maxDepth: lim.MaxDepth},
		env:    jsonParser{maxDepth: lim.MaxDepth},
		intern: newInterner(8192),
	}
}

var (
	keyRecords    = []byte(`"Records"`)
	keyDetailType = []byte(`"detail-type"`)
)

// recordsPrefix is how every CloudTrail delivery object starts.
var recordsPrefix = []byte(`{"Records"`)

// Decode reads one object's decompressed content from r and calls emit for
// every record, in order. It returns nil when the object was read to its
// end (bad records having gone to emit.BadRecord), a *DecodeError when the
// object itself is bad (not JSON, empty, cut off), or the error of r or
// emit. Records emitted before an object-level error stay emitted.
func (d *CloudTrailDecoder) Decode(r io.Reader, obj ObjectInfo, emit Emitter) error {
	d.vr.reset(r)
	d.emit, d.obj, d.index = emit, obj, 0
	defer func() { d.emit = nil }()

	c, ok := d.vr.peek()
	if !ok {
		if d.vr.rerr != nil {
			return d.vr.rerr
		}
		return decodeErr(ReasonEmptyObject, "object has no content")
	}
	switch c {
	case '[':
		d.vr.pos++
		return d.array(true, false)
	case '{':
		if d.vr.hasPrefix(recordsPrefix) {
			return d.delivery()
		}
		return d.sequence()
	default:
		return decodeErr(ReasonNotJSON, "object starts with %q, not a JSON object or array", c)
	}
}

// delivery streams a {"Records":[...]} object: the array's elements are
// framed one at a time, never the whole object.
func (d *CloudTrailDecoder) delivery() error {
	d.vr.pos += len(recordsPrefix) - 1 // at the key's closing quote
	d.vr.pos++
	if !d.vr.consume(':') {
		return d.structural("want ':' after \"Records\"")
	}
	if !d.vr.consume('[') {
		return d.structural("\"Records\" is not an array")
	}
	if err := d.array(false, true); err != nil {
		return err
	}
	// Members after Records (none in real deliveries) are skipped.
	for {
		if d.vr.consume('}') {
			return nil
		}
		if !d.vr.consume(',') {
			return d.structural("want ',' or '}' after the records")
		}
		if _, err := d.vr.next(); err != nil { // key
			return d.frameErr(err)
		}
		if !d.vr.consume(':') {
			return d.structural("want ':'")
		}
		if _, err := d.vr.next(); err != nil && ReasonOf(err) == "" {
			return d.frameErr(err)
		}
	}
}

// array reads records from an array whose '[' has been consumed, up to and
// including its ']'. top says the array is the whole object, so nothing
// may follow it; records says its elements are plain records (a delivery
// object's Records), not possibly envelopes.
func (d *CloudTrailDecoder) array(top, records bool) error {
	first := true
	for {
		c, ok := d.vr.peek()
		if !ok {
			return d.frameErr(io.ErrUnexpectedEOF)
		}
		if c == ']' {
			d.vr.pos++
			break
		}
		if !first {
			if c != ',' {
				return d.structural("want ',' or ']' between records")
			}
			d.vr.pos++
		}
		first = false
		if err := d.nextValue(records); err != nil {
			return err
		}
	}
	if top {
		if _, ok := d.vr.peek(); ok {
			return d.structural("data after the records array")
		}
	}
	return nil
}

// sequence reads values one after another: one object (perhaps pretty
// printed), concatenated objects, or NDJSON. JSON cannot hold a raw newline
// inside a value, so when the first value sits on one line the object is
// NDJSON and the rest is framed by lines: a broken line then costs only
// itself, where bracket framing would lose everything after it.
func (d *CloudTrailDecoder) sequence() error {
	v, err := d.vr.next()
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) && (de.Reason == ReasonRecordTooLarge || de.Reason == ReasonTooDeep) {
			if err := d.bad(de, v); err != nil {
				return err
			}
			return d.lines()
		}
		return d.frameErr(err)
	}
	oneLine := bytes.IndexByte(v, '\n') < 0
	if err := d.value(v); err != nil {
		return err
	}
	if oneLine {
		return d.lines()
	}
	for {
		if _, ok := d.vr.peek(); !ok {
			if d.vr.rerr != nil {
				return d.vr.rerr
			}
			return nil
		}
		if err := d.nextValue(false); err != nil {
			return err
		}
	}
}

// lines reads the rest of an NDJSON object, one record per line.
func (d *CloudTrailDecoder) lines() error {
	for {
		line, err := d.vr.nextLine()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			var de *DecodeError
			if errors.As(err, &de) && de.Reason == ReasonRecordTooLarge {
				if err := d.bad(de, nil); err != nil {
					return err
				}
				continue
			}
			return d.frameErr(err)
		}
		if err := d.value(line); err != nil {
			return err
		}
	}
}

// nextValue frames one value and hands it to record (plain records) or
// value. A value that cannot even be framed (too large, too deep) is a bad
// record; a cut-off stream is an object error.
func (d *CloudTrailDecoder) nextValue(plain bool) error {
	if plain {
		if done, err := d.recordInPlace(); done {
			return err
		}
	}
	v, err := d.vr.next()
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) && (de.Reason == ReasonRecordTooLarge || de.Reason == ReasonTooDeep) {
			return d.bad(de, v)
		}
		return d.frameErr(err)
	}
	if plain {
		return d.record(v)
	}
	return d.value(v)
}

// recordInPlace parses the record at the reader's position straight out
// of the window, when the whole record is already there and is a good
// CloudTrail record: the common case, which then skips the framing pass.
// done is false, with nothing consumed, for anything else (a record cut
// by the window's end, a bad or oversized record): the framing path then
// reads it and reports what is wrong with it, as if this had not run.
func (d *CloudTrailDecoder) recordInPlace() (done bool, err error) {
	v := d.vr
	if d.framedOnly {
		return false, nil
	}
	if c, ok := v.peek(); !ok || c != '{' {
		return false, nil
	}
	window := v.buf[v.pos:v.end]
	if len(window) > v.maxValue {
		window = window[:v.maxValue]
	}
	ev := d.resetEvent()
	n, perr := d.parseRecord(window, ev, false)
	if perr != nil {
		return false, nil
	}
	raw := window[:n]
	v.pos += n
	idx := d.index
	d.index++
	return true, d.finish(idx, raw, ev)
}

// value handles one framed top-level value: a record, an EventBridge
// envelope, or a (small) delivery object read as a sequence element.
func (d *CloudTrailDecoder) value(v []byte) error {
	if len(v) == 0 || v[0] != '{' {
		return d.record(v) // reported as not an object
	}
	// Most values are plain records: only parse the value's members when
	// it may be a delivery object or an EventBridge envelope.
	if !bytes.Contains(v, keyRecords) && !bytes.Contains(v, keyDetailType) {
		return d.record(v)
	}
	// Look for a nested Records array or an EventBridge envelope.
	e := &d.env
	e.reset(v)
	var records, detail []byte
	isEnvelope := false
	first := true
	if e.object() {
		for {
			key, ok := e.member(&first)
			if !ok {
				break
			}
			start := e.i
			switch string(key) {
			case "Records":
				e.skip()
				records = v[start:e.i]
			case "detail":
				e.skip()
				detail = v[start:e.i]
			case "detail-type":
				isEnvelope = true
				e.skip()
			default:
				e.skip()
			}
		}
		e.end()
	}
	if e.err != nil {
		return d.bad(&DecodeError{Reason: ReasonNotJSON, Err: e.err}, v)
	}
	switch {
	case records != nil:
		return d.nested(records)
	case isEnvelope && detail != nil:
		return d.record(trimSpace(detail))
	default:
		return d.record(v)
	}
}

// nested reads the records of a delivery object that arrived as one value.
func (d *CloudTrailDecoder) nested(arr []byte) error {
	sub := jsonParser{maxDepth: d.lim.MaxDepth}
	sub.reset(arr)
	if !sub.array() {
		return d.bad(&DecodeError{Reason: ReasonNotJSON, Err: errors.New(`"Records" is not an array`)}, arr)
	}
	first := true
	for sub.element(&first) {
		start := sub.i
		sub.skip()
		if sub.err != nil {
			break
		}
		if err := d.record(trimSpace(arr[start:sub.i])); err != nil {
			return err
		}
	}
	if sub.err != nil {
		return d.bad(&DecodeError{Reason: ReasonNotJSON, Err: sub.err}, arr)
	}
	return nil
}

// bad reports one bad record and moves on.
func (d *CloudTrailDecoder) bad(err *DecodeError, payload []byte) error {
	idx := d.index
	d.index++
	return d.emit.BadRecord(idx, err, payload)
}

// structural is an object-level syntax error: framing cannot go on. When
// the stream itself failed (corrupt gzip, a decompression limit, S3), that
// error is the real cause and is returned instead.
func (d *CloudTrailDecoder) structural(msg string) error {
	if d.vr.rerr != nil {
		return d.vr.rerr
	}
	return decodeErr(ReasonNotJSON, "%s (after %d records)", msg, d.index)
}

// frameErr turns a framing error into an object-level error: a stream cut
// off mid-value, or the underlying reader's error unchanged (gzip
// corruption and limits are already DecodeErrors; S3 errors are left to
// the caller to classify).
func (d *CloudTrailDecoder) frameErr(err error) error {
	if ReasonOf(err) != "" {
		return err
	}
	if d.vr.rerr != nil {
		return d.vr.rerr
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return decodeErr(ReasonNotJSON, "object ends mid-record (after %d records)", d.index)
	}
	return err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// record parses one CloudTrail record into the reused event and emits it.
func (d *CloudTrailDecoder) record(raw []byte) error {
	idx := d.index
	d.index++
	ev := d.resetEvent()
	if _, err := d.parseRecord(raw, ev, true); err != nil {
		return d.emit.BadRecord(idx, err, raw)
	}
	return d.finish(idx, raw, ev)
}

// resetEvent clears the reused event, keeping its resources' memory.
func (d *CloudTrailDecoder) resetEvent() *schemas.Event {
	ev := &d.ev
	resources := ev.Resources[:0]
	*ev = schemas.Event{Resources: resources}
	return ev
}

// finish completes a parsed record, the idx-th of the object, from the
// object's facts and emits it.
func (d *CloudTrailDecoder) finish(idx int64, raw []byte, ev *schemas.Event) error {
	ev.Source = schemas.SourceCloudTrail
	if ev.AccountID == "" {
		ev.AccountID = d.obj.AccountID
	}
	if ev.Region == "" {
		ev.Region = d.obj.Region
	}
	ev.Object = schemas.ObjectRef{Bucket: d.obj.Bucket, Key: d.obj.Key, Index: uint32(idx)}
	ev.IngestTime = d.obj.Now
	ev.Raw = raw
	if len(ev.Resources) == 0 {
		ev.Resources = nil
	}
	return d.emit.Event(ev)
}

// parseRecord fills ev from the record's hot fields, validating the whole
// record's syntax on the way, and returns the record's length. With whole,
// raw is exactly one record (white space may follow); without, the record
// is raw's prefix and anything may follow it.
func (d *CloudTrailDecoder) parseRecord(raw []byte, ev *schemas.Event, whole bool) (int, *DecodeError) {
	p := &d.p
	p.reset(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return 0, &DecodeError{Reason: ReasonNotJSON, Err: errors.New("record is not a JSON object")}
	}
	p.object()
	in := d.intern
	var recipient, eventTime []byte
	var idn identity
	first := true
	for {
		key, ok := p.member(&first)
		if !ok {
			break
		}
		switch string(key) {
		case "eventID":
			ev.ID = string(p.str())
		case "eventTime":
			eventTime = p.str()
			if t, ok := parseTime(eventTime); ok {
				ev.Time = t
			} else {
				eventTime = nil
			}
		case "eventVersion":
			ev.EventVersion = in.bytes(p.strOrScalar())
		case "eventSource":
			ev.EventSource = in.bytes(p.str())
		case "eventName":
			ev.EventName = in.bytes(p.str())
		case "eventType":
			ev.EventType = in.bytes(p.str())
		case "eventCategory":
			ev.EventCategory = in.bytes(p.str())
		case "awsRegion":
			ev.Region = in.bytes(p.str())
		case "sourceIPAddress":
			ev.SourceIP = in.bytes(p.str())
		case "userAgent":
			ev.UserAgent = in.bytes(p.str())
		case "errorCode":
			ev.ErrorCode = in.bytes(p.strOrScalar())
		case "errorMessage":
			ev.ErrorMessage = string(p.strOrScalar())
		case "requestID":
			ev.RequestID = string(p.strOrScalar())
		case "recipientAccountId":
			recipient = p.strOrScalar()
			ev.AccountID = in.bytes(recipient)
		case "readOnly":
			if v, set := p.boolean(); set {
				ev.ReadOnly = schemas.TristateOf(v)
			}
		case "userIdentity":
			d.parseIdentity(&idn)
		case "resources":
			if p.peek() == '[' {
				d.parseResources(ev)
			} else {
				p.skip()
			}
		default:
			p.skip()
		}
		if p.err != nil {
			break
		}
	}
	n := p.i
	if whole {
		p.end()
	}
	if p.err != nil {
		return 0, &DecodeError{Reason: ReasonNotJSON, Err: p.err}
	}
	if ev.ID == "" || eventTime == nil || ev.EventName == "" {
		return 0, &DecodeError{Reason: ReasonNotCloudTrail, Err: fmt.Errorf("record lacks %s", missing(ev, eventTime))}
	}
	// Without recipientAccountId, the caller's own account is the best
	// account the record names.
	if recipient == nil && len(idn.accountID) > 0 {
		ev.AccountID = in.bytes(idn.accountID)
	}
	idn.apply(ev, in)
	return n, nil
}

func missing(ev *schemas.Event, eventTime []byte) string {
	switch {
	case ev.ID == "":
		return "eventID"
	case eventTime == nil:
		return "a valid eventTime"
	default:
		return "eventName"
	}
}

// identity collects userIdentity's fields; byte slices point into the
// record and are turned into strings by apply.
type identity struct {
	typ, principalID, arn, accountID, accessKeyID, userName, invokedBy []byte
	issuerARN, issuerUserName                                          []byte
	mfa                                                                schemas.Tristate
}

// parseIdentity reads userIdentity. Its string values go through stable:
// str's result may live in the parser's scratch buffer when the value had
// escapes, and the next str would clobber it.
func (d *CloudTrailDecoder) parseIdentity(idn *identity) {
	p := &d.p
	p.eachMember(func(key []byte) {
		switch string(key) {
		case "type":
			idn.typ = stable(p)
		case "principalId":
			idn.principalID = stable(p)
		case "arn":
			idn.arn = stable(p)
		case "accountId":
			idn.accountID = stable(p)
		case "accessKeyId":
			idn.accessKeyID = stable(p)
		case "userName":
			idn.userName = stable(p)
		case "invokedBy":
			idn.invokedBy = stable(p)
		case "sessionContext":
			p.eachMember(func(key []byte) {
				switch string(key) {
				case "sessionIssuer":
					p.eachMember(func(key []byte) {
						switch string(key) {
						case "arn":
							idn.issuerARN = stable(p)
						case "userName":
							idn.issuerUserName = stable(p)
						default:
							p.skip()
						}
					})
				case "attributes":
					p.eachMember(func(key []byte) {
						if string(key) != "mfaAuthenticated" {
							p.skip()
						} else if v, set := p.boolean(); set {
							idn.mfa = schemas.TristateOf(v)
						}
					})
				default:
					p.skip()
				}
			})
		default:
			p.skip()
		}
	})
}

// stable reads a string whose bytes must survive later reads: a string
// with escapes is unescaped into a fresh slice instead of the scratch
// buffer.
func stable(p *jsonParser) []byte {
	s := p.strOrScalar()
	if len(p.scratch) > 0 && len(s) > 0 && &s[0] == &p.scratch[0] {
		return append([]byte(nil), s...)
	}
	return s
}

func (d *CloudTrailDecoder) parseResources(ev *schemas.Event) {
	p := &d.p
	p.array()
	in := d.intern
	first := true
	for p.element(&first) {
		if p.peek() != '{' {
			p.skip()
			continue
		}
		var r schemas.Resource
		p.eachMember(func(key []byte) {
			switch string(key) {
			case "ARN", "arn":
				r.ARN = string(p.strOrScalar())
			case "type":
				r.Type = in.bytes(p.strOrScalar())
			case "accountId":
				r.AccountID = in.bytes(p.strOrScalar())
			default:
				p.skip()
			}
		})
		ev.Resources = append(ev.Resources, r)
	}
}

// apply sets the event's identity fields. The principal is the identity's
// ARN; without one (AWS services, some federated and anonymous callers) the
// invoking service, then the principal id, then the type and account, so
// every event has a stable partition key.
func (idn *identity) apply(ev *schemas.Event, in *interner) {
	ev.PrincipalType = in.bytes(idn.typ)
	ev.PrincipalID = in.bytes(idn.principalID)
	ev.AccessKeyID = in.bytes(idn.accessKeyID)
	ev.SessionIssuer = in.bytes(idn.issuerARN)
	ev.MFA = idn.mfa
	switch {
	case len(idn.userName) > 0:
		ev.UserName = in.bytes(idn.userName)
	case len(idn.issuerUserName) > 0:
		ev.UserName = in.bytes(idn.issuerUserName)
	}
	switch {
	case len(idn.arn) > 0:
		ev.Principal = in.bytes(idn.arn)
	case len(idn.invokedBy) > 0:
		ev.Principal = in.bytes(idn.invokedBy)
	case len(idn.principalID) > 0:
		ev.Principal = ev.PrincipalID
	case len(idn.typ) > 0:
		ev.Principal = in.join(idn.typ, idn.accountID)
	}
}

// parseTime parses CloudTrail's eventTime (2021-07-29T23:53:37Z) fast,
// falling back to RFC 3339 with fractions or offsets.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) == 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == 'Z' {
		n := func(i, w int) (int, bool) {
			v := 0
			for _, c := range b[i : i+w] {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := n(0, 4)
		mo, ok2 := n(5, 2)
		dd, ok3 := n(8, 2)
		h, ok4 := n(11, 2)
		mi, ok5 := n(14, 2)
		s, ok6 := n(17, 2)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h < 24 && mi < 60 && s < 61 {
			return time.Date(y, time.Month(mo), dd, h, mi, s, 0, time.UTC), true
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// interner returns one string per distinct value of the low-cardinality
// fields (event names, sources, regions, accounts, ARNs), so decoding a
// million events does not allocate a million copies of "s3.amazonaws.com".
// It is bounded: when full it starts over.
type interner struct {
	m   map[string]string
	max int
}

func newInterner(max int) *interner {
	return &interner{m: make(map[string]string, max), max: max}
}

func (in *interner) bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if len(in.m) >= in.max {
		clear(in.m)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// join interns a + ":" + b.
func (in *interner) join(a, b []byte) string {
	buf := make([]byte, 0, len(a)+1+len(b))
	buf = append(append(append(buf, a...), ':'), b...)
	return in.bytes(buf)
}
