package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet keeps its metadata, the file footer and every page header, in
// the Thrift compact protocol. This file reads the few fields the flow log
// decoder uses straight from those bytes, for memory's sake: parquet-go's
// own metadata decoder makes a slice of whatever length a list declares (a
// 20-byte footer declaring eight million schema elements costs 768 MiB
// before it fails), which breaks ingest's promise that memory is bounded by
// configuration. Here a list is checked against the bytes left before
// anything is made of it, nesting is bounded, and only what the decoder
// uses is kept. parquet-go provides the format's constants.

// The compact protocol's type codes.
const (
	thriftStop   = 0
	thriftTrue   = 1
	thriftFalse  = 2
	thriftByte   = 3
	thriftI16    = 4
	thriftI32    = 5
	thriftI64    = 6
	thriftDouble = 7
	thriftBinary = 8
	thriftList   = 9
	thriftSet    = 10
	thriftMap    = 11
	thriftStruct = 12
	thriftUUID   = 13
)

// thriftMaxDepth bounds the nesting of structs and lists. Parquet's own
// metadata nests six deep; the bound keeps a hostile footer from using the
// stack.
const thriftMaxDepth = 32

// errThriftCorrupt is wrapped by every error of thriftReader.
var errThriftCorrupt = errors.New("corrupt thrift")

// thriftReader reads compact-protocol values from a byte slice. Every
// method checks that the bytes it reads are there, so no input makes it
// panic, loop long or allocate.
type thriftReader struct {
	b     []byte
	pos   int
	depth int
}

func (r *thriftReader) fail(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errThriftCorrupt, r.pos, fmt.Sprintf(format, args...))
}

func (r *thriftReader) left() int { return len(r.b) - r.pos }

func (r *thriftReader) byte1() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.fail("truncated")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *thriftReader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 {
		return 0, r.fail("bad varint")
	}
	r.pos += n
	return v, nil
}

// varint reads a zigzag-encoded integer.
func (r *thriftReader) varint() (int64, error) {
	u, err := r.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

// int reads an integer field of type typ (i8, i16, i32 or i64).
func (r *thriftReader) int(typ byte) (int64, error) {
	switch typ {
	case thriftByte:
		c, err := r.byte1()
		return int64(int8(c)), err
	case thriftI16, thriftI32, thriftI64:
		return r.varint()
	}
	return 0, r.fail("type %d is not an integer", typ)
}

// int32 reads an integer field that must fit in 32 bits.
func (r *thriftReader) int32(typ byte) (int32, error) {
	v, err := r.int(typ)
	if err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
		err = r.fail("%d does not fit in 32 bits", v)
	}
	return int32(v), err
}

// bool reads a boolean field: the compact protocol keeps its value in the
// field's type code.
func (r *thriftReader) bool(typ byte) (bool, error) {
	switch typ {
	case thriftTrue:
		return true, nil
	case thriftFalse:
		return false, nil
	}
	return false, r.fail("type %d is not a boolean", typ)
}

// binary reads a binary field; the slice points into the input.
func (r *thriftReader) binary(typ byte) ([]byte, error) {
	if typ != thriftBinary {
		return nil, r.fail("type %d is not binary", typ)
	}
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(r.left()) {
		return nil, r.fail("%d-byte string in %d bytes", n, r.left())
	}
	b := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

// list reads a list (or set) header of a field of type typ. The element
// count is checked against the bytes left (every element takes at least
// one), so a caller may size a slice by it.
func (r *thriftReader) list(typ byte) (n int, elem byte, err error) {
	if typ != thriftList && typ != thriftSet {
		return 0, 0, r.fail("type %d is not a list", typ)
	}
	h, err := r.byte1()
	if err != nil {
		return 0, 0, err
	}
	size, elem := uint64(h>>4), h&0x0f
	if size == 15 {
		if size, err = r.uvarint(); err != nil {
			return 0, 0, err
		}
	}
	if size > uint64(r.left()) {
		return 0, 0, r.fail("list of %d elements in %d bytes", size, r.left())
	}
	return int(size), elem, nil
}

// structFields reads a struct, calling field with the id and type of each
// of its fields. field must read the value, or skip it.
func (r *thriftReader) structFields(field func(id int16, typ byte) error) error {
	if r.depth++; r.depth > thriftMaxDepth {
		return r.fail("nested more than %d deep", thriftMaxDepth)
	}
	defer func() { r.depth-- }()
	var last int16
	for {
		h, err := r.byte1()
		if err != nil {
			return err
		}
		if h == thriftStop {
			return nil
		}
		typ, id := h&0x0f, last+int16(h>>4)
		if h>>4 == 0 {
			v, err := r.varint()
			if err != nil {
				return err
			}
			if v < math.MinInt16 || v > math.MaxInt16 {
				return r.fail("field id %d", v)
			}
			id = int16(v)
		}
		last = id
		if err := field(id, typ); err != nil {
			return err
		}
	}
}

// skip reads and drops a value of type typ.
func (r *thriftReader) skip(typ byte) error {
	switch typ {
	case thriftTrue, thriftFalse:
		// The value is the type code (in a list, one byte: see skipElem).
		return nil
	case thriftByte, thriftI16, thriftI32, thriftI64:
		_, err := r.int(typ)
		return err
	case thriftDouble, thriftUUID:
		n := 8
		if typ == thriftUUID {
			n = 16
		}
		if r.left() < n {
			return r.fail("truncated")
		}
		r.pos += n
		return nil
	case thriftBinary:
		_, err := r.binary(typ)
		return err
	case thriftList, thriftSet:
		n, elem, err := r.list(typ)
		if err != nil {
			return err
		}
		return r.skipElems(n, elem)
	case thriftMap:
		n, err := r.uvarint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := r.byte1()
		if err != nil {
			return err
		}
		if n > uint64(r.left()) {
			return r.fail("map of %d entries in %d bytes", n, r.left())
		}
		for range n {
			if err := r.skipElems(1, kv>>4); err != nil {
				return err
			}
			if err := r.skipElems(1, kv&0x0f); err != nil {
				return err
			}
		}
		return nil
	case thriftStruct:
		return r.structFields(func(_ int16, t byte) error { return r.skip(t) })
	}
	return r.fail("unknown type %d", typ)
}

// skipElems skips n list elements of type elem. A boolean element takes a
// byte, unlike a boolean field.
func (r *thriftReader) skipElems(n int, elem byte) error {
	if r.depth++; r.depth > thriftMaxDepth {
		return r.fail("nested more than %d deep", thriftMaxDepth)
	}
	defer func() { r.depth-- }()
	for range n {
		var err error
		if elem == thriftTrue || elem == thriftFalse {
			_, err = r.byte1()
		} else {
			err = r.skip(elem)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parquetLeaf is one column of a Parquet file: a leaf of its schema.
type parquetLeaf struct {
	// name is the leaf's own name; it points into the footer.
	name []byte
	typ  format.Type
	// flat is a top-level field that is not repeated: one value, or a
	// null, per row.
	flat     bool
	optional bool
	// unsigned is an integer annotated as unsigned.
	unsigned bool
	// col is the index of the decoder's column reading this leaf, or -1.
	col int
}

// parquetElement is one schema element, as the decoder needs it.
type parquetElement struct {
	name        []byte
	typ         format.Type
	hasType     bool
	repetition  format.FieldRepetitionType
	numChildren int32
	unsigned    bool
}

// parseSchemaElement reads one SchemaElement struct.
func (r *thriftReader) parseSchemaElement(e *parquetElement) error {
	*e = parquetElement{}
	return r.structFields(func(id int16, typ byte) error {
		var v int32
		var err error
		switch id {
		case 1: // type
			v, err = r.int32(typ)
			e.typ, e.hasType = format.Type(v), true
		case 3: // repetition_type
			v, err = r.int32(typ)
			e.repetition = format.FieldRepetitionType(v)
		case 4: // name
			e.name, err = r.binary(typ)
		case 5: // num_children
			e.numChildren, err = r.int32(typ)
		case 6: // converted_type
			v, err = r.int32(typ)
			switch deprecated.ConvertedType(v) {
			case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
				e.unsigned = true
			}
		case 10: // logicalType, a union: only INTEGER (10) matters here
			if typ != thriftStruct {
				return r.fail("logicalType of type %d", typ)
			}
			err = r.structFields(func(id int16, typ byte) error {
				if id != 10 || typ != thriftStruct {
					return r.skip(typ)
				}
				return r.structFields(func(id int16, typ byte) error {
					if id != 2 { // isSigned
						return r.skip(typ)
					}
					signed, err := r.bool(typ)
					e.unsigned = e.unsigned || !signed
					return err
				})
			})
		default:
			err = r.skip(typ)
		}
		return err
	})
}

// parquetChunk is where one column of one row group is in the file.
type parquetChunk struct {
	codec format.CompressionCodec
	// start and size locate the chunk's pages, dictionary page first.
	start, size int64
	numValues   int64
}

// parseColumnChunk reads a ColumnChunk struct for leaf into c, checking it
// against the schema and the file: its pages lie between the leading magic
// and dataEnd, where the footer starts.
func (r *thriftReader) parseColumnChunk(c *parquetChunk, leaf *parquetLeaf, dataEnd int64) error {
	*c = parquetChunk{}
	var hasMeta bool
	err := r.structFields(func(id int16, typ byte) error {
		switch id {
		case 1: // file_path
			path, err := r.binary(typ)
			if err == nil && len(path) > 0 {
				err = fmt.Errorf("column %s is in another file (%q), which is not supported", leaf.name, flowQuote(path))
			}
			return err
		case 3: // meta_data
			if typ != thriftStruct {
				return r.fail("meta_data of type %d", typ)
			}
			hasMeta = true
			return r.parseColumnMeta(c, leaf)
		case 8, 9: // crypto_metadata, encrypted_column_metadata
			return fmt.Errorf("column %s is encrypted, which is not supported", leaf.name)
		}
		return r.skip(typ)
	})
	switch {
	case err != nil:
		return err
	case !hasMeta:
		return fmt.Errorf("column %s has no metadata", leaf.name)
	case c.start < 4 || c.size <= 0 || c.start > dataEnd-c.size:
		return fmt.Errorf("column %s claims bytes %d to %d of a file whose pages end at byte %d",
			leaf.name, c.start, c.start+c.size, dataEnd)
	}
	return nil
}

// parseColumnMeta reads a ColumnMetaData struct for leaf into c.
func (r *thriftReader) parseColumnMeta(c *parquetChunk, leaf *parquetLeaf) error {
	var dataOffset, dictOffset int64
	var hasType bool
	err := r.structFields(func(id int16, typ byte) error {
		var v int64
		var err error
		switch id {
		case 1: // type
			v, err = r.int(typ)
			hasType = true
			if err == nil && format.Type(v) != leaf.typ {
				err = fmt.Errorf("column %s holds %s values, its schema says %s", leaf.name, format.Type(v), leaf.typ)
			}
		case 3: // path_in_schema
			var n int
			var elem byte
			if n, elem, err = r.list(typ); err != nil {
				return err
			}
			if n != 1 || elem != thriftBinary {
				return fmt.Errorf("column %s: its path has %d parts, want 1", leaf.name, n)
			}
			var name []byte
			if name, err = r.binary(elem); err == nil && string(name) != string(leaf.name) {
				err = fmt.Errorf("column %s: its path names %q", leaf.name, flowQuote(name))
			}
		case 4: // codec
			v, err = r.int(typ)
			c.codec = format.CompressionCodec(v)
		case 5: // num_values
			c.numValues, err = r.int(typ)
		case 7: // total_compressed_size
			c.size, err = r.int(typ)
		case 9: // data_page_offset
			dataOffset, err = r.int(typ)
		case 11: // dictionary_page_offset
			dictOffset, err = r.int(typ)
		default:
			err = r.skip(typ)
		}
		return err
	})
	if err != nil {
		return err
	}
	if !hasType {
		return fmt.Errorf("column %s has no type in its metadata", leaf.name)
	}
	// Writers that have no dictionary page leave its offset out or zero.
	c.start = dataOffset
	if dictOffset > 0 && dictOffset < dataOffset {
		c.start = dictOffset
	}
	return nil
}

// parquetPageHeader is what the decoder uses of a PageHeader.
type parquetPageHeader struct {
	typ                      format.PageType
	uncompressed, compressed int32
	crc                      uint32
	hasCRC                   bool
	// numValues counts the values of a data page, nulls included, or the
	// entries of a dictionary page.
	numValues int32
	encoding  format.Encoding
	// defEncoding is the definition levels' encoding (data page v1).
	defEncoding format.Encoding
	// defLen and repLen are the byte lengths of the levels, which a data
	// page v2 keeps uncompressed before its values; valuesCompressed says
	// whether the values are compressed (v2; a v1 page always is).
	defLen, repLen   int32
	valuesCompressed bool
}

// parsePageHeader reads a PageHeader struct.
func (r *thriftReader) parsePageHeader(h *parquetPageHeader) error {
	*h = parquetPageHeader{valuesCompressed: true}
	return r.structFields(func(id int16, typ byte) error {
		var v int32
		var err error
		switch id {
		case 1:
			v, err = r.int32(typ)
			h.typ = format.PageType(v)
		case 2:
			h.uncompressed, err = r.int32(typ)
		case 3:
			h.compressed, err = r.int32(typ)
		case 4:
			v, err = r.int32(typ)
			h.crc, h.hasCRC = uint32(v), true
		case 5, 7, 8: // data_page_header, dictionary_page_header, data_page_header_v2
			if typ != thriftStruct {
				return r.fail("page header %d of type %d", id, typ)
			}
			err = r.parsePageKind(id, h)
		default:
			err = r.skip(typ)
		}
		return err
	})
}

// parsePageKind reads the part of a page header that depends on the
// page's kind: field 5 (data page v1), 7 (dictionary page) or 8 (data page
// v2) of PageHeader. Their fields 1 and 2 are the same: the number of
// values and their encoding.
func (r *thriftReader) parsePageKind(kind int16, h *parquetPageHeader) error {
	return r.structFields(func(id int16, typ byte) error {
		var v int32
		var err error
		switch {
		case id == 1:
			h.numValues, err = r.int32(typ)
		case id == 2 && kind != 8, id == 4 && kind == 8:
			v, err = r.int32(typ)
			h.encoding = format.Encoding(v)
		case id == 3 && kind == 5:
			v, err = r.int32(typ)
			h.defEncoding = format.Encoding(v)
		case id == 5 && kind == 8:
			h.defLen, err = r.int32(typ)
		case id == 6 && kind == 8:
			h.repLen, err = r.int32(typ)
		case id == 7 && kind == 8:
			h.valuesCompressed, err = r.bool(typ)
		default:
			err = r.skip(typ)
		}
		return err
	})
}
