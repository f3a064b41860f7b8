package ingest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// ParseOptions configure ParseFiles.
type ParseOptions struct {
	// Limits bound the decoding of each file.
	Limits Limits
	// Raw adds each event's original record to its line.
	Raw bool
	// Now is stamped as every event's ingest time.
	Now time.Time
}

// ParseFiles decodes local log files for `trailwatch parse`: each path is a
// file, a folder (read recursively, in name order) or "-" for standard
// input. Gzip and plain files are told apart by their content, CloudTrail
// (every shape CloudTrailDecoder reads) and VPC flow logs by their first
// bytes; a file starting with Parquet's magic ("PAR1") is a VPC flow log
// delivered as Parquet (FlowParquetDecoder), which is read from its end,
// so from a named file only: not from standard input, nor gzipped. Events
// go to out as NDJSON, one line each; a file that cannot be read, or one
// of its records, is named on errs with the reason, and the rest go on. It
// returns how many files or records failed.
func ParseFiles(paths []string, stdin io.Reader, out, errs io.Writer, opts ParseOptions) (failed int, err error) {
	w := bufio.NewWriterSize(out, 256<<10)
	p := &fileParser{
		opts: opts, out: w, errs: errs,
		stream: NewStream(opts.Limits), ct: NewCloudTrailDecoder(opts.Limits),
	}
	p.br = bufio.NewReaderSize(p.stream, 64<<10)
	for _, path := range paths {
		if path == "-" {
			p.file("-", stdin)
			continue
		}
		files, werr := expand(path)
		if werr != nil {
			fmt.Fprintf(errs, "%s: %v\n", path, werr)
			p.failed++
			continue
		}
		for _, f := range files {
			fh, oerr := os.Open(f)
			if oerr != nil {
				fmt.Fprintf(errs, "%s: %v\n", f, oerr)
				p.failed++
				continue
			}
			if size, ok := parquetFile(fh); ok {
				p.parquet(f, fh, size)
			} else {
				p.file(f, fh)
			}
			_ = fh.Close()
		}
		if p.werr != nil {
			break
		}
	}
	if ferr := w.Flush(); ferr != nil && p.werr == nil {
		p.werr = ferr
	}
	if p.werr != nil {
		return p.failed, fmt.Errorf("write events: %w", p.werr)
	}
	return p.failed, nil
}

// expand returns path, or the regular files below it when it is a folder.
func expand(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

type fileParser struct {
	opts   ParseOptions
	out    *bufio.Writer
	errs   io.Writer
	stream *Stream
	br     *bufio.Reader // over stream, reused for every file
	ct     *CloudTrailDecoder
	pq     *FlowParquetDecoder // made at the first Parquet file
	failed int
	werr   error // the first error writing out: stops everything
	name   string
	line   []byte
}

func (p *fileParser) file(name string, r io.Reader) {
	p.name = name
	fail := func(err error) {
		p.failed++
		fmt.Fprintf(p.errs, "%s: %v\n", name, err)
	}
	if err := p.stream.Reset(r); err != nil {
		fail(err)
		return
	}
	info := p.objectInfo(name)
	br := p.br
	br.Reset(p.stream)
	var err error
	if head, _ := br.Peek(len(parquetMagic)); string(head) == parquetMagic {
		fail(errors.New("a Parquet file is read from its end: name it, uncompressed, rather than piping it in or gzipping it"))
		return
	}
	if isFlow(br) {
		info.Kind = schemas.ObjectVPCFlow
		err = DecodeFlow(br, info, p.opts.Limits, p)
	} else {
		info.Kind = schemas.ObjectCloudTrail
		err = p.ct.Decode(br, info, p)
	}
	if err != nil && p.werr == nil {
		fail(err)
	}
}

// objectInfo describes the local file name as an object, with the account
// and region its name holds when it is named as AWS names log objects.
func (p *fileParser) objectInfo(name string) ObjectInfo {
	info := ObjectInfo{Key: name, Now: p.opts.Now}
	ki := ClassifyKey(filepath.ToSlash(name))
	info.AccountID, info.Region = ki.AccountID, ki.Region
	return info
}

// parquetFile reports whether f starts with Parquet's magic, and its size.
func parquetFile(f *os.File) (int64, bool) {
	var head [len(parquetMagic)]byte
	if _, err := f.ReadAt(head[:], 0); err != nil || string(head[:]) != parquetMagic {
		return 0, false
	}
	st, err := f.Stat()
	if err != nil {
		return 0, false
	}
	return st.Size(), true
}

// parquet decodes a Parquet flow log file of size bytes.
func (p *fileParser) parquet(name string, r io.ReaderAt, size int64) {
	p.name = name
	info := p.objectInfo(name)
	info.Kind = schemas.ObjectVPCFlowParquet
	if p.pq == nil {
		p.pq = NewFlowParquetDecoder(p.opts.Limits)
	}
	if err := p.pq.Decode(r, size, info, p); err != nil && p.werr == nil {
		p.failed++
		fmt.Fprintf(p.errs, "%s: %v\n", name, err)
	}
}

// isFlow reports whether the content starts like a flow log (a header of
// field names) rather than JSON.
func isFlow(br *bufio.Reader) bool {
	head, _ := br.Peek(64)
	for _, c := range head {
		switch c {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF:
			continue
		case '{', '[':
			return false
		default:
			return c >= 'a' && c <= 'z'
		}
	}
	return false
}

// Event writes one NDJSON line.
func (p *fileParser) Event(e *schemas.Event) error {
	p.line = AppendEventJSON(p.line[:0], e, p.opts.Raw)
	p.line = append(p.line, '\n')
	if _, err := p.out.Write(p.line); err != nil {
		p.werr = err
		return err
	}
	return nil
}

// BadRecord names the bad record on errs and goes on.
func (p *fileParser) BadRecord(index int64, err *DecodeError, _ []byte) error {
	p.failed++
	fmt.Fprintf(p.errs, "%s: record %d: %v\n", p.name, index, err)
	return nil
}

// eventLine is the NDJSON shape of an event printed by `trailwatch parse`.
type eventLine struct {
	EventID       string          `json:"event_id"`
	EventTime     string          `json:"event_time"`
	Source        string          `json:"source"`
	EventSource   string          `json:"event_source,omitempty"`
	EventName     string          `json:"event_name"`
	AccountID     string          `json:"account_id"`
	Region        string          `json:"region"`
	Principal     string          `json:"principal"`
	PrincipalType string          `json:"principal_type,omitempty"`
	SourceIP      string          `json:"source_ip"`
	UserAgent     string          `json:"user_agent,omitempty"`
	ErrorCode     string          `json:"error_code,omitempty"`
	ReadOnly      *bool           `json:"read_only,omitempty"`
	Flow          *flowLine       `json:"flow,omitempty"`
	Object        string          `json:"object"`
	Index         uint32          `json:"index"`
	Raw           json.RawMessage `json:"raw,omitempty"`
	RawText       string          `json:"raw_line,omitempty"`
}

type flowLine struct {
	SrcAddr   string `json:"src_addr,omitempty"`
	DstAddr   string `json:"dst_addr,omitempty"`
	SrcPort   uint16 `json:"src_port,omitempty"`
	DstPort   uint16 `json:"dst_port,omitempty"`
	Protocol  uint8  `json:"protocol,omitempty"`
	Packets   uint64 `json:"packets,omitempty"`
	Bytes     uint64 `json:"bytes,omitempty"`
	Action    string `json:"action,omitempty"`
	LogStatus string `json:"log_status,omitempty"`
	Interface string `json:"interface_id,omitempty"`
}

// AppendEventJSON appends the NDJSON form of e (without a newline) to dst:
// its id, time, source, name, account, region, principal and source
// address always, the rest when set; with raw, the original record too
// (as JSON for CloudTrail, as a string for a flow line).
func AppendEventJSON(dst []byte, e *schemas.Event, raw bool) []byte {
	l := eventLine{
		EventID: e.ID, EventTime: e.Time.UTC().Format(time.RFC3339Nano), Source: e.Source.String(),
		EventSource: e.EventSource, EventName: e.EventName, AccountID: e.AccountID, Region: e.Region,
		Principal: e.Principal, PrincipalType: e.PrincipalType, SourceIP: e.SourceIP,
		UserAgent: e.UserAgent, ErrorCode: e.ErrorCode, Object: e.Object.Key, Index: e.Object.Index,
	}
	if e.ReadOnly != schemas.Unset {
		b := e.ReadOnly == schemas.True
		l.ReadOnly = &b
	}
	if f := e.Flow; f != nil {
		l.Flow = &flowLine{SrcAddr: f.SrcAddr, DstAddr: f.DstAddr, SrcPort: f.SrcPort, DstPort: f.DstPort,
			Protocol: f.Protocol, Packets: f.Packets, Bytes: f.Bytes, Action: f.Action,
			LogStatus: f.LogStatus, Interface: f.InterfaceID}
	}
	if raw {
		if e.Source == schemas.SourceCloudTrail && json.Valid(e.Raw) {
			l.Raw = e.Raw
		} else {
			l.RawText = string(e.Raw)
		}
	}
	b, err := json.Marshal(&l)
	if err != nil {
		// Only an invalid Raw could fail, and it was checked.
		return append(dst, fmt.Sprintf(`{"event_id":%q,"error":%q}`, e.ID, err.Error())...)
	}
	return append(dst, b...)
}
