// Package sqsfake is an in-process Amazon SQS for tests: an httptest
// server speaking the SQS JSON protocol (AWS JSON 1.0, with the
// query-compatible error codes) that aws-sdk-go-v2's sqs client uses, so
// code under test talks to it through the real SDK, serialisation,
// signing, retries and error decoding included.
//
// It implements what trailwatch uses: CreateQueue, GetQueueUrl,
// SendMessage, ReceiveMessage, DeleteMessage, DeleteMessageBatch,
// ChangeMessageVisibility and ChangeMessageVisibilityBatch, on standard
// (not FIFO) queues, with SQS's semantics where tests depend on them:
//
//   - ReceiveMessage long-polls up to WaitTimeSeconds and returns as soon
//     as a message can be received; a received message is invisible for
//     the visibility timeout and is then received again, with a new
//     receipt handle and ApproximateReceiveCount one higher.
//   - Only the latest receipt handle counts. DeleteMessage with an older
//     one succeeds but deletes nothing (as the SQS documentation says it
//     may); ChangeMessageVisibility with an older one, or for a deleted
//     message, fails with InvalidParameterValue; with the latest one after
//     the timeout ran out it fails with MessageNotInflight. A handle that
//     is not one the server issued is ReceiptHandleIsInvalid. The total
//     visibility of one receive is capped at 12 hours.
//   - Errors carry the JSON body {"__type":"com.amazonaws.sqs#...",
//     "message":...} and the x-amzn-query-error header, so the SDK returns
//     its typed errors (types.QueueDoesNotExist, ...) with the legacy
//     error codes (AWS.SimpleQueueService.NonExistentQueue, ...).
//
// Time comes from a clock that tests may replace (WithClock, ManualClock):
// visibility timeouts and delays follow it, while long-poll waits run in
// real time and re-check the clock every few milliseconds. Message
// attributes, dead-letter redrive, retention and FIFO queues are not
// implemented; requests must be signed (any credentials are accepted).
package sqsfake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// DefaultAccountID is the account that owns the fake's queues unless
// WithAccountID says otherwise.
const DefaultAccountID = "123456789012"

// Limits of the SQS API that the fake enforces.
const (
	maxBatchEntries      = 10
	maxReceiveMessages   = 10
	maxWaitSeconds       = 20
	maxVisibilitySeconds = 43200 // 12 hours
	maxDelaySeconds      = 900
	maxMessageBytes      = 1 << 20
	// recheckInterval is how often a waiting ReceiveMessage looks at
	// the clock again, for messages whose visibility ran out and for
	// clocks that tests move.
	recheckInterval = 20 * time.Millisecond
)

// Server is a fake SQS endpoint. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	now     func() time.Time
	account string
	// closed is closed by Close to end waiting long polls.
	closed    chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	queues map[string]*queue // by name
	calls  map[string]int    // by operation
}

// Option configures a Server.
type Option func(*Server)

// WithClock makes the server read time from now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithAccountID sets the 12-digit account in queue URLs. Default
// DefaultAccountID.
func WithAccountID(id string) Option { return func(s *Server) { s.account = id } }

// New starts a Server on a loopback port. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		now:     time.Now,
		account: DefaultAccountID,
		closed:  make(chan struct{}),
		queues:  make(map[string]*queue),
		calls:   make(map[string]int),
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the endpoint to give the SDK (sqs.Options.BaseEndpoint).
func (s *Server) URL() string { return s.srv.URL }

// Close ends waiting long polls and stops the server.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.srv.Close()
}

// Client returns an SDK client for the server, with static credentials,
// region us-east-1 and the SDK's standard retryer; optFns adjust it.
func (s *Server) Client(optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDSQSFAKE", SecretAccessKey: "sqsfake", Source: "sqsfake"}, nil
		}),
	}, optFns...)
}

// Calls returns how many requests of operation op (ReceiveMessage,
// ChangeMessageVisibility, ...) the server has answered, errors included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Counts is how many messages of a queue are in each state, like the
// ApproximateNumberOfMessages* attributes but exact.
type Counts struct {
	// Visible messages can be received now.
	Visible int
	// InFlight messages were received and are not visible yet.
	InFlight int
	// Delayed messages were sent with a delay that has not passed.
	Delayed int
}

// Counts returns the message counts of the queue at queueURL; ok is false
// when there is no such queue.
func (s *Server) Counts(queueURL string) (c Counts, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queueByURL(queueURL)
	if q == nil {
		return c, false
	}
	now := s.now()
	for _, m := range q.msgs {
		switch {
		case !m.visibleAt.After(now):
			c.Visible++
		case m.receiveCount == 0:
			c.Delayed++
		default:
			c.InFlight++
		}
	}
	return c, true
}

// ManualClock is a clock that moves only when told, for WithClock.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// serveHTTP checks the protocol envelope, dispatches on X-Amz-Target and
// writes the JSON response.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newMessageID())
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		writeError(w, &apiError{404, "com.amazon.coral.service#UnknownOperationException", "UnknownOperation", "Only POST / is served."})
		return
	case !ok:
		writeError(w, &apiError{400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperation", "Missing or foreign X-Amz-Target."})
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.0":
		writeError(w, &apiError{400, "com.amazon.coral.service#SerializationException", "SerializationException", "Content-Type must be application/x-amz-json-1.0."})
		return
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="):
		writeError(w, &apiError{403, "com.amazon.coral.service#MissingAuthenticationTokenException", "MissingAuthenticationToken", "Request is missing Authentication Token."})
		return
	}
	handler := s.operation(op)
	if handler == nil {
		writeError(w, &apiError{400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperation", "Unsupported operation " + op + "."})
		return
	}
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()

	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*maxMessageBytes))
	out, aerr := handler(r.Context(), dec)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{500, "com.amazonaws.sqs#InternalError", "InternalError", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = w.Write(body)
}

// writeError writes e as the JSON protocol does.
func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", e.queryCode+";Sender")
	w.WriteHeader(e.status)
	body, _ := json.Marshal(map[string]string{"__type": e.typ, "message": e.message})
	_, _ = w.Write(body)
}

// opHandler serves one operation: it decodes its input from dec and
// returns the output to encode as JSON.
type opHandler func(ctx context.Context, dec *json.Decoder) (any, *apiError)

// operation returns the handler of op, or nil.
func (s *Server) operation(op string) opHandler {
	switch op {
	case "CreateQueue":
		return decodeInto(s.createQueue)
	case "GetQueueUrl":
		return decodeInto(s.getQueueURL)
	case "SendMessage":
		return decodeInto(s.sendMessage)
	case "ReceiveMessage":
		return decodeInto(s.receiveMessage)
	case "DeleteMessage":
		return decodeInto(s.deleteMessage)
	case "DeleteMessageBatch":
		return decodeInto(s.deleteMessageBatch)
	case "ChangeMessageVisibility":
		return decodeInto(s.changeMessageVisibility)
	case "ChangeMessageVisibilityBatch":
		return decodeInto(s.changeMessageVisibilityBatch)
	}
	return nil
}

// decodeInto adapts a handler taking a typed input to an opHandler.
func decodeInto[In any](h func(context.Context, *In) (any, *apiError)) opHandler {
	return func(ctx context.Context, dec *json.Decoder) (any, *apiError) {
		in := new(In)
		if err := dec.Decode(in); err != nil {
			return nil, &apiError{400, "com.amazon.coral.service#SerializationException", "SerializationException", "decode request: " + err.Error()}
		}
		return h(ctx, in)
	}
}
