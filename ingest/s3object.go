package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/schemas"
)

// ObjectGetter is the one S3 call ingest makes. *s3.Client satisfies it.
// It is called concurrently from the worker's fetch goroutines.
type ObjectGetter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ ObjectGetter = (*s3.Client)(nil)

// classifyS3 is the one place that decides whether an S3 error is worth
// retrying. Permanent errors return a dead-letter reason; retryable ones
// (throttling, 5xx, network) return "".
func classifyS3(err error) (reason string) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchVersion":
			return ReasonObjectMissing
		case "AccessDenied", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return ReasonAccessDenied
		case "PreconditionFailed", "InvalidObjectState", "InvalidRange", "MethodNotAllowed":
			// The object changed under us (a newer version has its own
			// notification) or cannot be read at all (archived).
			return ReasonS3Error
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		switch respErr.HTTPStatusCode() {
		case http.StatusNotFound:
			return ReasonObjectMissing
		case http.StatusForbidden:
			return ReasonAccessDenied
		}
	}
	return ""
}

// S3Error is a failure to read an object from S3. Permanent errors (the
// object is gone, access is denied) carry a dead-letter Reason; a
// retryable one has Reason "".
type S3Error struct {
	Op     string
	Bucket string
	Key    string
	Reason string
	Err    error
}

// Error names the operation and the object.
func (e *S3Error) Error() string {
	return fmt.Sprintf("%s s3://%s/%s: %v", e.Op, e.Bucket, e.Key, e.Err)
}

// Unwrap returns the SDK's or the transport's error.
func (e *S3Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot help.
func (e *S3Error) Permanent() bool { return e.Reason != "" }

// objectReader streams one object's body. When the connection fails
// mid-body it re-requests the rest with a Range request pinned to the
// object's ETag, so a long read survives a dropped connection without
// starting over (which would re-emit the events already produced).
type objectReader struct {
	ctx        context.Context
	api        ObjectGetter
	obj        *schemas.Object
	etag       string
	body       io.ReadCloser
	off        int64
	resumes    int
	maxResumes int
}

// openObject starts reading obj. The returned error is an *S3Error.
func openObject(ctx context.Context, api ObjectGetter, obj *schemas.Object, maxResumes int) (*objectReader, error) {
	r := &objectReader{ctx: ctx, api: api, obj: obj, etag: obj.ETag, maxResumes: maxResumes}
	if err := r.get(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *objectReader) get() error {
	rng := ""
	if r.off > 0 {
		rng = "bytes=" + strconv.FormatInt(r.off, 10) + "-"
	}
	// A resumed read must continue the version it started; the first GET
	// takes whatever version is there.
	out, err := getObject(r.ctx, r.api, r.obj, rng, &r.etag, r.off > 0)
	if err != nil {
		return err
	}
	r.body = out.Body
	return nil
}

// getObject sends one GET of obj with rng as its Range ("" for none),
// If-Match *etag when ifMatch and *etag is known, and pins *etag to the
// answer's when it was not known, so later reads stay on that version.
// The error is an *S3Error carrying classifyS3's verdict.
func getObject(ctx context.Context, api ObjectGetter, obj *schemas.Object, rng string, etag *string, ifMatch bool) (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)}
	if obj.VersionID != "" {
		in.VersionId = aws.String(obj.VersionID)
	}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	if ifMatch && *etag != "" {
		in.IfMatch = aws.String(*etag)
	}
	out, err := api.GetObject(ctx, in)
	if err != nil {
		return nil, &S3Error{Op: "get", Bucket: obj.Bucket, Key: obj.Key, Reason: classifyS3(err), Err: err}
	}
	if *etag == "" && out.ETag != nil {
		*etag = *out.ETag
	}
	return out, nil
}

func (r *objectReader) Read(p []byte) (int, error) {
	for {
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil || errors.Is(err, io.EOF) || n > 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				// Return the bytes now; the error comes back on the next
				// read, when it is handled below.
				return n, nil
			}
			return n, err
		}
		if r.ctx.Err() != nil || !resumable(err) || r.resumes >= r.maxResumes {
			return 0, &S3Error{Op: "read", Bucket: r.obj.Bucket, Key: r.obj.Key, Err: err}
		}
		r.resumes++
		_ = r.body.Close()
		if gerr := r.get(); gerr != nil {
			return 0, gerr
		}
	}
}

// resumable reports whether a body read error is a transport failure worth
// resuming after.
func resumable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrBodyReadAfterClose)
}

// Close releases the connection.
func (r *objectReader) Close() error {
	if r.body == nil {
		return nil
	}
	return r.body.Close()
}
