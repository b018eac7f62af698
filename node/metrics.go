package node

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus metrics, in a registry of its own so
// that several nodes can run in one process (as the demo does). Labels carry
// routes, codes and decisions: never identities or biometric data.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	decisions  *prometheus.CounterVec
	partner    *prometheus.CounterVec // partners' step-1 searches answered, by decision
	enrolments prometheus.Counter
	erasures   prometheus.Counter
	// partialSearches counts searches of a clustered gallery that some
	// shard did not answer (partial, or failed when none answered).
	partialSearches *prometheus.CounterVec
	gallery         *prometheus.GaugeVec
	tailDepth       *prometheus.GaugeVec // impostor comparisons behind each modality's tail
	tailFMR         *prometheus.GaugeVec // lowest FMR the tail measures
	fpir            *prometheus.GaugeVec // FPIR the tail implies for the hit threshold now
}

func newMetrics(n *Node) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ebsp_http_requests_total", Help: "API requests by route and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ebsp_http_request_seconds", Help: "API request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"route"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ebsp_identify_decisions_total", Help: "1:N identification decisions.",
	}, []string{"decision"})
	m.partner = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ebsp_partner_search_decisions_total", Help: "Partners' step-1 searches of this node's gallery, by decision (hit, no_hit).",
	}, []string{"decision"})
	m.enrolments = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ebsp_enrolments_total", Help: "Acknowledged enrolments.",
	})
	m.partialSearches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ebsp_partial_searches_total", Help: "Searches of a sharded gallery answered without some shard (partial), or by none.",
	}, []string{"modality"})
	m.erasures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ebsp_erasures_total", Help: "Identities erased.",
	})
	m.gallery = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ebsp_gallery_templates", Help: "Templates held in memory for matching, by modality.",
	}, []string{"modality"})
	m.tailDepth = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ebsp_calibration_tail_comparisons", Help: "Impostor comparisons measured for the tail the thresholds follow, by modality and tail (0: no measurement, hits disabled).",
	}, []string{"modality", "tail"})
	m.tailFMR = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ebsp_calibration_tail_measured_fmr", Help: "Lowest FMR the tail measures; below it the tail is extrapolated.",
	}, []string{"modality", "tail"})
	m.fpir = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ebsp_calibration_fpir_implied", Help: "FPIR the tail implies for the hit threshold at the current gallery size.",
	}, []string{"modality", "tail"})
	m.reg.MustRegister(m.partialSearches, m.requests, m.latency, m.decisions, m.partner, m.enrolments, m.erasures, m.gallery, m.tailDepth, m.tailFMR, m.fpir,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) setGallery(n *Node) {
	for mod := range n.engines {
		if n.searchable(mod) {
			t, _ := n.galleryLen(mod)
			m.gallery.WithLabelValues(string(mod)).Set(float64(t))
		}
	}
	for _, c := range n.Calibration().Modalities {
		m.tailDepth.WithLabelValues(string(c.Modality), c.Tail).Set(float64(c.Comparisons))
		m.tailFMR.WithLabelValues(string(c.Modality), c.Tail).Set(c.MeasuredFMR)
		m.fpir.WithLabelValues(string(c.Modality), c.Tail).Set(c.FPIRImplied)
	}
}
