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
	enrolments prometheus.Counter
	erasures   prometheus.Counter
	gallery    *prometheus.GaugeVec
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
	m.enrolments = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ebsp_enrolments_total", Help: "Acknowledged enrolments.",
	})
	m.erasures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ebsp_erasures_total", Help: "Identities erased.",
	})
	m.gallery = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ebsp_gallery_templates", Help: "Templates held in memory for matching, by modality.",
	}, []string{"modality"})
	m.reg.MustRegister(m.requests, m.latency, m.decisions, m.enrolments, m.erasures, m.gallery,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) setGallery(n *Node) {
	for mod, g := range n.galleries {
		t, _ := g.Len()
		m.gallery.WithLabelValues(string(mod)).Set(float64(t))
	}
}
