package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strconv"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// A Parquet column is read here one page at a time and one value at a
// time: a page is decompressed into a buffer of exactly the size its
// header states (a stream that decompresses to more is corrupt, so a
// compression bomb costs no more than an honest page), and its levels and
// values are decoded lazily, straight from that buffer, as rows ask for
// them. Nothing is sized by a count read from the file before the bytes
// behind it are known to be there. Only flat columns are read: a value or
// a null per row, no repetition.
//
// The encodings read are those writers use for integers and strings:
// PLAIN, dictionaries (PLAIN_DICTIONARY, RLE_DICTIONARY), DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY, with RLE definition levels;
// the codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD and LZ4_RAW. Anything else is
// a ReasonBadParquet error naming it.

const (
	// parquetWindowBytes is how much of a column chunk a column reads at
	// once when its row group is not read whole.
	parquetWindowBytes = 256 << 10
	// parquetMaxPageHeader bounds a page header; real ones take tens of
	// bytes, or a few hundred with statistics.
	parquetMaxPageHeader = 64 << 10
	// parquetMaxBitWidth is the widest bit-packed value (64-bit deltas).
	parquetMaxBitWidth = 64
	// parquetMaxDeltaBlock bounds the values of one DELTA_BINARY_PACKED
	// block (writers use 128).
	parquetMaxDeltaBlock = 1 << 16
	// parquetPlainDictionary is PLAIN_DICTIONARY, which the format
	// deprecates for writers (RLE_DICTIONARY in data pages, PLAIN in
	// dictionary pages) and older writers still use.
	parquetPlainDictionary format.Encoding = 2
)

// parquetColumn reads the values of one flat column, chunk after chunk.
type parquetColumn struct {
	// leaf is the column's schema leaf; field the flow log field it holds
	// (flowUnknown for a column kept only in Raw).
	leaf  *parquetLeaf
	field flowField

	// chunk is the column chunk being read; src holds its bytes from file
	// offset srcOff: the whole chunk (a slice of the row group's buffer)
	// when whole is set, else a window (window) that moves along it.
	chunk  parquetChunk
	whole  bool
	src    []byte
	srcOff int64
	pos    int
	window []byte

	// pageLeft is the number of values, nulls included, left in the page.
	pageLeft int
	// page holds the decompressed page (or its values, for v2 pages).
	page []byte
	// defs are the page's definition levels, for an optional column.
	defs parquetRLE
	vals parquetValues
	// dict holds the chunk's dictionary, each entry as the text it is
	// written as in a flow log line.
	dict parquetDict
	// hasDict is set once the chunk's dictionary page was read.
	hasDict bool

	// num renders an integer value.
	num [24]byte
}

// startChunk points c at chunk, whose bytes are data when the row group
// was read whole (data is nil otherwise).
func (c *parquetColumn) startChunk(chunk parquetChunk, data []byte) {
	c.chunk, c.whole = chunk, data != nil
	c.src, c.srcOff, c.pos = data, chunk.start, 0
	if !c.whole {
		c.src = c.window[:0]
	}
	c.pageLeft, c.hasDict = 0, false
}

// chunkLeft returns the bytes of the chunk not read yet.
func (c *parquetColumn) chunkLeft() int64 {
	return c.chunk.start + c.chunk.size - (c.srcOff + int64(c.pos))
}

// ensure makes the next n bytes of the chunk (n ≤ chunkLeft) available at
// c.src[c.pos:], reading more of the file when the column holds a window.
func (c *parquetColumn) ensure(d *FlowParquetDecoder, n int) error {
	if c.pos+n <= len(c.src) {
		return nil
	}
	if c.whole {
		// Unreachable: callers never ask beyond the chunk.
		return fmt.Errorf("column %s: %d bytes asked past the end of its chunk", c.leaf.name, n)
	}
	// Move what is left to the front and fill the rest of the window.
	keep := len(c.src) - c.pos
	want := int(min(c.chunkLeft(), int64(max(n, parquetWindowBytes))))
	rest := c.src[c.pos:]
	w, err := d.grow(c.window, want, "a column window")
	if err != nil {
		return err
	}
	// rest may lie in the old window or in this one: copy handles both.
	copy(w, rest)
	c.window = w
	c.srcOff += int64(c.pos)
	if err := d.readAt(c.window[keep:want], c.srcOff+int64(keep)); err != nil {
		return err
	}
	c.src, c.pos = c.window[:want], 0
	return nil
}

// next returns the column's next value as the text a flow log line holds
// for it; nil for a null.
func (c *parquetColumn) next(d *FlowParquetDecoder) ([]byte, error) {
	for c.pageLeft == 0 {
		if err := c.nextPage(d); err != nil {
			return nil, err
		}
	}
	c.pageLeft--
	if c.leaf.optional {
		level, err := c.defs.next()
		if err != nil {
			return nil, fmt.Errorf("column %s: definition levels: %w", c.leaf.name, err)
		}
		if level == 0 {
			return nil, nil
		}
	}
	v, err := c.value(d)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", c.leaf.name, err)
	}
	return v, nil
}

// value decodes the page's next non-null value.
func (c *parquetColumn) value(d *FlowParquetDecoder) ([]byte, error) {
	v := &c.vals
	switch v.kind {
	case parquetPlain:
		switch c.leaf.typ {
		case format.Int32:
			if v.left() < 4 {
				return nil, errParquetShort
			}
			x := binary.LittleEndian.Uint32(v.data[v.pos:])
			v.pos += 4
			return c.int32Text(x), nil
		case format.Int64:
			if v.left() < 8 {
				return nil, errParquetShort
			}
			x := binary.LittleEndian.Uint64(v.data[v.pos:])
			v.pos += 8
			return c.int64Text(x), nil
		}
		return v.plainBytes()
	case parquetDictionary:
		i, err := v.indexes.next()
		if err != nil {
			return nil, err
		}
		return c.dict.entry(i)
	case parquetDeltaInt:
		x, err := v.ints.next()
		if err != nil {
			return nil, err
		}
		if c.leaf.typ == format.Int32 {
			return c.int32Text(uint32(x)), nil
		}
		return c.int64Text(x), nil
	case parquetDeltaLength:
		return v.lengthBytes()
	case parquetDeltaBytes:
		return v.prefixedBytes(d)
	}
	return nil, errors.New("no value decoder")
}

// int32Text renders a 32-bit integer, unsigned when the schema says so.
func (c *parquetColumn) int32Text(x uint32) []byte {
	if c.leaf.unsigned {
		return strconv.AppendUint(c.num[:0], uint64(x), 10)
	}
	return strconv.AppendInt(c.num[:0], int64(int32(x)), 10)
}

// int64Text renders a 64-bit integer, unsigned when the schema says so.
func (c *parquetColumn) int64Text(x uint64) []byte {
	if c.leaf.unsigned {
		return strconv.AppendUint(c.num[:0], x, 10)
	}
	return strconv.AppendInt(c.num[:0], int64(x), 10)
}

// nextPage reads page headers until a data page with values, decoding a
// dictionary page on the way.
func (c *parquetColumn) nextPage(d *FlowParquetDecoder) error {
	for {
		left := c.chunkLeft()
		if left <= 0 {
			return fmt.Errorf("column %s: its chunk ends before its values do", c.leaf.name)
		}
		if err := c.ensure(d, int(min(left, parquetMaxPageHeader))); err != nil {
			return err
		}
		var h parquetPageHeader
		tr := thriftReader{b: c.src[c.pos:min(len(c.src), c.pos+int(min(left, parquetMaxPageHeader)))]}
		if err := tr.parsePageHeader(&h); err != nil {
			return fmt.Errorf("column %s: page header at byte %d: %w", c.leaf.name, c.srcOff+int64(c.pos), err)
		}
		c.pos += tr.pos
		if h.compressed < 0 || int64(h.compressed) > c.chunkLeft() || h.uncompressed < 0 {
			return fmt.Errorf("column %s: page of %d bytes (%d decompressed) in the %d bytes left of its chunk",
				c.leaf.name, h.compressed, h.uncompressed, c.chunkLeft())
		}
		if err := c.ensure(d, int(h.compressed)); err != nil {
			return err
		}
		body := c.src[c.pos : c.pos+int(h.compressed)]
		c.pos += int(h.compressed)
		if h.hasCRC && crc32.ChecksumIEEE(body) != h.crc {
			return fmt.Errorf("column %s: page checksum mismatch", c.leaf.name)
		}
		var err error
		switch h.typ {
		case format.DictionaryPage:
			err = c.readDictionary(d, &h, body)
		case format.DataPage:
			err = c.startPageV1(d, &h, body)
		case format.DataPageV2:
			err = c.startPageV2(d, &h, body)
		case format.IndexPage:
		default:
			err = fmt.Errorf("page type %d", h.typ)
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", c.leaf.name, err)
		}
		if c.pageLeft > 0 {
			return nil
		}
	}
}

// startPageV1 readies a v1 data page: levels and values, all compressed.
func (c *parquetColumn) startPageV1(d *FlowParquetDecoder, h *parquetPageHeader, body []byte) error {
	page, err := c.decompress(d, body, h.uncompressed)
	if err != nil {
		return err
	}
	if c.leaf.optional {
		if h.defEncoding != format.RLE {
			return fmt.Errorf("definition levels encoded as %s, which is not supported", h.defEncoding)
		}
		if len(page) < 4 {
			return errParquetShort
		}
		n := binary.LittleEndian.Uint32(page)
		if uint64(n) > uint64(len(page)-4) {
			return fmt.Errorf("%d bytes of definition levels in a %d-byte page", n, len(page))
		}
		c.defs.reset(page[4:4+n], 1)
		page = page[4+n:]
	}
	return c.startValues(d, h, page)
}

// startPageV2 readies a v2 data page: levels first, uncompressed, then the
// values, compressed or not.
func (c *parquetColumn) startPageV2(d *FlowParquetDecoder, h *parquetPageHeader, body []byte) error {
	if h.repLen < 0 || h.defLen < 0 || int64(h.repLen)+int64(h.defLen) > int64(len(body)) {
		return fmt.Errorf("%d+%d bytes of levels in a %d-byte page", h.repLen, h.defLen, len(body))
	}
	// A flat column has no repetition levels; some writers write some
	// anyway, all zero.
	levels := body[h.repLen : h.repLen+h.defLen]
	if c.leaf.optional {
		c.defs.reset(levels, 1)
	}
	values := body[h.repLen+h.defLen:]
	if h.valuesCompressed {
		var err error
		if values, err = c.decompress(d, values, h.uncompressed-h.repLen-h.defLen); err != nil {
			return err
		}
	}
	return c.startValues(d, h, values)
}

// startValues readies the value decoder for a page's values.
func (c *parquetColumn) startValues(d *FlowParquetDecoder, h *parquetPageHeader, values []byte) error {
	if h.numValues < 0 {
		return fmt.Errorf("page of %d values", h.numValues)
	}
	v := &c.vals
	*v = parquetValues{data: values, ints: v.ints, lens: v.lens, prev: v.prev[:0]}
	isInt := c.leaf.typ == format.Int32 || c.leaf.typ == format.Int64
	var err error
	switch h.encoding {
	case format.Plain:
		v.kind = parquetPlain
	case parquetPlainDictionary, format.RLEDictionary:
		if !c.hasDict {
			return errors.New("dictionary-encoded page without a dictionary")
		}
		if len(values) == 0 {
			return errParquetShort
		}
		if values[0] > 32 {
			return fmt.Errorf("dictionary indexes of %d bits", values[0])
		}
		v.kind = parquetDictionary
		v.indexes.reset(values[1:], uint(values[0]))
	case format.DeltaBinaryPacked:
		if !isInt {
			break
		}
		v.kind = parquetDeltaInt
		_, err = v.ints.reset(values)
	case format.DeltaLengthByteArray:
		if isInt {
			break
		}
		v.kind = parquetDeltaLength
		v.pos, err = v.lens.reset(values)
	case format.DeltaByteArray:
		if isInt {
			break
		}
		v.kind = parquetDeltaBytes
		var end, end2 int
		if end, err = v.ints.reset(values); err == nil {
			end2, err = v.lens.reset(values[end:])
			v.pos = end + end2
		}
	}
	if err != nil {
		return fmt.Errorf("%s values: %w", h.encoding, err)
	}
	if v.kind == 0 {
		return fmt.Errorf("%s values encoded as %s, which is not supported", c.leaf.typ, h.encoding)
	}
	c.pageLeft = int(h.numValues)
	return nil
}

// readDictionary decodes a dictionary page (PLAIN values) into c.dict,
// rendering integers as text once for the whole chunk.
func (c *parquetColumn) readDictionary(d *FlowParquetDecoder, h *parquetPageHeader, body []byte) error {
	if h.encoding != format.Plain && h.encoding != parquetPlainDictionary {
		return fmt.Errorf("column %s: dictionary encoded as %s", c.leaf.name, h.encoding)
	}
	page, err := c.decompress(d, body, h.uncompressed)
	if err != nil {
		return fmt.Errorf("column %s: dictionary: %w", c.leaf.name, err)
	}
	n := int(h.numValues)
	width := 4 // an INT32, or a string's length
	if c.leaf.typ == format.Int64 {
		width = 8
	}
	if n < 0 || n > len(page)/width {
		return fmt.Errorf("column %s: dictionary of %d entries in %d bytes", c.leaf.name, n, len(page))
	}
	// Integers take at most 20 bytes as text; strings as many as they
	// take in the page.
	textBytes := len(page)
	if c.leaf.typ != format.ByteArray {
		textBytes = 20 * n
	}
	dict := &c.dict
	if dict.text, err = d.grow(dict.text, textBytes, "a dictionary"); err != nil {
		return err
	}
	if dict.ends, err = parquetGrow(d, dict.ends, n, "a dictionary"); err != nil {
		return err
	}
	v := parquetValues{kind: parquetPlain, data: page}
	text := dict.text[:0]
	for i := range n {
		var e []byte
		switch c.leaf.typ {
		case format.Int32:
			e = c.int32Text(binary.LittleEndian.Uint32(page[4*i:]))
		case format.Int64:
			e = c.int64Text(binary.LittleEndian.Uint64(page[8*i:]))
		default:
			if e, err = v.plainBytes(); err != nil {
				return fmt.Errorf("column %s: dictionary entry %d: %w", c.leaf.name, i, err)
			}
		}
		text = append(text, e...)
		dict.ends[i] = uint32(len(text))
	}
	dict.text, c.hasDict = text, true
	return nil
}

// decompress returns body decompressed into the column's page buffer,
// which is made exactly size bytes: a stream that decompresses to more is
// corrupt. An uncompressed body is returned as it is.
func (c *parquetColumn) decompress(d *FlowParquetDecoder, body []byte, size int32) ([]byte, error) {
	if c.chunk.codec == format.Uncompressed {
		if int(size) != len(body) {
			return nil, fmt.Errorf("uncompressed page of %d bytes says %d", len(body), size)
		}
		return body, nil
	}
	switch {
	case size < 0:
		return nil, fmt.Errorf("page of %d bytes", size)
	case size == 0:
		// Nothing to decompress (a page of nulls has no values), and
		// lz4's decoder must not be handed an empty buffer.
		return nil, nil
	}
	if err := d.countDecompressed(int64(size)); err != nil {
		return nil, err
	}
	page, err := d.grow(c.page, int(size), "a page")
	if err != nil {
		return nil, err
	}
	c.page = page
	n := 0
	switch c.chunk.codec {
	case format.Snappy:
		if m, derr := snappy.DecodedLen(body); derr != nil || m != int(size) {
			return nil, fmt.Errorf("snappy page of %d bytes says %d (%v)", m, size, derr)
		}
		// With the length checked, Decode writes into page.
		var out []byte
		out, err = snappy.Decode(page, body)
		n = len(out)
	case format.Gzip:
		n, err = d.gunzip(page, body)
	case format.Zstd:
		n, err = d.unzstd(page, body)
	case format.Lz4Raw:
		n, err = lz4.UncompressBlock(body, page)
	default:
		return nil, fmt.Errorf("compression codec %s is not supported", c.chunk.codec)
	}
	if err != nil {
		return nil, fmt.Errorf("decompress %s page: %w", c.chunk.codec, err)
	}
	if n != int(size) {
		return nil, fmt.Errorf("%s page decompressed to %d bytes, its header says %d", c.chunk.codec, n, size)
	}
	return page, nil
}

// readStream reads a decompressor's whole output into buf, which must be
// exactly its size: the caller reports a page shorter or longer than its
// header says by the count returned.
func (d *FlowParquetDecoder) readStream(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return n, nil
	}
	if err != nil {
		return n, err
	}
	// Read on to the end of the stream: a byte more is a page longer than
	// its header says, and the end is where the stream's own checksum is
	// checked. (d.one, not a local, which would escape through r.)
	for range 8 {
		m, err := r.Read(d.one[:])
		switch {
		case m > 0:
			return n + m, nil
		case err == io.EOF:
			return n, nil
		case err != nil:
			return n, err
		}
	}
	return n, errors.New("the decompressor makes no progress")
}

// parquetDict is a column chunk's dictionary: entry i is
// text[ends[i-1]:ends[i]].
type parquetDict struct {
	text []byte
	ends []uint32
}

func (d *parquetDict) entry(i uint64) ([]byte, error) {
	if i >= uint64(len(d.ends)) {
		return nil, fmt.Errorf("dictionary index %d of %d entries", i, len(d.ends))
	}
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.text[start:d.ends[i]], nil
}

// errParquetShort is a page whose values end early.
var errParquetShort = errors.New("values end early")

// The value decoders of a page.
const (
	parquetPlain = iota + 1
	parquetDictionary
	parquetDeltaInt
	parquetDeltaLength
	parquetDeltaBytes
)

// parquetValues decodes the values of one page, one at a time.
type parquetValues struct {
	kind int
	data []byte
	// pos is where the next PLAIN value, or the next string's bytes
	// (delta encodings), start in data.
	pos int
	// indexes are a dictionary page's indexes.
	indexes parquetRLE
	// ints are DELTA_BINARY_PACKED integers, or the prefix lengths of
	// DELTA_BYTE_ARRAY; lens are string lengths.
	ints, lens parquetDelta
	// prev is the last DELTA_BYTE_ARRAY string.
	prev []byte
}

func (v *parquetValues) left() int { return len(v.data) - v.pos }

// plainBytes reads a PLAIN string: a 4-byte length, then its bytes.
func (v *parquetValues) plainBytes() ([]byte, error) {
	if v.left() < 4 {
		return nil, errParquetShort
	}
	n := binary.LittleEndian.Uint32(v.data[v.pos:])
	v.pos += 4
	if uint64(n) > uint64(v.left()) {
		return nil, fmt.Errorf("%d-byte string in %d bytes", n, v.left())
	}
	b := v.data[v.pos : v.pos+int(n)]
	v.pos += int(n)
	return b, nil
}

// lengthBytes reads a DELTA_LENGTH_BYTE_ARRAY string.
func (v *parquetValues) lengthBytes() ([]byte, error) {
	n, err := v.lens.next()
	if err != nil {
		return nil, err
	}
	if n > uint64(v.left()) {
		return nil, fmt.Errorf("%d-byte string in %d bytes", int64(n), v.left())
	}
	b := v.data[v.pos : v.pos+int(n)]
	v.pos += int(n)
	return b, nil
}

// prefixedBytes reads a DELTA_BYTE_ARRAY string: the first prefix bytes of
// the previous one, then a suffix. A string is never longer than the
// suffixes read so far, so prev is bounded by the page.
func (v *parquetValues) prefixedBytes(d *FlowParquetDecoder) ([]byte, error) {
	prefix, err := v.ints.next()
	if err != nil {
		return nil, err
	}
	if prefix > uint64(len(v.prev)) {
		return nil, fmt.Errorf("prefix of %d bytes of a %d-byte string", int64(prefix), len(v.prev))
	}
	suffix, err := v.lengthBytes()
	if err != nil {
		return nil, err
	}
	n := int(prefix) + len(suffix)
	if n > cap(v.prev) {
		b, err := d.grow(v.prev, max(n, 2*cap(v.prev)), "a string")
		if err != nil {
			return nil, err
		}
		v.prev = b[:len(v.prev)]
	}
	v.prev = append(v.prev[:prefix], suffix...)
	return v.prev, nil
}

// parquetRLE decodes the RLE/bit-packing hybrid of definition levels and
// dictionary indexes, one value at a time.
type parquetRLE struct {
	data  []byte
	pos   int
	width uint
	// run values of val are left in the current RLE run.
	run uint64
	val uint64
	// packed values are left in the current bit-packed run, the next at
	// bit (from the start of data), the run's bytes ending at end.
	packed uint64
	bit    uint64
	end    int
}

func (d *parquetRLE) reset(data []byte, width uint) {
	*d = parquetRLE{data: data, width: width}
}

func (d *parquetRLE) next() (uint64, error) {
	for d.run == 0 && d.packed == 0 {
		if d.pos >= len(d.data) {
			return 0, errParquetShort
		}
		h, n := binary.Uvarint(d.data[d.pos:])
		if n <= 0 {
			return 0, errors.New("bad run header")
		}
		d.pos += n
		count := h >> 1
		if count > math.MaxUint32 {
			return 0, fmt.Errorf("run of %d values", count)
		}
		if h&1 == 1 {
			// count groups of 8 values, width bits each: width bytes a group.
			d.packed, d.bit = count*8, uint64(d.pos)*8
			d.end = int(min(uint64(len(d.data)), uint64(d.pos)+count*uint64(d.width)))
			d.pos = d.end
			continue
		}
		nb := int(d.width+7) / 8
		if len(d.data)-d.pos < nb {
			return 0, errParquetShort
		}
		var v uint64
		for i := range nb {
			v |= uint64(d.data[d.pos+i]) << (8 * i)
		}
		d.pos += nb
		d.run, d.val = count, v
	}
	if d.run > 0 {
		d.run--
		return d.val, nil
	}
	v, ok := parquetBits(d.data[:d.end], d.bit, d.width)
	if !ok {
		return 0, errParquetShort
	}
	d.packed--
	d.bit += uint64(d.width)
	return v, nil
}

// parquetBits reads width bits (up to 64) at bit offset bit of b, least
// significant first.
func parquetBits(b []byte, bit uint64, width uint) (uint64, bool) {
	if width == 0 {
		return 0, true
	}
	end := (bit + uint64(width) + 7) / 8
	if end > uint64(len(b)) {
		return 0, false
	}
	i, shift := bit/8, bit%8
	var v uint64
	if i+8 <= uint64(len(b)) {
		v = binary.LittleEndian.Uint64(b[i:])
	} else {
		for k := uint64(0); i+k < uint64(len(b)); k++ {
			v |= uint64(b[i+k]) << (8 * k)
		}
	}
	v >>= shift
	if shift+uint64(width) > 64 {
		v |= uint64(b[i+8]) << (64 - shift)
	}
	if width < 64 {
		v &= 1<<width - 1
	}
	return v, true
}

// parquetDelta decodes DELTA_BINARY_PACKED integers one at a time. The
// values are kept as uint64: the arithmetic wraps, as the encoding means
// it to, and a 32-bit column takes the low 32 bits.
type parquetDelta struct {
	data []byte
	pos  int
	// perMini is the values of a miniblock, miniBlocks a block's count.
	perMini, miniBlocks int
	// left values are to be returned; first is set before the first.
	left  uint64
	first bool
	prev  uint64
	// minDelta and widths describe the current block, mini the next
	// miniblock of it; inMini values are left in the current miniblock,
	// the next at bit, width bits each.
	minDelta uint64
	widths   []byte
	mini     int
	inMini   int
	bit      uint64
	width    uint
}

// reset starts decoding data. It returns where the encoded values end in
// data, found by walking the block headers without decoding.
func (d *parquetDelta) reset(data []byte) (int, error) {
	*d = parquetDelta{data: data}
	r := thriftReader{b: data}
	blockSize, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	miniBlocks, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	total, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	first, err := r.varint()
	if err != nil {
		return 0, err
	}
	if blockSize == 0 || blockSize > parquetMaxDeltaBlock || miniBlocks == 0 || blockSize%miniBlocks != 0 ||
		(blockSize/miniBlocks)%8 != 0 {
		return 0, fmt.Errorf("blocks of %d values in %d miniblocks", blockSize, miniBlocks)
	}
	d.pos, d.perMini, d.miniBlocks = r.pos, int(blockSize/miniBlocks), int(miniBlocks)
	d.left, d.first, d.prev, d.mini = total, total > 0, uint64(first), d.miniBlocks
	return d.end()
}

// end walks the blocks that hold the values after the first and returns
// where the last of them ends. Every block takes at least one byte per
// miniblock, so the walk ends with the data.
func (d *parquetDelta) end() (int, error) {
	pos := d.pos
	deltas := d.left
	if deltas > 0 {
		deltas--
	}
	for deltas > 0 {
		_, n := binary.Uvarint(d.data[pos:])
		if n <= 0 {
			return 0, errors.New("bad block header")
		}
		pos += n
		if len(d.data)-pos < d.miniBlocks {
			return 0, errParquetShort
		}
		widths := d.data[pos : pos+d.miniBlocks]
		pos += d.miniBlocks
		for _, w := range widths {
			if deltas == 0 {
				break
			}
			if w > parquetMaxBitWidth {
				return 0, fmt.Errorf("%d-bit deltas", w)
			}
			size := d.perMini * int(w) / 8
			if len(d.data)-pos < size {
				return 0, errParquetShort
			}
			pos += size
			deltas -= min(deltas, uint64(d.perMini))
		}
	}
	return pos, nil
}

func (d *parquetDelta) next() (uint64, error) {
	if d.left == 0 {
		return 0, errParquetShort
	}
	d.left--
	if d.first {
		d.first = false
		return d.prev, nil
	}
	if d.inMini == 0 {
		if d.mini == d.miniBlocks {
			r := thriftReader{b: d.data, pos: d.pos}
			minDelta, err := r.varint()
			if err != nil {
				return 0, err
			}
			if r.left() < d.miniBlocks {
				return 0, errParquetShort
			}
			d.minDelta, d.widths, d.mini = uint64(minDelta), d.data[r.pos:r.pos+d.miniBlocks], 0
			d.pos = r.pos + d.miniBlocks
		}
		d.width = uint(d.widths[d.mini])
		if d.width > parquetMaxBitWidth {
			return 0, fmt.Errorf("%d-bit deltas", d.width)
		}
		size := d.perMini * int(d.width) / 8
		if len(d.data)-d.pos < size {
			return 0, errParquetShort
		}
		d.bit, d.inMini = uint64(d.pos)*8, d.perMini
		d.pos += size
		d.mini++
	}
	delta, ok := parquetBits(d.data[:d.pos], d.bit, d.width)
	if !ok {
		return 0, errParquetShort
	}
	d.bit += uint64(d.width)
	d.inMini--
	d.prev += d.minDelta + delta
	return d.prev, nil
}

// gunzip decompresses one gzip page into buf.
func (d *FlowParquetDecoder) gunzip(buf, body []byte) (int, error) {
	d.compressed.Reset(body)
	if d.gz == nil {
		gz, err := gzip.NewReader(&d.compressed)
		if err != nil {
			return 0, err
		}
		d.gz = gz
	} else if err := d.gz.Reset(&d.compressed); err != nil {
		return 0, err
	}
	return d.readStream(d.gz, buf)
}

// unzstd decompresses one zstd page into buf. The decoder decodes in the
// calling goroutine and its window is bounded by the Parquet limit.
func (d *FlowParquetDecoder) unzstd(buf, body []byte) (int, error) {
	d.compressed.Reset(body)
	if d.zs == nil {
		zs, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(uint64(d.lim.MaxParquetBytes)))
		if err != nil {
			return 0, err
		}
		d.zs = zs
	}
	if err := d.zs.Reset(&d.compressed); err != nil {
		return 0, err
	}
	return d.readStream(d.zs, buf)
}
