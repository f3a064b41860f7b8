package orggen

import (
	"fmt"
	"strings"
)

// api is a compiled apiDef.
type api struct {
	key       string
	source    string // eventSource: ec2.amazonaws.com
	name      string // eventName
	ro        bool
	global    bool
	data      bool
	version   string // eventVersion
	eventType string // AwsApiCall or AwsConsoleSignIn
	// s3 APIs use 16-character request ids, and S3 and KMS calls can go
	// through a VPC endpoint.
	s3, viaEndpoint bool
	// action is the IAM action, for AccessDenied messages.
	action                string
	req, resp, res, add   template
	host                  template
	nfCode                string
	nfMsg                 template
	denyCode, denyMessage string // service-specific AccessDenied
	sdkID, cliCmd         string
}

// catalog is the compiled API catalogue, looked up by key.
type catalog struct {
	apis  []*api
	byKey map[string]*api
}

// sdkIDs maps a service prefix to the service id SDK user agents carry,
// where they differ.
var sdkIDs = map[string]string{
	"monitoring": "cloudwatch", "logs": "cloudwatchlogs", "elasticloadbalancing": "elasticloadbalancingv2",
	"ce": "costexplorer", "signin": "signin", "access-analyzer": "accessanalyzer",
}

// cliNames maps a service prefix to its aws-cli command group, where they
// differ.
var cliNames = map[string]string{"s3": "s3api", "monitoring": "cloudwatch", "elasticloadbalancing": "elbv2", "access-analyzer": "accessanalyzer"}

// newCatalog compiles apiDefs.
func newCatalog(defs []apiDef) (*catalog, error) {
	c := &catalog{byKey: make(map[string]*api, len(defs))}
	for _, d := range defs {
		a, err := compileAPI(d)
		if err != nil {
			return nil, fmt.Errorf("compile api %s: %w", d.key, err)
		}
		if _, dup := c.byKey[d.key]; dup {
			return nil, fmt.Errorf("compile api %s: duplicate key", d.key)
		}
		c.apis = append(c.apis, a)
		c.byKey[d.key] = a
	}
	return c, nil
}

// get returns the API with key; the generator's own tables only name keys
// that exist, which the catalogue tests check.
func (c *catalog) get(key string) (*api, error) {
	a, ok := c.byKey[key]
	if !ok {
		return nil, fmt.Errorf("unknown api %q", key)
	}
	return a, nil
}

func compileAPI(d apiDef) (*api, error) {
	svcName, rest, ok := strings.Cut(d.key, ":")
	if !ok {
		return nil, fmt.Errorf("key is not service:Name")
	}
	name, _, _ := strings.Cut(rest, "#")
	a := &api{
		key: d.key, source: svcName + ".amazonaws.com", name: name,
		ro: d.ro, global: d.global, data: d.data,
		version: "1.09", eventType: "AwsApiCall",
		s3: svcName == "s3", viaEndpoint: svcName == "s3" || svcName == "kms",
	}
	switch svcName {
	case "iam", "sts", "organizations", "signin":
		a.version = "1.08"
	}
	if name == "ConsoleLogin" {
		a.eventType = "AwsConsoleSignIn"
	}
	base := trimAPIVersion(name)
	prefix := svcName
	if prefix == "monitoring" {
		prefix = "cloudwatch"
	}
	a.action = prefix + ":" + base
	a.sdkID = svcName
	if id, ok := sdkIDs[svcName]; ok {
		a.sdkID = id
	}
	cli := svcName
	if n, ok := cliNames[svcName]; ok {
		cli = n
	}
	a.cliCmd = cli + "." + kebab(base)
	switch {
	case svcName == "s3":
		a.denyCode, a.denyMessage = "AccessDenied", "Access Denied"
	case svcName == "ec2":
		a.denyCode = "Client.UnauthorizedOperation"
	default:
		a.denyCode = "AccessDenied"
	}
	host := svcName + ".{{region}}.amazonaws.com"
	switch {
	case d.global:
		host = svcName + ".amazonaws.com"
	case svcName == "s3" && strings.Contains(d.req, "{{trailbucket}}"):
		host = "{{trailbucket}}.s3.{{region}}.amazonaws.com"
	case svcName == "s3" && strings.Contains(d.req, "{{bucket}}"):
		host = "{{bucket}}.s3.{{region}}.amazonaws.com"
	case svcName == "s3":
		host = "s3.amazonaws.com"
	}
	var err error
	for _, f := range []struct {
		dst *template
		src string
	}{{&a.req, d.req}, {&a.resp, d.resp}, {&a.res, d.res}, {&a.add, d.add}, {&a.host, host}} {
		if *f.dst, err = compileTemplate(f.src); err != nil {
			return nil, err
		}
	}
	if d.nf != "" {
		code, msg, _ := strings.Cut(d.nf, "|")
		a.nfCode = code
		if a.nfMsg, err = compileTemplate(msg); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// trimAPIVersion drops the version suffix some services put on event
// names: ListFunctions20150331 -> ListFunctions, GetFunction20150331v2 ->
// GetFunction.
func trimAPIVersion(name string) string {
	i := len(name)
	for i > 0 && (name[i-1] >= '0' && name[i-1] <= '9' || name[i-1] == 'v') {
		i--
	}
	if len(name)-i >= 8 {
		return name[:i]
	}
	return name
}

// kebab turns an API name into its CLI form: DescribeInstances ->
// describe-instances, DescribeDBInstances -> describe-db-instances.
func kebab(s string) string {
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			prevLower := i > 0 && !isUpper(s[i-1])
			nextLower := i > 0 && i+1 < len(s) && !isUpper(s[i+1]) && isUpper(s[i-1])
			if prevLower || nextLower {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
