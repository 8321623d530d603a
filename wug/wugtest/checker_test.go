package wugtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wugsync/wugsync/wug/wugtest"
)

// captureTB records Errorf calls instead of failing.
type captureTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (c *captureTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}

func TestCheckerTransport(t *testing.T) {
	t.Parallel()
	// A stand-in for WUG that answers with an undeclared property.
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":{"id":"1","name":"a","uptime":5}}`)
	}))
	defer stub.Close()
	k, err := wugtest.NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	tb := &captureTB{TB: t}
	hc := &http.Client{Transport: k.Transport(tb, nil)}
	resp, err := hc.Get(stub.URL + "/api/v1/devices/1?verbose=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "uptime") {
		t.Errorf("the transport changed the body: %s", body)
	}
	req, _ := http.NewRequest("PUT", stub.URL+"/api/v1/devices/1/group/-", strings.NewReader(`"5"`))
	if _, err := hc.Do(req); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tb.msgs, "\n")
	if len(tb.msgs) != 3 || !strings.Contains(got, `"verbose" is not declared`) || !strings.Contains(got, `"uptime" is unsupported`) {
		t.Errorf("reports:\n%s", got)
	}
}

func TestCheckerDirect(t *testing.T) {
	t.Parallel()
	k, err := wugtest.NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	if op, err := k.Operation("GET", "/api/v1/device-groups/5/children"); err != nil || op != "DeviceGroup_SearchChildren" {
		t.Errorf("Operation = %q, %v", op, err)
	}
	if _, err := k.Operation("POST", "/api/v1/devices/bulk-add"); err == nil {
		t.Error("an invented endpoint matched an operation")
	}
	req := httptest.NewRequest("PATCH", "/api/v1/devices/-", nil)
	if v := k.CheckRequest(req, []byte(`{"operation":"delete","devices":["1"],"removeDiscoveredResources":true}`)); len(v) != 1 {
		t.Errorf("violations %q; want removeDiscoveredResources flagged", v)
	}
	if v := k.CheckExchange(req, []byte(`{"operation":"delete","devices":["1"]}`), 200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"data":{"successfulOperations":1,"success":true}}`)); len(v) != 0 {
		t.Errorf("violations %q", v)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:9644", ":0", "nonsense"} {
		if s, err := wugtest.Listen(addr); err == nil {
			s.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		}
	}
	h := wugtest.NewHandler(wugtest.WithPlainHTTP())
	if _, err := h.Listen("10.1.2.3:0"); err == nil {
		t.Error("Handler.Listen on a non-loopback address succeeded")
	}
	s, err := h.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.TLSConfig() != nil {
		t.Errorf("URL %s", s.URL)
	}
	resp, err := http.Get(s.URL + "/api/v1/errors/NotFound")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("status %d", resp.StatusCode)
	}
	tlsSrv, err := wugtest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tlsSrv.Close()
	if who, err := tlsSrv.Client().Product.WhoAmI(t.Context()); err != nil || who != wugtest.DefaultUser {
		t.Errorf("WhoAmI over TLS = %q, %v", who, err)
	}
}
