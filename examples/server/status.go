package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/store"
)

// The status page: server-rendered HTML for people, beside the JSON API
// for programs. It works without JavaScript; a small script only reloads
// it while nobody is typing.
const (
	pagePath       = "/status/"
	signInPath     = "/status/sign-in"
	signOutPath    = "/status/sign-out"
	pageExportPath = "/status/connections/{id}/export"
	staticPath     = "/status/static/"
	recordsPerPage = 50
	maxSearch      = 200     // bytes of a record search
	maxFormBody    = 8 << 10 // bytes of a sign-in or button form
	// signInBurst wrong tokens are refused at once; then one more every
	// signInRefill, and sign-in waits.
	signInBurst  = 10
	signInRefill = 6 * time.Second
	// pageStoreTimeout bounds the store reads behind one page.
	pageStoreTimeout = 20 * time.Second
)

//go:embed statuspage
var statusFiles embed.FS

var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"when":   formatTime,
	"ago":    ago,
	"period": period,
}).ParseFS(statusFiles, "statuspage/*.html"))

// statusPage serves the status page and its sign-in.
type statusPage struct {
	svc      *service
	sessions *sessions
	// failures paces wrong tokens: past its burst, sign-in answers 429
	// for everyone until it refills, so the token cannot be guessed fast.
	failures *rate.Limiter
	// drift feeds the drift section; nil leaves the section out.
	drift driftSource
}

// driftSource gives the status page a connection's drift report: what WUG
// and NetBox disagree on. The export package's report is adapted to it
// where it is wired in.
type driftSource interface {
	DriftReport(ctx context.Context, connection string) (driftReport, error)
}

// driftReport is one connection's drift as the status page shows it.
type driftReport struct {
	CheckedAt time.Time
	Items     []driftItem
}

// driftKind names one of the ways WUG and NetBox disagree.
type driftKind string

// The kinds of drift.
const (
	// driftWUGOnly: a WUG device in a managed group no NetBox object maps to.
	driftWUGOnly driftKind = "wug_only"
	// driftNetBoxOnly: a selected NetBox object without a WUG device.
	driftNetBoxOnly driftKind = "netbox_only"
	// driftAddressConflict: a WUG device whose address NetBox assigns to
	// another object.
	driftAddressConflict driftKind = "address_conflict"
)

// driftItem is one disagreement.
type driftItem struct {
	Kind          driftKind
	Address       netip.Addr // invalid when the item has none
	ObjectKind    store.ObjectKind
	ObjectID      int64 // 0 without a NetBox object
	ObjectName    string
	WUGDeviceID   string // empty without a WUG device
	WUGDeviceName string
	Reason        string
}

func newStatusPage(svc *service) *statusPage {
	return &statusPage{svc: svc, sessions: newSessions(svc.cfg.APIToken.Value()),
		failures: rate.NewLimiter(rate.Every(signInRefill), signInBurst)}
}

// routes registers the page, its sign-in and sign-out, its export button
// and its static files. Cross-origin form posts are refused before any
// handler sees them; the CSRF token checks the rest.
func (p *statusPage) routes(mux *http.ServeMux) {
	static, err := fs.Sub(statusFiles, "statuspage/static")
	if err != nil {
		panic(err)
	}
	cop := http.NewCrossOriginProtection()
	handle := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, p.svc.m.instrumentHandler(name, cop.Handler(pageHeaders(h))))
	}
	handle("GET "+pagePath+"{$}", "status_page", p.authed(p.handleIndex))
	handle("GET "+signInPath, "status_sign_in", p.handleSignInForm)
	handle("POST "+signInPath, "status_sign_in", p.handleSignIn)
	handle("POST "+signOutPath, "status_sign_out", p.authed(p.handleSignOut))
	handle("POST "+pageExportPath, "status_export", p.authed(p.handleExport))
	mux.Handle("GET "+staticPath, http.StripPrefix(staticPath, http.FileServerFS(static)))
	mux.Handle("GET /status", http.RedirectHandler(pagePath, http.StatusMovedPermanently))
	mux.Handle("GET /{$}", http.RedirectHandler(pagePath, http.StatusFound))
}

// pageHeaders sets the headers every page answer carries: no caching, no
// framing, no scripts or styles but the page's own.
func pageHeaders(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h(w, r)
	}
}

// validToken reports whether tok is the API token, comparing hashes in
// constant time so neither the token nor its length leaks through timing.
func (s *service) validToken(tok string) bool {
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return tok != "" && subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// pageHandler is a page handler of a signed-in browser (sess set) or of a
// client that sent the API token header (sess nil).
type pageHandler func(w http.ResponseWriter, r *http.Request, sess *session)

// authed admits a request with a valid session cookie (and, on a POST,
// the session's CSRF token) or with the API's token header; a request
// with neither is sent to the sign-in.
func (p *statusPage) authed(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if hdr := r.Header.Get("Authorization"); hdr != "" {
			scheme, tok, _ := strings.Cut(hdr, " ")
			if !strings.EqualFold(scheme, "Token") || !p.svc.validToken(tok) {
				p.message(w, http.StatusForbidden, "Not signed in", "The Authorization header does not carry the API token.")
				return
			}
			h(w, r, nil)
			return
		}
		sess, ok := p.sessions.fromRequest(r)
		if !ok {
			next := pagePath
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, signInPath+"?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			if err := p.sessions.checkCSRF(sess, r); err != nil {
				p.message(w, http.StatusForbidden, "Form refused",
					"The form was refused ("+err.Error()+"). Reload the page and try again.")
				return
			}
		}
		h(w, r, &sess)
	}
}

// signInView is what the sign-in template shows.
type signInView struct {
	Next      string
	Error     string
	Notice    string
	PlainHTTP bool // the session cookie will not be kept
}

// handleSignInForm shows the sign-in form, or goes on to the page for a
// browser already signed in.
func (p *statusPage) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := p.sessions.fromRequest(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	v := signInView{Next: next, PlainHTTP: plainHTTP(r)}
	if r.URL.Query().Has("signed_out") {
		v.Notice = "You are signed out."
	}
	p.render(w, http.StatusOK, "signin.html", v)
}

// handleSignIn checks the API token from the form and starts a session.
// The token is never logged, echoed or kept.
func (p *statusPage) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	tok := r.PostFormValue("token")
	next := safeNext(r.PostFormValue("next"))
	if p.failures.Tokens() < 1 {
		w.Header().Set("Retry-After", strconv.Itoa(int(signInRefill/time.Second)))
		p.render(w, http.StatusTooManyRequests, "signin.html", signInView{Next: next, PlainHTTP: plainHTTP(r),
			Error: "Too many wrong tokens were tried; sign-in is paused. Try again in a few seconds."})
		return
	}
	if !p.svc.validToken(tok) {
		p.failures.Allow()
		p.svc.log.Warn("status page: sign-in refused", "remote", r.RemoteAddr)
		p.render(w, http.StatusForbidden, "signin.html", signInView{Next: next, PlainHTTP: plainHTTP(r),
			Error: "That is not the service's API token."})
		return
	}
	_, cookie := p.sessions.create()
	http.SetCookie(w, cookie)
	p.svc.log.Info("status page: signed in", "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleSignOut ends the session.
func (p *statusPage) handleSignOut(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess != nil {
		p.sessions.signOut(*sess)
	}
	http.SetCookie(w, clearCookie())
	http.Redirect(w, r, signInPath+"?signed_out=1", http.StatusSeeOther)
}

// safeNext is where to go after signing in: a path of the status page,
// never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, pagePath) || strings.ContainsAny(next, "\\") || strings.Contains(next, "//") {
		return pagePath
	}
	return next
}

// plainHTTP reports whether the browser reached the service over plain
// HTTP on a host other than localhost, where it will not keep the Secure
// session cookie.
func plainHTTP(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err != nil || !ip.IsLoopback()
}

// handleExport starts an export of one connection, as the API's export
// endpoint does, and answers with the page: 303 to it when the run
// started, the page with a message when it did not (409 when a run is in
// progress).
func (p *statusPage) handleExport(w http.ResponseWriter, r *http.Request, sess *session) {
	c, ok := p.svc.byID[r.PathValue("id")]
	if !ok {
		p.message(w, http.StatusNotFound, "Unknown connection", fmt.Sprintf("There is no connection %q.", r.PathValue("id")))
		return
	}
	name := c.cfg.Name
	if !c.enabled {
		p.renderIndex(w, r, sess, http.StatusBadRequest,
			fmt.Sprintf("Export is disabled for connection %s (enable_netbox_export: false).", name))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), triggerTimeout)
	defer cancel()
	runID, err := p.svc.startRun(ctx, name, export.RunOptions{Trigger: store.TriggerManual})
	var busy *export.RunInProgressError
	switch {
	case errors.As(err, &busy):
		msg := "An export of " + name + " is already running"
		if busy.RunID != "" {
			msg += " (run " + busy.RunID
			if busy.Holder != "" {
				msg += ", held by " + busy.Holder
			}
			msg += ")"
		}
		p.renderIndex(w, r, sess, http.StatusConflict, msg+". Try again when it has finished.")
	case errors.Is(err, export.ErrStopping):
		p.renderIndex(w, r, sess, http.StatusServiceUnavailable, "The service is shutting down; the export did not start.")
	case err != nil:
		p.svc.log.Warn("status page: export did not start", "connection", name, "err", err)
		p.renderIndex(w, r, sess, http.StatusServiceUnavailable, "The export of "+name+" did not start: "+err.Error())
	default:
		p.svc.log.Info("export started", "connection", name, "trigger", store.TriggerManual, "run_id", runID, "via", "status page")
		http.Redirect(w, r, pagePath+"?started="+url.QueryEscape(runID), http.StatusSeeOther)
	}
}

// handleIndex shows the page.
func (p *statusPage) handleIndex(w http.ResponseWriter, r *http.Request, sess *session) {
	p.renderIndex(w, r, sess, http.StatusOK, "")
}

// pageView is what the page template shows.
type pageView struct {
	CSRF        string // empty for a client that sent the token header
	Notice      string
	Alert       string
	Connections []connView
	Records     recordsView
	Drift       bool // a drift source is wired in
	Generated   time.Time
}

// connView is one connection on the page.
type connView struct {
	ID, Name   string
	WUGURL     string
	Enabled    bool
	Interval   time.Duration
	NextExport time.Time
	Running    *store.Run // the export in progress, here or in another replica
	Last       *store.Run // the last finished export
	Counts     []statusCount
	Total      int
	Backlog    int       // scans triggered and not followed to completion
	OldestScan time.Time // when the oldest of them was triggered
	Errors     int
	Failures   []recordRow // the newest failures of the last week
	Drift      *driftView
	DriftError string
}

// driftView is a connection's drift report on the page.
type driftView struct {
	CheckedAt time.Time
	Rows      []driftRow
}

// driftRow is one drift item with its links.
type driftRow struct {
	Kind          driftKind
	KindText      string
	Address       string
	ObjectName    string
	ObjectKind    store.ObjectKind
	ObjectURL     string
	WUGDeviceID   string
	WUGDeviceName string
	WUGURL        string
	Reason        string
}

// driftKindText says what a drift kind means, in words.
var driftKindText = map[driftKind]string{
	driftWUGOnly:         "only in WUG",
	driftNetBoxOnly:      "only in NetBox",
	driftAddressConflict: "address conflict",
}

type statusCount struct {
	Status store.Status
	N      int
}

// recordsView is the searchable, paged list of records.
type recordsView struct {
	Connection string // connection id filter
	Query      string
	Status     string
	Statuses   []store.Status
	Conns      []connView // for the connection filter (ID and Name)
	Rows       []recordRow
	Total      int
	From, To   int // 1-based positions of the rows shown
	Page       int
	PrevURL    string
	NextURL    string
	Error      string
}

// recordRow is one record in a table.
type recordRow struct {
	Connection  string
	Address     string
	VRF         string
	ObjectName  string
	ObjectKind  store.ObjectKind
	ObjectURL   string
	WUGDeviceID string
	WUGURL      string
	Status      store.Status
	LastError   string
	Attempts    int
	Changed     time.Time
}

// renderIndex gathers the page and renders it with status and, when not
// empty, an alert.
func (p *statusPage) renderIndex(w http.ResponseWriter, r *http.Request, sess *session, status int, alert string) {
	ctx, cancel := context.WithTimeout(r.Context(), pageStoreTimeout)
	defer cancel()
	v := pageView{Alert: alert, Drift: p.drift != nil, Generated: time.Now()}
	if sess != nil {
		v.CSRF = p.sessions.csrfToken(*sess)
	}
	for _, c := range p.svc.conns {
		cv, err := p.connection(ctx, c)
		if err != nil {
			p.svc.log.Error("status page: reading the store", "connection", c.cfg.Name, "err", err)
			p.message(w, http.StatusServiceUnavailable, "State store unavailable",
				"The state store did not answer; the page cannot be shown. Try again shortly.")
			return
		}
		v.Connections = append(v.Connections, cv)
	}
	if id := r.URL.Query().Get("started"); id != "" && alert == "" {
		if run, err := p.svc.st.Run(ctx, id); err == nil {
			v.Notice = fmt.Sprintf("Export run %s of %s started.", run.ID, run.Connection)
		}
	}
	v.Records = p.records(ctx, r.URL.Query())
	v.Records.Conns = v.Connections
	p.render(w, status, "status.html", v)
}

// connection reads one connection's runs, counts, scan backlog, failures
// and drift.
func (p *statusPage) connection(ctx context.Context, c *conn) (connView, error) {
	name := c.cfg.Name
	cv := connView{ID: c.cfg.ID, Name: name, WUGURL: c.cfg.WUG.URL, Enabled: c.enabled, Interval: c.cfg.Interval()}
	o, err := p.svc.exportOverview(ctx, name)
	if err != nil {
		return cv, err
	}
	cv.NextExport, cv.Running, cv.Last, cv.Total = o.NextExport, o.Running, o.Finished, o.Total
	for _, s := range store.Statuses {
		cv.Counts = append(cv.Counts, statusCount{s, o.Counts[s]})
	}
	cv.Errors = o.Counts[store.StatusError]
	cv.Backlog = o.Counts[store.StatusScanTriggered]
	if cv.Backlog > 0 {
		for rec, err := range p.svc.st.Records(ctx, store.Query{Connection: name, Statuses: []store.Status{store.StatusScanTriggered}}) {
			if err != nil {
				return cv, err
			}
			if t := rec.ScanTriggeredAt; !t.IsZero() && (cv.OldestScan.IsZero() || t.Before(cv.OldestScan)) {
				cv.OldestScan = t
			}
		}
	}
	if cv.Errors > 0 {
		errs, err := p.svc.newestErrors(ctx, name)
		if err != nil {
			return cv, err
		}
		for _, rec := range errs {
			cv.Failures = append(cv.Failures, p.row(rec))
		}
	}
	if p.drift != nil {
		rep, err := p.drift.DriftReport(ctx, name)
		if err != nil {
			cv.DriftError = err.Error()
		} else {
			cv.Drift = &driftView{CheckedAt: rep.CheckedAt}
			for _, it := range rep.Items {
				row := driftRow{Kind: it.Kind, KindText: driftKindText[it.Kind], ObjectName: it.ObjectName, ObjectKind: it.ObjectKind,
					ObjectURL: p.netboxURL(it.ObjectKind, it.ObjectID), WUGDeviceID: it.WUGDeviceID, WUGDeviceName: it.WUGDeviceName,
					WUGURL: p.wugURL(name, it.WUGDeviceID), Reason: it.Reason}
				if row.KindText == "" {
					row.KindText = string(it.Kind)
				}
				if it.Address.IsValid() {
					row.Address = it.Address.String()
				}
				cv.Drift.Rows = append(cv.Drift.Rows, row)
			}
		}
	}
	return cv, nil
}

// records lists the records the query's filters select: conn (connection
// id or name), q (a part of the address or of the NetBox object's name,
// as store.Query.Search matches it), status, and page.
func (p *statusPage) records(ctx context.Context, v url.Values) recordsView {
	rv := recordsView{Query: strings.TrimSpace(v.Get("q")), Status: v.Get("status"), Statuses: store.Statuses, Page: 1}
	var q store.Query
	if id := v.Get("conn"); id != "" {
		c, ok := p.svc.byID[id]
		if !ok {
			rv.Error = fmt.Sprintf("There is no connection %q.", id)
			return rv
		}
		rv.Connection, q.Connection = c.cfg.ID, c.cfg.Name
	}
	if rv.Status != "" {
		if !store.Status(rv.Status).Valid() {
			rv.Error = fmt.Sprintf("%q is not a record status.", rv.Status)
			return rv
		}
		q.Statuses = []store.Status{store.Status(rv.Status)}
	}
	switch {
	case !utf8.ValidString(rv.Query) || strings.IndexByte(rv.Query, 0) >= 0:
		rv.Error = "The search is not text: it holds a NUL byte or invalid UTF-8."
		return rv
	case len(rv.Query) > maxSearch:
		rv.Error = fmt.Sprintf("The search is longer than %d bytes.", maxSearch)
		return rv
	}
	if text := v.Get("page"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 {
			rv.Error = fmt.Sprintf("Page %q is not a positive number.", text)
			return rv
		}
		rv.Page = n
	}
	offset := (rv.Page - 1) * recordsPerPage
	if offset/recordsPerPage != rv.Page-1 {
		offset = int(^uint(0) >> 1) // past any list
	}
	q.Search = rv.Query
	// A page and a count, however long the list.
	total, err := p.svc.st.CountRecords(ctx, q)
	if err != nil {
		p.svc.log.Error("status page: counting records", "err", err)
		rv.Error = "The state store did not answer; the records cannot be listed."
		return rv
	}
	rv.Total = total
	q.Offset, q.PageSize = offset, recordsPerPage
	if offset < total {
		for rec, err := range p.svc.st.Records(ctx, q) {
			if err != nil {
				p.svc.log.Error("status page: listing records", "err", err)
				rv.Error = "The state store did not answer; the list is incomplete."
				break
			}
			rv.Rows = append(rv.Rows, p.row(rec))
			if len(rv.Rows) == recordsPerPage {
				break
			}
		}
	}
	if len(rv.Rows) > 0 {
		rv.From, rv.To = offset+1, offset+len(rv.Rows)
	}
	link := func(page int) string {
		u := url.Values{}
		for _, k := range []string{"conn", "q", "status"} {
			if s := v.Get(k); s != "" {
				u.Set(k, s)
			}
		}
		if page > 1 {
			u.Set("page", strconv.Itoa(page))
		}
		if len(u) == 0 {
			return pagePath + "#records"
		}
		return pagePath + "?" + u.Encode() + "#records"
	}
	if rv.Page > 1 {
		rv.PrevURL = link(min(rv.Page-1, max(1, (rv.Total+recordsPerPage-1)/recordsPerPage)))
	}
	if offset < rv.Total && rv.Total-offset > recordsPerPage {
		rv.NextURL = link(rv.Page + 1)
	}
	return rv
}

// row is a record as the tables show it, with links to NetBox and WUG.
func (p *statusPage) row(rec store.Record) recordRow {
	return recordRow{Connection: rec.Connection, Address: rec.Address.String(), VRF: rec.VRF,
		ObjectName: rec.ObjectName, ObjectKind: rec.ObjectKind, ObjectURL: p.netboxURL(rec.ObjectKind, rec.ObjectID),
		WUGDeviceID: rec.WUGDeviceID, WUGURL: p.wugURL(rec.Connection, rec.WUGDeviceID),
		Status: rec.Status, LastError: rec.LastError, Attempts: rec.Attempts, Changed: rec.UpdatedAt}
}

// netboxURL is the NetBox page of an object.
func (p *statusPage) netboxURL(kind store.ObjectKind, id int64) string {
	if id <= 0 {
		return ""
	}
	path := "dcim/devices"
	if kind == store.ObjectVirtualMachine {
		path = "virtualization/virtual-machines"
	}
	u, err := url.JoinPath(p.svc.cfg.NetBox.URL, path, strconv.FormatInt(id, 10), "/")
	if err != nil {
		return ""
	}
	return u
}

// wugURL is a WUG device's page in WUG's web interface, from the
// connection's wug.device_link; empty when it is not configured.
func (p *statusPage) wugURL(connection, deviceID string) string {
	c, ok := p.svc.byID[connection]
	if !ok || deviceID == "" || c.cfg.WUG.DeviceLink == "" {
		return ""
	}
	return strings.ReplaceAll(c.cfg.WUG.DeviceLink, "{id}", url.PathEscape(deviceID))
}

// message answers a page with a title and a message.
func (p *statusPage) message(w http.ResponseWriter, status int, title, msg string) {
	p.render(w, status, "message.html", struct{ Title, Message string }{title, msg})
}

// render executes a template into memory first, so a failure answers 500
// rather than half a page.
func (p *statusPage) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := pageTemplates.ExecuteTemplate(&b, name, data); err != nil {
		p.svc.log.Error("status page: rendering", "template", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// formatTime shows a time in UTC to the second; the zero time as a dash.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// period says a duration the way people do: "90 min", "3 h", "2 h 30 min",
// "69 days".
func period(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return d.Round(time.Second).String()
	case d < 2*time.Hour:
		return strconv.Itoa(int(d.Round(time.Minute)/time.Minute)) + " min"
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	}
	return strconv.Itoa(int(d.Round(24*time.Hour)/(24*time.Hour))) + " days"
}

// ago says how long before now t was (or, for a future t, how long until).
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s" + suffix
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min" + suffix
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h" + suffix
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days" + suffix
}
