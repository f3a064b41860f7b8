package schemas

import (
	"time"
)

// Source says which log family an event came from.
type Source uint8

// The log families trailwatch normalises. The numeric values are part of
// the wire format: never renumber them.
const (
	SourceUnknown    Source = 0
	SourceCloudTrail Source = 1
	SourceVPCFlow    Source = 2
)

// String returns the source's name as it appears in ClickHouse and NDJSON.
func (s Source) String() string {
	switch s {
	case SourceCloudTrail:
		return "cloudtrail"
	case SourceVPCFlow:
		return "vpcflow"
	default:
		return "unknown"
	}
}

// ParseSource is the inverse of Source.String. It returns SourceUnknown for
// any name it does not know.
func ParseSource(s string) Source {
	switch s {
	case "cloudtrail":
		return SourceCloudTrail
	case "vpcflow":
		return SourceVPCFlow
	default:
		return SourceUnknown
	}
}

// Tristate is a boolean that may be absent. CloudTrail's readOnly and
// managementEvent are missing from many records, and "absent" must not be
// read as false.
type Tristate uint8

// Tristate values. The numeric values are part of the wire format.
const (
	Unset Tristate = 0
	True  Tristate = 1
	False Tristate = 2
)

// TristateOf converts a bool to a set Tristate.
func TristateOf(b bool) Tristate {
	if b {
		return True
	}
	return False
}

// Event is one normalised log record: a CloudTrail event or a VPC flow log
// record. It is the value of every record on the events and enriched
// topics.
//
// The typed fields are the hot ones that stages and analysts filter on.
// Raw keeps the original record byte for byte (the CloudTrail JSON object,
// or the flow log line), so nothing the normaliser does not understand is
// ever lost: fields whose JSON type varies between events
// (requestParameters, responseElements, additionalEventData,
// serviceEventDetails) are read from Raw with RawField when a rule needs
// them.
type Event struct {
	// ID is the stable event id: the CloudTrail eventID, or for a flow
	// record a hash of its content and the object it came from. Every write
	// downstream is idempotent on it.
	ID string
	// Source is the log family.
	Source Source
	// Time is the event time (CloudTrail eventTime, or a flow record's
	// start), in UTC. Windows in detect run on it, not on arrival time.
	Time time.Time
	// AccountID is the AWS account the event belongs to
	// (recipientAccountId for CloudTrail, account-id for flows).
	AccountID string
	// Region is the AWS region (awsRegion, or the flow's region field or
	// the object key's region).
	Region string

	// EventSource is the service endpoint (s3.amazonaws.com) or "vpcflow".
	EventSource string
	// EventName is the API action (GetObject) or, for flows, the action
	// (ACCEPT, REJECT) or log status (NODATA, SKIPDATA).
	EventName string
	// EventVersion is CloudTrail's eventVersion, kept as given; compare
	// with MajorVersion.
	EventVersion string
	// EventType is CloudTrail's eventType (AwsApiCall, AwsConsoleSignIn, ...).
	EventType string
	// EventCategory is CloudTrail's eventCategory (Management, Data, Insight).
	EventCategory string

	// PrincipalType is userIdentity.type (IAMUser, AssumedRole, Root,
	// AWSService, ...).
	PrincipalType string
	// Principal is the acting identity's ARN, or the best stable name when
	// there is no ARN (the invoking service, the principalId). It is the
	// partition key of CloudTrail events.
	Principal string
	// PrincipalID is userIdentity.principalId.
	PrincipalID string
	// AccessKeyID is userIdentity.accessKeyId.
	AccessKeyID string
	// SessionIssuer is the ARN of the role behind an assumed-role session
	// (userIdentity.sessionContext.sessionIssuer.arn).
	SessionIssuer string
	// UserName is userIdentity.userName, or the session issuer's name.
	UserName string
	// MFA reports sessionContext.attributes.mfaAuthenticated.
	MFA Tristate

	// SourceIP is sourceIPAddress for CloudTrail (which may be a service
	// name such as "s3.amazonaws.com"), or srcaddr for flows.
	SourceIP string
	// UserAgent is userAgent.
	UserAgent string
	// ErrorCode and ErrorMessage are CloudTrail's errorCode and errorMessage.
	ErrorCode    string
	ErrorMessage string
	// ReadOnly is CloudTrail's readOnly flag.
	ReadOnly Tristate
	// RequestID is CloudTrail's requestID.
	RequestID string
	// Resources lists CloudTrail's resources array.
	Resources []Resource

	// Flow holds the typed fields of a VPC flow record; nil for CloudTrail.
	Flow *Flow

	// Object names the S3 object the event was read from.
	Object ObjectRef
	// IngestTime is when the ingest worker decoded the event.
	IngestTime time.Time

	// Raw is the original record, byte for byte.
	Raw []byte

	// Enrichment is added by the enrich stage; nil on the events topic.
	Enrichment *Enrichment
}

// Resource is one entry of CloudTrail's resources array.
type Resource struct {
	ARN       string
	Type      string
	AccountID string
}

// ObjectRef names the object an event was read from, and the event's place
// in it.
type ObjectRef struct {
	Bucket string
	Key    string
	// Index is the record's position in the object, from zero.
	Index uint32
}

// Flow is a VPC flow log record, with every field of versions 2 to 8.
// Absent fields ("-" in the file, or not in the file's format) are zero;
// the Has* bits tell zero from absent where zero is a real value.
type Flow struct {
	Version     uint8
	InterfaceID string
	SrcAddr     string
	DstAddr     string
	SrcPort     uint16
	DstPort     uint16
	Protocol    uint8
	Packets     uint64
	Bytes       uint64
	Start       time.Time
	End         time.Time
	Action      string // ACCEPT, REJECT
	LogStatus   string // OK, NODATA, SKIPDATA
	// Version 3 and later.
	VpcID      string
	SubnetID   string
	InstanceID string
	TCPFlags   uint16
	Type       string // IPv4, IPv6, EFA
	PktSrcAddr string
	PktDstAddr string
	// Version 4 and later.
	Region          string
	AZID            string
	SublocationType string
	SublocationID   string
	// Version 5 and later.
	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    string // ingress, egress
	TrafficPath      uint8
	// Version 7 and later (ECS).
	ECSClusterARN           string
	ECSClusterName          string
	ECSContainerInstanceARN string
	ECSContainerInstanceID  string
	ECSContainerID          string
	ECSSecondContainerID    string
	ECSServiceName          string
	ECSTaskDefinitionARN    string
	ECSTaskARN              string
	ECSTaskID               string
	// Version 8 and later.
	RejectReason string
	// HasPorts is set when both ports were present (0 is a valid port).
	HasPorts bool
	// HasProtocol is set when the protocol was present (0 is HOPOPT).
	HasProtocol bool
}

// Enrichment is the context the enrich stage adds to an event.
type Enrichment struct {
	// AccountName is the account's name from AWS Organizations.
	AccountName string
	// ActorARN is the identity really behind the event: for an
	// assumed-role session, the principal that assumed the role (followed
	// through AssumeRole chains), else Principal.
	ActorARN string
	// SessionName is the assumed-role session name.
	SessionName string
	// SourceIdentity is the sts:SourceIdentity carried by the session.
	SourceIdentity string
	// Geo is the location of SourceIP (CloudTrail) or SrcAddr (flows).
	Geo Geo
	// DstGeo is the location of a flow's DstAddr; zero for CloudTrail.
	DstGeo Geo
}

// Geo is where an address is and who routes it.
type Geo struct {
	CountryCode string // ISO 3166-1 alpha-2
	City        string
	Latitude    float64 // degrees; 0 with CountryCode "" means unknown
	Longitude   float64
	ASN         uint32
	ASOrg       string
}
