package ingest

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// VPC flow log objects (plain text, as delivered to S3) are a header line
// naming the fields, then one record per line with the fields separated by
// spaces, "-" standing for "no value". The header makes every file
// self-describing: the default version 2 format and any custom format of
// versions 2 to 8, in any field order, decode the same way.
//
// DecodeFlow is a hot path (a busy organisation writes millions of flow
// records per second), so it is written to allocate once per record: the
// line is parsed in place in the read buffer, numbers are parsed from bytes,
// strings that repeat from record to record (account, interface, VPC,
// subnet, region, action, ...) come from a small per-field cache, and every
// other string of a record (its id and its addresses) is cut from one string
// allocated for that record.

const (
	// flowReadBufferSize is the read buffer of DecodeFlow. A line that fits
	// in it is parsed in place; a longer one is gathered in a second buffer
	// that grows up to Limits.MaxRecordBytes.
	flowReadBufferSize = 64 << 10
	// flowInternSlots is how many recent values each field's string cache
	// keeps. A flow log file mixes a few interfaces, VPCs and subnets at a
	// time; eight covers that without a costly lookup.
	flowInternSlots = 8
	// flowInternMaxLine is the longest line whose strings are cached as
	// they are. The cache would otherwise pin one record string per slot:
	// above this length a value is copied before it is cached.
	flowInternMaxLine = 2 << 10
	// flowInternMaxLen is the longest value cached at all.
	flowInternMaxLen = 256
	// flowMaxUnixSeconds is 9999-12-31T23:59:59Z: a start or end beyond it
	// is not a real flow, and later stages cannot encode it.
	flowMaxUnixSeconds = 253402300799
	// flowIDHexLen is the length of a flow event id: 16 bytes in hex.
	flowIDHexLen = 32
	// flowQuoteLen bounds how much of a bad value an error message quotes.
	flowQuoteLen = 64
)

// flowField identifies a flow log field named in the header.
type flowField uint8

// The flow log fields of versions 2 to 8, as the AWS documentation lists
// them ("Available fields" in the VPC user guide). flowUnknown is a header
// name this decoder does not know: its column is kept in Raw and skipped.
const (
	flowUnknown flowField = iota
	// Version 2 (the default format, in this order).
	flowVersion
	flowAccountID
	flowInterfaceID
	flowSrcAddr
	flowDstAddr
	flowSrcPort
	flowDstPort
	flowProtocol
	flowPackets
	flowBytes
	flowStart
	flowEnd
	flowAction
	flowLogStatus
	// Version 3.
	flowVpcID
	flowSubnetID
	flowInstanceID
	flowTCPFlags
	flowType
	flowPktSrcAddr
	flowPktDstAddr
	// Version 4.
	flowRegion
	flowAZID
	flowSublocationType
	flowSublocationID
	// Version 5.
	flowPktSrcAWSService
	flowPktDstAWSService
	flowFlowDirection
	flowTrafficPath
	// Version 7 (ECS). Version 6 is transit gateway flow logs, which have
	// their own format.
	flowECSClusterARN
	flowECSClusterName
	flowECSContainerInstanceARN
	flowECSContainerInstanceID
	flowECSContainerID
	flowECSSecondContainerID
	flowECSServiceName
	flowECSTaskDefinitionARN
	flowECSTaskARN
	flowECSTaskID
	// Version 8.
	flowRejectReason

	flowFieldCount
)

// flowFieldNames is the header name of each flowField: a constant table.
var flowFieldNames = [flowFieldCount]string{
	flowUnknown:                 "",
	flowVersion:                 "version",
	flowAccountID:               "account-id",
	flowInterfaceID:             "interface-id",
	flowSrcAddr:                 "srcaddr",
	flowDstAddr:                 "dstaddr",
	flowSrcPort:                 "srcport",
	flowDstPort:                 "dstport",
	flowProtocol:                "protocol",
	flowPackets:                 "packets",
	flowBytes:                   "bytes",
	flowStart:                   "start",
	flowEnd:                     "end",
	flowAction:                  "action",
	flowLogStatus:               "log-status",
	flowVpcID:                   "vpc-id",
	flowSubnetID:                "subnet-id",
	flowInstanceID:              "instance-id",
	flowTCPFlags:                "tcp-flags",
	flowType:                    "type",
	flowPktSrcAddr:              "pkt-srcaddr",
	flowPktDstAddr:              "pkt-dstaddr",
	flowRegion:                  "region",
	flowAZID:                    "az-id",
	flowSublocationType:         "sublocation-type",
	flowSublocationID:           "sublocation-id",
	flowPktSrcAWSService:        "pkt-src-aws-service",
	flowPktDstAWSService:        "pkt-dst-aws-service",
	flowFlowDirection:           "flow-direction",
	flowTrafficPath:             "traffic-path",
	flowECSClusterARN:           "ecs-cluster-arn",
	flowECSClusterName:          "ecs-cluster-name",
	flowECSContainerInstanceARN: "ecs-container-instance-arn",
	flowECSContainerInstanceID:  "ecs-container-instance-id",
	flowECSContainerID:          "ecs-container-id",
	flowECSSecondContainerID:    "ecs-second-container-id",
	flowECSServiceName:          "ecs-service-name",
	flowECSTaskDefinitionARN:    "ecs-task-definition-arn",
	flowECSTaskARN:              "ecs-task-arn",
	flowECSTaskID:               "ecs-task-id",
	flowRejectReason:            "reject-reason",
}

// String returns the field's header name.
func (f flowField) String() string {
	if f == flowUnknown || f >= flowFieldCount {
		return "unknown"
	}
	return flowFieldNames[f]
}

// flowFieldByName returns the field a header name stands for, or
// flowUnknown. Names are matched with '_' read as '-', so the underscore
// spelling of Athena tables and Parquet exports is accepted too.
func flowFieldByName(name []byte) flowField {
	for f := flowVersion; f < flowFieldCount; f++ {
		if flowNameEqual(name, flowFieldNames[f]) {
			return f
		}
	}
	return flowUnknown
}

// flowNameEqual compares a header token with a field name, '_' matching '-'.
func flowNameEqual(tok []byte, name string) bool {
	if len(tok) != len(name) {
		return false
	}
	for i := range tok {
		c := tok[i]
		if c == '_' {
			c = '-'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// flowCached reports whether values of f are worth caching: everything but
// the addresses, which differ from record to record.
func flowCached(f flowField) bool {
	switch f {
	case flowSrcAddr, flowDstAddr, flowPktSrcAddr, flowPktDstAddr:
		return false
	}
	return true
}

// DecodeFlow decodes a VPC flow log object: r is its decompressed content
// (see OpenStream), obj says where it came from. It calls emit.Event once
// per record, in order, and emit.BadRecord for a record it cannot decode,
// then goes on with the next.
//
// The first line must be a header naming the fields, in any order (see the
// "Available fields" of the VPC user guide: versions 2 to 8 are known). A
// field the decoder does not know is skipped, and stays in the event's Raw.
// An object without a header fails with ReasonFlowNoHeader, an empty one
// with ReasonEmptyObject, a header longer than lim.MaxRecordBytes with
// ReasonRecordTooLarge.
//
// Each following line is one record, numbered from 0 (the header has no
// number), separated by "\n" or "\r\n"; the last line need not end with
// one. A line with more or fewer fields than the header, or a number that
// does not parse or is out of range, goes to emit.BadRecord with
// ReasonFlowBadRecord; so does a blank line, which has zero fields. A line
// longer than lim.MaxRecordBytes (without its line end) goes to
// emit.BadRecord with ReasonRecordTooLarge and only its first
// lim.MaxRecordBytes bytes: the rest is read and dropped, never held, so
// memory stays bounded whatever the object. A zero lim.MaxRecordBytes
// means the default.
//
// The event is filled as follows. Source is SourceVPCFlow, EventSource
// "vpcflow", Flow holds every field of the record ("-" leaves a field
// zero), and Raw is the line without its line end. Time is start, or end
// when the record has no start. AccountID is account-id, or obj.AccountID
// when the record has none or says "unknown" (what AWS writes for
// interfaces that AWS services own); Region is region, or obj.Region.
// SourceIP is srcaddr. EventName is the log status when it is not OK
// (NODATA, SKIPDATA), else the action (ACCEPT, REJECT), else the log
// status. Object names obj's bucket and key and the record's number, and
// IngestTime is obj.Now.
//
// ID is stable: the hex of the first 16 bytes of
//
//	SHA-256( SHA-256(bucket "\x00" key) || uint64 big-endian record number || line )
//
// so reading the same object again gives every record the same id, while
// two identical lines of one object (which flow logs do have: two equal
// flows in one capture window) get different ids.
//
// Errors from emit are returned unchanged; an error reading r is returned
// wrapped, and keeps its DecodeError reason (gzip corruption,
// decompression limit) when it has one.
//
// Ownership: the event passed to emit.Event, its Flow and its Raw are
// reused for the next record, and the payload passed to emit.BadRecord
// is reused too; an Emitter that keeps them must copy them. The strings
// in the event are immutable and may be kept.
func DecodeFlow(r io.Reader, obj ObjectInfo, lim Limits, emit Emitter) error {
	return decodeFlow(r, obj, lim, emit, flowReadBufferSize)
}

// decodeFlow is DecodeFlow with the read buffer size as a parameter, so
// tests can drive the long-line path with small inputs.
func decodeFlow(r io.Reader, obj ObjectInfo, lim Limits, emit Emitter, bufSize int) error {
	maxLine := lim.MaxRecordBytes
	if maxLine <= 0 {
		maxLine = DefaultLimits().MaxRecordBytes
	}
	d := &flowDecoder{
		emit:  emit,
		lines: flowLineReader{br: bufio.NewReaderSize(r, bufSize), max: maxLine},
	}
	d.reset(obj)
	return d.run()
}

// flowObjectSum returns the SHA-256 of an object's bucket and key, the
// first part of every flow event id of the object.
func flowObjectSum(bucket, key string) [sha256.Size]byte {
	h := sha256.New()
	// Writes to a hash.Hash never fail.
	_, _ = io.WriteString(h, bucket)
	_, _ = h.Write([]byte{0})
	_, _ = io.WriteString(h, key)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// flowDecoder holds the state of one DecodeFlow call. Everything in it is
// reused from record to record.
type flowDecoder struct {
	flowRecords
	emit  Emitter
	lines flowLineReader
}

// flowRecords turns flow log records, each given as the text line of its
// values, into events. It is the part of decoding that the text form
// (DecodeFlow) and the Parquet form (FlowParquetDecoder) share, so a record
// gives the same event, id included, whichever form it came in. Everything
// in it is reused from record to record, and from object to object.
type flowRecords struct {
	obj ObjectInfo
	// cols is the field of each column, in header (or Parquet schema) order.
	cols []flowField
	// caches holds recent values per field (see flowIntern).
	caches [flowFieldCount]flowIntern
	// objectSum is flowObjectSum of the object.
	objectSum [sha256.Size]byte

	// ev and flow are the event handed to the Emitter.
	ev   schemas.Event
	flow schemas.Flow
	// account is the record's account-id; the Flow has no field for it.
	account string
	// arena gathers the bytes of the record's strings that are not
	// cached: the id first, then each pending value. One string is made
	// of it per record, and pend's fields are cut from it.
	arena []byte
	pend  []flowPending
	// hashIn is the input of the id's hash.
	hashIn []byte
}

// flowPending is a string field waiting for the record's arena string.
type flowPending struct {
	dst      *string
	off, end int
	// cache, when not nil, learns the value once it is a string.
	cache *flowIntern
}

// run reads the header, then every record.
func (d *flowDecoder) run() error {
	header, tooLong, err := d.lines.next()
	switch {
	case err == io.EOF:
		return decodeErr(ReasonEmptyObject, "flow log s3://%s/%s is empty", d.obj.Bucket, d.obj.Key)
	case err != nil:
		return fmt.Errorf("read flow log header of s3://%s/%s: %w", d.obj.Bucket, d.obj.Key, err)
	case tooLong:
		return decodeErr(ReasonRecordTooLarge, "flow log s3://%s/%s: header longer than %d bytes",
			d.obj.Bucket, d.obj.Key, d.lines.max)
	}
	if err := d.parseHeader(header); err != nil {
		return err
	}
	for index := int64(0); ; index++ {
		line, tooLong, err := d.lines.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read flow log s3://%s/%s at record %d: %w", d.obj.Bucket, d.obj.Key, index, err)
		}
		if err := d.emitLine(index, line, tooLong, d.lines.max, d.emit); err != nil {
			return err
		}
	}
}

// reset readies d for a new object: its id prefix and an empty column list.
// The string caches are kept: their values stay valid strings.
func (d *flowRecords) reset(obj ObjectInfo) {
	d.obj = obj
	d.objectSum = flowObjectSum(obj.Bucket, obj.Key)
	d.cols = d.cols[:0]
}

// emitLine decodes record index, the text line of its values, and hands the
// event to emit, or the line to emit.BadRecord when it cannot be decoded
// (tooLong: line holds only the first maxLine bytes of a longer record).
// It returns emit's error, or an object error when index is beyond what an
// event can number.
func (d *flowRecords) emitLine(index int64, line []byte, tooLong bool, maxLine int, emit Emitter) error {
	if index > math.MaxUint32 {
		// Unreachable with the default limits (8 GiB holds far fewer
		// records), but Index is 32 bits: never wrap it.
		return decodeErr(ReasonDecompressionLimit, "flow log s3://%s/%s: more than %d records",
			d.obj.Bucket, d.obj.Key, uint64(math.MaxUint32)+1)
	}
	if tooLong {
		bad := &DecodeError{Reason: ReasonRecordTooLarge,
			Err: fmt.Errorf("flow record %d longer than %d bytes", index, maxLine)}
		return emit.BadRecord(index, bad, line)
	}
	if bad := d.record(index, line); bad != nil {
		return emit.BadRecord(index, bad, line)
	}
	return emit.Event(&d.ev)
}

// parseHeader reads the field names of the header line into d.cols. A
// header is one or more names made of lowercase letters, digits, '-' and
// '_', each starting with a letter, at least one of them a known field.
// Anything else (a record, with its leading version number; a CSV header;
// binary data) is not a flow log this decoder can read.
func (d *flowDecoder) parseHeader(line []byte) error {
	known := false
	for tok, rest := flowNextToken(line); tok != nil; tok, rest = flowNextToken(rest) {
		if !flowHeaderName(tok) {
			return decodeErr(ReasonFlowNoHeader, "flow log s3://%s/%s: first line is not a header: %q",
				d.obj.Bucket, d.obj.Key, flowQuote(line))
		}
		f := flowFieldByName(tok)
		known = known || f != flowUnknown
		d.cols = append(d.cols, f)
	}
	if !known {
		return decodeErr(ReasonFlowNoHeader, "flow log s3://%s/%s: first line names no flow log field: %q",
			d.obj.Bucket, d.obj.Key, flowQuote(line))
	}
	return nil
}

// flowHeaderName reports whether tok is shaped like a header field name.
func flowHeaderName(tok []byte) bool {
	if tok[0] < 'a' || tok[0] > 'z' {
		return false
	}
	for _, c := range tok {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// flowNextToken returns the first field of line and what follows it.
// Fields are separated by runs of spaces, tabs or other ASCII control
// characters (any byte up to ' ': one comparison per byte, and no real
// field holds one); tok is nil when there is no field left.
func flowNextToken(line []byte) (tok, rest []byte) {
	i := 0
	for i < len(line) && line[i] <= ' ' {
		i++
	}
	if i == len(line) {
		return nil, nil
	}
	j := i + 1
	for j < len(line) && line[j] > ' ' {
		j++
	}
	return line[i:j], line[j:]
}

// record decodes one line into d.ev. It returns the reason the line is bad,
// or nil.
func (d *flowRecords) record(index int64, line []byte) *DecodeError {
	f := &d.flow
	*f = schemas.Flow{}
	d.account = ""
	// The id goes first in the arena; its bytes are written once the
	// record is known to be good.
	d.arena = append(d.arena[:0], make([]byte, flowIDHexLen)...)
	d.pend = d.pend[:0]
	var hasSrcPort, hasDstPort bool

	col := 0
	for tok, rest := flowNextToken(line); tok != nil; tok, rest = flowNextToken(rest) {
		if col == len(d.cols) {
			return flowBadRecord("flow record %d has more than the header's %d fields", index, len(d.cols))
		}
		field := d.cols[col]
		col++
		if len(tok) == 1 && tok[0] == '-' {
			continue
		}
		var ok bool
		switch field {
		case flowUnknown:
			ok = true
		case flowVersion:
			f.Version, ok = flowUint[uint8](tok)
		case flowSrcPort:
			f.SrcPort, ok = flowUint[uint16](tok)
			hasSrcPort = ok
		case flowDstPort:
			f.DstPort, ok = flowUint[uint16](tok)
			hasDstPort = ok
		case flowProtocol:
			f.Protocol, ok = flowUint[uint8](tok)
			f.HasProtocol = ok
		case flowPackets:
			f.Packets, ok = flowUint[uint64](tok)
		case flowBytes:
			f.Bytes, ok = flowUint[uint64](tok)
		case flowStart:
			f.Start, ok = flowUnixTime(tok)
		case flowEnd:
			f.End, ok = flowUnixTime(tok)
		case flowTCPFlags:
			f.TCPFlags, ok = flowUint[uint16](tok)
		case flowTrafficPath:
			f.TrafficPath, ok = flowUint[uint8](tok)
		default:
			d.setString(field, tok)
			ok = true
		}
		if !ok {
			return flowBadRecord("flow record %d: field %s: %q is not a number in range", index, field, flowQuote(tok))
		}
	}
	if col != len(d.cols) {
		return flowBadRecord("flow record %d has %d fields, the header names %d", index, col, len(d.cols))
	}
	f.HasPorts = hasSrcPort && hasDstPort

	// The record is good: write its id, make its one string, and cut the
	// pending fields from it.
	d.hashIn = append(d.hashIn[:0], d.objectSum[:]...)
	d.hashIn = binary.BigEndian.AppendUint64(d.hashIn, uint64(index))
	d.hashIn = append(d.hashIn, line...)
	sum := sha256.Sum256(d.hashIn)
	hex.Encode(d.arena[:flowIDHexLen], sum[:flowIDHexLen/2])
	s := string(d.arena)
	for i := range d.pend {
		p := &d.pend[i]
		v := s[p.off:p.end]
		*p.dst = v
		if p.cache != nil && len(v) <= flowInternMaxLen {
			if len(line) > flowInternMaxLine {
				// Do not let the cache pin this long record's string.
				v = strings.Clone(v)
			}
			p.cache.add(v)
		}
	}

	ev := &d.ev
	*ev = schemas.Event{
		ID:          s[:flowIDHexLen],
		Source:      schemas.SourceVPCFlow,
		Time:        f.Start,
		AccountID:   d.account,
		Region:      f.Region,
		EventSource: "vpcflow",
		EventName:   flowEventName(f),
		SourceIP:    f.SrcAddr,
		Flow:        f,
		Object:      schemas.ObjectRef{Bucket: d.obj.Bucket, Key: d.obj.Key, Index: uint32(index)},
		IngestTime:  d.obj.Now,
		Raw:         line,
	}
	if ev.Time.IsZero() {
		ev.Time = f.End
	}
	if ev.AccountID == "" || ev.AccountID == "unknown" {
		ev.AccountID = d.obj.AccountID
	}
	if ev.Region == "" {
		ev.Region = d.obj.Region
	}
	return nil
}

// flowEventName is the log status of a record without data, else its
// action, else its log status.
func flowEventName(f *schemas.Flow) string {
	if f.LogStatus != "" && f.LogStatus != "OK" {
		return f.LogStatus
	}
	if f.Action != "" {
		return f.Action
	}
	return f.LogStatus
}

// setString sets the string field of the record that field names to tok:
// from the field's cache when tok is a recent value, else later, from the
// record's arena string.
func (d *flowRecords) setString(field flowField, tok []byte) {
	dst := d.stringField(field)
	var cache *flowIntern
	if flowCached(field) {
		cache = &d.caches[field]
		if s, ok := cache.lookup(tok); ok {
			*dst = s
			return
		}
	}
	off := len(d.arena)
	d.arena = append(d.arena, tok...)
	d.pend = append(d.pend, flowPending{dst: dst, off: off, end: len(d.arena), cache: cache})
}

// stringField returns where the string field named field goes.
func (d *flowRecords) stringField(field flowField) *string {
	f := &d.flow
	switch field {
	case flowAccountID:
		return &d.account
	case flowInterfaceID:
		return &f.InterfaceID
	case flowSrcAddr:
		return &f.SrcAddr
	case flowDstAddr:
		return &f.DstAddr
	case flowAction:
		return &f.Action
	case flowLogStatus:
		return &f.LogStatus
	case flowVpcID:
		return &f.VpcID
	case flowSubnetID:
		return &f.SubnetID
	case flowInstanceID:
		return &f.InstanceID
	case flowType:
		return &f.Type
	case flowPktSrcAddr:
		return &f.PktSrcAddr
	case flowPktDstAddr:
		return &f.PktDstAddr
	case flowRegion:
		return &f.Region
	case flowAZID:
		return &f.AZID
	case flowSublocationType:
		return &f.SublocationType
	case flowSublocationID:
		return &f.SublocationID
	case flowPktSrcAWSService:
		return &f.PktSrcAWSService
	case flowPktDstAWSService:
		return &f.PktDstAWSService
	case flowFlowDirection:
		return &f.FlowDirection
	case flowECSClusterARN:
		return &f.ECSClusterARN
	case flowECSClusterName:
		return &f.ECSClusterName
	case flowECSContainerInstanceARN:
		return &f.ECSContainerInstanceARN
	case flowECSContainerInstanceID:
		return &f.ECSContainerInstanceID
	case flowECSContainerID:
		return &f.ECSContainerID
	case flowECSSecondContainerID:
		return &f.ECSSecondContainerID
	case flowECSServiceName:
		return &f.ECSServiceName
	case flowECSTaskDefinitionARN:
		return &f.ECSTaskDefinitionARN
	case flowECSTaskARN:
		return &f.ECSTaskARN
	case flowECSTaskID:
		return &f.ECSTaskID
	case flowRejectReason:
		return &f.RejectReason
	}
	// record only calls setString for the string fields above.
	panic("ingest: flow field " + field.String() + " is not a string")
}

// flowBadRecord returns a ReasonFlowBadRecord DecodeError.
func flowBadRecord(format string, args ...any) *DecodeError {
	return &DecodeError{Reason: ReasonFlowBadRecord, Err: fmt.Errorf(format, args...)}
}

// flowQuote bounds b for an error message.
func flowQuote(b []byte) []byte {
	if len(b) > flowQuoteLen {
		return b[:flowQuoteLen]
	}
	return b
}

// flowUint parses b as a decimal number that fits in T.
func flowUint[T uint8 | uint16 | uint64](b []byte) (T, bool) {
	v, ok := flowParseUint(b, uint64(^T(0)))
	return T(v), ok
}

// flowUnixTime parses b as Unix seconds, up to the year 9999.
func flowUnixTime(b []byte) (time.Time, bool) {
	v, ok := flowParseUint(b, flowMaxUnixSeconds)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(v), 0).UTC(), true
}

// flowParseUint parses b as a decimal number no larger than maxValue. It
// accepts digits only: no sign, no spaces, no base prefix.
func flowParseUint(b []byte, maxValue uint64) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(c))/10 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	if v > maxValue {
		return 0, false
	}
	return v, true
}

// flowIntern remembers the last few values of one field, so that a value
// repeated from record to record (an account, an interface, a VPC, an
// action) is one string for the whole object, not one per record.
type flowIntern struct {
	vals [flowInternSlots]string
	// last is the slot of the last hit, tried first; next is the slot the
	// next new value replaces.
	last, next uint8
}

// lookup returns the cached string equal to b.
func (c *flowIntern) lookup(b []byte) (string, bool) {
	// string(b) in a comparison does not allocate.
	if c.vals[c.last] == string(b) {
		return c.vals[c.last], true
	}
	for i := range c.vals {
		if c.vals[i] == string(b) {
			c.last = uint8(i)
			return c.vals[i], true
		}
	}
	return "", false
}

// add caches s, replacing the oldest value.
func (c *flowIntern) add(s string) {
	c.vals[c.next] = s
	c.last = c.next
	c.next = (c.next + 1) % flowInternSlots
}

// flowLineReader splits a stream into lines with bounded memory.
type flowLineReader struct {
	br *bufio.Reader
	// max is the longest line returned whole, without its line end.
	max int
	// long gathers a line longer than br's buffer, up to max+2 bytes.
	long []byte
	// eof is set once the stream has ended.
	eof bool
}

// next returns the next line without its "\n" or "\r\n". The line is
// valid until the next call. When the line is longer than max bytes,
// tooLong is set and line holds its first max bytes; the rest has been
// read and dropped. At the end of the stream next returns io.EOF.
func (lr *flowLineReader) next() (line []byte, tooLong bool, err error) {
	if lr.eof {
		return nil, false, io.EOF
	}
	frag, err := lr.br.ReadSlice('\n')
	switch {
	case err == nil:
		line = frag[:len(frag)-1]
	case err == io.EOF:
		lr.eof = true
		if len(frag) == 0 {
			return nil, false, io.EOF
		}
		// The last line has no line end.
		line = frag
	case err == bufio.ErrBufferFull:
		return lr.nextLong(frag)
	default:
		return nil, false, err
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > lr.max {
		return line[:lr.max], true, nil
	}
	return line, false, nil
}

// nextLong finishes a line that did not fit in br's buffer, of which frag
// is the start. It keeps at most max+2 bytes of it: enough for a line of
// max bytes and its "\r\n".
func (lr *flowLineReader) nextLong(frag []byte) (line []byte, tooLong bool, err error) {
	keep := lr.max + 2
	lr.long = append(lr.long[:0], frag[:min(len(frag), keep)]...)
	total := len(frag)
	// prev and last are the last two bytes of the line so far.
	prev, last := frag[len(frag)-2], frag[len(frag)-1]
	ended := false
	for !ended {
		frag, err = lr.br.ReadSlice('\n')
		switch {
		case err == nil:
			ended = true
		case err == io.EOF:
			lr.eof = true
			ended = true
		case err == bufio.ErrBufferFull:
		default:
			return nil, false, err
		}
		total += len(frag)
		if room := keep - len(lr.long); room > 0 {
			lr.long = append(lr.long, frag[:min(room, len(frag))]...)
		}
		switch len(frag) {
		case 0:
		case 1:
			prev, last = last, frag[0]
		default:
			prev, last = frag[len(frag)-2], frag[len(frag)-1]
		}
	}
	n := total
	if last == '\n' {
		n--
		if prev == '\r' {
			n--
		}
	} else if last == '\r' {
		n--
	}
	if n > lr.max {
		return lr.long[:lr.max], true, nil
	}
	return lr.long[:n], false, nil
}
