package orggen

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/gzip"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"
)

// VPC flow logs delivered as Apache Parquet, as a flow log created with
// the parquet file format writes them (keys ending .log.parquet, no outer
// gzip). Each field of the flow log's format is one column, in the
// format's order, named as in the text header with '_' for '-'
// (account_id, log_status, pkt_src_aws_service, ...), of the type the VPC
// user guide's table of fields gives it: INT32 for version, srcport,
// dstport, tcp-flags and traffic-path, INT64 for protocol, packets, bytes,
// start and end, a UTF-8 string for the rest. Every column is optional: a
// null stands where the text form writes "-". Values are
// dictionary-encoded and data pages (version 1) gzip-compressed, as AWS
// writes them.
//
// Each row is one record, drawn exactly as for the text form, so a file's
// rows are its text lines in the same order and ground-truth record
// indexes are row numbers.

// flowParquetSchema is a flow log format's Parquet schema and the type of
// each of its columns.
type flowParquetSchema struct {
	schema *parquet.Schema
	kinds  []parquet.Kind
}

// flowParquetKind is the Parquet type of a field's column.
func flowParquetKind(f flowField) parquet.Kind {
	switch f {
	case fVersion, fSrcPort, fDstPort, fTCPFlags, fTrafficPath:
		return parquet.Int32
	case fProtocol, fPackets, fBytes, fStart, fEnd:
		return parquet.Int64
	}
	return parquet.ByteArray
}

// newFlowParquetSchema builds the schema of a format of these fields.
func newFlowParquetSchema(fields []flowField) flowParquetSchema {
	s := flowParquetSchema{kinds: make([]parquet.Kind, len(fields))}
	cols := make([]reflect.StructField, len(fields))
	for i, f := range fields {
		s.kinds[i] = flowParquetKind(f)
		typ := reflect.TypeFor[*string]()
		switch s.kinds[i] {
		case parquet.Int32:
			typ = reflect.TypeFor[*int32]()
		case parquet.Int64:
			typ = reflect.TypeFor[*int64]()
		}
		name := strings.ReplaceAll(flowFieldNames[f], "-", "_")
		cols[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: typ, Tag: reflect.StructTag(`parquet:"` + name + `,dict"`)}
	}
	// A struct is how parquet-go takes columns in an order of our choosing
	// (a parquet.Group sorts them by name). It only describes the schema
	// (pointers make the columns optional): rows are written as values,
	// never through the struct.
	s.schema = parquet.SchemaOf(reflect.New(reflect.StructOf(cols)).Elem().Interface())
	return s
}

// flowParquetBatch is how many rows are handed to the Parquet writer at
// once.
const flowParquetBatch = 256

// flowParquetWriter writes Parquet flow log files for one goroutine,
// keeping its rows and its page compressor from file to file. Each file
// gets a new Parquet writer: a parquet-go (v0.32) writer reused through
// Reset writes the next file's footer without its column metadata (the
// paths come out empty), which readers refuse.
type flowParquetWriter struct {
	codec *pageGzip
	rows  []parquet.Row
}

// newFlowParquetWriter returns a writer whose pages are gzip-compressed
// at level.
func newFlowParquetWriter(level int) (*flowParquetWriter, error) {
	gz, err := gzip.NewWriterLevel(io.Discard, level)
	if err != nil {
		return nil, fmt.Errorf("gzip writer: %w", err)
	}
	return &flowParquetWriter{codec: &pageGzip{gz: gz}, rows: make([]parquet.Row, flowParquetBatch)}, nil
}

// pageGzip is the gzip codec of one flowParquetWriter's pages: one gzip
// writer reset for every page. parquet-go's own codec takes a writer from
// a sync.Pool for each page, and the race detector keeps that pool empty:
// every page then costs a new compressor (hundreds of KiB), which made a
// Parquet file nine times slower to write under -race.
type pageGzip struct {
	// mu keeps to compress.Codec's contract (safe for concurrent use),
	// though a Parquet writer compresses its pages one at a time.
	mu  sync.Mutex
	gz  *gzip.Writer
	out appendWriter
}

var _ compress.Codec = (*pageGzip)(nil)

func (c *pageGzip) String() string { return "GZIP" }

func (c *pageGzip) CompressionCodec() format.CompressionCodec { return format.Gzip }

// Encode compresses src into dst's storage.
func (c *pageGzip) Encode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out.b = dst[:0]
	c.gz.Reset(&c.out)
	_, err := c.gz.Write(src)
	if err == nil {
		err = c.gz.Close()
	}
	b := c.out.b
	c.out.b = nil
	return b, err
}

// Decode is not needed to write files.
func (c *pageGzip) Decode([]byte, []byte) ([]byte, error) {
	return nil, errors.New("the generator's gzip page codec only compresses")
}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// file writes the records of f to out as one Parquet file. It returns
// the row indexes of the injected records and the file's stream for
// naming it.
func (pw *flowParquetWriter) file(w *world, out io.Writer, f *flowFile, scratch *[]flowRec) ([]int, rng, error) {
	format, region := f.v.format, regions[f.v.region].name
	wr := parquet.NewWriter(out, format.parquet.schema, parquet.Compression(pw.codec), parquet.DataPageVersion(1))
	n := 0
	flush := func() error {
		_, err := wr.WriteRows(pw.rows[:n])
		n = 0
		return err
	}
	idx, r, err := w.flowRecords(f, scratch, func(rec *flowRec) error {
		pw.rows[n] = appendFlowParquetRow(pw.rows[n][:0], format, f.acct, region, f.v, rec)
		if n++; n == len(pw.rows) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = wr.Close()
	}
	return idx, r, err
}

// appendFlowParquetRow appends r's values, one per column of format f, to
// row.
func appendFlowParquetRow(row parquet.Row, f *flowFormat, a *account, region string, v *vpc, r *flowRec) parquet.Row {
	for i, field := range f.fields {
		val := flowFieldValue(field, f, a, region, v, r)
		if val.kind == flowNull {
			row = append(row, parquet.Value{}.Level(0, 0, i))
			continue
		}
		var pv parquet.Value
		switch f.parquet.kinds[i] {
		case parquet.Int32:
			pv = parquet.Int32Value(int32(val.num))
		case parquet.Int64:
			pv = parquet.Int64Value(val.num)
		default:
			// The value points into the string without a copy: the
			// writer only reads it, and Go strings are never written
			// to.
			pv = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(val.str), len(val.str)))
		}
		row = append(row, pv.Level(0, 1, i))
	}
	return row
}
