package awscfg

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the connections it
// accepted and serves what handler writes.
type countingServer struct {
	*httptest.Server
	conns atomic.Int32

	mu   sync.Mutex
	open []net.Conn
}

// closeAll closes every connection the server accepted.
func (s *countingServer) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.open {
		_ = c.Close()
	}
}

func newCountingServer(t *testing.T, tls bool, handler http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(handler)
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
			s.mu.Lock()
			s.open = append(s.open, c)
			s.mu.Unlock()
		}
	}
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func newTestTransport(s *httptest.Server) *syncTransport {
	std := stdTransport(4)
	std.Proxy = nil
	tr := newSyncTransport(std, 4)
	if s.TLS != nil {
		tr.tls.RootCAs = s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	}
	return tr
}

func get(t *testing.T, tr http.RoundTripper, ctx context.Context, u string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr.RoundTrip(req)
}

func TestSyncTransportReusesConnections(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 5000)
	for _, tls := range []bool{false, true} {
		t.Run("tls="+strconv.FormatBool(tls), func(t *testing.T) {
			s := newCountingServer(t, tls, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"e"`)
				if r.URL.Query().Get("chunked") != "" {
					w.(http.Flusher).Flush() // no length known: chunked
				}
				_, _ = w.Write(body)
			})
			tr := newTestTransport(s.Server)
			defer tr.CloseIdleConnections()
			for i, q := range []string{"", "?chunked=1", "", "?chunked=1", ""} {
				resp, err := get(t, tr, context.Background(), s.URL+"/k"+q)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				b, err := io.ReadAll(resp.Body)
				if err != nil || !bytes.Equal(b, body) {
					t.Fatalf("request %d: body %d bytes, err %v", i, len(b), err)
				}
				if resp.Header.Get("ETag") != `"e"` {
					t.Errorf("request %d: ETag %q", i, resp.Header.Get("ETag"))
				}
				_ = resp.Body.Close()
			}
			if n := s.conns.Load(); n != 1 {
				t.Errorf("server saw %d connections for 5 sequential requests, want 1", n)
			}
		})
	}
}

// An abandoned body must close its connection, not drain it and not pool
// it with unread bytes in it.
func TestSyncTransportAbandonedBodyClosesConnection(t *testing.T) {
	big := bytes.Repeat([]byte("y"), 4<<20)
	s := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big) })
	tr := newTestTransport(s.Server)
	defer tr.CloseIdleConnections()
	resp, err := get(t, tr, context.Background(), s.URL+"/big")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if _, err := resp.Body.Read(buf); err == nil {
		t.Error("read after Close succeeded")
	}
	if n := len(tr.idle); n != 0 {
		t.Errorf("%d pool keys after an abandoned body, want 0", n)
	}
	resp, err = get(t, tr, context.Background(), s.URL+"/big")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if len(b) != len(big) {
		t.Errorf("second body %d bytes, want %d", len(b), len(big))
	}
	if n := s.conns.Load(); n != 2 {
		t.Errorf("server saw %d connections, want 2 (the abandoned one is not reused)", n)
	}
}

// A pooled connection the server closed while idle is replaced without
// the caller seeing an error.
func TestSyncTransportRetriesStaleConnection(t *testing.T) {
	s := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	tr := newTestTransport(s.Server)
	defer tr.CloseIdleConnections()
	for i := range 3 {
		resp, err := get(t, tr, context.Background(), s.URL+"/k")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("request %d: body %q", i, b)
		}
		// The server drops every connection once the answer is sent.
		s.closeAll()
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.conns.Load(); n != 3 {
		t.Errorf("server saw %d connections, want 3", n)
	}
}

func TestSyncTransportConnectionClose(t *testing.T) {
	s := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	tr := newTestTransport(s.Server)
	defer tr.CloseIdleConnections()
	for range 2 {
		resp, err := get(t, tr, context.Background(), s.URL+"/k")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
	}
	if len(tr.idle["http://"+s.Listener.Addr().String()]) != 0 {
		t.Error("a connection the server closes was pooled")
	}
	if n := s.conns.Load(); n != 2 {
		t.Errorf("server saw %d connections, want 2", n)
	}
}

// Cancelling the context interrupts a response that has stopped coming,
// both before the headers and in the middle of the body.
func TestSyncTransportContextCancel(t *testing.T) {
	release := make(chan struct{})
	s := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
		}
		<-release
	})
	defer close(release)
	tr := newTestTransport(s.Server)
	defer tr.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := get(t, tr, ctx, s.URL+"/headers"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stalled headers: err %v, want the context's", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	resp, err := get(t, tr, ctx, s.URL+"/body")
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("stalled body: err %v after %s, want an error soon after the cancel", err, time.Since(start))
	}
}

func TestSyncTransportHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	s := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	tr := newTestTransport(s.Server)
	tr.headerTimeout = 50 * time.Millisecond
	_, err := get(t, tr, context.Background(), s.URL+"/k")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("err %v, want a timeout", err)
	}
}

// Requests that need a proxy go through net/http's transport, which
// speaks to the proxy.
func TestSyncTransportProxyFallback(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		_, _ = io.WriteString(w, "via proxy "+r.URL.String())
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	std := stdTransport(4)
	std.Proxy = http.ProxyURL(pu)
	tr := newSyncTransport(std, 4)
	defer tr.CloseIdleConnections()
	resp, err := get(t, tr, context.Background(), "http://s3.invalid/bucket/key")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if proxied.Load() != 1 || string(b) != "via proxy http://s3.invalid/bucket/key" {
		t.Errorf("proxy saw %d requests, body %q", proxied.Load(), b)
	}
}

func TestSyncTransportRejects(t *testing.T) {
	tr := newSyncTransport(&http.Transport{}, 1)
	req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:1/k", bytes.NewReader([]byte("x")))
	if _, err := tr.RoundTrip(req); err == nil {
		t.Error("PUT with a body accepted")
	}
	req, _ = http.NewRequest(http.MethodGet, "ftp://127.0.0.1/k", nil)
	if _, err := tr.RoundTrip(req); err == nil {
		t.Error("ftp scheme accepted")
	}
}
