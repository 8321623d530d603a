package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/wug"
)

// metrics are the service's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg *prometheus.Registry

	runs        *prometheus.CounterVec   // connection, status
	runDuration *prometheus.HistogramVec // connection
	items       *prometheus.CounterVec   // connection, outcome
	requests    *prometheus.CounterVec   // server, connection, code, method
	latency     *prometheus.HistogramVec // server, connection, method
	retries     *prometheus.CounterVec   // server, connection
	wugRate     *prometheus.GaugeVec     // connection
	webhooks    *prometheus.CounterVec   // kind, action
	api         *prometheus.CounterVec   // handler, code
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: counterVec("wugsync_export_runs_total",
			"Finished export runs by connection and status (succeeded, partial, failed, interrupted).",
			"connection", "status"),
		runDuration: histogramVec("wugsync_export_run_duration_seconds",
			"Wall time of finished export runs.",
			prometheus.ExponentialBuckets(0.1, 3, 10), "connection"),
		items: counterVec("wugsync_export_items_total",
			"Addresses handled by export runs, by outcome (added, adopted, updated, scanned, removed, unchanged, skipped, invalid, failed).",
			"connection", "outcome"),
		requests: counterVec("wugsync_http_client_requests_total",
			"HTTP attempts sent to WUG and NetBox (each retry counts), by status code and method.",
			"server", "connection", "code", "method"),
		latency: histogramVec("wugsync_http_client_request_duration_seconds",
			"Latency of HTTP attempts to WUG and NetBox, until the response headers.",
			prometheus.ExponentialBuckets(0.005, 2.5, 10), "server", "connection", "method"),
		retries: counterVec("wugsync_http_client_retries_total",
			"Retries the WUG and NetBox clients made.",
			"server", "connection"),
		wugRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wugsync_wug_rate_limit_per_second",
			Help: "The WUG client's adaptive rate limit after its last change (it halves on 429 and 503).",
		}, []string{"connection"}),
		webhooks: counterVec("wugsync_webhook_events_total",
			"NetBox webhook events accepted, by object kind and action.",
			"kind", "action"),
		api: counterVec("wugsync_api_requests_total",
			"Requests served by the service, by handler and status code.",
			"handler", "code"),
	}
	m.reg.MustRegister(m.runs, m.runDuration, m.items, m.requests, m.latency, m.retries, m.wugRate, m.webhooks, m.api,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// counterVec is a counter named name with help text and labels.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// histogramVec is a histogram named name with help text, buckets and labels.
func histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
}

// observeExport records a finished export (the scheduler's OnExport).
func (m *metrics) observeExport(res *export.Result, _ error) {
	// A nil result is a run that failed before it was recorded.
	if res == nil {
		m.runs.WithLabelValues("", string(store.RunFailed)).Inc()
		return
	}
	connection := res.Connection
	m.runs.WithLabelValues(connection, string(res.Status)).Inc()
	if !res.StartedAt.IsZero() && !res.FinishedAt.IsZero() {
		m.runDuration.WithLabelValues(connection).Observe(res.FinishedAt.Sub(res.StartedAt).Seconds())
	}
	c := res.Counts
	for outcome, n := range map[string]int{
		"added": c.Added, "adopted": c.Adopted, "updated": c.Updated, "scanned": c.Scanned, "removed": c.Removed,
		"unchanged": c.Unchanged, "skipped": c.Skipped, "invalid": c.Invalid, "failed": c.Failed,
	} {
		m.items.WithLabelValues(connection, outcome).Add(float64(n))
	}
}

// hooks count and time a client's attempts (answers only, by status code
// and method) and count its retries; for WUG they also follow the adaptive
// rate. The wug and netbox clients take the same Hooks type.
func (m *metrics) hooks(server, connection string) wug.Hooks {
	l := prometheus.Labels{"server": server, "connection": connection}
	requests, latency, retries := m.requests.MustCurryWith(l), m.latency.MustCurryWith(l), m.retries.With(l)
	h := wug.Hooks{
		OnAttempt: func(ev wug.AttemptEvent) {
			if ev.Err != nil {
				return
			}
			method := strings.ToLower(ev.Method)
			requests.WithLabelValues(strconv.Itoa(ev.Status), method).Inc()
			latency.WithLabelValues(method).Observe(ev.Duration.Seconds())
		},
		OnRetry: func(wug.RetryEvent) { retries.Inc() },
	}
	if server == "wug" {
		h.OnLimitChange = m.wugRate.WithLabelValues(connection).Set
	}
	return h
}

// instrumentHandler counts a handler's answers by status code.
func (m *metrics) instrumentHandler(name string, h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerCounter(m.api.MustCurryWith(prometheus.Labels{"handler": name}), h)
}

// stateCollector reads the store and the scheduler at scrape time: records
// by status, the scan backlog and runs in progress.
type stateCollector struct {
	svc      *service
	records  *prometheus.Desc
	backlog  *prometheus.Desc
	running  *prometheus.Desc
	scrapeOK *prometheus.Desc
}

func newStateCollector(svc *service) *stateCollector {
	return &stateCollector{
		svc:      svc,
		records:  prometheus.NewDesc("wugsync_records", "Export records by connection and status.", []string{"connection", "status"}, nil),
		backlog:  prometheus.NewDesc("wugsync_scan_backlog", "Addresses whose WUG discovery scan has been triggered and not yet followed to completion.", []string{"connection"}, nil),
		running:  prometheus.NewDesc("wugsync_export_in_progress", "1 while this process runs an export of the connection.", []string{"connection"}, nil),
		scrapeOK: prometheus.NewDesc("wugsync_store_up", "1 when the state store answered the last scrape.", nil, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.records
	ch <- c.backlog
	ch <- c.running
	ch <- c.scrapeOK
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := 1.0
	for _, cn := range c.svc.conns {
		name := cn.cfg.Name
		if st, err := c.svc.sched.Status(name); err == nil {
			ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, b2f(st.Running), name)
		}
		counts, err := c.svc.st.CountByStatus(ctx, name)
		if err != nil {
			up = 0
			continue
		}
		for status, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(n), name, string(status))
		}
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(counts[store.StatusScanTriggered]), name)
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeOK, prometheus.GaugeValue, up)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
