package wugtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/wug/wugtest"
)

const applyRoute = "PATCH /api/v1/devices/-/config/template"

// rawApply sends one template apply for addr with ctx and returns the raw
// answer or the transport error.
func rawApply(ctx context.Context, a *api, addr string) (*http.Response, []byte, error) {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"options": []string{"all"}, "templates": []any{template("t-"+addr, "dev-"+addr, addr)}})
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, a.srv.URL+"/api/v1/devices/-/config/template", bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.login())
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// statuses lists the recorded statuses of the requests matching route.
func statuses(a *api, route string) []int {
	var out []int
	for _, r := range a.srv.Requests() {
		if r.Route == route {
			out = append(out, r.Status)
		}
	}
	return out
}

func TestApplyThenDrop(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: applyRoute, Kind: wugtest.ApplyThenDrop})
	resp, _, err := rawApply(context.Background(), a, "10.1.0.1")
	if err == nil {
		t.Fatalf("dropped apply answered %d", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("transport error = %v, want EOF or a reset", err)
	}
	// The fake applied the template before dropping: the device exists.
	if got := a.srv.DevicesByAddress("10.1.0.1"); len(got) != 1 {
		t.Fatalf("devices at 10.1.0.1 after the dropped apply = %d, want 1", len(got))
	}
	// Times defaults to 1: the next apply is answered.
	if _, _, err := rawApply(context.Background(), a, "10.1.0.2"); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	// One request each (no transport retry), the dropped one recorded as -1.
	if diff := cmp.Diff([]int{-1, 200}, statuses(a, applyRoute)); diff != "" {
		t.Errorf("recorded statuses (-want +got):\n%s", diff)
	}
}

func TestApplyThenLate(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	const delay = 400 * time.Millisecond
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: applyRoute, Kind: wugtest.ApplyThenLate, Delay: delay})
	type answer struct {
		status int
		body   []byte
		err    error
		at     time.Time
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		resp, b, err := rawApply(context.Background(), a, "10.2.0.1")
		ans := answer{body: b, err: err, at: time.Now()}
		if resp != nil {
			ans.status = resp.StatusCode
		}
		done <- ans
	}()
	// The state changes while the answer is held back.
	for len(a.srv.DevicesByAddress("10.2.0.1")) == 0 {
		select {
		case ans := <-done:
			t.Fatalf("answer (%d, %v) came before the device existed", ans.status, ans.err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	ans := <-done
	if ans.err != nil || ans.status != 200 {
		t.Fatalf("late answer: status %d, error %v", ans.status, ans.err)
	}
	if el := ans.at.Sub(start); el < delay {
		t.Errorf("answer after %v, want at least %v", el, delay)
	}
	var res applyResult
	if err := json.Unmarshal(ans.body, &res); err != nil || len(res.Data.IDMap) != 1 {
		t.Fatalf("late answer body %s: %v", ans.body, err)
	}
	if d := a.srv.DevicesByAddress("10.2.0.1"); len(d) != 1 || d[0].ID != res.Data.IDMap[0].ResultID {
		t.Errorf("devices %+v, answer idMap %+v", d, res.Data.IDMap)
	}
}

func TestApplyThenLateUntilTheClientGivesUp(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.login()
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: applyRoute, Kind: wugtest.ApplyThenLate})
	applied := make(chan struct{})
	a.srv.Observe(applyRoute, func(int) { close(applied) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := rawApply(ctx, a, "10.2.1.1")
		done <- err
	}()
	<-applied
	select {
	case err := <-done:
		t.Fatalf("apply held without a delay was answered (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("apply held without a delay: error %v, want the client's cancellation", err)
	}
	if got := len(a.srv.DevicesByAddress("10.2.1.1")); got != 1 {
		t.Errorf("devices after the unanswered apply = %d, want 1", got)
	}
}

func TestApplyThenDropStartsScans(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.SetReachable("10.11.0.1")
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: "PATCH /api/v1/device-groups/{groupId}/newDevice", Kind: wugtest.ApplyThenDrop})
	req, _ := http.NewRequest("PATCH", a.srv.URL+"/api/v1/device-groups/0/newDevice", strings.NewReader(`{"ipOrNames":["10.11.0.1"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.login())
	if resp, err := a.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped newDevice answered %d", resp.StatusCode)
	}
	if got := len(a.srv.Scans()); got != 1 {
		t.Fatalf("scans after the dropped newDevice = %d, want 1", got)
	}
	a.srv.CompleteScans()
	if got := len(a.srv.DevicesByAddress("10.11.0.1")); got != 1 {
		t.Errorf("devices the dropped scan added = %d, want 1", got)
	}
}

func TestOffContractAnswersLeaveStateAlone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind        wugtest.Misbehavior
		contentType string
		check       func(body []byte) error
	}{
		{wugtest.ErrorEnvelope, "application/json", func(b []byte) error {
			var v map[string]map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			if len(v) != 1 || v["error"]["message"] == "" {
				return fmt.Errorf("want only an error envelope with a message")
			}
			return nil
		}},
		{wugtest.NonJSON, "text/html", func(b []byte) error {
			if json.Valid(b) || !bytes.Contains(b, []byte("<html>")) {
				return fmt.Errorf("want an HTML page")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			a := newAPI(t)
			a.srv.MisbehaveNext(wugtest.Misbehave{Route: applyRoute, Kind: tt.kind})
			resp, body, err := rawApply(context.Background(), a, "10.3.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) {
				t.Errorf("answer %d %q, want 200 %s", resp.StatusCode, resp.Header.Get("Content-Type"), tt.contentType)
			}
			if err := tt.check(body); err != nil {
				t.Errorf("body %s: %v", body, err)
			}
			if n := a.srv.DeviceCount(); n != 0 {
				t.Errorf("devices after a %s answer = %d, want 0", tt.kind, n)
			}
			// The same request next is handled.
			apply(a, template("t", "d", "10.3.0.1"))
			if n := a.srv.DeviceCount(); n != 1 {
				t.Errorf("devices after a normal apply = %d, want 1", n)
			}
		})
	}
}

func TestNumericIDs(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: applyRoute, Kind: wugtest.NumericIDs, Times: 2})
	_, body, err := rawApply(context.Background(), a, "10.4.0.1")
	if err != nil {
		t.Fatal(err)
	}
	id := a.srv.DevicesByAddress("10.4.0.1")[0].ID
	var res struct {
		Data struct {
			IDMap []map[string]any `json:"idMap"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{"templateId": "t-10.4.0.1", "resultId": json.Number(id)}}
	if diff := cmp.Diff(want, res.Data.IDMap); diff != "" {
		t.Errorf("idMap (-want +got):\n%s", diff)
	}

	// Group listings: ids and parent ids become numbers, paging stays.
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: "GET /api/v1/device-groups/-", Kind: wugtest.NumericIDs})
	_, raw := a.do("GET", "/device-groups/-", nil)
	var groups struct {
		Data struct {
			Groups []struct {
				ID            any `json:"id"`
				ParentGroupID any `json:"parentGroupId"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &groups); err != nil || len(groups.Data.Groups) < 2 {
		t.Fatalf("group listing %s: %v", raw, err)
	}
	for _, g := range groups.Data.Groups {
		if _, ok := g.ID.(float64); !ok {
			t.Errorf("group id %#v is not a number in %s", g.ID, raw)
		}
		if _, ok := g.ParentGroupID.(string); ok {
			t.Errorf("parentGroupId %#v is a string in %s", g.ParentGroupID, raw)
		}
	}
	// The one left of Times 2 applies to the next apply; then ids are strings again.
	if _, b, err := rawApply(context.Background(), a, "10.4.0.2"); err != nil || !bytes.Contains(b, []byte(`"resultId":`+a.srv.DevicesByAddress("10.4.0.2")[0].ID)) {
		t.Errorf("second NumericIDs apply: %s, %v", b, err)
	}
	var plain applyResult
	a.call("PATCH", "/devices/-/config/template", map[string]any{"templates": []any{template("t3", "d3", "10.4.0.3")}}, 200, &plain)
	if len(plain.Data.IDMap) != 1 || plain.Data.IDMap[0].ResultID == "" {
		t.Errorf("normal apply after NumericIDs = %+v", plain.Data)
	}
}

func TestCorrectedSpelling(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id := a.srv.AddDevice(wugtest.Device{Name: "d"})
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: "PATCH /api/v1/devices/-/properties", Kind: wugtest.CorrectedSpelling})
	body := map[string]any{"devices": []string{id, "9999"}, "note": "n"}
	_, raw := a.do("PATCH", "/devices/-/properties", body)
	var got struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Data["resourcesWithErros"]; ok {
		t.Errorf("contract spelling still present: %s", raw)
	}
	if diff := cmp.Diff([]any{"9999"}, got.Data["resourcesWithErrors"]); diff != "" {
		t.Errorf("resourcesWithErrors (-want +got):\n%s", diff)
	}
	if d, _ := a.srv.Device(id); d.Notes != "n" {
		t.Errorf("the request was not handled: notes %q", d.Notes)
	}
	// The next answer has the contract's spelling (and NewServer has
	// checked it against the contract).
	var res struct{ Data counted }
	a.call("PATCH", "/devices/-/properties", body, 200, &res)
	if !cmp.Equal(res.Data.ResourcesWithErros, []string{"9999"}) {
		t.Errorf("normal answer = %+v", res.Data)
	}
}

// envelopes sends n product-version reads and reports which answers were
// error envelopes.
func envelopes(a *api, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		_, raw := a.do("GET", "/product/version", nil)
		out[i] = bytes.HasPrefix(raw, []byte(`{"error":`))
	}
	return out
}

func TestMisbehaveRate(t *testing.T) {
	t.Parallel()
	const route, n = "GET /api/v1/product/version", 200
	run := func(seed uint64) []bool {
		a := newAPI(t)
		a.srv.SetMisbehaveRate(route, wugtest.ErrorEnvelope, 0.3, seed)
		got := envelopes(a, n)
		a.srv.SetMisbehaveRate(route, wugtest.ErrorEnvelope, 0, seed)
		for i, bad := range envelopes(a, 50) {
			if bad {
				t.Fatalf("request %d misbehaved after rate 0", i)
			}
		}
		return got
	}
	first := run(7)
	bad := 0
	for _, b := range first {
		if b {
			bad++
		}
	}
	// Binomial(200, 0.3): mean 60, standard deviation 6.5.
	if bad < 35 || bad > 85 {
		t.Errorf("%d of %d requests misbehaved at rate 0.3", bad, n)
	}
	if diff := cmp.Diff(first, run(7)); diff != "" {
		t.Errorf("same seed, different pattern (-first +second):\n%s", diff)
	}
	if cmp.Equal(first, run(8)) {
		t.Errorf("seeds 7 and 8 gave the same pattern")
	}
}

func TestObserve(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	var mu sync.Mutex
	var seen []int
	a.srv.Observe(applyRoute, func(n int) {
		// Calling the fake here would deadlock if its lock were held.
		addr := fmt.Sprintf("10.6.0.%d", n)
		if got := len(a.srv.DevicesByAddress(addr)); got != 1 {
			t.Errorf("observer %d: %d devices at %s, want the applied one", n, got, addr)
		}
		mu.Lock()
		seen = append(seen, n)
		mu.Unlock()
	})
	a.srv.FailNext(wugtest.Fault{Route: applyRoute, Status: 503})
	a.call("PATCH", "/devices/-/config/template", map[string]any{"templates": []any{template("x", "x", "10.6.9.9")}}, 503, nil)
	for i := 1; i <= 5; i++ {
		apply(a, template("t", "d", fmt.Sprintf("10.6.0.%d", i)))
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, seen); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

func TestObserveMayBlock(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.login()
	entered, unblock := make(chan struct{}), make(chan struct{})
	a.srv.Observe(applyRoute, func(n int) {
		if n == 1 {
			close(entered)
			<-unblock
		}
	})
	done := make(chan error, 1)
	go func() {
		_, _, err := rawApply(context.Background(), a, "10.7.0.1")
		done <- err
	}()
	<-entered
	// While the first apply's observer blocks, other requests, a second
	// apply among them, are served.
	a.call("GET", "/product/version", nil, 200, nil)
	apply(a, template("t2", "d2", "10.7.0.2"))
	select {
	case err := <-done:
		t.Fatalf("blocked apply answered early (%v)", err)
	default:
	}
	close(unblock)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := a.srv.DeviceCount(); n != 2 {
		t.Errorf("devices = %d, want 2", n)
	}
}

func TestClearFaultsClearsMisbehavior(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.login()
	var calls atomic.Int32
	a.srv.Observe("GET /api/v1/product/version", func(int) { calls.Add(1) })
	a.call("GET", "/product/version", nil, 200, nil)
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: "GET /api/v1/product/version", Kind: wugtest.ErrorEnvelope, Times: 5})
	a.srv.SetMisbehaveRate("GET /api/v1/product/version", wugtest.NonJSON, 1, 1)
	if got := envelopes(a, 2); !cmp.Equal(got, []bool{true, true}) {
		t.Fatalf("queued envelopes = %v", got)
	}
	// A held answer is released by ClearFaults.
	a.srv.MisbehaveNext(wugtest.Misbehave{Route: applyRoute, Kind: wugtest.ApplyThenLate})
	done := make(chan error, 1)
	go func() {
		_, _, err := rawApply(context.Background(), a, "10.8.0.1")
		done <- err
	}()
	for a.srv.Count(applyRoute) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	a.srv.ClearFaults()
	if err := <-done; err != nil {
		t.Fatalf("held apply after ClearFaults: %v", err)
	}
	// The three queued envelopes left and the rate are gone, and so is
	// the observer.
	a.call("GET", "/product/version", nil, 200, nil)
	if n := calls.Load(); n != 1 {
		t.Errorf("observer called %d times, want once (before ClearFaults)", n)
	}
}

func TestMisbehaviorsBypassTheContractCheck(t *testing.T) {
	t.Parallel()
	k, err := wugtest.NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind         wugtest.Misbehavior
		method, path string
		body         string
	}{
		{wugtest.ErrorEnvelope, "PATCH", "/api/v1/devices/-/config/template", `{"templates":[]}`},
		{wugtest.NonJSON, "PATCH", "/api/v1/devices/-/config/template", `{"templates":[]}`},
		{wugtest.NumericIDs, "PATCH", "/api/v1/devices/-/config/template", `{"templates":[{"templateId":"t","displayName":"d","interfaces":[{"defaultInterface":true,"networkAddress":"10.9.0.1"}]}]}`},
		{wugtest.CorrectedSpelling, "PATCH", "/api/v1/devices/-/properties", `{"devices":["9999"],"note":"n"}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			// NewServer fails the test on any violation the fake reports.
			a := newAPI(t)
			a.srv.MisbehaveNext(wugtest.Misbehave{Route: tt.method + " " + tt.path, Kind: tt.kind})
			req, _ := http.NewRequest(tt.method, a.srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+a.login())
			resp, err := a.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			// The answer really is off the contract.
			if v := k.CheckExchange(req, []byte(tt.body), resp.StatusCode, resp.Header, got); len(v) == 0 {
				t.Errorf("%s answer %s passes the contract check", tt.kind, got)
			}
			if v := a.srv.Violations(); len(v) != 0 {
				t.Errorf("fake reported %q", v)
			}
		})
	}
}

func TestObserveConcurrent(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.login()
	const n = 20
	var mu sync.Mutex
	var seen []int
	a.srv.Observe(applyRoute, func(i int) {
		// At least i applies are in the fake when the i-th is observed.
		if c := a.srv.DeviceCount(); c < i {
			t.Errorf("observer %d ran with %d devices", i, c)
		}
		mu.Lock()
		seen = append(seen, i)
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, _, err := rawApply(context.Background(), a, fmt.Sprintf("10.10.0.%d", i+1)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.Sort(seen)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}
