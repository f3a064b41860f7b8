package ingest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/parquet-go/parquet-go/format"
)

// thriftWriter writes the Thrift compact protocol, to make Parquet files
// by hand: files no writer would make, to see what the decoder does with
// them.
type thriftWriter struct {
	b []byte
	// last holds the last field id of each open struct.
	last []int16
}

func newThriftWriter() *thriftWriter { return &thriftWriter{last: []int16{0}} }

func (w *thriftWriter) field(id int16, typ byte) {
	top := &w.last[len(w.last)-1]
	if d := id - *top; d > 0 && d <= 15 {
		w.b = append(w.b, byte(d)<<4|typ)
	} else {
		w.b = binary.AppendVarint(append(w.b, typ), int64(id))
	}
	*top = id
}

func (w *thriftWriter) i32(id int16, v int32) {
	w.field(id, thriftI32)
	w.b = binary.AppendVarint(w.b, int64(v))
}

func (w *thriftWriter) i64(id int16, v int64) {
	w.field(id, thriftI64)
	w.b = binary.AppendVarint(w.b, v)
}

func (w *thriftWriter) str(id int16, s string) {
	w.field(id, thriftBinary)
	w.rawStr(s)
}

func (w *thriftWriter) rawStr(s string) {
	w.b = append(binary.AppendUvarint(w.b, uint64(len(s))), s...)
}

// begin opens a struct field; elem opens a struct that is a list element.
func (w *thriftWriter) begin(id int16) {
	w.field(id, thriftStruct)
	w.elem()
}

func (w *thriftWriter) elem() { w.last = append(w.last, 0) }

func (w *thriftWriter) end() {
	w.b = append(w.b, thriftStop)
	w.last = w.last[:len(w.last)-1]
}

func (w *thriftWriter) list(id int16, elem byte, n uint64) {
	w.field(id, thriftList)
	if n < 15 {
		w.b = append(w.b, byte(n)<<4|elem)
		return
	}
	w.b = binary.AppendUvarint(append(w.b, 0xf0|elem), n)
}

// handColumn is the one column of a hand-made file.
type handColumn struct {
	name     string
	typ      format.Type
	optional bool
	codec    format.CompressionCodec
	rows     int64
}

// handParquet makes a Parquet file of one column and one row group whose
// chunk is pages (each a page header and its body, as handPage makes).
func handParquet(c handColumn, pages ...[]byte) []byte {
	b := []byte(parquetMagic)
	start := int64(len(b))
	for _, p := range pages {
		b = append(b, p...)
	}
	size := int64(len(b)) - start
	w := newThriftWriter()
	w.i32(1, 1)
	w.list(2, thriftStruct, 2)
	w.elem()
	w.str(4, "schema")
	w.i32(5, 1)
	w.end()
	w.elem()
	w.i32(1, int32(c.typ))
	rep := format.Required
	if c.optional {
		rep = format.Optional
	}
	w.i32(3, int32(rep))
	w.str(4, c.name)
	w.end()
	w.i64(3, c.rows)
	w.list(4, thriftStruct, 1)
	w.elem()
	w.list(1, thriftStruct, 1)
	w.elem()
	w.i64(2, start)
	w.begin(3)
	w.i32(1, int32(c.typ))
	w.list(2, thriftI32, 1)
	w.b = binary.AppendVarint(w.b, int64(format.Plain))
	w.list(3, thriftBinary, 1)
	w.rawStr(c.name)
	w.i32(4, int32(c.codec))
	w.i64(5, c.rows)
	w.i64(6, size)
	w.i64(7, size)
	w.i64(9, start)
	w.end()
	w.end()
	w.i64(2, size)
	w.i64(3, c.rows)
	w.end()
	w.end()
	return handFile(b, w.b)
}

// handFile ends data with footer, its length and the magic.
func handFile(data, footer []byte) []byte {
	b := append(append([]byte(nil), data...), footer...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(footer)))
	return append(b, parquetMagic...)
}

// handPage is a v1 data page of n values: its header (with the sizes
// given, or the body's when negative) and body.
func handPage(n, uncompressed int32, enc format.Encoding, body []byte, crc bool) []byte {
	if uncompressed < 0 {
		uncompressed = int32(len(body))
	}
	w := newThriftWriter()
	w.i32(1, int32(format.DataPage))
	w.i32(2, uncompressed)
	w.i32(3, int32(len(body)))
	if crc {
		w.i32(4, int32(crc32.ChecksumIEEE(body)^1))
	}
	w.begin(5)
	w.i32(1, n)
	w.i32(2, int32(enc))
	w.i32(3, int32(format.RLE))
	w.i32(4, int32(format.RLE))
	w.end()
	w.end()
	return append(w.b, body...)
}

// plainInt32s is the PLAIN encoding of vs.
func plainInt32s(vs ...int32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// TestDecodeFlowParquetHandMade reads a file made by hand, byte by byte:
// the decoder does not merely agree with parquet-go's writer.
func TestDecodeFlowParquetHandMade(t *testing.T) {
	col := handColumn{name: "srcport", typ: format.Int32, codec: format.Uncompressed, rows: 3}
	data := handParquet(col, handPage(3, -1, format.Plain, plainInt32s(443, 22, -1), false))
	records, err := flowParquetDecodeAll(data, flowParquetTestObject("hand"), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 3 || records[0].Event == nil || records[0].Event.Flow.SrcPort != 443 ||
		string(records[1].Event.Raw) != "22" || records[2].Reason != ReasonFlowBadRecord {
		t.Fatalf("decoded %s", flowGoldenJSON(t, records, nil))
	}
}

// TestDecodeFlowParquetHostile feeds files made to cost time or memory:
// each fails with its reason, having allocated little.
func TestDecodeFlowParquetHostile(t *testing.T) {
	int32Col := handColumn{name: "srcport", typ: format.Int32, codec: format.Uncompressed, rows: 2}
	gzCol := int32Col
	gzCol.codec = format.Gzip
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 64<<20))
	_ = zw.Close()

	// A footer whose schema list says it holds 2^31 elements.
	hugeList := newThriftWriter()
	hugeList.i32(1, 1)
	hugeList.list(2, thriftStruct, 1<<31)
	// A footer of structs nested a thousand deep.
	deep := newThriftWriter()
	for range 1000 {
		deep.begin(1)
	}

	cases := []struct {
		name   string
		data   []byte
		reason string
		// want is in the error.
		want string
	}{
		{"huge schema list", handFile([]byte(parquetMagic), hugeList.b), ReasonBadParquet, "list of 2147483648 elements"},
		{"deep footer", handFile([]byte(parquetMagic), deep.b), ReasonBadParquet, "nested more than"},
		{"footer length beyond the file", append([]byte("PAR1\xff\xff\xff\x7f"), parquetMagic...), ReasonBadParquet, "footer"},
		{"page says 2 GiB", handParquet(gzCol, handPage(2, 1<<31-1, format.Plain, bomb.Bytes()[:64], false)),
			ReasonParquetLimit, "page"},
		{"gzip bomb", handParquet(gzCol, handPage(2, 64<<10, format.Plain, bomb.Bytes(), false)),
			ReasonBadParquet, "its header says 65536"},
		{"page beyond its chunk", handParquet(int32Col, handPage(2, 1<<20, format.Plain, plainInt32s(1, 2), false)[:20]),
			ReasonBadParquet, "page of"},
		{"checksum", handParquet(int32Col, handPage(2, -1, format.Plain, plainInt32s(1, 2), true)),
			ReasonBadParquet, "checksum"},
		{"fewer values than rows", handParquet(handColumn{name: "srcport", typ: format.Int32, codec: format.Uncompressed, rows: 3},
			handPage(3, -1, format.Plain, plainInt32s(1, 2), false)), ReasonBadParquet, "values end early"},
		{"dictionary indexes without a dictionary", handParquet(int32Col, handPage(2, -1, format.RLEDictionary, []byte{1, 4, 1}, false)),
			ReasonBadParquet, "without a dictionary"},
		{"unsupported encoding", handParquet(int32Col, handPage(2, -1, format.ByteStreamSplit, plainInt32s(1, 2), false)),
			ReasonBadParquet, "BYTE_STREAM_SPLIT"},
		{"unsupported codec", handParquet(handColumn{name: "srcport", typ: format.Int32, codec: format.Brotli, rows: 2},
			handPage(2, -1, format.Plain, plainInt32s(1, 2), false)), ReasonBadParquet, "BROTLI"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := flowParquetDecodeAll(c.data, flowParquetTestObject("hostile"), DefaultLimits())
			runtime.ReadMemStats(&after)
			if ReasonOf(err) != c.reason || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want reason %s and %q", err, c.reason, c.want)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
				t.Errorf("allocated %d bytes", grew)
			}
		})
	}
}

// TestDecodeFlowParquetFreeRows reads a file that declares two billion
// rows of nulls in a few bytes (one RLE run of definition levels): the
// text its rows make is bounded as a text object's is, so it stops early.
func TestDecodeFlowParquetFreeRows(t *testing.T) {
	const rows = 1<<31 - 1
	levels := binary.AppendUvarint(nil, rows<<1)
	levels = append(levels, 0)
	body := binary.LittleEndian.AppendUint32(nil, uint32(len(levels)))
	body = append(body, levels...)
	data := handParquet(handColumn{name: "srcaddr", typ: format.ByteArray, optional: true, codec: format.Uncompressed, rows: rows},
		handPage(rows, -1, format.Plain, body, false))
	lim := DefaultLimits()
	lim.MinRatioBytes = 1 << 20
	var seen flowDiscard
	err := DecodeFlowParquet(bytes.NewReader(data), int64(len(data)), flowParquetTestObject("free"), lim, &seen)
	if ReasonOf(err) != ReasonDecompressionLimit {
		t.Fatalf("error %v, want %s", err, ReasonDecompressionLimit)
	}
	// "-" and its line end: 2 bytes a row.
	if want := int(lim.MinRatioBytes / 2); seen.events != want {
		t.Errorf("%d rows decoded before the limit, want %d", seen.events, want)
	}
}

// TestThriftReaderTruncated cuts a footer at every byte: the reader
// always fails cleanly.
func TestThriftReaderTruncated(t *testing.T) {
	data := handParquet(handColumn{name: "srcport", typ: format.Int32, codec: format.Uncompressed, rows: 1},
		handPage(1, -1, format.Plain, plainInt32s(7), false))
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	footer := data[len(data)-8-n : len(data)-8]
	for i := range footer {
		d := NewFlowParquetDecoder(DefaultLimits())
		d.footer = footer[:i]
		if err := d.readMetadata(); err == nil {
			t.Errorf("footer cut at %d of %d bytes: no error", i, len(footer))
		}
	}
}
