package schemas

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// MarshalEvent appends the wire encoding of e to dst and returns the
// extended slice: the tag WireEventV1, the length, then e as the protobuf
// message trailwatch.v1.Event of event.proto. It does not allocate when dst
// has the capacity; reuse one buffer per producer loop (dst[:0]).
//
// The encoding is deterministic: equal events give equal bytes. Empty and
// nil collections are the same on the wire (nothing is written), times are
// Unix nanoseconds, so a time before 1678 or after 2262 does not survive.
func MarshalEvent(dst []byte, e *Event) []byte {
	if cap(dst)-len(dst) < len(e.Raw) {
		// dst is too short for the record: one allocation for the usual
		// event instead of a few as it grows (the typed fields rarely
		// take more than 1 KiB).
		dst = slices.Grow(dst, len(e.Raw)+1024)
	}
	dst, start := appendFrameStart(dst, WireEventV1)
	// Raw goes first, out of field order, so that the decoder can size one
	// block for every string that follows it (see stringBlock).
	dst = appendBytes(dst, 28, e.Raw)
	dst = appendString(dst, 1, e.ID)
	dst = appendUint(dst, 2, uint64(e.Source))
	dst = appendTime(dst, 3, e.Time)
	dst = appendString(dst, 4, e.AccountID)
	dst = appendString(dst, 5, e.Region)
	dst = appendString(dst, 6, e.EventSource)
	dst = appendString(dst, 7, e.EventName)
	dst = appendString(dst, 8, e.EventVersion)
	dst = appendString(dst, 9, e.EventType)
	dst = appendString(dst, 10, e.EventCategory)
	dst = appendString(dst, 11, e.PrincipalType)
	dst = appendString(dst, 12, e.Principal)
	dst = appendString(dst, 13, e.PrincipalID)
	dst = appendString(dst, 14, e.AccessKeyID)
	dst = appendString(dst, 15, e.SessionIssuer)
	dst = appendString(dst, 16, e.UserName)
	dst = appendUint(dst, 17, uint64(e.MFA))
	dst = appendString(dst, 18, e.SourceIP)
	dst = appendString(dst, 19, e.UserAgent)
	dst = appendString(dst, 20, e.ErrorCode)
	dst = appendString(dst, 21, e.ErrorMessage)
	dst = appendUint(dst, 22, uint64(e.ReadOnly))
	dst = appendString(dst, 23, e.RequestID)
	for i := range e.Resources {
		dst = appendResource(dst, 24, &e.Resources[i])
	}
	if e.Flow != nil {
		dst = appendFlow(dst, 25, e.Flow)
	}
	if e.Object != (ObjectRef{}) {
		dst = appendObjectRef(dst, 26, &e.Object)
	}
	dst = appendTime(dst, 27, e.IngestTime)
	if e.Enrichment != nil {
		dst = appendEnrichment(dst, 29, e.Enrichment)
	}
	return finishLen(dst, start, frameLenReserve)
}

func appendResource(dst []byte, num protowire.Number, r *Resource) []byte {
	dst, start := appendMessageStart(dst, num)
	dst = appendString(dst, 1, r.ARN)
	dst = appendString(dst, 2, r.Type)
	dst = appendString(dst, 3, r.AccountID)
	return finishLen(dst, start, 1)
}

func appendObjectRef(dst []byte, num protowire.Number, o *ObjectRef) []byte {
	dst, start := appendMessageStart(dst, num)
	dst = appendString(dst, 1, o.Bucket)
	dst = appendString(dst, 2, o.Key)
	dst = appendUint(dst, 3, uint64(o.Index))
	return finishLen(dst, start, 1)
}

func appendFlow(dst []byte, num protowire.Number, f *Flow) []byte {
	dst, start := appendMessageStart(dst, num)
	dst = appendUint(dst, 1, uint64(f.Version))
	dst = appendString(dst, 2, f.InterfaceID)
	dst = appendString(dst, 3, f.SrcAddr)
	dst = appendString(dst, 4, f.DstAddr)
	dst = appendUint(dst, 5, uint64(f.SrcPort))
	dst = appendUint(dst, 6, uint64(f.DstPort))
	dst = appendUint(dst, 7, uint64(f.Protocol))
	dst = appendUint(dst, 8, f.Packets)
	dst = appendUint(dst, 9, f.Bytes)
	dst = appendTime(dst, 10, f.Start)
	dst = appendTime(dst, 11, f.End)
	dst = appendString(dst, 12, f.Action)
	dst = appendString(dst, 13, f.LogStatus)
	dst = appendString(dst, 14, f.VpcID)
	dst = appendString(dst, 15, f.SubnetID)
	dst = appendString(dst, 16, f.InstanceID)
	dst = appendUint(dst, 17, uint64(f.TCPFlags))
	dst = appendString(dst, 18, f.Type)
	dst = appendString(dst, 19, f.PktSrcAddr)
	dst = appendString(dst, 20, f.PktDstAddr)
	dst = appendString(dst, 21, f.Region)
	dst = appendString(dst, 22, f.AZID)
	dst = appendString(dst, 23, f.SublocationType)
	dst = appendString(dst, 24, f.SublocationID)
	dst = appendString(dst, 25, f.PktSrcAWSService)
	dst = appendString(dst, 26, f.PktDstAWSService)
	dst = appendString(dst, 27, f.FlowDirection)
	dst = appendUint(dst, 28, uint64(f.TrafficPath))
	dst = appendString(dst, 29, f.ECSClusterARN)
	dst = appendString(dst, 30, f.ECSClusterName)
	dst = appendString(dst, 31, f.ECSContainerInstanceARN)
	dst = appendString(dst, 32, f.ECSContainerInstanceID)
	dst = appendString(dst, 33, f.ECSContainerID)
	dst = appendString(dst, 34, f.ECSSecondContainerID)
	dst = appendString(dst, 35, f.ECSServiceName)
	dst = appendString(dst, 36, f.ECSTaskDefinitionARN)
	dst = appendString(dst, 37, f.ECSTaskARN)
	dst = appendString(dst, 38, f.ECSTaskID)
	dst = appendString(dst, 39, f.RejectReason)
	dst = appendBool(dst, 40, f.HasPorts)
	dst = appendBool(dst, 41, f.HasProtocol)
	return finishLen(dst, start, 1)
}

func appendEnrichment(dst []byte, num protowire.Number, en *Enrichment) []byte {
	dst, start := appendMessageStart(dst, num)
	dst = appendString(dst, 1, en.AccountName)
	dst = appendString(dst, 2, en.ActorARN)
	dst = appendString(dst, 3, en.SessionName)
	dst = appendString(dst, 4, en.SourceIdentity)
	if en.Geo != (Geo{}) {
		dst = appendGeo(dst, 5, &en.Geo)
	}
	if en.DstGeo != (Geo{}) {
		dst = appendGeo(dst, 6, &en.DstGeo)
	}
	return finishLen(dst, start, 1)
}

func appendGeo(dst []byte, num protowire.Number, g *Geo) []byte {
	dst, start := appendMessageStart(dst, num)
	dst = appendString(dst, 1, g.CountryCode)
	dst = appendString(dst, 2, g.City)
	dst = appendDouble(dst, 3, g.Latitude)
	dst = appendDouble(dst, 4, g.Longitude)
	dst = appendUint(dst, 5, uint64(g.ASN))
	dst = appendString(dst, 6, g.ASOrg)
	return finishLen(dst, start, 1)
}

// UnmarshalEvent decodes a record that MarshalEvent wrote into e,
// replacing all of e's contents. b may come from anywhere: a bad record
// gives an error that names the field and wraps ErrUnknownVersion,
// ErrTruncated or ErrMalformed, never a panic. Fields this version does not
// know are skipped, so a newer writer's additions do not break it. On error
// e is left zero.
//
// Memory: e is reused where it can be. e.Raw's and e.Resources' backing
// arrays and the Flow and Enrichment that e points to are overwritten, so
// a caller that keeps any of them beyond the next decode must copy it or
// decode into a fresh Event. All strings of one decoded event share one allocation
// that lives as long as any of them: state that outlives the event (a map
// keyed by Principal, a cache) should keep strings.Clone of what it needs.
// Nothing in e aliases b.
//
// Empty collections: the wire does not tell nil from empty, and a decoded
// Raw or Resources with no elements is nil in a fresh Event and an empty
// slice that keeps its capacity in a reused one; test them with len. Flow
// and Enrichment are nil exactly when they were nil when encoded.
func UnmarshalEvent(b []byte, e *Event) error {
	return unmarshal(b, WireEventV1, "event", e, decodeEvent)
}

func decodeEvent(b []byte, e *Event) error {
	// Keep the memory that can be reused; everything else starts from zero
	// so that no field of the previous event can leak into this one.
	raw, resources, flow, enrichment := e.Raw[:0], e.Resources[:0], e.Flow, e.Enrichment
	*e = Event{Raw: raw, Resources: resources}
	r := fieldReader{b: b}
	r.strs.expect(len(b))
	for r.next() {
		switch r.num {
		case 1:
			r.string("id", &e.ID)
		case 2:
			readUint(&r, "source", &e.Source)
		case 3:
			r.time("time_unix_nano", &e.Time)
		case 4:
			r.string("account_id", &e.AccountID)
		case 5:
			r.string("region", &e.Region)
		case 6:
			r.string("event_source", &e.EventSource)
		case 7:
			r.string("event_name", &e.EventName)
		case 8:
			r.string("event_version", &e.EventVersion)
		case 9:
			r.string("event_type", &e.EventType)
		case 10:
			r.string("event_category", &e.EventCategory)
		case 11:
			r.string("principal_type", &e.PrincipalType)
		case 12:
			r.string("principal", &e.Principal)
		case 13:
			r.string("principal_id", &e.PrincipalID)
		case 14:
			r.string("access_key_id", &e.AccessKeyID)
		case 15:
			r.string("session_issuer", &e.SessionIssuer)
		case 16:
			r.string("user_name", &e.UserName)
		case 17:
			readUint(&r, "mfa", &e.MFA)
		case 18:
			r.string("source_ip", &e.SourceIP)
		case 19:
			r.string("user_agent", &e.UserAgent)
		case 20:
			r.string("error_code", &e.ErrorCode)
		case 21:
			r.string("error_message", &e.ErrorMessage)
		case 22:
			readUint(&r, "read_only", &e.ReadOnly)
		case 23:
			r.string("request_id", &e.RequestID)
		case 24:
			sub := r.message("resources")
			if !r.failed {
				e.Resources = append(e.Resources, Resource{})
				decodeResource(&sub, &e.Resources[len(e.Resources)-1])
				r.end("resources", &sub)
			}
		case 25:
			sub := r.message("flow")
			if !r.failed {
				// A message field seen twice merges, as in protobuf, so only
				// the first occurrence starts from zero.
				if e.Flow == nil {
					e.Flow = reuse(flow)
				}
				decodeFlow(&sub, e.Flow)
				r.end("flow", &sub)
			}
		case 26:
			sub := r.message("object")
			decodeObjectRef(&sub, &e.Object)
			r.end("object", &sub)
		case 27:
			r.time("ingest_time_unix_nano", &e.IngestTime)
		case 28:
			if v := r.bytes("raw"); !r.failed {
				e.Raw = append(e.Raw[:0], v...)
				// MarshalEvent writes Raw first: the strings are all in
				// what is left, so size the block for that, not for the
				// whole record.
				r.strs.expect(len(r.b))
			}
		case 29:
			sub := r.message("enrichment")
			if !r.failed {
				if e.Enrichment == nil {
					e.Enrichment = reuse(enrichment)
				}
				decodeEnrichment(&sub, e.Enrichment)
				r.end("enrichment", &sub)
			}
		default:
			r.skip()
		}
	}
	return r.error()
}

// reuse returns p set to zero, or a new T if p is nil.
func reuse[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	var zero T
	*p = zero
	return p
}

func decodeResource(r *fieldReader, res *Resource) {
	for r.next() {
		switch r.num {
		case 1:
			r.string("arn", &res.ARN)
		case 2:
			r.string("type", &res.Type)
		case 3:
			r.string("account_id", &res.AccountID)
		default:
			r.skip()
		}
	}
}

func decodeObjectRef(r *fieldReader, o *ObjectRef) {
	for r.next() {
		switch r.num {
		case 1:
			r.string("bucket", &o.Bucket)
		case 2:
			r.string("key", &o.Key)
		case 3:
			readUint(r, "index", &o.Index)
		default:
			r.skip()
		}
	}
}

func decodeFlow(r *fieldReader, f *Flow) {
	for r.next() {
		switch r.num {
		case 1:
			readUint(r, "version", &f.Version)
		case 2:
			r.string("interface_id", &f.InterfaceID)
		case 3:
			r.string("src_addr", &f.SrcAddr)
		case 4:
			r.string("dst_addr", &f.DstAddr)
		case 5:
			readUint(r, "src_port", &f.SrcPort)
		case 6:
			readUint(r, "dst_port", &f.DstPort)
		case 7:
			readUint(r, "protocol", &f.Protocol)
		case 8:
			readUint(r, "packets", &f.Packets)
		case 9:
			readUint(r, "bytes", &f.Bytes)
		case 10:
			r.time("start_unix_nano", &f.Start)
		case 11:
			r.time("end_unix_nano", &f.End)
		case 12:
			r.string("action", &f.Action)
		case 13:
			r.string("log_status", &f.LogStatus)
		case 14:
			r.string("vpc_id", &f.VpcID)
		case 15:
			r.string("subnet_id", &f.SubnetID)
		case 16:
			r.string("instance_id", &f.InstanceID)
		case 17:
			readUint(r, "tcp_flags", &f.TCPFlags)
		case 18:
			r.string("type", &f.Type)
		case 19:
			r.string("pkt_src_addr", &f.PktSrcAddr)
		case 20:
			r.string("pkt_dst_addr", &f.PktDstAddr)
		case 21:
			r.string("region", &f.Region)
		case 22:
			r.string("az_id", &f.AZID)
		case 23:
			r.string("sublocation_type", &f.SublocationType)
		case 24:
			r.string("sublocation_id", &f.SublocationID)
		case 25:
			r.string("pkt_src_aws_service", &f.PktSrcAWSService)
		case 26:
			r.string("pkt_dst_aws_service", &f.PktDstAWSService)
		case 27:
			r.string("flow_direction", &f.FlowDirection)
		case 28:
			readUint(r, "traffic_path", &f.TrafficPath)
		case 29:
			r.string("ecs_cluster_arn", &f.ECSClusterARN)
		case 30:
			r.string("ecs_cluster_name", &f.ECSClusterName)
		case 31:
			r.string("ecs_container_instance_arn", &f.ECSContainerInstanceARN)
		case 32:
			r.string("ecs_container_instance_id", &f.ECSContainerInstanceID)
		case 33:
			r.string("ecs_container_id", &f.ECSContainerID)
		case 34:
			r.string("ecs_second_container_id", &f.ECSSecondContainerID)
		case 35:
			r.string("ecs_service_name", &f.ECSServiceName)
		case 36:
			r.string("ecs_task_definition_arn", &f.ECSTaskDefinitionARN)
		case 37:
			r.string("ecs_task_arn", &f.ECSTaskARN)
		case 38:
			r.string("ecs_task_id", &f.ECSTaskID)
		case 39:
			r.string("reject_reason", &f.RejectReason)
		case 40:
			r.bool("has_ports", &f.HasPorts)
		case 41:
			r.bool("has_protocol", &f.HasProtocol)
		default:
			r.skip()
		}
	}
}

func decodeEnrichment(r *fieldReader, en *Enrichment) {
	for r.next() {
		switch r.num {
		case 1:
			r.string("account_name", &en.AccountName)
		case 2:
			r.string("actor_arn", &en.ActorARN)
		case 3:
			r.string("session_name", &en.SessionName)
		case 4:
			r.string("source_identity", &en.SourceIdentity)
		case 5:
			sub := r.message("geo")
			decodeGeo(&sub, &en.Geo)
			r.end("geo", &sub)
		case 6:
			sub := r.message("dst_geo")
			decodeGeo(&sub, &en.DstGeo)
			r.end("dst_geo", &sub)
		default:
			r.skip()
		}
	}
}

func decodeGeo(r *fieldReader, g *Geo) {
	for r.next() {
		switch r.num {
		case 1:
			r.string("country_code", &g.CountryCode)
		case 2:
			r.string("city", &g.City)
		case 3:
			r.double("latitude", &g.Latitude)
		case 4:
			r.double("longitude", &g.Longitude)
		case 5:
			readUint(r, "asn", &g.ASN)
		case 6:
			r.string("as_org", &g.ASOrg)
		default:
			r.skip()
		}
	}
}
