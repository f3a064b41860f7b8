package sqsfake

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// lookup finds the queue a request names. The caller holds s.mu.
func (s *Server) lookup(queueURL *string) (*queue, *apiError) {
	if queueURL == nil || *queueURL == "" {
		return nil, errMissingParameter("QueueUrl")
	}
	q := s.queueByURL(*queueURL)
	if q == nil {
		return nil, errQueueDoesNotExist()
	}
	return q, nil
}

// seconds validates an optional whole-seconds parameter against [lo, hi]
// and returns it as a duration, or def when absent.
func seconds(name string, v *int32, lo, hi int32, def time.Duration) (time.Duration, *apiError) {
	if v == nil {
		return def, nil
	}
	if *v < lo || *v > hi {
		return 0, errInvalidParameterValue("Value %d for parameter %s is invalid. Reason: Must be between %d and %d.", *v, name, lo, hi)
	}
	return time.Duration(*v) * time.Second, nil
}

// queueAttributes are the CreateQueue attributes the fake honours, with
// their ranges in seconds (or bytes).
var queueAttributes = map[string][2]int{
	"VisibilityTimeout":             {0, maxVisibilitySeconds},
	"DelaySeconds":                  {0, maxDelaySeconds},
	"ReceiveMessageWaitTimeSeconds": {0, maxWaitSeconds},
	"MessageRetentionPeriod":        {60, 1209600},
	"MaximumMessageSize":            {1024, maxMessageBytes},
}

// ignoredQueueAttributes are accepted and stored without effect.
var ignoredQueueAttributes = map[string]bool{
	"Policy": true, "RedrivePolicy": true, "RedriveAllowPolicy": true,
	"KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true, "SqsManagedSseEnabled": true,
}

type createQueueInput struct {
	QueueName  *string
	Attributes map[string]string
	Tags       map[string]string
}

func (s *Server) createQueue(_ context.Context, in *createQueueInput) (any, *apiError) {
	if in.QueueName == nil || *in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	name := *in.QueueName
	if !validQueueName(name) {
		return nil, errInvalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length; FIFO queues are not supported by sqsfake.")
	}
	q := &queue{name: name, attrs: in.Attributes, visibilityTimeout: 30 * time.Second, changed: make(chan struct{})}
	for k, v := range in.Attributes {
		limits, honoured := queueAttributes[k]
		if !honoured {
			if ignoredQueueAttributes[k] {
				continue
			}
			return nil, errInvalidAttributeName(k)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < limits[0] || n > limits[1] {
			return nil, errInvalidAttributeValue(k, v)
		}
		d := time.Duration(n) * time.Second
		switch k {
		case "VisibilityTimeout":
			q.visibilityTimeout = d
		case "DelaySeconds":
			q.delay = d
		case "ReceiveMessageWaitTimeSeconds":
			q.waitTime = d
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.queues[name]; ok {
		if !sameAttributes(old.attrs, in.Attributes) {
			return nil, errQueueNameExists(name)
		}
		return map[string]string{"QueueUrl": old.url}, nil
	}
	q.url = s.srv.URL + "/" + s.account + "/" + name
	s.queues[name] = q
	return map[string]string{"QueueUrl": q.url}, nil
}

// validQueueName reports whether name is a valid standard queue name.
func validQueueName(name string) bool {
	if len(name) > 80 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func sameAttributes(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

type getQueueURLInput struct {
	QueueName              *string
	QueueOwnerAWSAccountID *string `json:"QueueOwnerAWSAccountId"`
}

func (s *Server) getQueueURL(_ context.Context, in *getQueueURLInput) (any, *apiError) {
	if in.QueueName == nil || *in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[*in.QueueName]
	if q == nil || in.QueueOwnerAWSAccountID != nil && *in.QueueOwnerAWSAccountID != s.account {
		return nil, errQueueDoesNotExist()
	}
	return map[string]string{"QueueUrl": q.url}, nil
}

type sendMessageInput struct {
	QueueURL     *string `json:"QueueUrl"`
	MessageBody  *string
	DelaySeconds *int32
	// MessageAttributes are accepted and dropped.
	MessageAttributes json.RawMessage
}

func (s *Server) sendMessage(_ context.Context, in *sendMessageInput) (any, *apiError) {
	if in.MessageBody == nil || *in.MessageBody == "" {
		return nil, errMissingParameter("MessageBody")
	}
	body := *in.MessageBody
	if len(body) > maxMessageBytes {
		return nil, errInvalidParameterValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxMessageBytes)
	}
	if !validBody(body) {
		return nil, errInvalidMessageContents()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.lookup(in.QueueURL)
	if aerr != nil {
		return nil, aerr
	}
	delay, aerr := seconds("DelaySeconds", in.DelaySeconds, 0, maxDelaySeconds, q.delay)
	if aerr != nil {
		return nil, aerr
	}
	now := s.now()
	m := &message{id: newMessageID(), body: body, md5: md5Hex(body), sentAt: now, visibleAt: now.Add(delay)}
	q.msgs = append(q.msgs, m)
	q.notify()
	return map[string]string{"MessageId": m.id, "MD5OfMessageBody": m.md5}, nil
}

// validBody reports whether body is UTF-8 holding only the characters
// SQS accepts.
func validBody(body string) bool {
	if !utf8.ValidString(body) {
		return false
	}
	for _, c := range body {
		ok := c == 0x9 || c == 0xA || c == 0xD ||
			c >= 0x20 && c <= 0xD7FF || c >= 0xE000 && c <= 0xFFFD || c >= 0x10000
		if !ok {
			return false
		}
	}
	return true
}

type receiveMessageInput struct {
	QueueURL                    *string `json:"QueueUrl"`
	MaxNumberOfMessages         *int32
	WaitTimeSeconds             *int32
	VisibilityTimeout           *int32
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	ReceiveRequestAttemptID     *string `json:"ReceiveRequestAttemptId"`
}

// receivedMessage is one message of a ReceiveMessage response.
type receivedMessage struct {
	MessageID     string            `json:"MessageId"`
	ReceiptHandle string            `json:"ReceiptHandle"`
	MD5OfBody     string            `json:"MD5OfBody"`
	Body          string            `json:"Body"`
	Attributes    map[string]string `json:"Attributes,omitempty"`
}

func (s *Server) receiveMessage(ctx context.Context, in *receiveMessageInput) (any, *apiError) {
	maxMsgs := int32(1)
	if in.MaxNumberOfMessages != nil {
		maxMsgs = *in.MaxNumberOfMessages
		if maxMsgs < 1 || maxMsgs > maxReceiveMessages {
			return nil, errInvalidParameterValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and %d, if provided.", maxMsgs, maxReceiveMessages)
		}
	}
	s.mu.Lock()
	q, aerr := s.lookup(in.QueueURL)
	if aerr != nil {
		s.mu.Unlock()
		return nil, aerr
	}
	wait, aerr := seconds("WaitTimeSeconds", in.WaitTimeSeconds, 0, maxWaitSeconds, q.waitTime)
	if aerr != nil {
		s.mu.Unlock()
		return nil, aerr
	}
	visibility, aerr := seconds("VisibilityTimeout", in.VisibilityTimeout, 0, maxVisibilitySeconds, q.visibilityTimeout)
	s.mu.Unlock()
	if aerr != nil {
		return nil, aerr
	}
	attrs := wantedAttributes(append(in.AttributeNames, in.MessageSystemAttributeNames...))

	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	recheck := time.NewTicker(recheckInterval)
	defer recheck.Stop()
	for {
		s.mu.Lock()
		if ctx.Err() != nil {
			// The client is gone: claiming messages now would hide
			// them from everyone for a whole visibility timeout.
			s.mu.Unlock()
			return nil, &apiError{499, "com.amazonaws.sqs#RequestCanceled", "RequestCanceled", "client went away"}
		}
		out := s.claim(q, int(maxMsgs), visibility, attrs)
		changed := q.changed
		s.mu.Unlock()
		if len(out) > 0 {
			return map[string]any{"Messages": out}, nil
		}
		select {
		case <-changed:
		case <-recheck.C:
		case <-deadline.C:
			return struct{}{}, nil
		case <-s.closed:
			return struct{}{}, nil
		case <-ctx.Done():
		}
	}
}

// systemAttributes are the message system attributes the fake reports.
var systemAttributes = []string{"ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SentTimestamp", "SenderId"}

// wantedAttributes turns requested attribute names into a set, expanding
// All.
func wantedAttributes(names []string) map[string]bool {
	want := make(map[string]bool)
	for _, n := range names {
		if n == "All" {
			for _, a := range systemAttributes {
				want[a] = true
			}
			continue
		}
		want[n] = true
	}
	return want
}

// claim receives up to maxMsgs visible messages of q, oldest first, hiding
// each for visibility. The caller holds s.mu.
func (s *Server) claim(q *queue, maxMsgs int, visibility time.Duration, attrs map[string]bool) []receivedMessage {
	now := s.now()
	var out []receivedMessage
	for _, m := range q.msgs {
		if len(out) == maxMsgs {
			break
		}
		if m.visibleAt.After(now) {
			continue
		}
		m.receiveCount++
		if m.receiveCount == 1 {
			m.firstReceiveAt = now
		}
		m.handle = receiptHandle(q, m)
		m.receivedAt = now
		m.visibleAt = now.Add(visibility)
		rm := receivedMessage{MessageID: m.id, ReceiptHandle: m.handle, MD5OfBody: m.md5, Body: m.body}
		for _, a := range systemAttributes {
			if !attrs[a] {
				continue
			}
			if rm.Attributes == nil {
				rm.Attributes = make(map[string]string)
			}
			switch a {
			case "ApproximateReceiveCount":
				rm.Attributes[a] = strconv.Itoa(m.receiveCount)
			case "ApproximateFirstReceiveTimestamp":
				rm.Attributes[a] = strconv.FormatInt(m.firstReceiveAt.UnixMilli(), 10)
			case "SentTimestamp":
				rm.Attributes[a] = strconv.FormatInt(m.sentAt.UnixMilli(), 10)
			case "SenderId":
				rm.Attributes[a] = s.account
			}
		}
		out = append(out, rm)
	}
	return out
}

type deleteMessageInput struct {
	QueueURL      *string `json:"QueueUrl"`
	ReceiptHandle *string
}

func (s *Server) deleteMessage(_ context.Context, in *deleteMessageInput) (any, *apiError) {
	return s.onHandle(in.QueueURL, in.ReceiptHandle, s.deleteLocked)
}

// onHandle applies apply, under s.mu, to the queue and receipt handle a
// single-message request names.
func (s *Server) onHandle(queueURL, handle *string, apply func(q *queue, handle string) *apiError) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.lookup(queueURL)
	if aerr != nil {
		return nil, aerr
	}
	if handle == nil || *handle == "" {
		return nil, errMissingParameter("ReceiptHandle")
	}
	if aerr := apply(q, *handle); aerr != nil {
		return nil, aerr
	}
	return struct{}{}, nil
}

// deleteLocked deletes the message a handle names if the handle is its
// latest; an older handle, or one of a deleted message, deletes nothing
// and is no error. The caller holds s.mu.
func (s *Server) deleteLocked(q *queue, handle string) *apiError {
	id, ok := parseReceiptHandle(q, handle)
	if !ok {
		return errReceiptHandleIsInvalid(handle)
	}
	if m := q.find(id); m != nil && m.handle == handle {
		q.remove(m)
	}
	return nil
}

type changeMessageVisibilityInput struct {
	QueueURL          *string `json:"QueueUrl"`
	ReceiptHandle     *string
	VisibilityTimeout *int32
}

func (s *Server) changeMessageVisibility(_ context.Context, in *changeMessageVisibilityInput) (any, *apiError) {
	if in.VisibilityTimeout == nil {
		return nil, errMissingParameter("VisibilityTimeout")
	}
	return s.onHandle(in.QueueURL, in.ReceiptHandle, func(q *queue, handle string) *apiError {
		return s.changeVisibilityLocked(q, handle, *in.VisibilityTimeout)
	})
}

// changeVisibilityLocked makes the message a handle names visible again
// seconds from now. The caller holds s.mu.
func (s *Server) changeVisibilityLocked(q *queue, handle string, seconds int32) *apiError {
	if seconds < 0 || seconds > maxVisibilitySeconds {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and %d.", seconds, maxVisibilitySeconds)
	}
	id, ok := parseReceiptHandle(q, handle)
	if !ok {
		return errReceiptHandleIsInvalid(handle)
	}
	m := q.find(id)
	if m == nil || m.handle != handle {
		return errInvalidParameterValue("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", handle)
	}
	now := s.now()
	if !m.visibleAt.After(now) {
		return errMessageNotInflight()
	}
	until := now.Add(time.Duration(seconds) * time.Second)
	if until.Sub(m.receivedAt) > maxVisibilitySeconds*time.Second {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [%d seconds].", seconds, maxVisibilitySeconds)
	}
	m.visibleAt = until
	if seconds == 0 {
		q.notify()
	}
	return nil
}

// batchEntry is the common part of batch request entries.
type batchEntry struct {
	ID                *string `json:"Id"`
	ReceiptHandle     *string
	VisibilityTimeout *int32
}

type batchInput struct {
	QueueURL *string `json:"QueueUrl"`
	Entries  []batchEntry
}

// batchResult is the response of a batch operation.
type batchResult struct {
	Successful []map[string]string `json:"Successful"`
	Failed     []batchFailure      `json:"Failed"`
}

type batchFailure struct {
	ID          string `json:"Id"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
	SenderFault bool   `json:"SenderFault"`
}

func (s *Server) deleteMessageBatch(_ context.Context, in *batchInput) (any, *apiError) {
	return s.batch(in, func(q *queue, e batchEntry) *apiError { return s.deleteLocked(q, *e.ReceiptHandle) })
}

func (s *Server) changeMessageVisibilityBatch(_ context.Context, in *batchInput) (any, *apiError) {
	return s.batch(in, func(q *queue, e batchEntry) *apiError {
		var seconds int32
		if e.VisibilityTimeout != nil {
			seconds = *e.VisibilityTimeout
		}
		return s.changeVisibilityLocked(q, *e.ReceiptHandle, seconds)
	})
}

// batch validates a batch request and applies apply to each entry,
// reporting per-entry failures the way SQS does.
func (s *Server) batch(in *batchInput, apply func(*queue, batchEntry) *apiError) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.lookup(in.QueueURL)
	if aerr != nil {
		return nil, aerr
	}
	switch n := len(in.Entries); {
	case n == 0:
		return nil, errEmptyBatchRequest()
	case n > maxBatchEntries:
		return nil, errTooManyEntries(n)
	}
	seen := make(map[string]bool, len(in.Entries))
	for _, e := range in.Entries {
		if e.ID == nil || !validBatchID(*e.ID) {
			return nil, errInvalidBatchEntryID()
		}
		if seen[*e.ID] {
			return nil, errBatchEntryIdsNotDistinct(*e.ID)
		}
		seen[*e.ID] = true
	}
	res := batchResult{Successful: []map[string]string{}, Failed: []batchFailure{}}
	for _, e := range in.Entries {
		var aerr *apiError
		if e.ReceiptHandle == nil || *e.ReceiptHandle == "" {
			aerr = errMissingParameter("ReceiptHandle")
		} else {
			aerr = apply(q, e)
		}
		if aerr != nil {
			res.Failed = append(res.Failed, batchFailure{ID: *e.ID, Code: aerr.queryCode, Message: aerr.message, SenderFault: true})
			continue
		}
		res.Successful = append(res.Successful, map[string]string{"Id": *e.ID})
	}
	return res, nil
}

// validBatchID reports whether id is a valid batch entry id.
func validBatchID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	return validQueueName(id)
}
