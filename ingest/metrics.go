package ingest

import "github.com/prometheus/client_golang/prometheus"

// metrics are the ingest stage's Prometheus metrics. Labels are bounded:
// object kinds, results and dead-letter reasons, never a key or account.
type metrics struct {
	objects           *prometheus.CounterVec
	events            *prometheus.CounterVec
	deadLetters       *prometheus.CounterVec
	transactions      *prometheus.CounterVec
	compressedBytes   prometheus.Counter
	decompressedBytes prometheus.Counter
	objectSeconds     prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_objects_total",
			Help: "Objects finished, by kind and result (ok, digest, or the dead-letter reason).",
		}, []string{"kind", "result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_events_total",
			Help: "Events produced to the events topic (counted when their object is finished; a batch that aborts is counted again when retried).",
		}, []string{"source"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_dead_letters_total",
			Help: "Objects and records sent to the dead-letter topic, by reason.",
		}, []string{"reason"}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_transactions_total",
			Help: "Transactions ended, by result (committed, aborted, rebalanced).",
		}, []string{"result"}),
		compressedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_ingest_read_compressed_bytes_total",
			Help: "Object bytes read from S3, as stored.",
		}),
		decompressedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_ingest_read_decompressed_bytes_total",
			Help: "Object bytes decoded, after decompression.",
		}),
		objectSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trailwatch_ingest_object_duration_seconds",
			Help:    "Time to read and decode one object.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.objects, m.events, m.deadLetters, m.transactions, m.compressedBytes, m.decompressedBytes, m.objectSeconds)
	}
	return m
}
