package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/schemas"
)

// rangeGetter is an ObjectGetter serving one object from memory, as S3
// does: Range (first-last and suffix forms), If-Match against its ETag,
// Content-Range on partial answers. It records the ranges asked for and
// can fail requests or cut bodies.
type rangeGetter struct {
	mu   sync.Mutex
	data []byte
	etag string
	// noContentRange answers without Content-Range, as the lean getter
	// does.
	noContentRange bool
	// fail, when it returns an error for request n (from 0), fails it.
	fail func(n int, in *s3.GetObjectInput) error
	// cutAfter, when positive, makes every body fail after so many bytes.
	cutAfter int
	ranges   []string
}

var errConnReset = fmt.Errorf("read tcp: %w", io.ErrUnexpectedEOF)

func (g *rangeGetter) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.ranges)
	g.ranges = append(g.ranges, aws.ToString(in.Range))
	if g.fail != nil {
		if err := g.fail(n, in); err != nil {
			return nil, err
		}
	}
	if in.IfMatch != nil && *in.IfMatch != g.etag {
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
	}
	size := int64(len(g.data))
	first, last := int64(0), size-1
	if r := aws.ToString(in.Range); r != "" {
		spec := strings.TrimPrefix(r, "bytes=")
		a, b, _ := strings.Cut(spec, "-")
		if a == "" {
			k, _ := strconv.ParseInt(b, 10, 64)
			if size == 0 {
				return nil, &smithy.GenericAPIError{Code: "InvalidRange"}
			}
			first = max(0, size-k)
		} else {
			first, _ = strconv.ParseInt(a, 10, 64)
			if b != "" {
				l, _ := strconv.ParseInt(b, 10, 64)
				last = min(last, l)
			}
		}
		if first >= size {
			return nil, &smithy.GenericAPIError{Code: "InvalidRange"}
		}
	}
	body := g.data[first : last+1]
	out := &s3.GetObjectOutput{ETag: aws.String(g.etag), ContentLength: aws.Int64(int64(len(body)))}
	if in.Range != nil && !g.noContentRange {
		out.ContentRange = aws.String(fmt.Sprintf("bytes %d-%d/%d", first, last, size))
	}
	var r io.Reader = bytes.NewReader(body)
	if g.cutAfter > 0 && len(body) > g.cutAfter {
		r = io.MultiReader(bytes.NewReader(body[:g.cutAfter]), &errReader{errConnReset})
	}
	out.Body = io.NopCloser(r)
	return out, nil
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func (g *rangeGetter) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.ranges...)
}

func testObject(size int64) *schemas.Object {
	return &schemas.Object{Bucket: "b", Key: "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/02/x.log.parquet", Size: size}
}

// TestS3ReaderAtReads compares random reads with a bytes.Reader over the
// same bytes, for objects of several sizes, with and without a size and a
// Content-Range.
func TestS3ReaderAtReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{1, 1000, s3ReadAheadBytes - 1, s3ReadAheadBytes, 3*s3ReadAheadBytes + 17} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		for _, announced := range []bool{true, false} {
			for _, noCR := range []bool{false, true} {
				t.Run(fmt.Sprintf("size=%d/announced=%t/no-content-range=%t", size, announced, noCR), func(t *testing.T) {
					g := &rangeGetter{data: data, etag: `"e1"`, noContentRange: noCR}
					obj := testObject(0)
					if announced {
						obj.Size = int64(size)
					}
					r, err := openS3ReaderAt(context.Background(), g, obj, 2)
					if err != nil {
						t.Fatal(err)
					}
					if r.Size() != int64(size) {
						t.Fatalf("size %d, want %d", r.Size(), size)
					}
					want := bytes.NewReader(data)
					for range 200 {
						off := rng.Int64N(int64(size) + 10)
						n := rng.IntN(2 * s3ReadAheadBytes)
						if rng.IntN(2) == 0 {
							n = rng.IntN(100)
						}
						got, wantBuf := make([]byte, n), make([]byte, n)
						gn, gerr := r.ReadAt(got, off)
						wn, werr := want.ReadAt(wantBuf, off)
						if gn != wn || (gerr == nil) != (werr == nil) || !bytes.Equal(got[:gn], wantBuf[:wn]) {
							t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d, %v", n, off, gn, gerr, wn, werr)
						}
					}
					// Only a size probe answered without Content-Range
					// by a whole block asks for the whole object (and
					// reads none of it).
					reqs := g.requests()
					for i, rg := range reqs {
						if rg == "" && (i != 1 || announced || !noCR || size < s3ReadAheadBytes) {
							t.Fatalf("request %d asked for the whole object: %q", i, reqs)
						}
					}
				})
			}
		}
	}
}

// TestS3ReaderAtParquet decodes Parquet objects through S3 as from
// memory, in few requests: a small object in one (the tail that a size
// probe or the footer read fetches holds it all).
func TestS3ReaderAtParquet(t *testing.T) {
	for _, c := range []struct {
		name    string
		data    []byte
		maxReqs int
	}{
		{"small", flowParquetCase{name: "v5-custom"}.input(t), 1},
		{"large", flowTextToParquet(t, flowSyntheticObject(flowSyntheticV5, 20000), flowParquetWriting{rowGroupRows: 5000}), 8},
	} {
		for _, announced := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/announced=%t", c.name, announced), func(t *testing.T) {
				obj := flowParquetTestObject(c.name)
				want, wantErr := flowParquetDecodeAll(c.data, obj, DefaultLimits())
				g := &rangeGetter{data: c.data, etag: `"e1"`}
				o := testObject(0)
				if announced {
					o.Size = int64(len(c.data))
				}
				r, err := openS3ReaderAt(context.Background(), g, o, 2)
				if err != nil {
					t.Fatal(err)
				}
				rec := &flowRecorder{}
				err = DecodeFlowParquet(r, r.Size(), obj, DefaultLimits(), rec)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(rec.records, want) {
					t.Fatalf("decoded through S3 differently: %v", err)
				}
				t.Logf("%d requests, %d bytes fetched of %d", len(g.requests()), r.BytesFetched(), len(c.data))
				if reqs := g.requests(); len(reqs) > c.maxReqs {
					t.Errorf("%d requests (%q), want at most %d", len(reqs), reqs, c.maxReqs)
				}
				if r.BytesFetched() > int64(len(c.data))+2*s3ReadAheadBytes {
					t.Errorf("fetched %d bytes of a %d-byte object", r.BytesFetched(), len(c.data))
				}
			})
		}
	}
}

// TestS3ReaderAtErrors checks what S3 failures become: permanent ones
// carry classifyS3's reason, retryable ones none, a dropped connection is
// resumed from where it stopped, and a changed object is not mixed in.
func TestS3ReaderAtErrors(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	read := func(g *rangeGetter, maxResumes int) error {
		r, err := openS3ReaderAt(context.Background(), g, testObject(0), maxResumes)
		if err != nil {
			return err
		}
		buf := make([]byte, s3ReadAheadBytes+1)
		if _, err := r.ReadAt(buf, 1000); err != nil {
			return err
		}
		if !bytes.Equal(buf, data[1000:1000+len(buf)]) {
			return errors.New("wrong bytes")
		}
		return nil
	}
	failOn := func(req int, err error) func(int, *s3.GetObjectInput) error {
		return func(n int, _ *s3.GetObjectInput) error {
			if n == req {
				return err
			}
			return nil
		}
	}
	cases := []struct {
		name   string
		g      *rangeGetter
		resume int
		// reason is the S3Error's reason; "-" for no error.
		reason string
	}{
		{"missing", &rangeGetter{fail: failOn(0, &smithy.GenericAPIError{Code: "NoSuchKey"})}, 2, ReasonObjectMissing},
		{"denied mid-object", &rangeGetter{fail: failOn(1, &smithy.GenericAPIError{Code: "AccessDenied"})}, 2, ReasonAccessDenied},
		{"throttled", &rangeGetter{fail: failOn(1, &smithy.GenericAPIError{Code: "SlowDown", Fault: smithy.FaultServer})}, 2, ""},
		{"resumed", &rangeGetter{cutAfter: 100 << 10}, 5, "-"},
		{"too many resumes", &rangeGetter{cutAfter: 100 << 10}, 1, ""},
		{"changed", &rangeGetter{fail: func(n int, _ *s3.GetObjectInput) error {
			if n == 1 {
				return &smithy.GenericAPIError{Code: "PreconditionFailed"}
			}
			return nil
		}}, 2, ReasonS3Error},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.g.data, c.g.etag = data, `"e1"`
			err := read(c.g, c.resume)
			if c.reason == "-" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var s3err *S3Error
			if !errors.As(err, &s3err) || s3err.Reason != c.reason {
				t.Fatalf("error %v, want an S3Error with reason %q", err, c.reason)
			}
		})
	}

	// Every request after the first is pinned to the first answer's ETag.
	g := &rangeGetter{data: data, etag: `"e1"`}
	var ifMatch []string
	g.fail = func(_ int, in *s3.GetObjectInput) error {
		ifMatch = append(ifMatch, aws.ToString(in.IfMatch))
		return nil
	}
	if err := read(g, 2); err != nil {
		t.Fatal(err)
	}
	if len(ifMatch) < 2 || ifMatch[0] != "" || ifMatch[1] != `"e1"` {
		t.Errorf("If-Match of the requests: %q", ifMatch)
	}
}

// TestS3ReaderAtEmpty learns that an object announced without a size is
// empty from S3's answer to a suffix range.
func TestS3ReaderAtEmpty(t *testing.T) {
	g := &rangeGetter{etag: `"e1"`}
	r, err := openS3ReaderAt(context.Background(), g, testObject(0), 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != 0 {
		t.Fatalf("size %d", r.Size())
	}
	err = DecodeFlowParquet(r, r.Size(), flowParquetTestObject("empty"), DefaultLimits(), &flowDiscard{})
	if ReasonOf(err) != ReasonEmptyObject {
		t.Errorf("error %v, want %s", err, ReasonEmptyObject)
	}
}
