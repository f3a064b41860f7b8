package sqsfake

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// setup starts a server on a manual clock with one queue and returns a
// real SDK client for it.
func setup(t *testing.T, attrs map[string]string) (*Server, *ManualClock, *sqs.Client, string) {
	t.Helper()
	clock := NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s := New(WithClock(clock.Now))
	t.Cleanup(s.Close)
	c := s.Client()
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("objects"), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock, c, aws.ToString(out.QueueUrl)
}

func send(t *testing.T, c *sqs.Client, url, body string) string {
	t.Helper()
	out, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// receive receives without waiting.
func receive(t *testing.T, c *sqs.Client, url string, n, visibility int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         n,
		VisibilityTimeout:           visibility,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// apiCode returns the SDK's error code of err, "" for nil.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

func TestSQSQueues(t *testing.T) {
	s, _, c, url := setup(t, map[string]string{"VisibilityTimeout": "60"})
	ctx := t.Context()
	if !strings.HasPrefix(url, s.URL()+"/"+DefaultAccountID+"/objects") {
		t.Errorf("queue URL %s", url)
	}
	tests := []struct {
		name     string
		call     func() error
		wantType any
		wantCode string
	}{
		{
			name: "create again with the same attributes",
			call: func() error {
				_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("objects"), Attributes: map[string]string{"VisibilityTimeout": "60"}})
				return err
			},
		},
		{
			name: "create again with other attributes",
			call: func() error {
				_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("objects")})
				return err
			},
			wantType: new(*types.QueueNameExists),
			wantCode: "QueueAlreadyExists",
		},
		{
			name: "unknown attribute",
			call: func() error {
				_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("other"), Attributes: map[string]string{"Colour": "blue"}})
				return err
			},
			wantType: new(*types.InvalidAttributeName),
			wantCode: "InvalidAttributeName",
		},
		{
			name: "attribute out of range",
			call: func() error {
				_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("other"), Attributes: map[string]string{"VisibilityTimeout": "43201"}})
				return err
			},
			wantType: new(*types.InvalidAttributeValue),
			wantCode: "InvalidAttributeValue",
		},
		{
			name: "get URL",
			call: func() error {
				out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("objects")})
				if err == nil && aws.ToString(out.QueueUrl) != url {
					err = fmt.Errorf("url %s, want %s", aws.ToString(out.QueueUrl), url)
				}
				return err
			},
		},
		{
			name: "get URL of a missing queue",
			call: func() error {
				_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
				return err
			},
			wantType: new(*types.QueueDoesNotExist),
			wantCode: "AWS.SimpleQueueService.NonExistentQueue",
		},
		{
			name: "receive from a missing queue",
			call: func() error {
				_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.URL() + "/" + DefaultAccountID + "/missing")})
				return err
			},
			wantType: new(*types.QueueDoesNotExist),
			wantCode: "AWS.SimpleQueueService.NonExistentQueue",
		},
		{
			name: "receive too many",
			call: func() error {
				_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11})
				return err
			},
			wantCode: "InvalidParameterValue",
		},
		{
			name: "send an empty body",
			call: func() error {
				_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("")})
				return err
			},
			wantCode: "MissingParameter",
		},
		{
			name: "send a forbidden character",
			call: func() error {
				_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("a\x00b")})
				return err
			},
			wantType: new(*types.InvalidMessageContents),
			wantCode: "InvalidMessageContents",
		},
		{
			name: "delete with a handle the server never issued",
			call: func() error {
				_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("AQEBforged==")})
				return err
			},
			wantType: new(*types.ReceiptHandleIsInvalid),
			wantCode: "ReceiptHandleIsInvalid",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if got := apiCode(err); got != tc.wantCode {
				t.Fatalf("error code %q (%v), want %q", got, err, tc.wantCode)
			}
			if tc.wantType != nil && !errors.As(err, tc.wantType) {
				t.Errorf("error %T is not %T", err, tc.wantType)
			}
		})
	}
}

func TestSQSSendReceiveDelete(t *testing.T) {
	s, _, c, url := setup(t, nil)
	id := send(t, c, url, `{"Records":[]}`)
	msgs := receive(t, c, url, 10, 30)
	if len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	// The SDK has already checked MD5OfBody against the body.
	if aws.ToString(m.MessageId) != id || aws.ToString(m.Body) != `{"Records":[]}` || aws.ToString(m.MD5OfBody) == "" {
		t.Errorf("message %+v", m)
	}
	if got := m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]; got != "1" {
		t.Errorf("ApproximateReceiveCount %q, want 1", got)
	}
	if n, _ := s.Counts(url); n != (Counts{InFlight: 1}) {
		t.Errorf("counts %+v", n)
	}
	if _, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	// Deleting again is no error.
	if _, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Counts(url); n != (Counts{}) {
		t.Errorf("counts after delete %+v", n)
	}
}

func TestSQSReceiveAtMostTen(t *testing.T) {
	_, _, c, url := setup(t, nil)
	for i := range 15 {
		send(t, c, url, strconv.Itoa(i))
	}
	msgs := receive(t, c, url, 10, 30)
	if len(msgs) != 10 {
		t.Fatalf("received %d, want 10", len(msgs))
	}
	for i, m := range msgs {
		if aws.ToString(m.Body) != strconv.Itoa(i) {
			t.Errorf("message %d is %q: not oldest first", i, aws.ToString(m.Body))
		}
	}
	if msgs := receive(t, c, url, 10, 30); len(msgs) != 5 {
		t.Fatalf("received %d, want the 5 left", len(msgs))
	}
}

// TestSQSRedelivery walks a message through visibility expiry with a
// manual clock: a second receive gets a new handle, and only that handle
// counts.
func TestSQSRedelivery(t *testing.T) {
	s, clock, c, url := setup(t, nil)
	ctx := t.Context()
	send(t, c, url, "m")
	first := receive(t, c, url, 1, 30)
	if len(first) != 1 {
		t.Fatal("not received")
	}
	if again := receive(t, c, url, 1, 30); len(again) != 0 {
		t.Fatal("received while invisible")
	}
	clock.Advance(29 * time.Second)
	if again := receive(t, c, url, 1, 30); len(again) != 0 {
		t.Fatal("received a second before the timeout")
	}
	clock.Advance(time.Second)
	second := receive(t, c, url, 1, 30)
	if len(second) != 1 {
		t.Fatal("not redelivered after the visibility timeout")
	}
	if got := second[0].Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("ApproximateReceiveCount %q, want 2", got)
	}
	if aws.ToString(second[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle) {
		t.Fatal("same receipt handle twice")
	}

	// The stale handle: delete succeeds but deletes nothing; a
	// visibility change is refused.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Counts(url); n.InFlight != 1 {
		t.Fatalf("stale handle deleted the message: %+v", n)
	}
	_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 60})
	if got := apiCode(err); got != "InvalidParameterValue" {
		t.Fatalf("change with a stale handle: %q (%v)", got, err)
	}

	// The latest handle after its timeout ran out: not in flight.
	clock.Advance(31 * time.Second)
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 60})
	var notInflight *types.MessageNotInflight
	if !errors.As(err, &notInflight) {
		t.Fatalf("change after expiry: %v, want MessageNotInflight", err)
	}
	// ... but it is still the latest handle, so it deletes.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: second[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Counts(url); n != (Counts{}) {
		t.Fatalf("counts %+v", n)
	}
}

func TestSQSChangeMessageVisibility(t *testing.T) {
	_, clock, c, url := setup(t, nil)
	ctx := t.Context()
	send(t, c, url, "m")
	m := receive(t, c, url, 1, 10)[0]
	change := func(seconds int32) error {
		_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: seconds})
		return err
	}
	// Extending before expiry keeps the message hidden past the
	// original timeout.
	clock.Advance(8 * time.Second)
	if err := change(10); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * time.Second)
	if len(receive(t, c, url, 1, 10)) != 0 {
		t.Fatal("visible after an extension")
	}
	clock.Advance(3 * time.Second)
	second := receive(t, c, url, 1, 10)
	if len(second) != 1 {
		t.Fatal("not visible after the extension ran out")
	}
	m = second[0]
	// Zero makes it visible at once.
	if err := change(0); err != nil {
		t.Fatal(err)
	}
	third := receive(t, c, url, 1, 43200)
	if len(third) != 1 {
		t.Fatal("not visible after a change to 0")
	}
	m = third[0]
	// One receive cannot stay hidden more than 12 hours.
	clock.Advance(11*time.Hour + 30*time.Minute)
	if err := change(3600); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("past 12 hours: %v", err)
	}
	if err := change(43201); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("out of range: %v", err)
	}
}

func TestSQSBatches(t *testing.T) {
	s, _, c, url := setup(t, nil)
	ctx := t.Context()
	for i := range 3 {
		send(t, c, url, strconv.Itoa(i))
	}
	msgs := receive(t, c, url, 3, 30)
	if len(msgs) != 3 {
		t.Fatal("not received")
	}
	vis, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(url),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("a"), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 60},
			{Id: aws.String("b"), ReceiptHandle: aws.String("forged"), VisibilityTimeout: 60},
			{Id: aws.String("c"), ReceiptHandle: msgs[2].ReceiptHandle, VisibilityTimeout: 43201},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(vis.Successful) != 1 || aws.ToString(vis.Successful[0].Id) != "a" || len(vis.Failed) != 2 ||
		aws.ToString(vis.Failed[0].Code) != "ReceiptHandleIsInvalid" || aws.ToString(vis.Failed[1].Code) != "InvalidParameterValue" || !vis.Failed[0].SenderFault {
		t.Fatalf("change batch result %+v %+v", vis.Successful, vis.Failed)
	}

	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(url),
		Entries: []types.DeleteMessageBatchRequestEntry{
			{Id: aws.String("a"), ReceiptHandle: msgs[0].ReceiptHandle},
			{Id: aws.String("b"), ReceiptHandle: msgs[1].ReceiptHandle},
			{Id: aws.String("c"), ReceiptHandle: aws.String("forged")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Successful) != 2 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Id) != "c" {
		t.Fatalf("delete batch result %+v %+v", del.Successful, del.Failed)
	}
	if n, _ := s.Counts(url); n != (Counts{InFlight: 1}) {
		t.Fatalf("counts %+v", n)
	}

	entries := func(ids ...string) []types.DeleteMessageBatchRequestEntry {
		es := []types.DeleteMessageBatchRequestEntry{} // empty, not nil: the SDK rejects nil itself
		for _, id := range ids {
			es = append(es, types.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: msgs[2].ReceiptHandle})
		}
		return es
	}
	tests := []struct {
		name     string
		entries  []types.DeleteMessageBatchRequestEntry
		wantType any
	}{
		{"empty", entries(), new(*types.EmptyBatchRequest)},
		{"eleven", entries("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"), new(*types.TooManyEntriesInBatchRequest)},
		{"repeated id", entries("x", "x"), new(*types.BatchEntryIdsNotDistinct)},
		{"bad id", entries("a b"), new(*types.InvalidBatchEntryId)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: tc.entries})
			if !errors.As(err, tc.wantType) {
				t.Fatalf("error %v, want %T", err, tc.wantType)
			}
		})
	}
}

// TestSQSLongPoll uses the real clock: a waiting receive returns as soon
// as a message is sent, and an empty one after WaitTimeSeconds.
func TestSQSLongPoll(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	c := s.Client()
	ctx := t.Context()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("poll")})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)

	start := time.Now()
	rcv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); len(rcv.Messages) != 0 || waited < time.Second || waited > 3*time.Second {
		t.Fatalf("empty poll returned %d messages after %v, want none after 1s", len(rcv.Messages), waited)
	}

	type result struct {
		msgs []types.Message
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	start = time.Now()
	go func() {
		rcv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{msgs: rcv.Messages, took: time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond)
	send(t, c, url, "wake")
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.msgs) != 1 || r.took > 5*time.Second {
		t.Fatalf("long poll returned %d messages after %v", len(r.msgs), r.took)
	}
}

// TestSQSCloseEndsLongPolls checks that Close does not wait for polls.
func TestSQSCloseEndsLongPolls(t *testing.T) {
	s := New()
	c := s.Client(func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: out.QueueUrl, WaitTimeSeconds: 20})
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	s.Close()
	<-errc
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v", took)
	}
}

// TestSQSWire checks the protocol envelope with raw HTTP requests.
func TestSQSWire(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	tests := []struct {
		name        string
		target      string
		contentType string
		auth        string
		body        string
		wantStatus  int
		wantType    string
		wantQuery   string
	}{
		{"unsigned", "AmazonSQS.GetQueueUrl", "application/x-amz-json-1.0", "", `{"QueueName":"q"}`, 403, "com.amazon.coral.service#MissingAuthenticationTokenException", "MissingAuthenticationToken;Sender"},
		{"no target", "", "application/x-amz-json-1.0", "AWS4-HMAC-SHA256 Credential=x", `{}`, 400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperation;Sender"},
		{"query protocol", "AmazonSQS.GetQueueUrl", "application/x-www-form-urlencoded", "AWS4-HMAC-SHA256 Credential=x", `Action=GetQueueUrl`, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"unsupported operation", "AmazonSQS.PurgeQueue", "application/x-amz-json-1.0", "AWS4-HMAC-SHA256 Credential=x", `{}`, 400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperation;Sender"},
		{"bad JSON", "AmazonSQS.GetQueueUrl", "application/x-amz-json-1.0", "AWS4-HMAC-SHA256 Credential=x", `{"QueueName":`, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"missing queue", "AmazonSQS.GetQueueUrl", "application/x-amz-json-1.0", "AWS4-HMAC-SHA256 Credential=x", `{"QueueName":"q"}`, 400, "com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || resp.Header.Get("x-amzn-query-error") != tc.wantQuery ||
				!strings.Contains(string(body), `"__type":"`+tc.wantType+`"`) || !strings.Contains(string(body), `"message":`) {
				t.Fatalf("status %d, query error %q, body %s", resp.StatusCode, resp.Header.Get("x-amzn-query-error"), body)
			}
		})
	}
}
