package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/store"
)

// pageClient does not follow redirects, so tests see them.
var pageClient = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pageReq is one request to the status page.
type pageReq struct {
	method, path string
	form         url.Values
	cookie       *http.Cookie
	header       http.Header
}

// send sends a page request and returns the answer with its body read.
func (f *fixture) send(req pageReq) (*http.Response, string) {
	f.t.Helper()
	var body io.Reader
	if req.form != nil {
		body = strings.NewReader(req.form.Encode())
	}
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequest(method, f.srv.URL+req.path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if req.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range req.header {
		r.Header[k] = v
	}
	if req.cookie != nil {
		r.AddCookie(req.cookie)
	}
	resp, err := pageClient.Do(r)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, string(b)
}

var csrfInPage = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs in with the API token and returns the session cookie and
// the CSRF token of the page it leads to.
func (f *fixture) signIn() (*http.Cookie, string) {
	f.t.Helper()
	resp, body := f.send(pageReq{method: "POST", path: signInPath, form: url.Values{"token": {testToken}, "next": {"/status/"}}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/status/" {
		f.t.Fatalf("sign-in: %d to %q, want 303 to /status/\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		f.t.Fatal("sign-in set no session cookie")
	}
	resp, body = f.send(pageReq{path: "/status/", cookie: cookie})
	m := csrfInPage.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		f.t.Fatalf("page after sign-in: %d, CSRF token found: %v", resp.StatusCode, m != nil)
	}
	return cookie, m[1]
}

// logTo makes the service log into a buffer (before any request).
func (f *fixture) logTo() *syncBuffer {
	b := &syncBuffer{}
	f.svc.log = slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return b
}

func TestStatusPageSendsStrangersToSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	tests := []struct {
		name string
		req  pageReq
		want string // Location
	}{
		{"page", pageReq{path: "/status/"}, "/status/sign-in?next=%2Fstatus%2F"},
		{"page with a search", pageReq{path: "/status/?q=10.0"}, "/status/sign-in?next=%2Fstatus%2F%3Fq%3D10.0"},
		{"export button", pageReq{method: "POST", path: "/status/connections/1/export", form: url.Values{"csrf_token": {"x"}}}, "/status/sign-in?next=%2Fstatus%2F"},
		{"sign-out", pageReq{method: "POST", path: "/status/sign-out", form: url.Values{}}, "/status/sign-in?next=%2Fstatus%2F"},
		{"forged cookie", pageReq{path: "/status/", cookie: &http.Cookie{Name: sessionCookie, Value: "v1.9999999999.00.AAAA"}}, "/status/sign-in?next=%2Fstatus%2F"},
		{"root", pageReq{path: "/"}, "/status/"},
		{"without the slash", pageReq{path: "/status"}, "/status/"},
	}
	for _, tt := range tests {
		resp, body := f.send(tt.req)
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != tt.want {
			t.Errorf("%s: %d to %q, want a redirect to %q\n%s", tt.name, resp.StatusCode, resp.Header.Get("Location"), tt.want, body)
		}
	}
	// The sign-in form is open, and says where it goes next.
	resp, body := f.send(pageReq{path: "/status/sign-in?next=%2Fstatus%2F%3Fq%3D10.0"})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="next" value="/status/?q=10.0"`) ||
		resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("sign-in form: %d, CSP %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
	}
	f.checkNoRuns(t, "refused requests")
}

func TestStatusPageSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	logs := f.logTo()
	for _, tok := range []string{"", "wrong-token", testToken + "x", " "} {
		resp, body := f.send(pageReq{method: "POST", path: signInPath, form: url.Values{"token": {tok}, "next": {"/status/"}}})
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 || !strings.Contains(body, "not the service&#39;s API token") {
			t.Errorf("sign-in with %q: %d, cookies %v, want 403 without a cookie\n%s", tok, resp.StatusCode, resp.Cookies(), body)
		}
		if tok != "" && strings.Contains(body, tok) && strings.TrimSpace(tok) != "" {
			t.Errorf("the refusal echoes the token %q", tok)
		}
	}

	cookie, _ := f.signIn()
	if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Errorf("session cookie %+v, want Secure, HttpOnly, SameSite=Strict, Path=/", cookie)
	}
	if strings.Contains(cookie.Value, testToken) {
		t.Error("the session cookie holds the API token")
	}
	// A session lasts 12 hours, signed: any change to it is refused.
	if d := time.Until(cookie.Expires); d < sessionTTL-time.Minute || d > sessionTTL {
		t.Errorf("session expires in %v, want %v", d, sessionTTL)
	}
	for i := range cookie.Value {
		forged := *cookie
		b := []byte(forged.Value)
		b[i] ^= 1
		forged.Value = string(b)
		if resp, _ := f.send(pageReq{path: "/status/", cookie: &forged}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("cookie changed at byte %d: %d, want 303 to the sign-in", i, resp.StatusCode)
		}
	}
	// A session signed with another token is refused: changing the API
	// token signs everyone out.
	_, other := newSessions("another token").create()
	if resp, _ := f.send(pageReq{path: "/status/", cookie: other}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session of another token: %d, want 303", resp.StatusCode)
	}
	// Signed in, the sign-in form goes on to the page.
	if resp, _ := f.send(pageReq{path: "/status/sign-in?next=/status/%3Fpage=2", cookie: cookie}); resp.Header.Get("Location") != "/status/?page=2" {
		t.Errorf("sign-in form when signed in goes to %q", resp.Header.Get("Location"))
	}
	if out := logs.String(); strings.Contains(out, testToken) || strings.Contains(out, "wrong-token") ||
		!strings.Contains(out, "sign-in refused") || !strings.Contains(out, "signed in") {
		t.Errorf("logs hold a token or miss the sign-ins:\n%s", out)
	}
}

func TestStatusPageTokenHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	for _, tt := range []struct {
		header string
		want   int
	}{
		{"Token " + testToken, http.StatusOK},
		{"Token wrong", http.StatusForbidden},
		{"Bearer " + testToken, http.StatusForbidden},
	} {
		resp, body := f.send(pageReq{path: "/status/", header: http.Header{"Authorization": {tt.header}}})
		if resp.StatusCode != tt.want {
			t.Errorf("Authorization %q: %d, want %d\n%s", tt.header, resp.StatusCode, tt.want, body)
		}
		if resp.StatusCode == http.StatusOK && (strings.Contains(body, "csrf_token") || !strings.Contains(body, `id="conn-1"`)) {
			t.Errorf("a token client's page has forms or lacks the connection:\n%s", body)
		}
	}
}

func TestStatusPageCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	cookie, csrf := f.signIn()
	otherCookie, otherCSRF := f.signIn()
	if otherCSRF == csrf || otherCookie.Value == cookie.Value {
		t.Fatal("two sign-ins share a session")
	}
	for _, path := range []string{"/status/connections/1/export", signOutPath} {
		for _, tt := range []struct {
			name   string
			form   url.Values
			header http.Header
		}{
			{"missing", url.Values{}, nil},
			{"empty", url.Values{"csrf_token": {""}}, nil},
			{"wrong", url.Values{"csrf_token": {"AAAA" + csrf[4:]}}, nil},
			{"another session's", url.Values{"csrf_token": {otherCSRF}}, nil},
			{"right, from another site", url.Values{"csrf_token": {csrf}}, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}},
		} {
			resp, body := f.send(pageReq{method: "POST", path: path, form: tt.form, cookie: cookie, header: tt.header})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with the %s CSRF token: %d, want 403\n%s", path, tt.name, resp.StatusCode, body)
			}
		}
	}
	f.checkNoRuns(t, "refused forms")
	// The refused sign-outs left the session signed in.
	if resp, _ := f.send(pageReq{path: "/status/", cookie: cookie}); resp.StatusCode != http.StatusOK {
		t.Errorf("after refused sign-outs: %d, want 200", resp.StatusCode)
	}

	// Signing out clears the cookie and ends the session here, even if
	// the browser kept it.
	resp, _ := f.send(pageReq{method: "POST", path: signOutPath, form: url.Values{"csrf_token": {csrf}}, cookie: cookie})
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == sessionCookie && c.MaxAge < 0)
	}
	if resp.StatusCode != http.StatusSeeOther || !cleared || resp.Header.Get("Location") != signInPath+"?signed_out=1" {
		t.Errorf("sign-out: %d to %q, cookie cleared %v", resp.StatusCode, resp.Header.Get("Location"), cleared)
	}
	if resp, _ := f.send(pageReq{path: "/status/", cookie: cookie}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a signed-out session: %d, want 303 to the sign-in", resp.StatusCode)
	}
	if resp, _ := f.send(pageReq{path: "/status/", cookie: otherCookie}); resp.StatusCode != http.StatusOK {
		t.Errorf("the other session after the first signed out: %d, want 200", resp.StatusCode)
	}
}

func TestStatusPageExportButton(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 20)
	cookie, csrf := f.signIn()
	held, release := holdWUGListing(t, f) // keeps the run going while the second press arrives
	form := url.Values{"csrf_token": {csrf}}

	resp, body := f.send(pageReq{method: "POST", path: "/status/connections/1/export", form: form, cookie: cookie})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/status/" || loc.Query().Get("started") == "" {
		t.Fatalf("export button: %d to %q, want 303 to the page naming the run\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	runID := loc.Query().Get("started")

	resp, body = f.send(pageReq{path: loc.String(), cookie: cookie})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Export run "+runID+" of main started.") ||
		!strings.Contains(body, `class="running" data-run-id="`+runID+`"`) {
		t.Errorf("page after the button: %d, want the run %s named and running\n%s", resp.StatusCode, runID, body)
	}

	// Pressed again while the run goes on: 409, said in words.
	resp, body = f.send(pageReq{method: "POST", path: "/status/connections/main/export", form: form, cookie: cookie})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "An export of main is already running (run "+runID) ||
		!strings.Contains(body, `role="alert"`) {
		t.Errorf("second press: %d, want 409 naming run %s\n%s", resp.StatusCode, runID, body)
	}
	if !held() {
		t.Error("the run was not held at its WUG listing")
	}
	release()
	if run := waitRun(t, f.st, runID); run.Status != store.RunSucceeded || run.Trigger != store.TriggerManual {
		t.Errorf("run = %+v, want a succeeded manual run", run)
	}
	runs, _ := f.st.Runs(context.Background(), store.RunQuery{Kind: store.RunExport})
	if len(runs) != 1 {
		t.Errorf("%d export runs, want 1", len(runs))
	}

	for _, tt := range []struct {
		path string
		want int
		text string
	}{
		{"/status/connections/2/export", http.StatusBadRequest, "Export is disabled for connection off"},
		{"/status/connections/9/export", http.StatusNotFound, "There is no connection &#34;9&#34;."},
	} {
		resp, body := f.send(pageReq{method: "POST", path: tt.path, form: form, cookie: cookie})
		if resp.StatusCode != tt.want || !strings.Contains(body, tt.text) {
			t.Errorf("POST %s: %d, want %d with %q\n%s", tt.path, resp.StatusCode, tt.want, tt.text, body)
		}
	}
}

// plantRecords writes records of connection main straight into the store.
func plantRecords(t *testing.T, st store.Store, recs ...store.Record) {
	t.Helper()
	for i := range recs {
		recs[i].Connection = "main"
		if recs[i].ObjectKind == "" {
			recs[i].ObjectKind = store.ObjectDevice
		}
	}
	if err := st.UpsertRecords(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

var rowAddress = regexp.MustCompile(`<tr data-address="([^"]+)">`)

func TestStatusPageCountsFailuresBacklogAndRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	f.svc.page.drift = nil // the page without a drift section
	f.svc.byID["main"].cfg.WUG.DeviceLink = "https://wug.example.com/device?id={id}"
	var recs []store.Record
	for i := range 120 {
		recs = append(recs, store.Record{Key: store.Key{Address: netip.AddrFrom4([4]byte{10, 0, byte(i / 100), byte(i % 100)})},
			ObjectID: int64(i + 1), ObjectName: fmt.Sprintf("sw-%03d", i), Status: store.StatusExported, WUGDeviceID: strconv.Itoa(500 + i)})
	}
	triggered := time.Now().Add(-90 * time.Minute)
	recs[5].Status, recs[5].ScanID, recs[5].ScanTriggeredAt, recs[5].WUGDeviceID = store.StatusScanTriggered, "77", triggered, ""
	recs[6].Status, recs[6].ScanID, recs[6].ScanTriggeredAt, recs[6].WUGDeviceID = store.StatusScanTriggered, "78", time.Now(), ""
	recs[7].Status, recs[7].LastError, recs[7].Attempts, recs[7].WUGDeviceID = store.StatusError, "wug: template apply: 400 Bad Request: the device type <Switch> is unknown", 3, ""
	recs[8].ObjectKind, recs[8].ObjectName = store.ObjectVirtualMachine, "vm-web"
	plantRecords(t, f.st, recs...)
	cookie, _ := f.signIn()
	page := func(query string) string {
		t.Helper()
		resp, body := f.send(pageReq{path: "/status/" + query, cookie: cookie})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /status/%s: %d\n%s", query, resp.StatusCode, body)
		}
		return body
	}

	body := page("")
	main := body[strings.Index(body, `id="conn-1"`):strings.Index(body, `id="conn-2"`)]
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`data-status="(\w+)">(?:<a [^>]+>)?<span class="n">(\d+)</span>`).FindAllStringSubmatch(main, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	want := map[string]int{"pending": 0, "exported": 117, "scan_triggered": 2, "scan_completed": 0, "error": 1, "removed": 0, "total": 120}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("counts of main (-want +got):\n%s", diff)
	}
	for _, text := range []string{
		`data-backlog="2"`, "2 scans not yet followed to completion, the oldest triggered 1 h ago",
		"the device type &lt;Switch&gt; is unknown", // escaped, not markup
		`<a href="` + f.nb.URL + `/dcim/devices/8/" rel="noreferrer">sw-007</a>`,
		"No finished export yet.", "No export running.",
	} {
		if !strings.Contains(main, text) {
			t.Errorf("connection main lacks %q", text)
		}
	}
	if strings.Contains(body, "<h3>Drift</h3>") {
		t.Error("the page shows a drift section with no drift report wired in")
	}

	// Records come in key order: by the address's text.
	slices.SortFunc(recs, func(a, b store.Record) int { return a.Key.Compare(b.Key) })
	all := func(store.Record) bool { return true }
	for _, tt := range []struct {
		name, query string
		match       func(store.Record) bool
		page        int
		summary     string // the summary line
		prev, next  bool
	}{
		{"first page", "", all, 1, "Records 1–50 of 120.", false, true},
		{"last page", "?page=3", all, 3, "Records 101–120 of 120.", true, false},
		{"past the end", "?page=9", all, 9, "No records on page 9 of 120.", true, false},
		{"address part", "?q=10.0.1.", func(r store.Record) bool { return r.Address.As4()[2] == 1 }, 1, "Records 1–20 of 20.", false, false},
		{"exact address", "?q=10.0.0.42", func(r store.Record) bool { return r.Address.String() == "10.0.0.42" }, 1, "Records 1–1 of 1.", false, false},
		{"object name, any case", "?q=VM-WEB", func(r store.Record) bool { return r.ObjectName == "vm-web" }, 1, "Records 1–1 of 1.", false, false},
		{"status and connection", "?conn=main&status=error", func(r store.Record) bool { return r.Status == store.StatusError }, 1, "Records 1–1 of 1.", false, false},
		{"other connection", "?conn=2", func(store.Record) bool { return false }, 1, "No records match.", false, false},
	} {
		var want []string
		for _, r := range recs {
			if tt.match(r) {
				want = append(want, r.Address.String())
			}
		}
		want = want[min(len(want), (tt.page-1)*recordsPerPage):min(len(want), tt.page*recordsPerPage)]
		body := page(tt.query)
		var got []string
		for _, m := range rowAddress.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: rows (-want +got):\n%s", tt.name, diff)
		}
		if !strings.Contains(body, tt.summary) || strings.Contains(body, `rel="prev"`) != tt.prev || strings.Contains(body, `rel="next"`) != tt.next {
			t.Errorf("%s: want %q, previous link %v, next link %v", tt.name, tt.summary, tt.prev, tt.next)
		}
	}
	// A page reads its page and a count, not the whole list: 50 records
	// and the three the backlog and failures read.
	counting := &countingStore{Store: f.st}
	f.svc.st = counting
	page("?page=2")
	if n := counting.yielded.Load(); n > recordsPerPage+3 {
		t.Errorf("page 2 read %d records from the store, want at most %d", n, recordsPerPage+3)
	}
	f.svc.st = f.st

	// The search keeps its filters on the next page.
	if body := page("?q=10.0.0&status=exported"); !strings.Contains(body, `href="/status/?page=2&amp;q=10.0.0&amp;status=exported#records"`) {
		t.Error("the next page's link loses the search")
	}
	body = page("?q=10.0.0.42")
	if !strings.Contains(body, `<a href="https://wug.example.com/device?id=542" rel="noreferrer">device 542</a>`) {
		t.Error("the record's WUG device has no link to WUG's web interface")
	}
	for _, q := range []string{"?status=done", "?page=0", "?conn=9", "?q=%00", "?q=%ff", "?q=" + strings.Repeat("1", maxSearch+1)} {
		if body := page(q); !strings.Contains(body, `class="alert" role="alert"`) {
			t.Errorf("%s: no message about the bad filter", q)
		}
	}
}

// plantedDrift is a drift source for tests: it answers what it holds.
type plantedDrift struct {
	rep driftReport
	err error
}

func (d plantedDrift) DriftReport(_ context.Context, connection string) (driftReport, error) {
	if connection != "main" {
		return driftReport{CheckedAt: d.rep.CheckedAt}, nil
	}
	return d.rep, d.err
}

func TestStatusPageDriftSection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	cookie, _ := f.signIn()
	f.svc.page.drift = plantedDrift{rep: driftReport{CheckedAt: time.Now().Add(-2 * time.Minute), Items: []driftItem{
		{Kind: driftWUGOnly, Address: netip.MustParseAddr("10.9.0.1"), WUGDeviceID: "41", WUGDeviceName: "old-sw", Reason: "no NetBox object maps to it"},
		{Kind: driftNetBoxOnly, ObjectKind: store.ObjectDevice, ObjectID: 12, ObjectName: "sw-12", Reason: "no primary IPv4 address"},
		{Kind: driftAddressConflict, Address: netip.MustParseAddr("10.9.0.3"), ObjectKind: store.ObjectVirtualMachine, ObjectID: 4,
			ObjectName: "vm-4", WUGDeviceID: "43", WUGDeviceName: "sw-3", Reason: "NetBox assigns 10.9.0.3 to vm-4"},
	}}}
	_, body := f.send(pageReq{path: "/status/", cookie: cookie})
	for _, text := range []string{
		"<h3>Drift</h3>", "Checked 2 min ago.",
		`<tr data-kind="wug_only">`, "only in WUG", "old-sw #41", "no NetBox object maps to it",
		`<tr data-kind="netbox_only">`, `<a href="` + f.nb.URL + `/dcim/devices/12/" rel="noreferrer">sw-12</a>`,
		`<tr data-kind="address_conflict">`, `<a href="` + f.nb.URL + `/virtualization/virtual-machines/4/" rel="noreferrer">vm-4</a> <small>VM</small>`,
		"No drift: WUG and NetBox agree.", // connection off
	} {
		if !strings.Contains(body, text) {
			t.Errorf("drift section lacks %q", text)
		}
	}
	f.svc.page.drift = plantedDrift{err: errors.New("wug: listing devices: 503")}
	if _, body := f.send(pageReq{path: "/status/", cookie: cookie}); !strings.Contains(body, "The drift report failed: wug: listing devices: 503") {
		t.Error("a failed drift report is not said")
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                         "/status/",
		"/status/?q=1":             "/status/?q=1",
		"https://evil.example/":    "/status/",
		"//evil.example/status/":   "/status/",
		"/status//evil.example":    "/status/",
		"/status/\\evil.example":   "/status/",
		"/api/plugins/wug-sync/":   "/status/",
		"/status/?page=2#records":  "/status/?page=2#records",
		"/statusx/../../elsewhere": "/status/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeviceLinkConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ link, err string }{
		{"https://wug.example.com/device?id={id}", ""},
		{"https://wug.example.com/NmConsole/#v=Wug_view_dashboard_DeviceStatus/p=%7B%22deviceId%22%3A{id}%7D", ""},
		{"https://wug.example.com/device", "has no {id}"},
		{"wug.example.com/{id}", "is not an http or https URL"},
	} {
		text := configText("https://netbox.example.com", "https://wug.example.com:9644", "")
		text = strings.Replace(text, "rate_limit: 1000, burst: 100}", fmt.Sprintf("rate_limit: 1000, burst: 100, device_link: %q}", tt.link), 1)
		_, err := ParseConfig([]byte(text), fixtureEnv())
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("device_link %q: %v, want an error containing %q", tt.link, err, tt.err)
		}
	}
}

func TestPeriod(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		90 * time.Second:     "1m30s",
		5 * time.Minute:      "5 min",
		90 * time.Minute:     "90 min",
		3 * time.Hour:        "3 h",
		150 * time.Minute:    "2 h 30 min",
		180 * 24 * time.Hour: "180 days",
		100000 * time.Minute: "69 days",
	} {
		if got := period(d); got != want {
			t.Errorf("period(%v) = %q, want %q", d, got, want)
		}
	}
}

// failingCounts is a store whose CountByStatus fails.
type failingCounts struct{ store.Store }

func (failingCounts) CountByStatus(context.Context, string) (map[store.Status]int, error) {
	return nil, errors.New("connection refused (secret dsn part)")
}

func TestStatusPageStoreDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	logs := f.logTo()
	cookie, _ := f.signIn()
	f.svc.st = failingCounts{f.st}
	resp, body := f.send(pageReq{path: "/status/", cookie: cookie})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "The state store did not answer") ||
		strings.Contains(body, "connection refused") {
		t.Errorf("store down: %d, want 503 saying so without the store's error\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Error("the store's error is not logged")
	}
}

// countingStore counts the records its Records yields.
type countingStore struct {
	store.Store
	yielded atomic.Int64
}

func (c *countingStore) Records(ctx context.Context, q store.Query) iter.Seq2[store.Record, error] {
	return func(yield func(store.Record, error) bool) {
		for rec, err := range c.Store.Records(ctx, q) {
			c.yielded.Add(1)
			if !yield(rec, err) {
				return
			}
		}
	}
}

// holdWUGListing holds every WUG device listing from now on until release
// is called (or the test ends): an export started now stays running. held
// reports whether a listing has been held, waiting a few seconds for one
// (a run is recorded before it lists WUG's devices).
func holdWUGListing(t *testing.T, f *fixture) (held func() bool, release func()) {
	t.Helper()
	var n atomic.Int32
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	f.wug.Observe("GET /api/v1/device-groups/{groupId}/devices/-", func(int) {
		n.Add(1)
		<-gate
	})
	held = func() bool {
		for deadline := time.Now().Add(5 * time.Second); n.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		return n.Load() > 0
	}
	return held, release
}

// pageConn is what the status page shows of connection 1's exports.
type pageConn struct {
	RunningID, Holder string // the running run, empty when the page shows none
	Total             string
}

var (
	connOneInPage = regexp.MustCompile(`(?s)<section class="conn" id="conn-1".*?</section>`)
	runningInPage = regexp.MustCompile(`<p class="running" data-run-id="([^"]*)">.*?(?:, held by ([^<]*))?</p>`)
	totalInPage   = regexp.MustCompile(`data-status="total"><span class="n">(\d+)</span>`)
	idleRunInPage = `<p class="idle">No export running.</p>`
)

// TestStatusPageAndAPIAgree puts a connection in each state of its exports
// and checks that the JSON status and the status page name the same running
// run with the same holder, and the same record total.
func TestStatusPageAndAPIAgree(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// start puts the connection in the state and returns the run that
		// is to show as running ("" for none).
		start func(t *testing.T, f *fixture) (runID string)
	}{
		{"no run", func(t *testing.T, f *fixture) string { return "" }},
		{"a finished run", func(t *testing.T, f *fixture) string {
			_, ans := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
			id, _ := ans["run_id"].(string)
			if run := waitRun(t, f.st, id); run.Status != store.RunSucceeded {
				t.Fatalf("run = %+v, want it succeeded", run)
			}
			return ""
		}},
		{"this process's run", func(t *testing.T, f *fixture) string {
			held, _ := holdWUGListing(t, f)
			code, ans := doJSON(t, "POST", f.srv.URL+"/api/plugins/wug-sync/connections/1/export/", testToken, "")
			if code != http.StatusAccepted || !held() {
				t.Fatalf("trigger: %d %v, or the run was not held at its WUG listing", code, ans)
			}
			return ans["run_id"].(string)
		}},
		{"another replica's run", func(t *testing.T, f *fixture) string {
			ctx := context.Background()
			l, err := f.st.AcquireLease(ctx, "wugsync/export/main", "replica-2.example/41/4026531836/cafe#1", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			run, err := f.st.BeginRun(ctx, store.Run{Connection: "main", Kind: store.RunExport, Trigger: store.TriggerSchedule, Lease: l})
			if err != nil {
				t.Fatal(err)
			}
			return run.ID
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 10)
			cookie, _ := f.signIn()
			wantID := tt.start(t, f)
			wantHolder := ""
			if wantID != "" {
				run, err := f.st.Run(context.Background(), wantID)
				if err != nil || run.Status != store.RunRunning || run.Lease.Holder == "" {
					t.Fatalf("the run to show: %+v, %v; want it running with a holder", run, err)
				}
				wantHolder = run.Lease.Holder
			}

			code, st := doJSON(t, "GET", f.srv.URL+"/api/plugins/wug-sync/connections/1/export-status/", testToken, "")
			if code != http.StatusOK {
				t.Fatalf("export status: %d %v", code, st)
			}
			id, _ := st["running_run_id"].(string)
			holder, _ := st["running_holder"].(string)
			api := pageConn{RunningID: id, Holder: holder, Total: fmt.Sprint(st["total"])}
			if st["in_progress"] != (wantID != "") {
				t.Errorf("API in_progress = %v, want %v", st["in_progress"], wantID != "")
			}

			resp, body := f.send(pageReq{path: "/status/", cookie: cookie})
			section := connOneInPage.FindString(body)
			if resp.StatusCode != http.StatusOK || section == "" {
				t.Fatalf("status page: %d, connection 1 found: %v\n%s", resp.StatusCode, section != "", body)
			}
			var page pageConn
			if m := runningInPage.FindStringSubmatch(section); m != nil {
				page.RunningID, page.Holder = m[1], html.UnescapeString(m[2])
			} else if !strings.Contains(section, idleRunInPage) {
				t.Errorf("the page shows neither a running run nor none:\n%s", section)
			}
			if m := totalInPage.FindStringSubmatch(section); m != nil {
				page.Total = m[1]
			}

			counts, err := f.st.CountByStatus(context.Background(), "main")
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range counts {
				total += n
			}
			want := pageConn{RunningID: wantID, Holder: wantHolder, Total: fmt.Sprint(total)}
			if diff := cmp.Diff(want, api); diff != "" {
				t.Errorf("API (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(api, page); diff != "" {
				t.Errorf("the status page disagrees with the API (-API +page):\n%s", diff)
			}
		})
	}
}
