package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/schemas"
)

// s3ReadAheadBytes is the least an s3ReaderAt asks S3 for. A Parquet
// reader starts with small reads at the end of the object (the footer's
// length, then the footer); one request of this size serves them, and a
// whole small object.
const s3ReadAheadBytes = 256 << 10

// s3ReaderAt reads one S3 object at any offset, with ranged GETs pinned to
// the ETag of the first answer (or of the announcement), so every byte
// comes from the same version of the object. It keeps one block of the
// object: a read takes what it can from the block, and fetches the rest
// either straight into the caller's buffer (s3ReadAheadBytes or more) or
// as a new block of s3ReadAheadBytes from there (back from the end of the
// object when near it), kept for the next reads. Sequential reads thus
// fetch each byte once. Errors are *S3Error, permanent or not as classifyS3
// decides; a connection that fails mid-body is resumed with a Range
// request from where it stopped, maxResumes times per read.
//
// ReadAt is safe for concurrent use; the reads hold a lock, so they run one
// at a time.
type s3ReaderAt struct {
	ctx        context.Context
	api        ObjectGetter
	obj        *schemas.Object
	maxResumes int

	mu   sync.Mutex
	etag string
	size int64
	// block holds bytes blockOff.. of the object from an earlier read.
	block    []byte
	blockOff int64
	// fetched counts the body bytes received; requests the GETs sent.
	fetched  int64
	requests int
}

var _ io.ReaderAt = (*s3ReaderAt)(nil)

// openS3ReaderAt returns a reader for obj. Its size is obj.Size; when that
// is 0 (not announced), a first request for the object's last
// s3ReadAheadBytes learns it from the answer's Content-Range (and keeps
// those bytes, which a Parquet reader wants first). The error is an
// *S3Error.
func openS3ReaderAt(ctx context.Context, api ObjectGetter, obj *schemas.Object, maxResumes int) (*s3ReaderAt, error) {
	r := &s3ReaderAt{ctx: ctx, api: api, obj: obj, maxResumes: maxResumes, etag: obj.ETag, size: obj.Size}
	if r.size > 0 {
		return r, nil
	}
	if err := r.probe(); err != nil {
		return nil, err
	}
	return r, nil
}

// Size returns the object's size in bytes.
func (r *s3ReaderAt) Size() int64 { return r.size }

// BytesFetched returns the body bytes received from S3 so far.
func (r *s3ReaderAt) BytesFetched() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetched
}

// Requests returns the GETs sent so far.
func (r *s3ReaderAt) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// probe learns the size of an object announced without one, from a
// request for its tail.
func (r *s3ReaderAt) probe() error {
	out, err := r.get("bytes=-" + strconv.Itoa(s3ReadAheadBytes))
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidRange" {
			// S3 answers a suffix range on an empty object so.
			r.size = 0
			return nil
		}
		return err
	}
	total, ok := contentRangeTotal(aws.ToString(out.ContentRange))
	n := aws.ToInt64(out.ContentLength)
	switch {
	case ok:
	case n >= 0 && n < s3ReadAheadBytes:
		// The whole object, which is smaller than the range asked for (a
		// server that sends no Content-Range says so by the length).
		total = n
	default:
		// A long answer without Content-Range does not tell where the
		// tail starts: ask for the whole object's length instead.
		_ = out.Body.Close()
		return r.probeLength()
	}
	if n < 0 || n > total || n > s3ReadAheadBytes {
		_ = out.Body.Close()
		return &S3Error{Op: "get", Bucket: r.obj.Bucket, Key: r.obj.Key,
			Err: fmt.Errorf("range answer of %d bytes of a %d-byte object", n, total)}
	}
	r.size = total
	r.block = make([]byte, n)
	r.blockOff = total - n
	return r.readBody(out.Body, r.block, r.blockOff)
}

// probeLength learns the object's size from a GET of all of it, whose body
// is not read.
func (r *s3ReaderAt) probeLength() error {
	out, err := r.get("")
	if err != nil {
		return err
	}
	_ = out.Body.Close()
	if out.ContentLength == nil || *out.ContentLength < 0 {
		return &S3Error{Op: "get", Bucket: r.obj.Bucket, Key: r.obj.Key, Err: errors.New("no Content-Length")}
	}
	r.size = *out.ContentLength
	return nil
}

// contentRangeTotal returns the complete length of a Content-Range value
// ("bytes 0-99/1234").
func contentRangeTotal(v string) (int64, bool) {
	_, total, ok := strings.Cut(v, "/")
	if !ok || !strings.HasPrefix(v, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil && n >= 0
}

// ReadAt reads len(p) bytes at off, or up to the end of the object and
// io.EOF.
func (r *s3ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read s3://%s/%s at %d: negative offset", r.obj.Bucket, r.obj.Key, off)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if off >= r.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.size-off))
	for rest, at := p[:n], off; len(rest) > 0; {
		// What the block holds (the start of rest, at least) is copied;
		// only the remainder is fetched.
		if at >= r.blockOff && at < r.blockOff+int64(len(r.block)) {
			k := copy(rest, r.block[at-r.blockOff:])
			rest, at = rest[k:], at+int64(k)
			continue
		}
		if len(rest) >= s3ReadAheadBytes {
			if err := r.fetch(rest, at); err != nil {
				return 0, err
			}
			break
		}
		// Fetch a block from here on; near the end of the object, the
		// block ending there, which holds what precedes the read too (a
		// Parquet reader reads the footer's length, then the footer).
		start := max(0, min(at, r.size-s3ReadAheadBytes))
		end := min(r.size, start+s3ReadAheadBytes)
		if int64(cap(r.block)) < end-start {
			r.block = make([]byte, end-start)
		}
		r.block, r.blockOff = r.block[:end-start], start
		if err := r.fetch(r.block, start); err != nil {
			r.block = r.block[:0]
			return 0, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fetch fills p with the object's bytes from off.
func (r *s3ReaderAt) fetch(p []byte, off int64) error {
	out, err := r.get(rangeHeader(off, len(p)))
	if err != nil {
		return err
	}
	return r.readBody(out.Body, p, off)
}

// readBody reads p, the object's bytes from off, from body and closes it.
// When the connection fails mid-way it asks for the rest with a new
// request, up to maxResumes times.
func (r *s3ReaderAt) readBody(body io.ReadCloser, p []byte, off int64) error {
	got := 0
	for resumes := 0; ; resumes++ {
		n, err := io.ReadFull(body, p[got:])
		if err == nil {
			// Read on to the end of the body, which lets the client
			// reuse the connection.
			var one [1]byte
			_, _ = body.Read(one[:])
		}
		_ = body.Close()
		got += n
		r.fetched += int64(n)
		if err == nil {
			return nil
		}
		if r.ctx.Err() != nil || !resumable(err) || resumes >= r.maxResumes {
			return &S3Error{Op: "read", Bucket: r.obj.Bucket, Key: r.obj.Key, Err: err}
		}
		out, gerr := r.get(rangeHeader(off+int64(got), len(p)-got))
		if gerr != nil {
			return gerr
		}
		body = out.Body
	}
}

// rangeHeader is the Range value of n bytes from off.
func rangeHeader(off int64, n int) string {
	return "bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+int64(n)-1, 10)
}

// get sends one GET with rng as its Range ("" for none), pinned to the
// version being read. The error is an *S3Error.
func (r *s3ReaderAt) get(rng string) (*s3.GetObjectOutput, error) {
	r.requests++
	return getObject(r.ctx, r.api, r.obj, rng, &r.etag, true)
}
