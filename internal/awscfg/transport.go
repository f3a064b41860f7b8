package awscfg

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// syncTransport is an HTTP/1.1 round tripper that writes the request and
// reads the response on the calling goroutine, over a pool of keep-alive
// connections.
//
// net/http's Transport gives every connection a reader and a writer
// goroutine and hands each request and response between them and the
// caller. For a 2 KB object that hand-over costs more CPU than the rest of
// the request: on the project's 2-core benchmark machine a GET of a small
// object from a local S3 server took about 50 µs of client CPU through
// net/http and about 25 µs done synchronously. CloudTrail deliveries are
// mostly that small, so ingest pays this once per object.
//
// It serves only what the Getter sends: idempotent GETs without a body.
// Requests that need a proxy go to fallback, which handles CONNECT and
// proxy authentication. Only HTTP/1.1 is spoken; S3 does not offer
// HTTP/2.
//
// Ownership: a connection is either in the idle pool (owned by the pool,
// under mu) or lent to exactly one response, whose body's Close returns
// it to the pool (when the body was read to its end and the server keeps
// the connection) or closes it.
type syncTransport struct {
	dialer *net.Dialer
	tls    *tls.Config
	// HeaderTimeout bounds writing the request and reading the response
	// headers; the body is bounded by the request's context only, as
	// with net/http.
	headerTimeout time.Duration
	// IdleTimeout is how long an unused connection is kept.
	idleTimeout time.Duration
	maxIdle     int
	fallback    http.RoundTripper
	proxy       func(*http.Request) (*url.URL, error)

	mu   sync.Mutex
	idle map[string][]*syncConn // by scheme://host:port, most recent last
}

// syncConn is one pooled connection and its buffers.
type syncConn struct {
	net.Conn
	key    string
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

func newSyncTransport(fallback *http.Transport, maxIdle int) *syncTransport {
	return &syncTransport{
		dialer:        &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		tls:           &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
		headerTimeout: fallback.ResponseHeaderTimeout,
		idleTimeout:   fallback.IdleConnTimeout,
		maxIdle:       maxIdle,
		fallback:      fallback,
		proxy:         fallback.Proxy,
		idle:          map[string][]*syncConn{},
	}
}

// RoundTrip sends req, which must be a GET without a body, and returns the
// response with its body not yet read.
func (t *syncTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.proxy != nil {
		if p, err := t.proxy(req); err != nil || p != nil {
			return t.fallback.RoundTrip(req)
		}
	}
	if req.Method != http.MethodGet || req.Body != nil && req.Body != http.NoBody {
		return nil, fmt.Errorf("sync transport: %s with a body is not supported", req.Method)
	}
	key, addr, err := connKey(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	// A pooled connection may have been closed by the server while idle;
	// that shows as a failure before any response byte, and the request
	// (a GET) is sent once more on a fresh connection.
	for {
		c, reused, err := t.conn(ctx, key, addr, req.URL.Hostname())
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		_ = c.Close()
		if !reused || ctx.Err() != nil || !staleConnError(err) {
			return nil, err
		}
	}
}

// exchange writes req on c and reads the response headers. On success the
// response body owns c.
func (t *syncTransport) exchange(ctx context.Context, c *syncConn, req *http.Request) (*http.Response, error) {
	// The context's end interrupts any read or write on c by moving its
	// deadline into the past; the body's Close stops this again.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	if t.headerTimeout > 0 {
		_ = c.SetDeadline(time.Now().Add(t.headerTimeout))
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return fail(err)
	}
	if t.headerTimeout > 0 && stop() {
		// Lift the header deadline for the body, and re-arm the
		// context's interrupt.
		_ = c.SetDeadline(time.Time{})
		stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	}
	resp.Body = &syncBody{t: t, c: c, body: resp.Body, stop: stop, keep: !resp.Close && !req.Close}
	return resp, nil
}

// staleConnError reports whether err is what a write to, or a first read
// from, a connection the server has closed gives.
func staleConnError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// conn returns an idle connection to key, or dials addr.
func (t *syncTransport) conn(ctx context.Context, key, addr, host string) (*syncConn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for pool := t.idle[key]; len(pool) > 0; pool = t.idle[key] {
		c := pool[len(pool)-1]
		t.idle[key] = pool[:len(pool)-1]
		if t.idleTimeout > 0 && now.Sub(c.idleAt) > t.idleTimeout {
			t.mu.Unlock()
			_ = c.Close()
			t.mu.Lock()
			continue
		}
		t.mu.Unlock()
		return c, true, nil
	}
	t.mu.Unlock()

	nc, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	if key[:5] == "https" {
		cfg := t.tls.Clone()
		cfg.ServerName = host
		tc := tls.Client(nc, cfg)
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = nc.Close()
			return nil, false, fmt.Errorf("tls handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	return &syncConn{Conn: nc, key: key, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 4<<10)}, false, nil
}

// put returns c to the idle pool, or closes it when the pool is full.
func (t *syncTransport) put(c *syncConn) {
	c.idleAt = time.Now()
	t.mu.Lock()
	if len(t.idle[c.key]) < t.maxIdle {
		t.idle[c.key] = append(t.idle[c.key], c)
		c = nil
	}
	t.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// CloseIdleConnections closes the pooled connections.
func (t *syncTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*syncConn{}
	t.mu.Unlock()
	for _, pool := range idle {
		for _, c := range pool {
			_ = c.Close()
		}
	}
	if f, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}

// connKey returns the pool key and dial address of req's URL.
func connKey(req *http.Request) (key, addr string, err error) {
	u := req.URL
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	default:
		return "", "", fmt.Errorf("sync transport: unsupported scheme %q", u.Scheme)
	}
	addr = net.JoinHostPort(u.Hostname(), port)
	return u.Scheme + "://" + addr, addr, nil
}

// syncBody is a response body that owns its connection until Close.
type syncBody struct {
	t    *syncTransport
	c    *syncConn
	body io.ReadCloser
	stop func() bool
	keep bool // the server keeps the connection open
	eof  bool
	done bool
}

func (b *syncBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, errBodyClosed
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// Close returns the connection to the pool when the body was read to its
// end, and closes it otherwise: draining an unread rest could mean
// reading a large object for nothing.
func (b *syncBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	interrupted := !b.stop()
	if !b.eof || !b.keep || interrupted {
		return b.c.Close()
	}
	// At EOF the body's Close reads nothing more.
	_ = b.body.Close()
	_ = b.c.SetDeadline(time.Time{})
	b.t.put(b.c)
	return nil
}

var errBodyClosed = errors.New("read on a closed response body")
