package orggen

// apiDef describes one API call as CloudTrail records it. Templates use
// {{var}} holes (see template.go); an empty req or resp renders as null,
// which is what CloudTrail writes for most read-only calls.
type apiDef struct {
	// key is "service:EventName", with an optional "#variant" when one
	// API appears with different parameters (a role that always reads the
	// same bucket).
	key    string
	ro     bool
	global bool // logged in us-east-1 whatever the caller's region
	data   bool // a data event (eventCategory Data, managementEvent false)
	req    string
	resp   string
	res    string // resources array
	add    string // additionalEventData object
	// nf is the API's "not found" error as "Code|message"; empty when
	// the API has none.
	nf string
}

const (
	s3Add         = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{{xid2}}","bytesTransferredOut":{{num}}}`
	s3AddPut      = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":{{num}},"SSEApplied":"Default_SSE_S3","AuthenticationMethod":"AuthHeader","x-amz-id-2":"{{xid2}}","bytesTransferredOut":0}`
	s3BucketReq   = `{"bucketName":"{{bucket}}","Host":"{{bucket}}.s3.{{region}}.amazonaws.com"`
	s3BucketRes   = `[{"accountId":"{{acct}}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{{bucket}}"}]`
	s3ObjectRes   = `[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{{bucket}}/{{objkey}}"},{"accountId":"{{acct}}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{{bucket}}"}]`
	trailReq      = `{"bucketName":"{{trailbucket}}","Host":"{{trailbucket}}.s3.{{region}}.amazonaws.com"`
	aclGrants     = `"AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"xsi:type":"CanonicalUser","xmlns:xsi":"http://www.w3.org/2001/XMLSchema-instance","ID":"{{hex32}}{{hex32}}"},"Permission":"FULL_CONTROL"},{"Grantee":{"xsi:type":"Group","xmlns:xsi":"http://www.w3.org/2001/XMLSchema-instance","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}]},"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","Owner":{"ID":"{{hex32}}{{hex32}}"}}`
	trailRes      = `[{"accountId":"{{acct}}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{{trailbucket}}"}]`
	trailObjRes   = `[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{{trailbucket}}/{{trailkey}}"},{"accountId":"{{acct}}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{{trailbucket}}"}]`
	kmsRes        = `[{"accountId":"{{acct}}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:{{region}}:{{acct}}:key/{{kmskey}}"}]`
	roleRes       = `[{"accountId":"{{tacct}}","type":"AWS::IAM::Role","ARN":"{{trolearn}}"}]`
	s3NoSuchKey   = "NoSuchKey|The specified key does not exist."
	iamNoSuchRole = "NoSuchEntity|The role with name {{rolename}} cannot be found."
	loginTo       = "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_{{homeregion}}_{{hex8}}{{hex8}}"
	credsResp     = `{"credentials":{"accessKeyId":"{{tkey}}","sessionToken":"{{ttoken}}","expiration":"{{texpiry}}"},"assumedRoleUser":{"assumedRoleId":"{{troleid}}:{{tsession}}","arn":"{{tassumed}}"}`
)

// apiDefs is the catalogue of calls the generator knows. Identities name
// the calls they make by key (see profiles in org.go).
var apiDefs = []apiDef{
	// EC2.
	{key: "ec2:DescribeInstances", ro: true, req: `{"instancesSet":{},"filterSet":{},"maxResults":1000}`},
	{key: "ec2:DescribeInstances#one", ro: true, req: `{"instancesSet":{"items":[{"instanceId":"{{instance}}"}]},"filterSet":{}}`, nf: "Client.InvalidInstanceID.NotFound|The instance ID '{{instance}}' does not exist"},
	{key: "ec2:DescribeInstanceStatus", ro: true, req: `{"instancesSet":{},"filterSet":{},"includeAllInstances":false}`},
	{key: "ec2:DescribeSecurityGroups", ro: true, req: `{"securityGroupSet":{},"securityGroupIdSet":{},"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"{{vpc}}"}]}}]}}`},
	{key: "ec2:DescribeVpcs", ro: true, req: `{"vpcSet":{},"filterSet":{}}`},
	{key: "ec2:DescribeSubnets", ro: true, req: `{"subnetSet":{},"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"{{vpc}}"}]}}]}}`},
	{key: "ec2:DescribeVolumes", ro: true, req: `{"volumeSet":{},"filterSet":{},"maxResults":500}`},
	{key: "ec2:DescribeSnapshots", ro: true, req: `{"snapshotSet":{},"ownersSet":{"items":[{"owner":"self"}]},"sharedUsersSet":{},"filterSet":{}}`},
	{key: "ec2:DescribeImages", ro: true, req: `{"executableBySet":{},"imagesSet":{"items":[{"imageId":"{{ami}}"}]},"ownersSet":{},"filterSet":{}}`},
	{key: "ec2:DescribeNetworkInterfaces", ro: true, req: `{"networkInterfaceIdSet":{},"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"{{vpc}}"}]}}]}}`},
	{key: "ec2:DescribeAvailabilityZones", ro: true, req: `{"availabilityZoneSet":{},"availabilityZoneIdSet":{}}`},
	{key: "ec2:DescribeRegions", ro: true, req: `{"regionSet":{},"allRegions":false}`},
	{key: "ec2:DescribeTags", ro: true, req: `{"filterSet":{"items":[{"name":"resource-id","valueSet":{"items":[{"value":"{{instance}}"}]}}]}}`},
	{key: "ec2:DescribeFlowLogs", ro: true, req: `{"DescribeFlowLogsRequest":{"MaxResults":1000}}`},
	{key: "ec2:CreateTags", req: `{"resourcesSet":{"items":[{"resourceId":"{{instance}}"}]},"tagSet":{"items":[{"key":"Owner","value":"platform"},{"key":"CostCenter","value":"cc-{{small}}"}]}}`, resp: `{"requestId":"{{uuid}}","_return":true}`},
	{key: "ec2:StopInstances", req: `{"instancesSet":{"items":[{"instanceId":"{{instance}}"}]},"force":false}`, resp: `{"requestId":"{{uuid}}","instancesSet":{"items":[{"instanceId":"{{instance}}","currentState":{"code":64,"name":"stopping"},"previousState":{"code":16,"name":"running"}}]}}`, nf: "Client.InvalidInstanceID.NotFound|The instance ID '{{instance}}' does not exist"},
	{key: "ec2:StartInstances", req: `{"instancesSet":{"items":[{"instanceId":"{{instance}}"}]}}`, resp: `{"requestId":"{{uuid}}","instancesSet":{"items":[{"instanceId":"{{instance}}","currentState":{"code":0,"name":"pending"},"previousState":{"code":80,"name":"stopped"}}]}}`, nf: "Client.InvalidInstanceID.NotFound|The instance ID '{{instance}}' does not exist"},
	{key: "ec2:RunInstances", req: `{"instancesSet":{"items":[{"imageId":"{{ami}}","minCount":1,"maxCount":1}]},"instanceType":"m7g.large","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"{{uuid2}}","subnetId":"{{subnet}}","networkInterfaceSet":{},"iamInstanceProfile":{"name":"{{rolename}}"},"metadataOptions":{"httpTokens":"required","httpPutResponseHopLimit":2}}`, resp: `{"requestId":"{{uuid}}","reservationId":"r-0{{hex17}}","ownerId":"{{acct}}","groupSet":{},"instancesSet":{"items":[{"instanceId":"{{instance}}","imageId":"{{ami}}","currentInstanceBootMode":"uefi","instanceState":{"code":0,"name":"pending"},"privateDnsName":"ip-10-0-{{small}}-17.{{region}}.compute.internal","amiLaunchIndex":0,"productCodes":{},"instanceType":"m7g.large","launchTime":{{millis}},"subnetId":"{{subnet}}","vpcId":"{{vpc}}","architecture":"arm64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{},"virtualizationType":"hvm","clientToken":"{{uuid2}}","hypervisor":"xen","networkInterfaceSet":{},"ebsOptimized":true,"enaSupport":true}]}}`},
	{key: "ec2:AuthorizeSecurityGroupIngress", req: `{"groupId":"{{sg}}","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"groups":{},"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`, resp: `{"requestId":"{{uuid}}","_return":true,"securityGroupRuleSet":{"items":[{"groupOwnerId":"{{acct}}","groupId":"{{sg}}","securityGroupRuleId":"sgr-0{{hex17}}","isEgress":false,"ipProtocol":"tcp","fromPort":443,"toPort":443,"cidrIpv4":"10.0.0.0/8"}]}}`, nf: "Client.InvalidGroup.NotFound|The security group '{{sg}}' does not exist"},
	{key: "ec2:DeleteFlowLogs", req: `{"DeleteFlowLogsRequest":{"FlowLogId":{"content":"{{flowlog}}","tag":1}}}`, resp: `{"DeleteFlowLogsResponse":{"xmlns":"http://ec2.amazonaws.com/doc/2016-11-15/","requestId":"{{uuid}}","unsuccessful":""}}`},

	// S3 management events.
	{key: "s3:ListBuckets", ro: true, req: `{"Host":"s3.amazonaws.com"}`, add: s3Add},
	{key: "s3:GetBucketAcl", ro: true, req: s3BucketReq + `,"acl":""}`, add: s3Add, res: s3BucketRes},
	{key: "s3:GetBucketAcl#trail", ro: true, req: `{"bucketName":"{{trailbucket}}","Host":"{{trailbucket}}.s3.{{region}}.amazonaws.com","acl":""}`, add: s3Add, res: trailRes},
	{key: "s3:GetBucketPolicy", ro: true, req: s3BucketReq + `,"policy":""}`, add: s3Add, res: s3BucketRes, nf: "NoSuchBucketPolicy|The bucket policy does not exist"},
	{key: "s3:GetBucketLocation", ro: true, req: s3BucketReq + `,"location":""}`, add: s3Add, res: s3BucketRes},
	{key: "s3:GetBucketVersioning", ro: true, req: s3BucketReq + `,"versioning":""}`, add: s3Add, res: s3BucketRes},
	{key: "s3:GetBucketEncryption", ro: true, req: s3BucketReq + `,"encryption":""}`, add: s3Add, res: s3BucketRes},
	{key: "s3:GetBucketPublicAccessBlock", ro: true, req: s3BucketReq + `,"publicAccessBlock":""}`, add: s3Add, res: s3BucketRes, nf: "NoSuchPublicAccessBlockConfiguration|The public access block configuration was not found"},
	{key: "s3:PutBucketPolicy", req: s3BucketReq + `,"bucketPolicy":{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{{bucket}}","arn:aws:s3:::{{bucket}}/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]},"policy":""}`, add: s3AddPut, res: s3BucketRes},
	// The organisation trail's bucket, as the exposure scenario touches it.
	{key: "s3:GetBucketPolicy#trail", ro: true, req: trailReq + `,"policy":""}`, add: s3Add, res: trailRes},
	{key: "s3:DeleteBucketPublicAccessBlock#trail", req: trailReq + `,"publicAccessBlock":""}`, add: s3Add, res: trailRes},
	{key: "s3:PutBucketPolicy#public", req: trailReq + `,"bucketPolicy":{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::{{trailbucket}}"},{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::{{trailbucket}}/AWSLogs/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}},{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::{{trailbucket}}","arn:aws:s3:::{{trailbucket}}/*"]}]},"policy":""}`, add: s3AddPut, res: trailRes},
	{key: "s3:PutBucketAcl#public", req: trailReq + `,"acl":"",` + aclGrants + `}`, add: s3AddPut, res: trailRes},
	{key: "s3:GetObject#trail", ro: true, data: true, req: trailReq + `,"key":"{{trailkey}}"}`, add: s3Add, res: trailObjRes},

	// S3 data events.
	{key: "s3:GetObject", ro: true, data: true, req: s3BucketReq + `,"key":"{{objkey}}"}`, add: s3Add, res: s3ObjectRes, nf: s3NoSuchKey},
	{key: "s3:HeadObject", ro: true, data: true, req: s3BucketReq + `,"key":"{{objkey}}"}`, add: s3Add, res: s3ObjectRes, nf: s3NoSuchKey},
	{key: "s3:PutObject", data: true, req: s3BucketReq + `,"key":"{{objkey}}","x-amz-server-side-encryption":"AES256"}`, resp: `{"x-amz-server-side-encryption":"AES256"}`, add: s3AddPut, res: s3ObjectRes},
	{key: "s3:DeleteObject", data: true, req: s3BucketReq + `,"key":"{{objkey}}"}`, add: s3Add, res: s3ObjectRes},
	{key: "s3:ListObjects", ro: true, data: true, req: s3BucketReq + `,"list-type":"2","prefix":"","delimiter":"/","encoding-type":"url"}`, add: s3Add, res: s3BucketRes},

	// KMS.
	{key: "kms:Decrypt", ro: true, req: `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::{{bucket}}/{{objkey}}"}}`, res: kmsRes},
	{key: "kms:GenerateDataKey", ro: true, req: `{"keyId":"arn:aws:kms:{{region}}:{{acct}}:key/{{kmskey}}","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::{{bucket}}/{{objkey}}"}}`, res: kmsRes},
	{key: "kms:GenerateDataKey#trail", ro: true, req: `{"keyId":"arn:aws:kms:{{region}}:{{acct}}:key/{{kmskey}}","encryptionContext":{"aws:cloudtrail:arn":"{{trailarn}}","aws:s3:arn":"arn:aws:s3:::{{trailbucket}}/{{objkey}}"},"keySpec":"AES_256"}`, res: kmsRes},
	{key: "kms:DescribeKey", ro: true, req: `{"keyId":"{{kmskey}}"}`, res: kmsRes, nf: "NotFoundException|Key 'arn:aws:kms:{{region}}:{{acct}}:key/{{kmskey}}' does not exist"},
	{key: "kms:ListAliases", ro: true},

	// STS. AssumeRole and AssumeRoleWithSAML are rendered for the session
	// they create (the t* variables).
	{key: "sts:GetCallerIdentity", ro: true, resp: `{"userId":"{{callerid}}","account":"{{acct}}","arn":"{{callerarn}}"}`},
	{key: "sts:AssumeRole", ro: true, req: `{"roleArn":"{{trolearn}}","roleSessionName":"{{tsession}}","durationSeconds":{{tduration}}}`, resp: credsResp + `}`, res: roleRes},
	{key: "sts:AssumeRoleWithSAML", ro: true, req: `{"sAMLAssertionID":"_{{uuid2}}","roleSessionName":"{{tsession}}","principalTags":{"Email":"{{tsession}}"},"durationSeconds":{{tduration}},"roleArn":"{{trolearn}}","principalArn":"{{samlprovider}}"}`, resp: credsResp + `,"subject":"{{tsession}}","subjectType":"persistent","issuer":"https://portal.sso.{{homeregion}}.amazonaws.com/saml/assertion/{{samlissuer}}","audience":"https://signin.aws.amazon.com/saml","nameQualifier":"{{b64}}"}`, res: roleRes},
	// ConsoleLogin comes as a success with and without MFA, and a failure
	// (whose errorMessage the scenario or session sets).
	{key: "signin:ConsoleLogin", global: true, resp: `{"ConsoleLogin":"Success"}`, add: `{"LoginTo":"` + loginTo + `","MobileVersion":"No","MFAIdentifier":"arn:aws:iam::{{acct}}:mfa/{{callername}}","MFAUsed":"Yes"}`},
	{key: "signin:ConsoleLogin#nomfa", global: true, resp: `{"ConsoleLogin":"Success"}`, add: `{"LoginTo":"` + loginTo + `","MobileVersion":"No","MFAUsed":"No"}`},
	{key: "signin:ConsoleLogin#failure", global: true, resp: `{"ConsoleLogin":"Failure"}`, add: `{"LoginTo":"` + loginTo + `","MobileVersion":"No","MFAUsed":"No"}`},

	// IAM (global).
	{key: "iam:ListUsers", ro: true, global: true},
	{key: "iam:ListRoles", ro: true, global: true},
	{key: "iam:GetUser", ro: true, global: true, req: `{"userName":"{{user}}"}`, nf: "NoSuchEntity|The user with name {{user}} cannot be found."},
	{key: "iam:GetRole", ro: true, global: true, req: `{"roleName":"{{rolename}}"}`, nf: iamNoSuchRole},
	{key: "iam:ListAttachedRolePolicies", ro: true, global: true, req: `{"roleName":"{{rolename}}"}`, nf: iamNoSuchRole},
	{key: "iam:ListRolePolicies", ro: true, global: true, req: `{"roleName":"{{rolename}}"}`, nf: iamNoSuchRole},
	{key: "iam:GetPolicyVersion", ro: true, global: true, req: `{"policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess","versionId":"v{{small}}"}`},
	{key: "iam:ListAccessKeys", ro: true, global: true, req: `{"userName":"{{user}}"}`},
	{key: "iam:GetAccountSummary", ro: true, global: true},
	{key: "iam:ListMFADevices", ro: true, global: true, req: `{"userName":"{{user}}"}`},
	{key: "iam:GenerateCredentialReport", global: true},
	{key: "iam:CreateAccessKey", global: true, req: `{"userName":"{{user}}"}`, resp: `{"accessKey":{"accessKeyId":"{{tkey}}","status":"Active","userName":"{{user}}","createDate":"{{texpiry}}"}}`},
	{key: "iam:AttachRolePolicy", global: true, req: `{"roleName":"{{rolename}}","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`},
	{key: "iam:PutRolePolicy", global: true, req: `{"roleName":"{{rolename}}","policyName":"inline-s3-access","policyDocument":"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"arn:aws:s3:::{{bucket}}/*\"}]\n}"}`},

	// Lambda.
	{key: "lambda:ListFunctions20150331", ro: true},
	{key: "lambda:GetFunction20150331v2", ro: true, req: `{"functionName":"{{function}}"}`, nf: "ResourceNotFoundException|Function not found: arn:aws:lambda:{{region}}:{{acct}}:function:{{function}}"},
	{key: "lambda:UpdateFunctionCode20150331v2", req: `{"functionName":"{{function}}","publish":true,"dryRun":false}`, resp: `{"functionName":"{{function}}","functionArn":"arn:aws:lambda:{{region}}:{{acct}}:function:{{function}}","runtime":"python3.12","role":"arn:aws:iam::{{acct}}:role/{{function}}-role","handler":"app.handler","codeSize":{{num}},"description":"","timeout":30,"memorySize":512,"lastModified":"{{time}}","codeSha256":"{{b64}}","version":"{{small}}","tracingConfig":{"mode":"PassThrough"},"revisionId":"{{uuid}}","state":"Active","lastUpdateStatus":"InProgress","lastUpdateStatusReason":"The function is being created.","lastUpdateStatusReasonCode":"Creating","packageType":"Zip","architectures":["arm64"],"ephemeralStorage":{"size":512},"snapStart":{"applyOn":"None","optimizationStatus":"Off"},"runtimeVersionConfig":{"runtimeVersionArn":"arn:aws:lambda:{{region}}::runtime:{{hex32}}"},"loggingConfig":{"logFormat":"Text","logGroup":"/aws/lambda/{{function}}"}}`},

	// CloudWatch Logs and CloudWatch.
	{key: "logs:DescribeLogGroups", ro: true, req: `{"limit":50}`},
	{key: "logs:FilterLogEvents", ro: true, req: `{"logGroupName":"{{loggroup}}","startTime":{{millisago}},"endTime":{{millis}},"interleaved":true}`, nf: "ResourceNotFoundException|The specified log group does not exist."},
	{key: "logs:GetLogEvents", ro: true, req: `{"logGroupName":"{{loggroup}}","logStreamName":"{{date}}/[$LATEST]{{hex32}}","startFromHead":false}`, nf: "ResourceNotFoundException|The specified log stream does not exist."},
	{key: "logs:CreateLogStream", req: `{"logGroupName":"{{loggroup}}","logStreamName":"{{date}}/[$LATEST]{{hex32}}"}`},
	{key: "logs:DeleteLogGroup", req: `{"logGroupName":"{{loggroup}}"}`},
	{key: "monitoring:GetMetricData", ro: true, req: `{"metricDataQueries":[{"id":"m0","metricStat":{"metric":{"namespace":"AWS/EC2","metricName":"CPUUtilization","dimensions":[{"name":"InstanceId","value":"{{instance}}"}]},"period":300,"stat":"Average"},"returnData":true}],"startTime":"{{time}}","endTime":"{{time}}"}`},
	{key: "monitoring:DescribeAlarms", ro: true, req: `{"maxRecords":100}`},
	{key: "monitoring:GetMetricStatistics", ro: true, req: `{"namespace":"AWS/Lambda","metricName":"Errors","dimensions":[{"name":"FunctionName","value":"{{function}}"}],"startTime":"{{time}}","endTime":"{{time}}","period":60,"statistics":["Sum"]}`},

	// Data stores and secrets.
	{key: "dynamodb:DescribeTable", ro: true, req: `{"tableName":"{{table}}"}`, res: `[{"accountId":"{{acct}}","type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:{{region}}:{{acct}}:table/{{table}}"}]`, nf: "ResourceNotFoundException|Requested resource not found: Table: {{table}} not found"},
	{key: "dynamodb:ListTables", ro: true},
	{key: "secretsmanager:GetSecretValue", ro: true, req: `{"secretId":"arn:aws:secretsmanager:{{region}}:{{acct}}:secret:{{secret}}"}`, nf: "ResourceNotFoundException|Secrets Manager can't find the specified secret."},
	{key: "secretsmanager:ListSecrets", ro: true, req: `{"maxResults":100}`},
	{key: "secretsmanager:DescribeSecret", ro: true, req: `{"secretId":"{{secret}}"}`, nf: "ResourceNotFoundException|Secrets Manager can't find the specified secret."},
	{key: "ssm:GetParameter", ro: true, req: `{"name":"{{param}}","withDecryption":true}`, nf: "ParameterNotFound|"},
	{key: "ssm:GetParametersByPath", ro: true, req: `{"path":"/app/","recursive":true,"withDecryption":true}`},
	{key: "ssm:UpdateInstanceInformation", req: `{"instanceId":"{{instance}}","agentVersion":"3.3.40.0","agentName":"amazon-ssm-agent","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"10.0.{{small}}.25","computerName":"ip-10-0-{{small}}-25.{{region}}.compute.internal","agentStatus":"Active","availabilityZone":"{{region}}a","availabilityZoneId":"{{region}}-az1"}`},
	{key: "ssm:DescribeInstanceInformation", ro: true, req: `{"maxResults":50}`},
	{key: "rds:DescribeDBInstances", ro: true},
	{key: "rds:DescribeDBInstances#one", ro: true, req: `{"dBInstanceIdentifier":"{{db}}"}`, nf: "DBInstanceNotFound|DBInstance {{db}} not found."},

	// Containers, load balancers, stacks.
	{key: "ecr:GetAuthorizationToken", ro: true},
	{key: "ecr:DescribeRepositories", ro: true, req: `{"repositoryNames":["{{repo}}"]}`, nf: "RepositoryNotFoundException|The repository with name '{{repo}}' does not exist in the registry with id '{{acct}}'"},
	{key: "ecs:DescribeServices", ro: true, req: `{"cluster":"{{cluster}}","services":["{{function}}"]}`},
	{key: "ecs:ListClusters", ro: true},
	{key: "eks:DescribeCluster", ro: true, req: `{"name":"{{cluster}}"}`, nf: "ResourceNotFoundException|No cluster found for name: {{cluster}}."},
	{key: "elasticloadbalancing:DescribeLoadBalancers", ro: true},
	{key: "elasticloadbalancing:DescribeTargetHealth", ro: true, req: `{"targetGroupArn":"arn:aws:elasticloadbalancing:{{region}}:{{acct}}:targetgroup/{{cluster}}-tg/{{hex8}}{{hex8}}"}`},
	{key: "autoscaling:DescribeAutoScalingGroups", ro: true, req: `{"maxRecords":100}`},
	{key: "cloudformation:DescribeStacks", ro: true, req: `{"stackName":"{{stack}}"}`, nf: "ValidationError|Stack with id {{stack}} does not exist"},
	{key: "cloudformation:ListStacks", ro: true},

	// Audit and security services.
	{key: "cloudtrail:DescribeTrails", ro: true, req: `{"trailNameList":[],"includeShadowTrails":true}`},
	{key: "cloudtrail:GetTrailStatus", ro: true, req: `{"name":"{{trailarn}}"}`},
	{key: "cloudtrail:GetEventSelectors", ro: true, req: `{"trailName":"{{trailarn}}"}`},
	{key: "cloudtrail:LookupEvents", ro: true, req: `{"maxResults":50,"lookupAttributes":[{"attributeKey":"ReadOnly","attributeValue":"false"}]}`},
	{key: "cloudtrail:StopLogging", req: `{"name":"{{localtrail}}"}`, res: `[{"accountId":"{{acct}}","type":"AWS::CloudTrail::Trail","ARN":"{{localtrail}}"}]`},
	{key: "cloudtrail:UpdateTrail", req: `{"name":"{{localtrail}}","isMultiRegionTrail":false,"includeGlobalServiceEvents":false}`, resp: `{"name":"account-audit-trail","s3BucketName":"{{acct}}-audit-logs","includeGlobalServiceEvents":false,"isMultiRegionTrail":false,"trailARN":"{{localtrail}}","logFileValidationEnabled":false,"isOrganizationTrail":false}`, res: `[{"accountId":"{{acct}}","type":"AWS::CloudTrail::Trail","ARN":"{{localtrail}}"}]`},
	{key: "cloudtrail:PutEventSelectors", req: `{"trailName":"{{localtrail}}","eventSelectors":[{"readWriteType":"ReadOnly","includeManagementEvents":false,"dataResources":[],"excludeManagementEventSources":["kms.amazonaws.com","rdsdata.amazonaws.com"]}]}`, resp: `{"trailARN":"{{localtrail}}","eventSelectors":[{"readWriteType":"ReadOnly","includeManagementEvents":false,"dataResources":[],"excludeManagementEventSources":["kms.amazonaws.com","rdsdata.amazonaws.com"]}]}`, res: `[{"accountId":"{{acct}}","type":"AWS::CloudTrail::Trail","ARN":"{{localtrail}}"}]`},
	{key: "cloudtrail:DeleteTrail", req: `{"name":"{{localtrail}}"}`, res: `[{"accountId":"{{acct}}","type":"AWS::CloudTrail::Trail","ARN":"{{localtrail}}"}]`},
	{key: "config:PutEvaluations", req: `{"evaluations":[{"complianceResourceType":"AWS::S3::Bucket","complianceResourceId":"{{bucket}}","complianceType":"COMPLIANT","orderingTimestamp":"{{time}}"}],"resultToken":"{{b64}}","testMode":false}`, resp: `{"failedEvaluations":[]}`},
	{key: "config:DescribeConfigRules", ro: true},
	{key: "guardduty:ListDetectors", ro: true},
	{key: "guardduty:ListFindings", ro: true, req: `{"detectorId":"{{hex32}}","findingCriteria":{"criterion":{"service.archived":{"eq":["false"]}}},"maxResults":50}`},
	{key: "securityhub:GetFindings", ro: true, req: `{"filters":{"recordState":[{"value":"ACTIVE","comparison":"EQUALS"}]},"maxResults":100}`},
	{key: "access-analyzer:ListFindings", ro: true, req: `{"analyzerArn":"arn:aws:access-analyzer:{{region}}:{{acct}}:analyzer/org-analyzer","maxResults":50}`},

	// Organisation, billing, DNS, health (global).
	{key: "organizations:ListAccounts", ro: true, global: true},
	{key: "organizations:DescribeOrganization", ro: true, global: true},
	{key: "ce:GetCostAndUsage", ro: true, global: true, req: `{"timePeriod":{"start":"{{date}}","end":"{{date}}"},"granularity":"DAILY","metrics":["UnblendedCost"],"groupBy":[{"type":"DIMENSION","key":"SERVICE"}]}`},
	{key: "route53:ListHostedZones", ro: true, global: true},
	{key: "route53:ChangeResourceRecordSets", global: true, req: `{"hostedZoneId":"Z0{{hex8}}{{hex8}}","changeBatch":{"changes":[{"action":"UPSERT","resourceRecordSet":{"name":"{{function}}.internal.","type":"CNAME","tTL":60,"resourceRecords":[{"value":"{{cluster}}.{{region}}.elb.amazonaws.com"}]}}]}}`, resp: `{"changeInfo":{"id":"/change/C0{{hex8}}{{hex8}}","status":"PENDING","submittedAt":"{{texpiry}}"}}`},
	{key: "health:DescribeEventAggregates", ro: true, global: true, req: `{"aggregateField":"eventTypeCategory","filter":{"eventStatusCodes":["open","upcoming"]}}`},
}
