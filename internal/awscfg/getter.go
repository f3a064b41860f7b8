package awscfg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Getter reads S3 objects with a plain signed GET: Signature Version 4
// from the SDK's own signer over a synchronous HTTP/1.1 transport
// (syncTransport), without the SDK's per-request middleware stack. On the project's benchmark that
// stack cost about 175 µs of CPU per GetObject, which dominates when
// objects hold a few events, as most CloudTrail deliveries do.
//
// It covers what ingest needs: GetObject on a bucket and key, with
// VersionId, Range and If-Match, against AWS (virtual-hosted or path
// style, commercial, China and GovCloud partitions) or an S3-compatible
// endpoint. Errors are smithy.APIError values carrying S3's error code, as
// the SDK's are. Access points, S3 Express and FIPS endpoints are not
// covered: use the SDK client for them (ingest.s3_client: sdk).
//
// A Getter is safe for concurrent use.
type Getter struct {
	cfg       *Config
	creds     aws.CredentialsProvider
	signer    *v4.Signer
	client    *http.Client
	endpoint  *url.URL // nil: AWS
	pathStyle bool
}

// emptySHA256 is the payload hash of a request without a body.
var emptySHA256 = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

// Getter returns a Getter for c. maxConns bounds the connections kept
// open to the endpoint (use the number of objects read at once).
func (c *Config) Getter(ctx context.Context, maxConns int) (*Getter, error) {
	cfg, err := c.Load(ctx)
	if err != nil {
		return nil, err
	}
	g := &Getter{
		cfg:       c,
		creds:     cfg.Credentials,
		signer:    v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
		client:    &http.Client{Transport: newSyncTransport(stdTransport(maxConns), max(maxConns, 16))},
		pathStyle: c.PathStyle || c.Endpoint != "",
	}
	if c.Endpoint != "" {
		if g.endpoint, err = url.Parse(c.Endpoint); err != nil {
			return nil, fmt.Errorf("s3.endpoint: %w", err)
		}
	}
	return g, nil
}

// stdTransport is the net/http transport the Getter falls back to for
// requests through a proxy.
func stdTransport(maxConns int) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          max(maxConns, 16),
		MaxIdleConnsPerHost:   max(maxConns, 16),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		// Objects are gzip already; never let the transport ask for
		// (and transparently undo) another layer.
		DisableCompression: true,
	}
}

// objectURL returns the URL of bucket/key, its path segments escaped.
func (g *Getter) objectURL(bucket, key string) *url.URL {
	var u url.URL
	if g.endpoint != nil {
		u = *g.endpoint
	} else {
		suffix := "amazonaws.com"
		if strings.HasPrefix(g.cfg.Region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		u = url.URL{Scheme: "https", Host: "s3." + g.cfg.Region + "." + suffix}
	}
	escKey := escapePath(key)
	// Virtual-hosted style cannot carry dots in a bucket name over TLS.
	if g.pathStyle || strings.Contains(bucket, ".") {
		// Bucket names are DNS-safe: only the key needs escaping.
		base := strings.TrimSuffix(u.Path, "/")
		u.Path = base + "/" + bucket + "/" + key
		u.RawPath = base + "/" + bucket + "/" + escKey
	} else {
		u.Host = bucket + "." + u.Host
		u.Path = "/" + key
		u.RawPath = "/" + escKey
	}
	return &u
}

// escapePath escapes each segment of an object key the way SigV4 for S3
// expects (RFC 3986 unreserved characters kept, slashes kept).
func escapePath(key string) string {
	var b strings.Builder
	b.Grow(len(key) + 16)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// GetObject fetches in.Bucket/in.Key. Throttling, 5xx answers and network
// errors before the body are retried up to s3.max_attempts times with
// jittered exponential backoff; other errors are returned as
// smithy.APIError with S3's code (NoSuchKey, AccessDenied, ...).
func (g *Getter) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	u := g.objectURL(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if in.VersionId != nil {
		u.RawQuery = "versionId=" + url.QueryEscape(*in.VersionId)
	}
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err, retry := g.get(ctx, u, in)
		if err == nil || !retry || attempt >= g.cfg.MaxAttempts {
			return out, err
		}
		d := time.Duration(rand.Int64N(int64(backoff))) + backoff/2
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
		backoff = min(2*backoff, g.cfg.MaxBackoff)
	}
}

func (g *Getter) get(ctx context.Context, u *url.URL, in *s3.GetObjectInput) (*s3.GetObjectOutput, error, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("get object: %w", err), false
	}
	if in.Range != nil {
		req.Header.Set("Range", *in.Range)
	}
	if in.IfMatch != nil {
		req.Header.Set("If-Match", *in.IfMatch)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	creds, err := g.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("get object: retrieve credentials: %w", err), false
	}
	if err := g.signer.SignHTTP(ctx, creds, req, emptySHA256, "s3", g.cfg.Region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("get object: sign: %w", err), false
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get object: %w", err), ctx.Err() == nil
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent {
		out := &s3.GetObjectOutput{Body: resp.Body, ContentLength: aws.Int64(resp.ContentLength)}
		if etag := resp.Header.Get("ETag"); etag != "" {
			out.ETag = aws.String(etag)
		}
		if v := resp.Header.Get("X-Amz-Version-Id"); v != "" {
			out.VersionId = aws.String(v)
		}
		if v := resp.Header.Get("Content-Range"); v != "" {
			out.ContentRange = aws.String(v)
		}
		return out, nil, false
	}
	defer resp.Body.Close()
	apiErr := responseError(resp)
	retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || apiErr.Code == "SlowDown"
	return nil, fmt.Errorf("get object: %w", apiErr), retry
}

// responseError reads S3's XML error body into a smithy.GenericAPIError.
func responseError(resp *http.Response) *smithy.GenericAPIError {
	var body struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = xml.Unmarshal(b, &body)
	if body.Code == "" {
		// HEAD-like answers and some proxies send no body.
		switch resp.StatusCode {
		case http.StatusNotFound:
			body.Code = "NotFound"
		case http.StatusForbidden:
			body.Code = "Forbidden"
		case http.StatusPreconditionFailed:
			body.Code = "PreconditionFailed"
		default:
			body.Code = "HTTP" + strconv.Itoa(resp.StatusCode)
		}
	}
	fault := smithy.FaultServer
	if resp.StatusCode < 500 {
		fault = smithy.FaultClient
	}
	return &smithy.GenericAPIError{Code: body.Code, Message: body.Message, Fault: fault}
}
