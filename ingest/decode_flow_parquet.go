package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// VPC flow logs delivered as Apache Parquet (keys ending .log.parquet) hold
// one column per flow log field, named as in the text header with '_' for
// '-' (account_id, log_status, pkt_src_aws_service, ...): integers in INT32
// or INT64 columns (version, ports, protocol, packets, bytes, start, end,
// tcp_flags, traffic_path), the rest as strings, a null where the text
// form writes "-". Each row is one flow record.
//
// The decoder turns each row back into the text line it stands for and
// hands that line to the text decoder's per-record code (flowRecords), so
// the field mapping, the checks and the event id are the text decoder's,
// and a record gives the same event whichever form it came in.

// FlowParquetDecoder decodes VPC flow log objects delivered as Apache
// Parquet. It keeps its buffers from object to object; it is not safe for
// concurrent use.
type FlowParquetDecoder struct {
	lim  Limits
	flow flowRecords

	// r and size are the object being read; dataEnd is where its footer
	// starts.
	r             io.ReaderAt
	size, dataEnd int64
	// footer holds the footer's bytes; leaves point into it.
	footer []byte
	leaves []parquetLeaf
	// cols are the columns read, in schema order; groups and chunks the
	// row groups, chunks[g*len(cols)+i] column i's chunk of row group g.
	cols   []parquetColumn
	groups []int64
	chunks []parquetChunk
	// stack is the schema walk's open groups (their children left).
	stack []int32
	// group holds a row group read whole.
	group []byte
	// line is the record's text line.
	line []byte

	// held is the bytes of the buffers made through grow (the footer, the
	// metadata kept, the row group, and the columns' windows, pages,
	// dictionaries and strings), counted against lim.MaxParquetBytes.
	// line (at most lim.MaxRecordBytes) and stack (at most
	// thriftMaxDepth) are bounded otherwise.
	held int64
	// decompressed counts the object's decompressed page bytes, text the
	// bytes of its rows as flow log lines.
	decompressed, text int64
	// compressed is the page the decompressors read; gz and zs are made
	// at the first page that needs them; one takes the byte read to check
	// that a stream ends with its page.
	compressed bytes.Reader
	gz         *gzip.Reader
	zs         *zstd.Decoder
	one        [1]byte
}

// NewFlowParquetDecoder returns a decoder bounded by lim; a zero field of
// lim means its default.
func NewFlowParquetDecoder(lim Limits) *FlowParquetDecoder {
	def := DefaultLimits()
	if lim.MaxRecordBytes <= 0 {
		lim.MaxRecordBytes = def.MaxRecordBytes
	}
	if lim.MaxObjectBytes <= 0 {
		lim.MaxObjectBytes = def.MaxObjectBytes
	}
	if lim.MaxParquetBytes <= 0 {
		lim.MaxParquetBytes = def.MaxParquetBytes
	}
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = def.MaxRatio
	}
	return &FlowParquetDecoder{lim: lim}
}

// DecodeFlowParquet decodes one Parquet flow log object with a new
// FlowParquetDecoder; see FlowParquetDecoder.Decode.
func DecodeFlowParquet(r io.ReaderAt, size int64, info ObjectInfo, lim Limits, em Emitter) error {
	return NewFlowParquetDecoder(lim).Decode(r, size, info, em)
}

// DecompressedBytes returns the page bytes the last Decode decompressed.
func (d *FlowParquetDecoder) DecompressedBytes() int64 { return d.decompressed }

// Decode decodes the Parquet flow log object of size bytes that r reads,
// calling em.Event once per row, in order, and em.BadRecord for a row it
// cannot decode, then going on with the next. obj says where the object
// came from, as for DecodeFlow.
//
// Columns. A top-level column that is not repeated and holds INT32, INT64
// or BYTE_ARRAY values is read; its name is matched with the flow log
// fields as the text header's are ('_' reads as '-'). A column of an
// unknown name is read too, and kept in Raw only, as the text decoder
// keeps an unknown header field. Other columns (nested, repeated, or of
// other types) are skipped, unless their name is a flow log field: then
// the file fails with ReasonBadParquet. A file without any flow log
// column fails with ReasonFlowNoHeader, an empty object with
// ReasonEmptyObject.
//
// Raw. The event's Raw is the row as the text line it stands for: the
// values of the columns read, in the file's column order, separated by one
// space; a null or an empty string as "-"; an integer in decimal (unsigned
// when the column is annotated so). Every value then goes through the
// text decoder's code, which fills the event (see DecodeFlow) and makes its
// id from the object, the row number and this line. So a record delivered
// both as text and as Parquet, with the same fields in the same order,
// gives the same Raw and fields; and, read under the same bucket, key and
// record number, the same id.
//
// Bad rows. A value that a text line cannot hold (a string with a space or
// a control character) or that is out of range for its field (a negative
// port, a version above 255) makes the row a bad record with
// ReasonFlowBadRecord; a row whose line would be longer than
// lim.MaxRecordBytes one with ReasonRecordTooLarge. Its payload is the
// line (cut to lim.MaxRecordBytes). Rows are numbered from 0 across row
// groups.
//
// Bad files. A file that is not Parquet, is damaged, or uses what the
// decoder does not read (encryption, a codec other than UNCOMPRESSED,
// SNAPPY, GZIP, ZSTD or LZ4_RAW, an encoding other than PLAIN, the
// dictionaries and the DELTA_ ones) fails with ReasonBadParquet. The rows
// emitted before a damaged page stay emitted; the error says where the
// file stopped.
//
// Memory is bounded by lim.MaxParquetBytes, whatever the object's size:
// the footer, the metadata kept from it, and the columns' windows, pages
// and dictionaries all count against it, and a file that needs more fails
// with ReasonParquetLimit. Rows are decoded one at a time, each column a
// page at a time. A row group whose columns take at most a quarter of the
// limit is read in one ReadAt; larger ones are read a window per column.
// Work is bounded as for a text object, by the text the rows make (their
// lines and line ends): more than lim.MaxObjectBytes, or more than
// lim.MaxRatio times the object's size once past lim.MinRatioBytes, fails
// with ReasonDecompressionLimit; so do decompressed pages beyond
// lim.MaxObjectBytes.
//
// Errors from em are returned unchanged. An error from r is returned
// wrapped (an *S3Error stays visible to errors.As); r ending before the
// metadata says it does is ReasonBadParquet.
//
// Ownership: as for DecodeFlow, the event, its Flow and Raw, and the
// payload passed to em.BadRecord are reused for the next row.
func (d *FlowParquetDecoder) Decode(r io.ReaderAt, size int64, info ObjectInfo, em Emitter) error {
	d.r, d.size, d.decompressed, d.text = r, size, 0, 0
	d.flow.reset(info)
	if d.held > d.lim.MaxParquetBytes/2 {
		// Do not carry one large object's buffers into the next.
		d.dropBuffers()
	}
	if err := d.decode(em); err != nil {
		return d.objectError(err)
	}
	return nil
}

// decode reads the footer, then every row group.
func (d *FlowParquetDecoder) decode(em Emitter) error {
	if err := d.readFooter(); err != nil {
		return err
	}
	if err := d.readMetadata(); err != nil {
		return err
	}
	var row int64
	for g := range d.groups {
		if err := d.rowGroup(g, row, em); err != nil {
			return err
		}
		row += d.groups[g]
	}
	return nil
}

// objectError names the object in err and gives it a reason: its own when
// it has one, none for a read failure (the caller decides whether to
// retry), ReasonBadParquet for anything else. An error from the Emitter is
// returned as it came.
func (d *FlowParquetDecoder) objectError(err error) error {
	obj := d.flow.obj
	var eerr *parquetEmitError
	var rerr *parquetReadError
	var reason *parquetReasonError
	switch {
	case errors.As(err, &eerr):
		return eerr.err
	case errors.As(err, &rerr):
		return fmt.Errorf("read parquet flow log s3://%s/%s: %w", obj.Bucket, obj.Key, err)
	case errors.As(err, &reason):
		return &DecodeError{Reason: reason.reason, Err: fmt.Errorf("parquet flow log s3://%s/%s: %w", obj.Bucket, obj.Key, err)}
	}
	return &DecodeError{Reason: ReasonBadParquet, Err: fmt.Errorf("parquet flow log s3://%s/%s: %w", obj.Bucket, obj.Key, err)}
}

// parquetReasonError is a failure with its own dead-letter reason (a
// limit, an empty object), which objectError keeps.
type parquetReasonError struct {
	reason string
	err    error
}

func (e *parquetReasonError) Error() string { return e.err.Error() }

func (e *parquetReasonError) Unwrap() error { return e.err }

// reasonErr returns a parquetReasonError for reason with a formatted
// message.
func reasonErr(reason, format string, args ...any) error {
	return &parquetReasonError{reason: reason, err: fmt.Errorf(format, args...)}
}

// parquetEmitError carries an error of the Emitter (or of flowRecords,
// which already names the object) out unchanged.
type parquetEmitError struct{ err error }

func (e *parquetEmitError) Error() string { return e.err.Error() }

func (e *parquetEmitError) Unwrap() error { return e.err }

// parquetReadError is a failure of the object's reader (S3, a file), as
// opposed to what was read.
type parquetReadError struct {
	off int64
	n   int
	err error
}

func (e *parquetReadError) Error() string {
	return fmt.Sprintf("bytes %d to %d: %v", e.off, e.off+int64(e.n), e.err)
}

func (e *parquetReadError) Unwrap() error { return e.err }

// readAt fills p from offset off of the object. An object shorter than
// that is a damaged file; any other failure is the reader's.
func (d *FlowParquetDecoder) readAt(p []byte, off int64) error {
	n, err := d.r.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the object ends at byte %d, before byte %d its metadata points to", off+int64(n), off+int64(len(p)))
	}
	return &parquetReadError{off: off, n: len(p), err: err}
}

// parquetMagic starts and ends a Parquet file.
const parquetMagic = "PAR1"

// readFooter reads the footer's bytes: the file ends with them, their
// length (4 bytes, little-endian) and the magic.
func (d *FlowParquetDecoder) readFooter() error {
	switch {
	case d.size == 0:
		return reasonErr(ReasonEmptyObject, "the object is empty")
	case d.size < int64(2*len(parquetMagic)+4):
		return fmt.Errorf("%d bytes is too short for a Parquet file", d.size)
	}
	var tail [8]byte
	if err := d.readAt(tail[:], d.size-8); err != nil {
		return err
	}
	switch string(tail[4:]) {
	case parquetMagic:
	case "PARE":
		return errors.New("the footer is encrypted, which is not supported")
	default:
		return fmt.Errorf("not a Parquet file: it ends with %q, not %q", tail[4:], parquetMagic)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	d.dataEnd = d.size - 8 - n
	if d.dataEnd < int64(len(parquetMagic)) {
		return fmt.Errorf("a %d-byte footer in a %d-byte file", n, d.size)
	}
	var err error
	if d.footer, err = d.grow(d.footer, int(n), "the footer"); err != nil {
		return err
	}
	return d.readAt(d.footer, d.dataEnd)
}

// readMetadata reads the schema and the row groups from the footer (a
// FileMetaData struct) and chooses the columns to read. The schema is read
// first, in a pass of its own, so the row groups' column chunks can be
// kept for the chosen columns only, whatever the order of the fields.
func (d *FlowParquetDecoder) readMetadata() error {
	d.leaves, d.cols, d.groups, d.chunks = d.leaves[:0], d.cols[:0], d.groups[:0], d.chunks[:0]
	for pass := range 2 {
		r := thriftReader{b: d.footer}
		err := r.structFields(func(id int16, typ byte) error {
			switch {
			case id == 2 && pass == 0:
				return d.readSchema(&r, typ)
			case id == 4 && pass == 1:
				return d.readRowGroups(&r, typ)
			case id == 8:
				return errors.New("the file is encrypted, which is not supported")
			}
			return r.skip(typ)
		})
		if err != nil {
			return fmt.Errorf("footer: %w", err)
		}
		if pass == 0 {
			if err := d.chooseColumns(); err != nil {
				return err
			}
		}
	}
	return nil
}

// readSchema reads the schema (a list of SchemaElement, the root first,
// then the fields depth first) into d.leaves.
func (d *FlowParquetDecoder) readSchema(r *thriftReader, typ byte) error {
	n, elem, err := r.list(typ)
	if err != nil {
		return err
	}
	if n == 0 || elem != thriftStruct {
		return errors.New("the schema is empty")
	}
	stack := d.stack[:0]
	var e parquetElement
	for i := range n {
		if err := r.parseSchemaElement(&e); err != nil {
			return fmt.Errorf("schema element %d: %w", i, err)
		}
		if i == 0 {
			if e.numChildren <= 0 {
				return errors.New("the schema has no fields")
			}
			stack = append(stack, e.numChildren)
			continue
		}
		if len(stack) == 0 {
			return fmt.Errorf("schema element %d is beyond the root's fields", i)
		}
		depth := len(stack)
		stack[depth-1]--
		known := depth == 1 && flowFieldByName(e.name) != flowUnknown
		switch {
		case e.numChildren > 0:
			if known {
				return fmt.Errorf("column %s is a group; a flow log field is a number or a string", e.name)
			}
			if depth >= thriftMaxDepth {
				return fmt.Errorf("the schema nests more than %d deep", thriftMaxDepth)
			}
			stack = append(stack, e.numChildren)
		case e.hasType:
			leaf := parquetLeaf{name: e.name, typ: e.typ, col: -1,
				flat:     depth == 1 && e.repetition != format.Repeated,
				optional: e.repetition == format.Optional, unsigned: e.unsigned}
			switch {
			case known && !leaf.flat:
				return fmt.Errorf("column %s is repeated; a flow log field has one value per row", e.name)
			case known && !parquetReadable(e.typ):
				return fmt.Errorf("column %s holds %s values; a flow log field is an integer or a string", e.name, e.typ)
			}
			if l := len(d.leaves); l == cap(d.leaves) {
				if d.leaves, err = parquetGrow(d, d.leaves, max(16, 2*l), "the schema"); err != nil {
					return err
				}
				d.leaves = d.leaves[:l]
			}
			d.leaves = append(d.leaves, leaf)
		}
		for len(stack) > 0 && stack[len(stack)-1] == 0 {
			stack = stack[:len(stack)-1]
		}
	}
	d.stack = stack
	if len(stack) != 0 {
		return errors.New("the schema ends inside a group")
	}
	return nil
}

// parquetReadable reports whether a column of type t can be read.
func parquetReadable(t format.Type) bool {
	return t == format.Int32 || t == format.Int64 || t == format.ByteArray
}

// chooseColumns picks the flat, readable leaves as the columns to read and
// tells flowRecords what they hold.
func (d *FlowParquetDecoder) chooseColumns() error {
	n, known := 0, false
	for i := range d.leaves {
		if l := &d.leaves[i]; l.flat && parquetReadable(l.typ) {
			n++
		}
	}
	var err error
	if d.cols, err = parquetGrow(d, d.cols, n, "the columns"); err != nil {
		return err
	}
	n = 0
	for i := range d.leaves {
		l := &d.leaves[i]
		if !l.flat || !parquetReadable(l.typ) {
			continue
		}
		l.col = n
		c := &d.cols[n]
		c.leaf, c.field = l, flowFieldByName(l.name)
		known = known || c.field != flowUnknown
		d.flow.cols = append(d.flow.cols, c.field)
		n++
	}
	if !known {
		return reasonErr(ReasonFlowNoHeader, "no column names a flow log field")
	}
	return nil
}

// readRowGroups reads the row groups (a list of RowGroup): their row
// counts, and the chunks of the chosen columns.
func (d *FlowParquetDecoder) readRowGroups(r *thriftReader, typ byte) error {
	n, elem, err := r.list(typ)
	if err != nil {
		return err
	}
	if n > 0 && elem != thriftStruct {
		return fmt.Errorf("row groups of type %d", elem)
	}
	if d.groups, err = parquetGrow(d, d.groups, n, "the row groups"); err != nil {
		return err
	}
	if d.chunks, err = parquetGrow(d, d.chunks, n*len(d.cols), "the column chunks"); err != nil {
		return err
	}
	for g := range n {
		chunks := d.chunks[g*len(d.cols) : (g+1)*len(d.cols)]
		rows, columns := int64(-1), -1
		err := r.structFields(func(id int16, typ byte) error {
			switch id {
			case 1: // columns
				var elem byte
				var err error
				if columns, elem, err = r.list(typ); err != nil {
					return err
				}
				if columns != len(d.leaves) || (columns > 0 && elem != thriftStruct) {
					return fmt.Errorf("%d column chunks for %d columns", columns, len(d.leaves))
				}
				for j := range d.leaves {
					leaf := &d.leaves[j]
					if leaf.col < 0 {
						err = r.skip(thriftStruct)
					} else {
						err = r.parseColumnChunk(&chunks[leaf.col], leaf, d.dataEnd)
					}
					if err != nil {
						return err
					}
				}
				return nil
			case 3: // num_rows
				var err error
				rows, err = r.int(typ)
				return err
			}
			return r.skip(typ)
		})
		if err != nil {
			return fmt.Errorf("row group %d: %w", g, err)
		}
		if rows < 0 || columns < 0 {
			return fmt.Errorf("row group %d has no row count or no columns", g)
		}
		for i := range chunks {
			if chunks[i].numValues != rows {
				return fmt.Errorf("row group %d: column %s has %d values for %d rows",
					g, d.cols[i].leaf.name, chunks[i].numValues, rows)
			}
		}
		d.groups[g] = rows
	}
	return nil
}

// rowGroup decodes row group g, whose first row is row first of the file.
func (d *FlowParquetDecoder) rowGroup(g int, first int64, em Emitter) error {
	rows := d.groups[g]
	if rows == 0 {
		return nil
	}
	chunks := d.chunks[g*len(d.cols) : (g+1)*len(d.cols)]
	// Read the row group whole when its columns' bytes fit in a quarter of
	// the limit: one request instead of one or more per column.
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, c := range chunks {
		lo, hi = min(lo, c.start), max(hi, c.start+c.size)
	}
	var whole []byte
	if hi-lo <= d.lim.MaxParquetBytes/4 {
		var err error
		if d.group, err = d.grow(d.group, int(hi-lo), "a row group"); err != nil {
			return err
		}
		if err := d.readAt(d.group, lo); err != nil {
			return err
		}
		whole = d.group
	}
	for i := range d.cols {
		var data []byte
		if whole != nil {
			data = whole[chunks[i].start-lo : chunks[i].start-lo+chunks[i].size]
		}
		d.cols[i].startChunk(chunks[i], data)
	}
	maxLine := d.lim.MaxRecordBytes
	for row := range rows {
		index := first + row
		line, tooLong := d.line[:0], false
		var bad *DecodeError
		for i := range d.cols {
			c := &d.cols[i]
			v, err := c.next(d)
			if err != nil {
				return fmt.Errorf("row group %d, row %d: %w", g, index, err)
			}
			if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
				v = flowDash
			} else if bad == nil && !flowPlainValue(v) {
				bad = flowBadRecord("flow record %d: field %s: %q holds a space or a control character",
					index, c.leaf.name, flowQuote(v))
			}
			if tooLong {
				continue // the other columns still move to the next row
			}
			if i > 0 {
				line = append(line, ' ')
			}
			if room := maxLine - len(line); len(v) > room {
				// Keep the line's first maxLine bytes, never more.
				line = append(line, v[:max(room, 0)]...)
				line, tooLong = line[:min(len(line), maxLine)], true
				continue
			}
			line = append(line, v...)
		}
		d.line = line
		if err := d.countText(int64(len(line)) + 1); err != nil {
			return err
		}
		var err error
		if bad != nil && !tooLong && index <= math.MaxUint32 {
			err = em.BadRecord(index, bad, line)
		} else {
			err = d.flow.emitLine(index, line, tooLong, maxLine, em)
		}
		if err != nil {
			return &parquetEmitError{err}
		}
	}
	return nil
}

// flowDash is the text of an absent value.
var flowDash = []byte{'-'}

// flowPlainValue reports whether v can stand in a flow log line: it holds
// no space or control character, which would split it.
func flowPlainValue(v []byte) bool {
	for _, c := range v {
		if c <= ' ' {
			return false
		}
	}
	return true
}

// grow returns buf resized to n bytes, its content kept: buf itself when
// it is large enough, else a new buffer, counted against
// lim.MaxParquetBytes (the caller drops buf for it). what names the
// buffer in the error.
func (d *FlowParquetDecoder) grow(buf []byte, n int, what string) ([]byte, error) {
	return parquetGrow(d, buf, n, what)
}

// parquetGrow is grow for any element type.
func parquetGrow[T any](d *FlowParquetDecoder, buf []T, n int, what string) ([]T, error) {
	if n <= cap(buf) {
		return buf[:n], nil
	}
	var zero T
	size := int64(unsafe.Sizeof(zero))
	need := d.held - int64(cap(buf))*size + int64(n)*size
	if n < 0 || int64(n) > d.lim.MaxParquetBytes/size || need > d.lim.MaxParquetBytes {
		return nil, reasonErr(ReasonParquetLimit, "%s of %d bytes does not fit in limits.max_parquet_bytes (%d) with the %d bytes held",
			what, int64(n)*size, d.lim.MaxParquetBytes, d.held)
	}
	nb := make([]T, n)
	copy(nb, buf)
	d.held = need
	return nb, nil
}

// countDecompressed counts n more decompressed bytes against
// lim.MaxObjectBytes.
func (d *FlowParquetDecoder) countDecompressed(n int64) error {
	d.decompressed += n
	if d.decompressed > d.lim.MaxObjectBytes {
		return reasonErr(ReasonDecompressionLimit, "more than limits.max_object_bytes (%d) decompressed", d.lim.MaxObjectBytes)
	}
	return nil
}

// countText counts n more bytes of flow log text made from the object's
// rows against lim.MaxObjectBytes and lim.MaxRatio, as a text object's
// decompressed bytes are: a Parquet file can declare any number of rows
// that take no bytes (nulls, repeated dictionary entries), and the rows it
// may make are bounded so.
func (d *FlowParquetDecoder) countText(n int64) error {
	d.text += n
	switch {
	case d.text > d.lim.MaxObjectBytes:
		return reasonErr(ReasonDecompressionLimit, "its rows make more than limits.max_object_bytes (%d) of flow log text",
			d.lim.MaxObjectBytes)
	case d.text > d.lim.MinRatioBytes && float64(d.text) > d.lim.MaxRatio*float64(d.size):
		return reasonErr(ReasonDecompressionLimit, "its rows make %d bytes of flow log text from %d bytes, more than limits.max_ratio (%g) times as many",
			d.text, d.size, d.lim.MaxRatio)
	}
	return nil
}

// dropBuffers lets every buffer go.
func (d *FlowParquetDecoder) dropBuffers() {
	*d = FlowParquetDecoder{lim: d.lim, flow: d.flow, r: d.r, size: d.size, gz: d.gz, zs: d.zs}
}
