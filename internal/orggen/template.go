package orggen

import (
	"fmt"
	"strings"
)

// A template is a JSON (or user-agent) text with {{var}} holes, compiled
// once into literal/variable segments so that rendering an event is a
// series of appends. Each variable is resolved at most once per event
// (see call.appendVar), so {{bucket}} in requestParameters and in
// resources name the same bucket.

// tvar names a template variable.
type tvar uint8

// Template variables. The comment is what the variable renders.
const (
	vNone           tvar = iota
	vAcct                // recipient account id
	vRegion              // event region
	vHomeRegion          // the organisation's home region
	vMgmt                // management account id
	vOrgID               // o-xxxxxxxxxx
	vTrailBucket         // the organisation trail's bucket
	vTrailARN            // the organisation trail's ARN
	vLocalTrail          // the account's own trail ARN
	vBucket              // a bucket of the account
	vObjKey              // an object key
	vTrailKey            // a CloudTrail log object key in the trail bucket
	vKMSKey              // a KMS key id of the account and region
	vInstance            // i-...
	vVPC                 // vpc-...
	vSubnet              // subnet-...
	vSG                  // sg-...
	vAMI                 // ami-...
	vVolume              // vol-...
	vFlowLog             // fl-... of the account and region
	vFunction            // a Lambda function name
	vTable               // a DynamoDB table
	vSecret              // a secret name with its random suffix
	vParam               // an SSM parameter name
	vLogGroup            // a log group name
	vCluster             // an ECS/EKS cluster name
	vDB                  // an RDS instance identifier
	vRepo                // an ECR repository
	vStack               // a CloudFormation stack
	vUser                // an IAM user name of the account
	vRoleName            // an IAM role name of the account
	vUUID                // a fresh UUID
	vUUID2               // another fresh UUID
	vHex8                // 8 random hex digits
	vHex17               // 16 random hex digits, after the 0 of a 17-digit EC2 id
	vHex32               // 32 random hex digits
	vXID2                // an S3 x-amz-id-2
	vB64                 // 44 base64 characters (a SHA-256)
	vNum                 // a byte count
	vSmall               // a small count
	vTime                // event time, ISO 8601
	vMillis              // event time, epoch milliseconds
	vMillisAgo           // an hour before the event, epoch milliseconds
	vDate                // event date, YYYY/MM/DD
	vCallerARN           // the caller's ARN
	vCallerID            // the caller's principal id
	vCallerName          // the caller's user or session name
	vTargetRoleARN       // AssumeRole*: the role's ARN
	vTargetRoleID        // AssumeRole*: the role's AROA id
	vTargetSession       // AssumeRole*: the role session name
	vTargetKey           // AssumeRole*: the new session's access key id
	vTargetToken         // AssumeRole*: the new session token
	vTargetExpiry        // AssumeRole*: expiration, "Jun 1, 2026, 2:04:05 PM"
	vTargetAssumed       // AssumeRole*: the assumed-role ARN
	vTargetAcct          // AssumeRole*: the role's account
	vTargetDuration      // AssumeRole*: session duration in seconds
	vSAMLProvider        // the account's IAM Identity Center SAML provider ARN
	vSAMLIssuer          // the Identity Center instance id
	vSvc                 // the API's SDK service id (user agents)
	vCmd                 // the API's CLI command (user agents)
	nVars
)

var varNames = [nVars]string{
	"", "acct", "region", "homeregion", "mgmt", "orgid", "trailbucket", "trailarn", "localtrail",
	"bucket", "objkey", "trailkey", "kmskey", "instance", "vpc", "subnet", "sg", "ami", "volume", "flowlog",
	"function", "table", "secret", "param", "loggroup", "cluster", "db", "repo", "stack", "user",
	"rolename", "uuid", "uuid2", "hex8", "hex17", "hex32", "xid2", "b64", "num", "small", "time",
	"millis", "millisago", "date", "callerarn", "callerid", "callername", "trolearn", "troleid",
	"tsession", "tkey", "ttoken", "texpiry", "tassumed", "tacct", "tduration", "samlprovider",
	"samlissuer", "svc", "cmd",
}

// segment is a literal followed by an optional variable.
type segment struct {
	lit string
	v   tvar
}

// template is a compiled template; nil renders nothing.
type template []segment

// compileTemplate splits s at its {{var}} holes.
func compileTemplate(s string) (template, error) {
	if s == "" {
		return nil, nil
	}
	var t template
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return append(t, segment{lit: s}), nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unterminated {{ in %q", s)
		}
		name := s[i+2 : i+j]
		v := vNone
		for k, n := range varNames {
			if n == name && k != 0 {
				v = tvar(k)
			}
		}
		if v == vNone {
			return nil, fmt.Errorf("unknown template variable %q", name)
		}
		t = append(t, segment{lit: s[:i], v: v})
		s = s[i+j+2:]
	}
}
