package serve

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/trailhound/trailhound/internal/hunt"
	"github.com/trailhound/trailhound/internal/signal"
	"github.com/trailhound/trailhound/internal/sink"
)

// metrics are the service's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg *prometheus.Registry

	eventsRead, eventsRejected, eventsFiltered prometheus.Counter
	eventsCommitted                            prometheus.Counter
	batchEvents                                float64 // events read in the batch under way
	objectsRead                                prometheus.Counter
	objectsFailed                              *prometheus.CounterVec
	listed, listErrors                         *prometheus.CounterVec
	notifications                              *prometheus.CounterVec
	signals                                    *prometheus.CounterVec
	sinkDelivered, sinkFailures                *prometheus.CounterVec
	outboxDepth                                *prometheus.GaugeVec
	commitSeconds                              prometheus.Histogram
	batches                                    prometheus.Counter
	detectSeconds                              prometheus.Histogram
	lateHits                                   prometheus.Counter

	mu        sync.Mutex
	newest    time.Time // the newest object seen
	committed time.Time // the newest object committed
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m.eventsRead = counter("trailhound_events_read_total", "CloudTrail records read.")
	m.eventsRejected = counter("trailhound_events_rejected_total", "Records rejected (not gzip, not JSON, too large, not an event).")
	m.eventsFiltered = counter("trailhound_events_filtered_total", "Events left out by since, until, accounts or regions.")
	m.eventsCommitted = counter("trailhound_events_committed_total", "Records read in batches committed to the store.")
	m.objectsRead = counter("trailhound_objects_read_total", "Objects and event messages read.")
	m.objectsFailed = vec("trailhound_objects_failed_total", "Objects not read, by reason (missing, denied, throttled, read_error, too_large).", "reason")
	m.listed = vec("trailhound_objects_listed_total", "New objects found by listing.", "trail")
	m.listErrors = vec("trailhound_list_errors_total", "Listings that failed.", "trail")
	m.notifications = vec("trailhound_notifications_total", "Messages received, by queue and outcome.", "queue", "result")
	m.signals = vec("trailhound_signals_total", "Signal revisions emitted, by level and status.", "level", "status")
	m.sinkDelivered = vec("trailhound_sink_delivered_total", "Signal revisions a sink acknowledged.", "sink")
	m.sinkFailures = vec("trailhound_sink_failures_total", "Failed deliveries to a sink (each retried).", "sink")
	m.outboxDepth = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trailhound_sink_outbox_depth", Help: "Signal revisions waiting for a sink."}, []string{"sink"})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trailhound_commit_duration_seconds", Help: "Time to commit a batch to the store.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})
	m.batches = counter("trailhound_batches_total", "Batches committed.")
	m.lateHits = counter("trailhound_matches_late_total", "Rule matches read behind the watermark (more than the lateness behind the latest event time): evaluated at once against the state held, not in event-time order.")
	m.detectSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "trailhound_batch_latency_seconds",
		Help:    "From an object's write (or a message's sending) to the commit of its batch, whose revisions then go to the sinks.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 16)})
	m.reg.MustRegister(m.eventsRead, m.eventsCommitted, m.eventsRejected, m.eventsFiltered, m.objectsRead, m.objectsFailed, m.listed, m.listErrors,
		m.notifications, m.signals, m.sinkDelivered, m.sinkFailures, m.outboxDepth, m.commitSeconds, m.batches, m.detectSeconds, m.lateHits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// register adds the gauges that read the service's state.
func (m *metrics) register(s *Service) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "trailhound_objects_pending", Help: "Objects and messages waiting for a batch."},
			func() float64 { return float64(len(s.work)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "trailhound_lag_newest_object_seconds", Help: "How far the newest object committed is behind the newest object seen."},
			func() float64 {
				m.mu.Lock()
				defer m.mu.Unlock()
				if m.newest.IsZero() || m.committed.IsZero() {
					return 0
				}
				return max(0, m.newest.Sub(m.committed).Seconds())
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "trailhound_lag_event_time_seconds", Help: "How far the watermark (latest event time less the lateness) is behind the clock."},
			func() float64 {
				s.mu.Lock()
				wm := s.watermark
				s.mu.Unlock()
				if wm.IsZero() {
					return 0
				}
				return time.Since(wm).Seconds()
			}),
	)
}

// delivered returns the outbox callback of a sink.
func (m *metrics) delivered(name string) func(n int, err error) {
	return func(n int, err error) {
		m.sinkDelivered.WithLabelValues(name).Add(float64(n))
		if err != nil {
			m.sinkFailures.WithLabelValues(name).Inc()
		}
	}
}

func (m *metrics) observeOutboxes(boxes []*sink.Outbox) {
	for _, b := range boxes {
		m.outboxDepth.WithLabelValues(b.Name()).Set(float64(b.Depth()))
	}
}

func (m *metrics) observeNewest(t time.Time) {
	m.mu.Lock()
	if t.After(m.newest) {
		m.newest = t
	}
	m.mu.Unlock()
}

// eventsReadValue is the count of events read (tests and benchmarks).
func (m *metrics) eventsReadValue() float64 {
	var d dto.Metric
	m.eventsRead.Write(&d)
	return d.GetCounter().GetValue()
}

func (m *metrics) objectFailed(reason string) { m.objectsFailed.WithLabelValues(reason).Inc() }

func (m *metrics) input(r hunt.InputResult) {
	if r.Unchanged {
		return
	}
	m.objectsRead.Inc()
	m.eventsRead.Add(float64(r.Read))
	m.batchEvents += float64(r.Read)
	m.eventsRejected.Add(float64(r.Rejected))
	m.eventsFiltered.Add(float64(r.Filtered))
}

// batch records a committed batch.
func (m *metrics) batch(s *Service, batch []item, revs []signal.Signal, _ []hunt.InputResult, _ time.Duration) {
	m.batches.Inc()
	m.eventsCommitted.Add(m.batchEvents)
	m.batchEvents = 0
	now := time.Now()
	m.mu.Lock()
	for _, it := range batch {
		if !it.since.IsZero() {
			m.detectSeconds.Observe(max(0, now.Sub(it.since).Seconds()))
		}
		if it.obj != nil && it.obj.ModTime.After(m.committed) {
			m.committed = it.obj.ModTime
		}
		if it.obj != nil && it.obj.ModTime.After(m.newest) {
			m.newest = it.obj.ModTime
		}
	}
	m.mu.Unlock()
	for _, r := range revs {
		st, _ := r.Lifecycle()
		m.signals.WithLabelValues(r.Level.String(), string(st)).Inc()
	}
	m.observeOutboxes(s.boxes)
	s.mu.Lock()
	s.watermark = s.live.Watermark()
	s.mu.Unlock()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
