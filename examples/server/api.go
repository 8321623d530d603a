package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// API paths, as the NetBox plugin served them.
const (
	apiPrefix      = "/api/plugins/wug-sync/"
	exportPath     = apiPrefix + "connections/{id}/export/"
	statusPath     = apiPrefix + "connections/{id}/export-status/"
	ipExportsPath  = apiPrefix + "ip-exports/"
	bulkExportPath = apiPrefix + "ip-exports/bulk-export/"
	webhookPath    = "/webhooks/netbox"
)

const (
	maxAPIBody       = 1 << 20 // bytes of a request body
	defaultPageLimit = 50
	maxPageLimit     = 1000
	recentRuns       = 10
	recentErrors     = 10
	recentErrorAge   = 7 * 24 * time.Hour
	triggerTimeout   = 30 * time.Second
	// schedulerStartWait bounds how long a trigger waits for the scheduler
	// to start.
	schedulerStartWait = 2 * time.Second
)

// handler routes the service's endpoints.
func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	api := func(method, path, name string, h http.HandlerFunc) {
		mux.Handle(method+" "+path+"{$}", s.m.instrumentHandler(name, s.auth(h)))
		mux.Handle(path+"{$}", s.auth(methodNotAllowed(method)))
	}
	api(http.MethodPost, exportPath, "export", s.handleExport)
	api(http.MethodGet, statusPath, "export_status", s.handleStatus)
	api(http.MethodGet, ipExportsPath, "ip_exports", s.handleIPExports)
	api(http.MethodPost, bulkExportPath, "bulk_export", s.handleBulkExport)
	api(http.MethodGet, driftPath, "drift", s.handleDrift)
	mux.Handle("/api/", s.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	}))

	if s.webhook != nil {
		mux.Handle(http.MethodPost+" "+webhookPath, s.m.instrumentHandler("webhook", s.webhook))
	} else {
		mux.HandleFunc(http.MethodPost+" "+webhookPath, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "NetBox webhooks are off: the configuration sets no webhook_secret")
		})
	}
	mux.Handle(webhookPath, methodNotAllowed(http.MethodPost))

	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	s.page.routes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return mux
}

// auth admits requests carrying "Authorization: Token <api token>".
func (s *service) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Token") || tok == "" {
			w.Header().Set("WWW-Authenticate", "Token")
			writeError(w, http.StatusUnauthorized, `authentication required: send "Authorization: Token <token>"`)
			return
		}
		if !s.validToken(tok) {
			writeError(w, http.StatusForbidden, "invalid token")
			return
		}
		h(w, r)
	}
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed; use %s", r.Method, allow))
	}
}

// connection finds a configured connection by id or name.
func (s *service) connection(w http.ResponseWriter, id string) (*conn, bool) {
	c, ok := s.byID[id]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown connection %q", id))
	}
	return c, ok
}

// exportRequest is the body of POST .../connections/{id}/export/.
type exportRequest struct {
	DeviceFilters filters `json:"device_filters"`
}

// filters narrow a connection's selection for one run, as the HTTP API
// receives them: each list names NetBox objects by id, slug or a mix, as
// in [1, 2] or [1, "ams1"].
type filters struct {
	Sites       json.RawMessage `json:"sites,omitempty"`        // any of these sites
	DeviceRoles json.RawMessage `json:"device_roles,omitempty"` // any of these roles
	Tags        json.RawMessage `json:"tags,omitempty"`         // all of these tags
	// ExcludeRecentExports skips addresses exported in the last 24 hours.
	ExcludeRecentExports bool `json:"exclude_recent_exports,omitempty"`
}

// runOptions reads the filters into a run's options; an item that is
// neither a NetBox id nor a slug is an error naming the list and the item.
func (f filters) runOptions() (export.RunOptions, error) {
	o := export.RunOptions{Trigger: store.TriggerManual, ExcludeRecent: f.ExcludeRecentExports}
	for _, l := range []struct {
		name string
		raw  json.RawMessage
		to   *netbox.Refs
	}{{"sites", f.Sites, &o.Sites}, {"device_roles", f.DeviceRoles, &o.Roles}, {"tags", f.Tags, &o.Tags}} {
		r, err := netbox.ParseRefs(l.raw)
		if err != nil {
			return o, fmt.Errorf("%s: %w", l.name, err)
		}
		*l.to = r
	}
	return o, nil
}

// handleExport starts an export of one connection, narrowed by the
// request's device filters, and answers 202 with the run id.
func (s *service) handleExport(w http.ResponseWriter, r *http.Request) {
	c, ok := s.connection(w, r.PathValue("id"))
	if !ok {
		return
	}
	var req exportRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	opts, err := req.DeviceFilters.runOptions()
	if err != nil {
		writeError(w, http.StatusBadRequest, "device_filters: "+err.Error())
		return
	}
	s.trigger(w, r, c, opts)
}

// bulkExportRequest is the body of POST .../ip-exports/bulk-export/.
type bulkExportRequest struct {
	Connection   json.RawMessage `json:"connection"`    // id or name, string or number
	ConnectionID json.RawMessage `json:"connection_id"` // the same, by its other name
	Addresses    []string        `json:"addresses"`
	IPAddresses  []string        `json:"ip_addresses"` // the same, by its other name
}

// handleBulkExport exports the given addresses of one connection.
func (s *service) handleBulkExport(w http.ResponseWriter, r *http.Request) {
	var req bulkExportRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	raw := req.Connection
	if len(raw) == 0 {
		raw = req.ConnectionID
	}
	id, err := jsonID(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "connection: "+err.Error())
		return
	}
	c, ok := s.connection(w, id)
	if !ok {
		return
	}
	texts := append(req.Addresses, req.IPAddresses...)
	if len(texts) == 0 {
		writeError(w, http.StatusBadRequest, "addresses: at least one IP address is required")
		return
	}
	addrs := make([]netip.Addr, 0, len(texts))
	for i, t := range texts {
		a, err := parseAddress(t)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("addresses[%d]: %v", i, err))
			return
		}
		addrs = append(addrs, a)
	}
	s.trigger(w, r, c, export.RunOptions{Trigger: store.TriggerBulk, IPs: addrs})
}

// jsonID reads a connection id given as a JSON string or number.
func jsonID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("required")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", errors.New("must be a connection id or name")
}

// trigger asks the scheduler for a run and answers 202, 409 or an error.
func (s *service) trigger(w http.ResponseWriter, r *http.Request, c *conn, opts export.RunOptions) {
	if !c.enabled {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("NetBox export is disabled for connection %q (enable_netbox_export: false)", c.cfg.Name))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), triggerTimeout)
	defer cancel()
	runID, err := s.startRun(ctx, c.cfg.Name, opts)
	var busy *export.RunInProgressError
	switch {
	case errors.As(err, &busy):
		body := map[string]any{"reason": busy.Error(), "run_id": nil, "holder": nil}
		if busy.RunID != "" {
			body["run_id"] = busy.RunID
		}
		if busy.Holder != "" {
			body["holder"] = busy.Holder
		}
		writeJSON(w, http.StatusConflict, body)
	case errors.Is(err, export.ErrUnknownConnection):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, export.ErrStopping):
		writeError(w, http.StatusServiceUnavailable, "the service is shutting down")
	case err != nil:
		s.log.Warn("export did not start", "connection", c.cfg.Name, "trigger", opts.Trigger, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the export did not start: "+err.Error())
	default:
		s.log.Info("export started", "connection", c.cfg.Name, "trigger", opts.Trigger, "run_id", runID)
		writeJSON(w, http.StatusAccepted, map[string]any{
			"run_id":     runID,
			"connection": c.cfg.Name,
			"status":     store.RunRunning,
			"status_url": apiPrefix + "connections/" + url.PathEscape(c.cfg.ID) + "/export-status/",
		})
	}
}

// startRun is Scheduler.Trigger, waiting out the moment between the
// service starting the scheduler and the scheduler's Run starting, in which
// Trigger answers export.ErrNotRunning.
func (s *service) startRun(ctx context.Context, connection string, opts export.RunOptions) (string, error) {
	deadline := time.Now().Add(schedulerStartWait)
	for {
		runID, err := s.sched.Trigger(ctx, connection, opts)
		if !errors.Is(err, export.ErrNotRunning) || time.Now().After(deadline) {
			return runID, err
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// statusResponse is the body of GET .../connections/{id}/export-status/.
type statusResponse struct {
	Connection   connectionJSON       `json:"connection"`
	Counts       map[store.Status]int `json:"counts"`
	Total        int                  `json:"total"`
	InProgress   bool                 `json:"in_progress"`
	RunningRunID string               `json:"running_run_id,omitempty"`
	// RunningHolder is the lease holder of the run in progress.
	RunningHolder string       `json:"running_holder,omitempty"`
	LastExport    *runJSON     `json:"last_export"`
	NextExport    *time.Time   `json:"next_export"`
	RecentRuns    []runJSON    `json:"recent_runs"`
	RecentErrors  []recordJSON `json:"recent_errors"`
}

type connectionJSON struct {
	ID                    string  `json:"id"`
	Name                  string  `json:"name"`
	WUGURL                string  `json:"wug_url"`
	EnableNetBoxExport    bool    `json:"enable_netbox_export"`
	ExportIntervalMinutes float64 `json:"export_interval_minutes"`
	AutoScanExportedIPs   bool    `json:"auto_scan_exported_ips"`
}

// handleStatus reports a connection's records by status, its runs and its
// recent failures.
func (s *service) handleStatus(w http.ResponseWriter, r *http.Request) {
	c, ok := s.connection(w, r.PathValue("id"))
	if !ok {
		return
	}
	ctx := r.Context()
	name := c.cfg.Name
	o, err := s.exportOverview(ctx, name)
	if err != nil {
		s.storeError(w, "reading the connection's exports", err)
		return
	}
	runs, err := s.st.Runs(ctx, store.RunQuery{Connection: name, Limit: recentRuns})
	if err != nil {
		s.storeError(w, "listing runs", err)
		return
	}
	errs, err := s.recentErrors(ctx, name)
	if err != nil {
		s.storeError(w, "listing failed records", err)
		return
	}
	resp := statusResponse{
		Connection: connectionJSON{ID: c.cfg.ID, Name: name, WUGURL: c.cfg.WUG.URL, EnableNetBoxExport: c.enabled,
			ExportIntervalMinutes: *c.cfg.ExportIntervalMinutes, AutoScanExportedIPs: *c.cfg.AutoScanExportedIPs},
		Counts:       o.Counts,
		Total:        o.Total,
		InProgress:   o.InProgress,
		NextExport:   timePtr(o.NextExport),
		RecentRuns:   make([]runJSON, 0, len(runs)),
		RecentErrors: errs,
	}
	for _, run := range runs {
		resp.RecentRuns = append(resp.RecentRuns, newRunJSON(run))
	}
	if o.Latest != nil {
		lr := newRunJSON(*o.Latest)
		resp.LastExport = &lr
	}
	if o.Running != nil {
		resp.RunningRunID, resp.RunningHolder = o.Running.ID, o.Running.Lease.Holder
	}
	writeJSON(w, http.StatusOK, resp)
}

// recentErrors returns the newest failed records changed in the last week.
func (s *service) recentErrors(ctx context.Context, connection string) ([]recordJSON, error) {
	newest, err := s.newestErrors(ctx, connection)
	if err != nil {
		return nil, err
	}
	out := make([]recordJSON, 0, len(newest))
	for _, rec := range newest {
		out = append(out, newRecordJSON(rec))
	}
	return out, nil
}

// newestErrors returns the newest failed records changed in the last week,
// newest first.
func (s *service) newestErrors(ctx context.Context, connection string) ([]store.Record, error) {
	var newest []store.Record
	q := store.Query{Connection: connection, Statuses: []store.Status{store.StatusError}, ChangedSince: time.Now().Add(-recentErrorAge)}
	for rec, err := range s.st.Records(ctx, q) {
		if err != nil {
			return nil, err
		}
		i, _ := slices.BinarySearchFunc(newest, rec, func(a, b store.Record) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
		if i < recentErrors {
			newest = slices.Insert(newest, i, rec)
			if len(newest) > recentErrors {
				newest = newest[:recentErrors]
			}
		}
	}
	return newest, nil
}

// page is NetBox's list envelope.
type page struct {
	Count    int          `json:"count"`
	Next     *string      `json:"next"`
	Previous *string      `json:"previous"`
	Results  []recordJSON `json:"results"`
}

// handleIPExports lists export records, filtered and paginated as NetBox
// lists are (limit and offset; count, next, previous, results).
func (s *service) handleIPExports(w http.ResponseWriter, r *http.Request) {
	q, limit, offset, err := s.parseRecordQuery(r.URL.Query())
	if err != nil {
		var nf notFoundError
		if errors.As(err, &nf) {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p := page{Results: make([]recordJSON, 0, min(limit, 100))}
	for rec, err := range s.st.Records(r.Context(), q) {
		if err != nil {
			s.storeError(w, "listing records", err)
			return
		}
		if p.Count >= offset && len(p.Results) < limit {
			p.Results = append(p.Results, newRecordJSON(rec))
		}
		p.Count++
	}
	// Compared without adding to offset, which may be near the largest
	// int (offset+limit would wrap to a negative offset: page 1).
	if offset < p.Count && p.Count-offset > limit {
		p.Next = pageURL(r, limit, offset+limit)
	}
	if offset > 0 {
		p.Previous = pageURL(r, limit, max(0, offset-limit))
	}
	writeJSON(w, http.StatusOK, p)
}

type notFoundError struct{ error }

// parseRecordQuery reads the ip-exports filters: connection (id or name),
// status (repeated or comma-separated), object_type and object_id (or
// device_id, virtual_machine_id), address (or ip_address), vrf ("" for the
// global table), limit and offset.
func (s *service) parseRecordQuery(v url.Values) (q store.Query, limit, offset int, err error) {
	for key := range v {
		switch key {
		case "connection", "connection_id", "status", "object_type", "object_id", "device_id", "virtual_machine_id",
			"address", "ip_address", "vrf", "limit", "offset":
		default:
			return q, 0, 0, fmt.Errorf("unknown filter %q", key)
		}
	}
	if id := first(v, "connection", "connection_id"); id != "" {
		c, ok := s.byID[id]
		if !ok {
			return q, 0, 0, notFoundError{fmt.Errorf("unknown connection %q", id)}
		}
		q.Connection = c.cfg.Name
	}
	for _, vals := range v["status"] {
		for st := range strings.SplitSeq(vals, ",") {
			if !store.Status(st).Valid() {
				return q, 0, 0, fmt.Errorf("status: %q is not one of %v", st, store.Statuses)
			}
			q.Statuses = append(q.Statuses, store.Status(st))
		}
	}
	if kind := v.Get("object_type"); kind != "" {
		switch strings.TrimPrefix(strings.TrimPrefix(kind, "dcim."), "virtualization.") {
		case "device":
			q.ObjectKind = store.ObjectDevice
		case "virtual_machine", "virtualmachine":
			q.ObjectKind = store.ObjectVirtualMachine
		default:
			return q, 0, 0, fmt.Errorf("object_type: %q is not device or virtual_machine", kind)
		}
	}
	idKey := ""
	for _, key := range []string{"object_id", "device_id", "virtual_machine_id"} {
		text := v.Get(key)
		if text == "" {
			continue
		}
		if idKey != "" {
			return q, 0, 0, fmt.Errorf("%s: cannot be combined with %s", key, idKey)
		}
		idKey = key
		id, err := strconv.ParseInt(text, 10, 64)
		if err != nil || id <= 0 {
			return q, 0, 0, fmt.Errorf("%s: %q is not a positive integer", key, text)
		}
		q.ObjectID = id
		switch key {
		case "device_id":
			q.ObjectKind = store.ObjectDevice
		case "virtual_machine_id":
			q.ObjectKind = store.ObjectVirtualMachine
		}
	}
	if text := first(v, "address", "ip_address"); text != "" {
		a, err := parseAddress(text)
		if err != nil {
			return q, 0, 0, fmt.Errorf("address: %v", err)
		}
		q.Address = a
	}
	if v.Has("vrf") {
		vrf := v.Get("vrf")
		q.VRF = &vrf
	}
	limit, offset = defaultPageLimit, 0
	if text := v.Get("limit"); text != "" {
		if limit, err = strconv.Atoi(text); err != nil || limit < 0 {
			return q, 0, 0, fmt.Errorf("limit: %q is not a non-negative integer", text)
		}
		if limit == 0 || limit > maxPageLimit {
			limit = maxPageLimit
		}
	}
	if text := v.Get("offset"); text != "" {
		if offset, err = strconv.Atoi(text); err != nil || offset < 0 {
			return q, 0, 0, fmt.Errorf("offset: %q is not a non-negative integer", text)
		}
	}
	return q, limit, offset, nil
}

func first(v url.Values, keys ...string) string {
	for _, k := range keys {
		if s := v.Get(k); s != "" {
			return s
		}
	}
	return ""
}

// pageURL is the request's absolute URL with limit and offset replaced;
// offset 0 is left out, as NetBox does.
func pageURL(r *http.Request, limit, offset int) *string {
	q := r.URL.Query()
	q.Set("limit", strconv.Itoa(limit))
	q.Del("offset")
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	s := u.String()
	return &s
}

// handleReady answers 200 when the store answers.
func (s *service) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if _, err := s.st.Runs(ctx, store.RunQuery{Limit: 1}); err != nil {
		s.log.Warn("readiness: store unreachable", "err", err)
		writeError(w, http.StatusServiceUnavailable, "state store unreachable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *service) storeError(w http.ResponseWriter, what string, err error) {
	s.log.Error("store: "+what, "err", err)
	writeError(w, http.StatusServiceUnavailable, "state store: "+what+" failed")
}

// decodeBody reads a size-limited JSON body into v, refusing unknown
// fields; empty allows an empty body. It answers the error itself.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, empty bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is over %d bytes", maxAPIBody))
		} else {
			writeError(w, http.StatusBadRequest, "reading the request body failed")
		}
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if empty {
			return true
		}
		writeError(w, http.StatusBadRequest, "a JSON request body is required")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	// dec.More is false for a stray '}' or ']', so look at the rest itself.
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		writeError(w, http.StatusBadRequest, "invalid JSON body: data after the JSON value")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers {"reason": "..."}; "detail" repeats it, as NetBox
// names its error text.
func writeError(w http.ResponseWriter, status int, reason string) {
	writeJSON(w, status, map[string]string{"reason": reason, "detail": reason})
}

// runJSON is a store.Run in the API.
type runJSON struct {
	ID         string              `json:"id"`
	Connection string              `json:"connection"`
	Kind       store.RunKind       `json:"kind"`
	Trigger    store.Trigger       `json:"trigger"`
	Filters    map[string][]string `json:"filters,omitempty"`
	Status     store.RunStatus     `json:"status"`
	StartedAt  *time.Time          `json:"started_at"`
	FinishedAt *time.Time          `json:"finished_at"`
	Counts     store.RunCounts     `json:"counts"`
	Error      string              `json:"error,omitempty"`
}

func newRunJSON(r store.Run) runJSON {
	return runJSON{ID: r.ID, Connection: r.Connection, Kind: r.Kind, Trigger: r.Trigger, Filters: r.Filters, Status: r.Status,
		StartedAt: timePtr(r.StartedAt), FinishedAt: timePtr(r.FinishedAt), Counts: r.Counts, Error: r.Error}
}

// recordJSON is a store.Record in the API.
type recordJSON struct {
	ID              string           `json:"id"` // connection/vrf/address
	Connection      string           `json:"connection"`
	VRF             string           `json:"vrf"`
	IPAddress       string           `json:"ip_address"`
	ObjectType      store.ObjectKind `json:"object_type"`
	ObjectID        int64            `json:"object_id"`
	ObjectName      string           `json:"object_name"`
	Status          store.Status     `json:"status"`
	Reason          store.Reason     `json:"export_reason"`
	WUGDeviceID     string           `json:"wug_device_id"`
	ScanID          string           `json:"scan_id"`
	ScanState       string           `json:"scan_state"`
	ScanDiscovered  bool             `json:"scan_discovered"`
	Attempts        int              `json:"attempts"`
	LastError       string           `json:"last_error"`
	Created         *time.Time       `json:"created"`
	LastUpdated     *time.Time       `json:"last_updated"`
	ExportedAt      *time.Time       `json:"exported_at"`
	ScanTriggeredAt *time.Time       `json:"scan_triggered_at"`
	ScanCompletedAt *time.Time       `json:"scan_completed_at"`
}

func newRecordJSON(r store.Record) recordJSON {
	return recordJSON{
		ID: r.Key.String(), Connection: r.Connection, VRF: r.VRF, IPAddress: r.Address.String(),
		ObjectType: r.ObjectKind, ObjectID: r.ObjectID, ObjectName: r.ObjectName,
		Status: r.Status, Reason: r.Reason, WUGDeviceID: r.WUGDeviceID,
		ScanID: r.ScanID, ScanState: r.ScanState, ScanDiscovered: r.ScanDiscovered,
		Attempts: r.Attempts, LastError: r.LastError,
		Created: timePtr(r.CreatedAt), LastUpdated: timePtr(r.UpdatedAt), ExportedAt: timePtr(r.ExportedAt),
		ScanTriggeredAt: timePtr(r.ScanTriggeredAt), ScanCompletedAt: timePtr(r.ScanCompletedAt),
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// parseAddress reads an IP address as NetBox writes it, with or without
// its prefix length ("192.0.2.10/24", "2001:db8::10"); a zoned address is
// an error, since WUG cannot use one.
func parseAddress(text string) (netip.Addr, error) {
	s, _, _ := strings.Cut(strings.TrimSpace(text), "/")
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Errorf("address %q does not parse: %w", text, err)
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("address %q has an IPv6 zone, which WUG cannot use", text)
	case s != strings.TrimSpace(text):
		if _, err := netip.ParsePrefix(strings.TrimSpace(text)); err != nil {
			return netip.Addr{}, fmt.Errorf("address %q does not parse: %w", text, err)
		}
	}
	return a, nil
}
