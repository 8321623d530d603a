package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
	"github.com/wugsync/wugsync/wug/wugtest"
)

const (
	testToken  = "test-api-token-0123456789"
	testSecret = "test-webhook-secret"
)

// fixture is the service on httptest with a fake NetBox, a fake WUG and a
// memory store, its scheduler running until the test ends.
type fixture struct {
	t   *testing.T
	nb  *netboxtest.Server
	wug *wugtest.Server
	st  store.Store
	svc *service
	srv *httptest.Server
}

// configText is a service configuration for the fakes. Connection "main"
// (id 1) is scheduled so far ahead that only the test starts its runs;
// "off" has export disabled.
func configText(nbURL, wugURL string, extra string) string {
	return fmt.Sprintf(`
api_token: {env: API_TOKEN}
webhook_secret: {env: HOOK}
webhook_window_seconds: 0.6 # wide enough for three deliveries on a loaded machine
netbox: {url: %q, token: {env: NB_TOKEN}}
store: {sqlite_path: unused.db}
connections:
  - id: "1"
    name: main
    wug: {url: %q, username: %s, password: {env: WUG_PW}, rate_limit: 1000, burst: 100}
    export_interval_minutes: 100000
%s
  - id: "2"
    name: off
    enable_netbox_export: false
    wug: {url: %q, username: %s, password: {env: WUG_PW}}
`, nbURL, wugURL, wugtest.DefaultUser, extra, wugURL, wugtest.DefaultUser)
}

func fixtureEnv() func(string) string {
	return env(map[string]string{"API_TOKEN": testToken, "HOOK": testSecret,
		"NB_TOKEN": netboxtest.DefaultToken, "WUG_PW": wugtest.DefaultPassword})
}

func newFixture(t *testing.T, devices int) *fixture {
	t.Helper()
	return newFixtureWith(t, devices, "")
}

// newFixtureWith adds extra configuration lines to connection "main" and
// options to the fake WUG.
func newFixtureWith(t *testing.T, devices int, extra string, wugOpts ...wugtest.Option) *fixture {
	t.Helper()
	f := &fixture{t: t,
		nb:  netboxtest.NewServer(t, netboxtest.WithDevices(devices)),
		wug: wugtest.NewServer(t, append([]wugtest.Option{wugtest.WithPlainHTTP()}, wugOpts...)...),
		st:  memory.New(),
	}
	cfg, err := ParseConfig([]byte(configText(f.nb.URL, f.wug.URL, extra)), fixtureEnv())
	if err != nil {
		t.Fatal(err)
	}
	f.svc, err = newService(cfg, f.st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.svc.handler())
	stop := f.svc.runScheduler()
	t.Cleanup(func() {
		stop()
		f.srv.Close()
		f.st.Close()
	})
	return f
}

// testClient bounds every test request, so a stuck service fails the test
// instead of hanging it.
var testClient = &http.Client{Timeout: 30 * time.Second}

// do sends a request with the API token (when token is not empty) and
// returns the status and the body.
func do(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// doJSON is do with the answer decoded into a map.
func doJSON(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	status, b := do(t, method, url, token, body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d answer is not a JSON object: %v\n%s", method, url, status, err, b)
	}
	return status, m
}

// waitRun waits until a run has finished and returns it.
func waitRun(t *testing.T, st store.Store, id string) store.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		run, err := st.Run(context.Background(), id)
		if err == nil && run.Status != store.RunRunning {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s did not finish: %+v, %v", id, run, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricValue sums the samples of a metric in Prometheus text whose labels
// include every pair given ("name" alone matches every sample). It reports
// whether any matched.
func metricValue(text []byte, name string, labels ...string) (float64, bool) {
	var sum float64
	found := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(rest, labels[i]+`="`+labels[i+1]+`"`) {
				match = false
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
		if err == nil {
			sum += v
			found = true
		}
	}
	return sum, found
}

// checkNoRuns fails the test if the store holds any run: what (refused
// requests, say) was to start none.
func (f *fixture) checkNoRuns(t *testing.T, what string) {
	t.Helper()
	runs, err := f.st.Runs(context.Background(), store.RunQuery{})
	if err != nil {
		t.Fatalf("listing runs: %v", err)
	}
	if len(runs) != 0 {
		t.Errorf("%s started %d runs", what, len(runs))
	}
}

// syncBuffer is a bytes.Buffer that a service log or a child process may
// write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
