package wugtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wugsync/wugsync/wug/wugtest"
)

// api is a raw HTTP client for the fake that logs in with the password
// grant on first use. It speaks WUG's wire format directly, so the fake is
// tested against the reference rather than against any client library.
type api struct {
	t     testing.TB
	srv   *wugtest.Server
	hc    *http.Client
	mu    sync.Mutex
	token string
}

func newAPI(t testing.TB, opts ...wugtest.Option) *api {
	t.Helper()
	srv := wugtest.NewServer(t, opts...)
	return &api{t: t, srv: srv, hc: srv.HTTPClient()}
}

// login returns a cached access token.
func (a *api) login() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == "" {
		tok := a.grant(url.Values{"grant_type": {"password"}, "username": {wugtest.DefaultUser}, "password": {wugtest.DefaultPassword}})
		a.token = tok.AccessToken
	}
	return a.token
}

type tokenResp struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

func (a *api) grant(form url.Values) tokenResp {
	a.t.Helper()
	status, body := a.rawToken(form.Encode(), "application/x-www-form-urlencoded")
	var tr tokenResp
	if err := json.Unmarshal(body, &tr); err != nil || status != http.StatusOK {
		a.t.Fatalf("token grant: status %d, body %s", status, body)
	}
	return tr
}

func (a *api) rawToken(body, contentType string) (int, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/api/v1/token", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return a.send(req)
}

func (a *api) send(req *http.Request) (int, []byte) {
	a.t.Helper()
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, b
}

// do sends an authenticated request. body may be nil, a string (sent as
// is) or a value encoded as JSON. path is relative to /api/v1.
func (a *api) do(method, path string, body any) (int, []byte) {
	a.t.Helper()
	return a.doAuth(method, path, body, "Bearer "+a.login())
}

func (a *api) doAuth(method, path string, body any, auth string) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		p, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(p)
	}
	req, err := http.NewRequest(method, a.srv.URL+"/api/v1"+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return a.send(req)
}

// call sends a request, requires want as status and decodes the body into out.
func (a *api) call(method, path string, body any, want int, out any) {
	a.t.Helper()
	status, raw := a.do(method, path, body)
	if status != want {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// Wire shapes as the reference documents them.

type paging struct {
	PageID     string `json:"pageId"`
	NextPageID string `json:"nextPageId"`
	Size       int    `json:"size"`
}

type devOverview struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	HostName       string `json:"hostName"`
	NetworkAddress string `json:"networkAddress"`
	BestState      string `json:"bestState"`
	WorstState     string `json:"worstState"`
	Role           string `json:"role"`
}

// page is a paged answer: its paging block and its data.
type page[T any] struct {
	Paging paging `json:"paging"`
	Data   T      `json:"data"`
}

type deviceList = page[struct {
	Devices []devOverview `json:"devices"`
}]

type counted struct {
	SuccessfulOperations int      `json:"successfulOperations"`
	ResourcesNotAllowed  []string `json:"resourcesNotAllowed"`
	ResourcesWithErros   []string `json:"resourcesWithErros"`
	Errors               []string `json:"errors"`
	Success              bool     `json:"success"`
}

type groupSum struct {
	ID            string `json:"id"`
	ParentGroupID string `json:"parentGroupId"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	Details       *struct {
		GroupType             string `json:"groupType"`
		ChildrenCount         int    `json:"childrenCount"`
		DeviceChildrenCount   int    `json:"deviceChildrenCount"`
		DeviceDescendantCount int    `json:"deviceDescendantCount"`
	} `json:"details"`
}

type applyResult struct {
	Data struct {
		IDMap []struct {
			TemplateID string `json:"templateId"`
			ResultID   string `json:"resultId"`
		} `json:"idMap"`
		Errors []struct {
			TemplateID string   `json:"templateId"`
			Messages   []string `json:"messages"`
		} `json:"errors"`
		Update *struct {
			ID string `json:"id"`
		} `json:"update"`
		Operations int `json:"operations"`
		Successful int `json:"successful"`
	} `json:"data"`
}

// template builds a minimal valid device template.
func template(id, name, addr string, extra ...func(map[string]any)) map[string]any {
	t := map[string]any{
		"templateId":  id,
		"displayName": name,
		"interfaces":  []any{map[string]any{"defaultInterface": true, "networkAddress": addr, "networkName": name + ".example.net"}},
	}
	for _, f := range extra {
		f(t)
	}
	return t
}

func apply(a *api, templates ...map[string]any) applyResult {
	a.t.Helper()
	var out applyResult
	a.call("PATCH", "/devices/-/config/template", map[string]any{"options": []string{"all"}, "templates": templates}, 200, &out)
	return out
}

// listAll pages through a device listing, following nextPageId and
// repeating the other query parameters.
func listAll(a *api, gid string, q url.Values) ([]devOverview, int) {
	a.t.Helper()
	q = maps.Clone(q)
	if q == nil {
		q = url.Values{}
	}
	var out []devOverview
	pages := 0
	seen := map[string]bool{}
	for {
		var dl deviceList
		a.call("GET", fmt.Sprintf("/device-groups/%s/devices/-?%s", gid, q.Encode()), nil, 200, &dl)
		pages++
		if dl.Paging.Size != len(dl.Data.Devices) {
			a.t.Fatalf("paging.size %d but %d devices", dl.Paging.Size, len(dl.Data.Devices))
		}
		out = append(out, dl.Data.Devices...)
		if dl.Paging.NextPageID == "" {
			return out, pages
		}
		if seen[dl.Paging.NextPageID] {
			a.t.Fatalf("repeated nextPageId %q", dl.Paging.NextPageID)
		}
		seen[dl.Paging.NextPageID] = true
		q.Set("pageId", dl.Paging.NextPageID)
	}
}

// reporter collects what the fake reports, for tests that expect reports.
type reporter struct {
	mu   sync.Mutex
	msgs []string
}

func (r *reporter) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *reporter) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// newLenientAPI is newAPI for tests that send what the contract forbids on
// purpose (bad input, lower-case keys). Request violations are collected
// instead of failing the test; a response violation still fails it.
func newLenientAPI(t testing.TB, opts ...wugtest.Option) (*api, *reporter) {
	t.Helper()
	rep := &reporter{}
	a := newAPI(t, append(opts, wugtest.WithReporter(rep.Errorf))...)
	t.Cleanup(func() {
		for _, m := range rep.all() {
			if !strings.Contains(m, ") request: ") && !strings.Contains(m, "is not declared by") {
				t.Errorf("unexpected report: %s", m)
			}
		}
	})
	return a, rep
}
