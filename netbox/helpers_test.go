package netbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

const testBase = "https://netbox.example.com"

// newMockClient returns a client whose requests go to a fresh httpmock
// transport; retries are off so error answers come back at once.
func newMockClient(t testing.TB, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: mt}), WithRetry(RetryPolicy{})}, opts...)
	c, err := NewClient(testBase, "0123456789abcdef0123456789abcdef01234567", opts...)
	if err != nil {
		t.Fatal(err)
	}
	setVersion(t, mt, "4.3.0")
	return c, mt
}

// setVersion makes /api/status/ report NetBox version v.
func setVersion(t testing.TB, mt *httpmock.MockTransport, v string) {
	t.Helper()
	st := object(t, "status.json")
	st["netbox-version"], st["netbox-full-version"] = v, v
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	mt.RegisterResponder(http.MethodGet, testBase+"/api/status/", jsonResponder(200, b))
}

// versions are the NetBox versions whose read paths the tests cover, with
// the list parameters each takes to ask for less.
var versions = []struct {
	version string
	fields  bool // fields= rather than exclude=config_context
}{{"3.7.8", false}, {"4.0.11", true}, {"4.3.0", true}, {"4.5.2", true}}

// eachVersion runs test in a parallel subtest for each of versions, named
// prefix and the version, with a mock client whose NetBox reports that
// version; fields says whether the version is asked for fields=.
func eachVersion(t *testing.T, prefix string, test func(t *testing.T, c *Client, mt *httpmock.MockTransport, fields bool)) {
	t.Helper()
	for _, v := range versions {
		t.Run(prefix+v.version, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			setVersion(t, mt, v.version)
			test(t, c, mt, v.fields)
		})
	}
}

// answerQuery answers GET requests for path below testBase with a 200 and
// body, and keeps the query the last one carried.
func answerQuery(mt *httpmock.MockTransport, path string, body []byte) *url.Values {
	q := new(url.Values)
	mt.RegisterResponder(http.MethodGet, testBase+path, func(r *http.Request) (*http.Response, error) {
		*q = r.URL.Query()
		return jsonResponse(200, body), nil
	})
	return q
}

// listedDevice is the reference device 42 as a listing holds it: without
// its config context.
func listedDevice(t testing.TB) map[string]any {
	t.Helper()
	dev := object(t, "device_42.json")
	delete(dev, "config_context")
	return dev
}

// view is the query a list of kind carries to ask for less on a version.
func view(kind Kind, fields bool) url.Values {
	if !fields {
		return url.Values{"exclude": {"config_context"}}
	}
	return url.Values{"fields": {objectFields[kind] + ",custom_fields"}}
}

func jsonResponse(status int, body []byte) *http.Response {
	r := httpmock.NewBytesResponse(status, body)
	r.Header.Set("Content-Type", "application/json")
	return r
}

func jsonResponder(status int, body []byte) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) { return jsonResponse(status, body), nil }
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// object decodes a testdata JSON object into a map for editing.
func object(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// envelope wraps results in NetBox's list envelope; next is null when
// more is false.
func envelope(t testing.TB, count int, more bool, results ...any) []byte {
	t.Helper()
	env := map[string]any{"count": count, "next": nil, "previous": nil, "results": results}
	if results == nil {
		env["results"] = []any{}
	}
	if more {
		env["next"] = testBase + "/api/next-page/"
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// siteJSON is a site as /api/dcim/sites/ lists it.
func siteJSON(id int, region bool) map[string]any {
	s := map[string]any{"id": id, "url": fmt.Sprintf("%s/api/dcim/sites/%d/", testBase, id),
		"display": fmt.Sprintf("Site %d", id), "name": fmt.Sprintf("Site %d", id), "slug": fmt.Sprintf("site-%d", id),
		"region": nil}
	if region {
		s["region"] = map[string]any{"id": 9, "url": testBase + "/api/dcim/regions/9/", "display": "Europe",
			"name": "Europe", "slug": "europe", "_depth": 0}
	}
	return s
}

// generated serves a synthetic fleet through httpmock: devices 1..n, each a
// copy of the reference device with its own id, name and primary address
// and two interface addresses, on keyset-paged lists. It counts requests
// and records the longest URL.
type generated struct {
	t        testing.TB
	n        int
	device   map[string]any
	ip       map[string]any
	mu       sync.Mutex
	requests map[string]int
	maxURL   int
}

func newGenerated(t testing.TB, mt *httpmock.MockTransport, n int) *generated {
	g := &generated{t: t, n: n, device: object(t, "device_42.json"), ip: object(t, "ip_address_101.json"), requests: map[string]int{}}
	delete(g.device, "config_context")
	mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/devices/", g.devices)
	mt.RegisterResponder(http.MethodGet, testBase+"/api/ipam/ip-addresses/", g.ips)
	mt.RegisterResponder(http.MethodGet, testBase+"/api/dcim/sites/", func(r *http.Request) (*http.Response, error) {
		g.count(r)
		var sites []any
		for _, id := range r.URL.Query()["id"] {
			n, _ := strconv.Atoi(id)
			sites = append(sites, siteJSON(n, true))
		}
		return jsonResponse(200, envelope(t, len(sites), false, sites...)), nil
	})
	return g
}

func (g *generated) count(r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests[r.URL.Path]++
	g.maxURL = max(g.maxURL, len(r.URL.String()))
}

func (g *generated) total() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.requests {
		n += c
	}
	return n
}

func keyset(r *http.Request) (after, limit int) {
	q := r.URL.Query()
	after, _ = strconv.Atoi(q.Get("id__gt"))
	limit, _ = strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return after, limit
}

func (g *generated) devices(r *http.Request) (*http.Response, error) {
	g.count(r)
	after, limit := keyset(r)
	only := map[int]bool{}
	for _, s := range r.URL.Query()["id"] {
		id, _ := strconv.Atoi(s)
		only[id] = true
	}
	var out []any
	more := false
	for id := after + 1; id <= g.n; id++ {
		if len(only) > 0 && !only[id] {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		d := cloneMap(g.device)
		d["id"] = id
		d["name"] = fmt.Sprintf("dev-%06d", id)
		d["display"] = d["name"]
		d["display_url"] = fmt.Sprintf("%s/dcim/devices/%d/", testBase, id)
		ip := cloneMap(d["primary_ip4"].(map[string]any))
		ip["id"] = 10 * id
		ip["address"] = ipv4(id)
		d["primary_ip4"], d["primary_ip"], d["oob_ip"] = ip, ip, nil
		d["site"] = siteJSON(1+id%7, true)
		out = append(out, d)
	}
	return jsonResponse(200, envelope(g.t, len(out), more, out...)), nil
}

func (g *generated) ips(r *http.Request) (*http.Response, error) {
	g.count(r)
	after, limit := keyset(r)
	var ids []int
	for _, s := range r.URL.Query()["device_id"] {
		id, _ := strconv.Atoi(s)
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []any
	total, left := 0, 0
	for _, dev := range ids {
		for k := range 2 {
			ipID := 10*dev + k
			total++
			if ipID <= after {
				continue
			}
			if len(out) >= limit {
				left++
				continue
			}
			ip := cloneMap(g.ip)
			ip["id"] = ipID
			ip["address"] = ipv4(dev)
			if k == 1 {
				ip["address"] = fmt.Sprintf("2001:db8::%x/64", dev)
				ip["family"] = map[string]any{"value": 6, "label": "IPv6"}
			}
			ao := cloneMap(ip["assigned_object"].(map[string]any))
			ao["device"] = map[string]any{"id": dev, "url": "x", "display": "x", "name": "x", "description": ""}
			ip["assigned_object"] = ao
			out = append(out, ip)
		}
	}
	more := left > 0
	return jsonResponse(200, envelope(g.t, total, more, out...)), nil
}

func ipv4(id int) string { return fmt.Sprintf("10.%d.%d.%d/16", id>>16&255, id>>8&255, id&255) }

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
