package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// maxNotificationBytes bounds one notification. SQS messages are at most
// 1 MiB and an S3 event carries one record, so anything larger is not an
// announcement.
const maxNotificationBytes = 4 << 20

// ParseNotification turns one announcement of new S3 objects into Object
// records. It accepts every shape an object can be announced in:
//
//   - an S3 event notification ({"Records":[...]}), as S3 sends it to SQS,
//     SNS with raw delivery, or Lambda; keys are URL-encoded ('+' is a
//     space);
//   - the same wrapped in an SNS envelope ({"Type":"Notification",
//     "Message":"<the event as a string>"});
//   - an EventBridge "Object Created" event from aws.s3 (keys are not
//     encoded);
//   - MinIO's Kafka record value ({"EventName":...,"Key":...,
//     "Records":[...]}), whose records are S3 event records;
//   - trailwatch's own Object JSON ({"v":1,...}).
//
// Only object-created events yield objects. An s3:TestEvent, an SNS
// subscription confirmation, and S3 events of other types (ObjectRemoved,
// restores, lifecycle, replication, tagging) yield none and no error: they
// are expected on a shared queue and there is nothing to ingest.
//
// Each Object gets its Kind, AccountID, Region and Time from ClassifyKey;
// when the key carries no time, Time is the event's time. An object whose
// key follows no known layout is returned with Kind schemas.ObjectUnknown,
// so that the worker dead-letters it visibly rather than it vanishing here.
// Via is left empty for the caller to set, except on trailwatch's own
// Object records, which keep the discovery path they were produced with.
//
// Input that is none of the above, or a created event missing its bucket,
// key or size, fails the whole notification with an error wrapping a
// *DecodeError with ReasonBadAnnouncement: retrying cannot help, so it
// belongs on the dead-letter topic. ParseNotification is safe for
// concurrent use.
func ParseNotification(body []byte) ([]schemas.Object, error) {
	objs, err := parseNotification(body, false)
	if err != nil {
		return nil, fmt.Errorf("parse notification: %w", err)
	}
	return objs, nil
}

// notificationEnvelope holds the top-level fields that tell the shapes
// apart. encoding/json matches names case-insensitively; no two shapes
// share a field name that differs only in case.
type notificationEnvelope struct {
	// Records: S3 event notification and MinIO.
	Records json.RawMessage `json:"Records"`
	// Event: s3:TestEvent.
	Event string `json:"Event"`
	// Type and Message: SNS envelope.
	Type    string  `json:"Type"`
	Message *string `json:"Message"`
	// DetailType, Source and Detail: EventBridge.
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
	// V: trailwatch's Object.
	V json.RawMessage `json:"v"`
}

// parseNotification parses body; inSNS is set for the message of an SNS
// envelope, which must not be another envelope.
func parseNotification(body []byte, inSNS bool) ([]schemas.Object, error) {
	if len(body) > maxNotificationBytes {
		return nil, decodeErr(ReasonBadAnnouncement, "notification of %d bytes exceeds %d", len(body), maxNotificationBytes)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, decodeErr(ReasonBadAnnouncement, "notification is not a JSON object")
	}
	if bytes.HasPrefix(trimmed, []byte(`{"v":`)) {
		// trailwatch's own Object record, as backfill and the SQS bridge
		// write it (v first): one decode instead of two. The envelope
		// below would pick the same branch.
		return parseObjectRecord(trimmed)
	}
	var env notificationEnvelope
	if err := decodeAnnouncement(trimmed, &env, "notification"); err != nil {
		return nil, err
	}
	switch {
	case env.V != nil:
		return parseObjectRecord(trimmed)
	case env.Records != nil:
		return parseS3Records(env.Records)
	case env.Event == "s3:TestEvent":
		return nil, nil
	case env.Type == "Notification":
		if inSNS {
			return nil, decodeErr(ReasonBadAnnouncement, "SNS envelope inside an SNS envelope")
		}
		if env.Message == nil {
			return nil, decodeErr(ReasonBadAnnouncement, "SNS notification without a Message")
		}
		objs, err := parseNotification([]byte(*env.Message), true)
		if err != nil {
			return nil, fmt.Errorf("SNS message: %w", err)
		}
		return objs, nil
	case env.Type == "SubscriptionConfirmation" || env.Type == "UnsubscribeConfirmation":
		// SNS asks the subscriber to confirm; SQS subscriptions are
		// confirmed by whoever set them up, not by trailwatch.
		return nil, nil
	case env.DetailType != "" || env.Detail != nil:
		return parseEventBridge(&env)
	}
	return nil, decodeErr(ReasonBadAnnouncement, "not an S3 event, SNS, EventBridge or trailwatch object notification")
}

// decodeAnnouncement unmarshals data into v; a failure is a
// bad_announcement DecodeError naming what was decoded.
func decodeAnnouncement(data []byte, v any, what string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return &DecodeError{Reason: ReasonBadAnnouncement, Err: fmt.Errorf("decode %s: %w", what, err)}
	}
	return nil
}

// s3EventRecord is the part of an S3 event notification record (event
// structure version 2.x) that announces an object.
type s3EventRecord struct {
	EventName string `json:"eventName"`
	EventTime string `json:"eventTime"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			// Key is URL-encoded the way HTML forms are: '+' is a space.
			Key       string `json:"key"`
			Size      *int64 `json:"size"`
			ETag      string `json:"eTag"`
			VersionID string `json:"versionId"`
		} `json:"object"`
	} `json:"s3"`
}

// parseS3Records parses the Records array of an S3 event notification.
func parseS3Records(raw json.RawMessage) ([]schemas.Object, error) {
	var records []s3EventRecord
	if err := decodeAnnouncement(raw, &records, "S3 event records"); err != nil {
		return nil, err
	}
	var objs []schemas.Object
	for i := range records {
		r := &records[i]
		if r.EventName == "" {
			return nil, decodeErr(ReasonBadAnnouncement, "record %d: no eventName", i)
		}
		// MinIO prefixes event names with "s3:", S3 does not.
		if !strings.HasPrefix(strings.TrimPrefix(r.EventName, "s3:"), "ObjectCreated:") {
			continue
		}
		o := &r.S3.Object
		key, err := url.QueryUnescape(o.Key)
		if err != nil {
			return nil, &DecodeError{Reason: ReasonBadAnnouncement, Err: fmt.Errorf("record %d: key %q: %w", i, o.Key, err)}
		}
		obj, err := newObject(r.S3.Bucket.Name, key, o.Size, o.ETag, o.VersionID, r.EventTime)
		if err != nil {
			return nil, &DecodeError{Reason: ReasonBadAnnouncement, Err: fmt.Errorf("record %d: %w", i, err)}
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// eventBridgeDetail is the detail of an EventBridge event from aws.s3.
type eventBridgeDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		// Key is not URL-encoded in EventBridge events.
		Key       string `json:"key"`
		Size      *int64 `json:"size"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id"`
	} `json:"object"`
}

// parseEventBridge parses an EventBridge event. Only aws.s3 events are
// announcements; one from another source means a rule routes the wrong
// events to the queue, which must be seen, so it is an error.
func parseEventBridge(env *notificationEnvelope) ([]schemas.Object, error) {
	if env.Source != "aws.s3" {
		return nil, decodeErr(ReasonBadAnnouncement, "EventBridge event from source %q, not aws.s3", env.Source)
	}
	if env.DetailType != "Object Created" {
		return nil, nil
	}
	if env.Detail == nil {
		return nil, decodeErr(ReasonBadAnnouncement, "EventBridge Object Created event without detail")
	}
	var d eventBridgeDetail
	if err := decodeAnnouncement(env.Detail, &d, "EventBridge detail"); err != nil {
		return nil, err
	}
	obj, err := newObject(d.Bucket.Name, d.Object.Key, d.Object.Size, d.Object.ETag, d.Object.VersionID, env.Time)
	if err != nil {
		return nil, &DecodeError{Reason: ReasonBadAnnouncement, Err: fmt.Errorf("EventBridge detail: %w", err)}
	}
	return []schemas.Object{obj}, nil
}

// newObject builds the Object for a created event, classifying its key.
// eventTime is the event's RFC 3339 time, used when the key has none. Its
// errors are plain; the caller makes them DecodeErrors with context.
func newObject(bucket, key string, size *int64, etag, versionID, eventTime string) (schemas.Object, error) {
	switch {
	case bucket == "":
		return schemas.Object{}, errors.New("no bucket name")
	case key == "":
		return schemas.Object{}, errors.New("no object key")
	case size == nil:
		return schemas.Object{}, fmt.Errorf("object %q: no size", key)
	case *size < 0:
		return schemas.Object{}, fmt.Errorf("object %q: negative size %d", key, *size)
	}
	info := ClassifyKey(key)
	obj := schemas.Object{
		V:         schemas.ObjectVersion,
		Bucket:    bucket,
		Key:       key,
		Size:      *size,
		ETag:      etag,
		VersionID: versionID,
		Kind:      info.Kind,
		AccountID: info.AccountID,
		Region:    info.Region,
		Time:      info.Time,
	}
	if obj.Time.IsZero() && eventTime != "" {
		// The event time is when S3 stored the object: the object's
		// last-modified time, which is what Object.Time falls back to.
		if t, err := time.Parse(time.RFC3339Nano, eventTime); err == nil {
			obj.Time = t.UTC()
		}
	}
	return obj, nil
}

// parseObjectRecord parses trailwatch's own Object JSON. Fields the
// producer left empty are filled from the key; Via, the discovery path the
// producer recorded (sqs, backfill), is kept.
func parseObjectRecord(body []byte) ([]schemas.Object, error) {
	var obj schemas.Object
	if err := decodeAnnouncement(body, &obj, "object record"); err != nil {
		return nil, err
	}
	switch {
	case obj.V != schemas.ObjectVersion:
		return nil, decodeErr(ReasonBadAnnouncement, "object record version %d, want %d", obj.V, schemas.ObjectVersion)
	case obj.Bucket == "":
		return nil, decodeErr(ReasonBadAnnouncement, "object record without bucket")
	case obj.Key == "":
		return nil, decodeErr(ReasonBadAnnouncement, "object record without key")
	case obj.Size < 0:
		return nil, decodeErr(ReasonBadAnnouncement, "object record %q: negative size %d", obj.Key, obj.Size)
	}
	if obj.Kind == "" {
		info := ClassifyKey(obj.Key)
		obj.Kind = info.Kind
		if obj.AccountID == "" {
			obj.AccountID = info.AccountID
		}
		if obj.Region == "" {
			obj.Region = info.Region
		}
		if obj.Time.IsZero() {
			obj.Time = info.Time
		}
	} else if !isObjectKind(obj.Kind) {
		return nil, decodeErr(ReasonBadAnnouncement, "object record %q: unknown kind %q", obj.Key, obj.Kind)
	}
	return []schemas.Object{obj}, nil
}

// isObjectKind reports whether k is one of the schemas.Object* kinds.
func isObjectKind(k schemas.ObjectKind) bool {
	switch k {
	case schemas.ObjectCloudTrail, schemas.ObjectCloudTrailDigest, schemas.ObjectCloudTrailInsights,
		schemas.ObjectVPCFlow, schemas.ObjectVPCFlowParquet, schemas.ObjectUnknown:
		return true
	}
	return false
}
