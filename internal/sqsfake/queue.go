package sqsfake

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// queue is one standard queue. Its fields are guarded by Server.mu.
type queue struct {
	name, url string
	// attrs are the attributes the queue was created with, to tell an
	// idempotent CreateQueue from a conflicting one.
	attrs             map[string]string
	visibilityTimeout time.Duration
	delay             time.Duration
	waitTime          time.Duration
	// msgs are the queue's messages in the order they were sent.
	msgs []*message
	// changed is closed (and replaced) when a message may have become
	// receivable, to wake long polls.
	changed chan struct{}
}

// message is one message of a queue.
type message struct {
	id     string
	body   string
	md5    string
	sentAt time.Time
	// visibleAt is when the message can be received (again).
	visibleAt      time.Time
	receiveCount   int
	firstReceiveAt time.Time
	// handle is the latest receipt handle, "" before the first receive.
	handle string
	// receivedAt is when handle was issued; the visibility of one
	// receive cannot reach past receivedAt + 12 hours.
	receivedAt time.Time
}

// notify wakes the long polls waiting on q. The caller holds Server.mu.
func (q *queue) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// queueByURL finds a queue by URL: exactly, or by its /<account>/<name>
// path, so that a URL built for another host name of the server works.
// The caller holds s.mu.
func (s *Server) queueByURL(u string) *queue {
	i := strings.LastIndexByte(u, '/')
	if i < 0 {
		return nil
	}
	q := s.queues[u[i+1:]]
	if q == nil {
		return nil
	}
	if q.url != u && !strings.HasSuffix(u, "/"+s.account+"/"+q.name) {
		return nil
	}
	return q
}

// receiptHandle encodes a handle for one receive of message m of queue q:
// the queue, the message and a random nonce. Handles are opaque to
// clients, like SQS's.
func receiptHandle(q *queue, m *message) string {
	return base64.StdEncoding.EncodeToString([]byte(q.name + "\x00" + m.id + "\x00" + randomHex(16)))
}

// parseReceiptHandle returns the message id a handle names, or ok false
// when the handle is not one this server issued for queue q.
func parseReceiptHandle(q *queue, h string) (msgID string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[0] != q.name || parts[1] == "" || len(parts[2]) != 32 {
		return "", false
	}
	return parts[1], true
}

// find returns the message with id, or nil.
func (q *queue) find(id string) *message {
	for _, m := range q.msgs {
		if m.id == id {
			return m
		}
	}
	return nil
}

// remove deletes m from q.
func (q *queue) remove(m *message) {
	for i, x := range q.msgs {
		if x == m {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return
		}
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// newMessageID returns a random UUID, the form SQS message ids take.
func newMessageID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// md5Hex is the MD5 of s in hex, as SQS reports message bodies' digests
// (the SDK checks them).
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
