package netbox_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/netbox/netboxtest"
)

func TestDoAgainstTheFake(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, []netboxtest.Option{netboxtest.WithDevices(10)})
	ctx := t.Context()

	var want []int64
	for _, d := range srv.Devices() {
		want = append(want, d.ID)
	}
	req, err := c.NewRequest("GET", "/api/dcim/devices/?ordering=id&limit=1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Count   int `json:"count"`
		Results []struct {
			ID int64 `json:"id"`
		} `json:"results"`
	}
	res, err := c.Do(ctx, req, &page)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range page.Results {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" || res.StatusCode != 200 || page.Count != len(want) {
		t.Errorf("status %d, count %d; device ids through Do (-want +got):\n%s", res.StatusCode, page.Count, diff)
	}

	// The token goes with Do's requests: a client with a wrong one is refused.
	bad, err := netbox.NewClient(srv.URL, strings.Repeat("f", 40))
	if err != nil {
		t.Fatal(err)
	}
	req, _ = bad.NewRequest("GET", "api/dcim/devices/", nil)
	if _, err := bad.Do(ctx, req, nil); !errors.Is(err, netbox.ErrTokenRefused) {
		t.Errorf("wrong token: %v, want ErrTokenRefused", err)
	}
}

func TestDoRepeats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		safe      bool
		status    int
		wantCalls int
	}{
		{"POST not re-sent after 502", "POST", false, 502, 1},
		{"PATCH not re-sent after 500", "PATCH", false, 500, 1},
		{"POST re-sent after 503, a refusal", "POST", false, 503, 3},
		{"POST marked safe re-sent after 502", "POST", true, 502, 3},
		{"GET re-sent after 502", "GET", false, 502, 3},
		{"DELETE re-sent after 500", "DELETE", false, 500, 3},
		{"POST refused with 400 not re-sent", "POST", false, 400, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var auth []string
			mt.RegisterResponder(tt.method, "https://nb.test/api/extras/journal-entries/", func(r *http.Request) (*http.Response, error) {
				auth = append(auth, r.Header.Get("Authorization"))
				return httpmock.NewStringResponse(tt.status, `{"detail":"no"}`), nil
			})
			c, err := netbox.NewClient("https://nb.test", "tok", netbox.WithBaseTransport(mt),
				netbox.WithRetry(netbox.RetryPolicy{MaxRetries: 2, WaitMin: 1, WaitMax: 2}))
			if err != nil {
				t.Fatal(err)
			}
			req, err := c.NewRequest(tt.method, "/api/extras/journal-entries/", map[string]any{"comments": "x"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.safe {
				ctx = netbox.SafeToRepeat(ctx)
			}
			_, err = c.Do(ctx, req, nil)
			var ae *netbox.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tt.status {
				t.Fatalf("err = %v, want an *APIError with %d", err, tt.status)
			}
			want := fmt.Sprintf("netbox: %s /api/extras/journal-entries/: ", tt.method)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want it to start %q", err, want)
			}
			if len(auth) != tt.wantCalls || auth[0] != "Token tok" {
				t.Errorf("sent %d times with %q, want %d with the token", len(auth), auth, tt.wantCalls)
			}
			if req.Header.Get("Authorization") != "" {
				t.Error("Do wrote the token into the caller's request")
			}
		})
	}
}

func TestDoKeepsTheTokenToItsServer(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := netbox.NewClient("https://nb.test/netbox", "tok", netbox.WithBaseTransport(mt))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"https://evil.test/api/", "//evil.test/api/", "http://nb.test/netbox/api/"} {
		if _, err := c.NewRequest("GET", ref, nil); err == nil || !strings.Contains(err.Error(), "is not a path below") {
			t.Errorf("NewRequest(%q) = %v, want a refusal", ref, err)
		}
	}
	req, _ := http.NewRequest("GET", "https://evil.test/api/", nil)
	if _, err := c.Do(context.Background(), req, nil); err == nil || !strings.Contains(err.Error(), "not on https://nb.test/netbox") {
		t.Errorf("Do to another server = %v, want a refusal", err)
	}
	if n := mt.GetTotalCallCount(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	req, _ = c.NewRequest("GET", "api/status/?x=1", nil)
	if got := req.URL.String(); got != "https://nb.test/netbox/api/status/?x=1" {
		t.Errorf("NewRequest URL %s, want it below the base path", got)
	}
}

// An endpoint called by its path goes through the client's token, rate
// limit and retries.
func ExampleClient_Do() {
	srv, err := netboxtest.Start(netboxtest.WithVersion("4.3.2"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()

	req, err := c.NewRequest("GET", "/api/status/", nil)
	if err != nil {
		log.Fatal(err)
	}
	var status struct {
		Version string `json:"netbox-version"`
	}
	if _, err := c.Do(context.Background(), req, &status); err != nil {
		log.Fatal(err)
	}
	fmt.Println(status.Version)
	// Output: 4.3.2
}

func TestDoFailsClosedOnAnAnswerOfAnotherShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
	}{
		{"a list for an object", `[1,2]`},
		{"not JSON", `<html>`},
		{"empty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			mt.RegisterNoResponder(httpmock.NewStringResponder(200, tt.body))
			c, err := netbox.NewClient("https://nb.test", "tok", netbox.WithBaseTransport(mt))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := c.NewRequest("GET", "/api/dcim/sites/1/", nil)
			var site struct {
				ID int64 `json:"id"`
			}
			_, err = c.Do(t.Context(), req, &site)
			if err == nil || !strings.HasPrefix(err.Error(), "netbox: GET /api/dcim/sites/1/: answer is not the promised") {
				t.Errorf("err = %v, want a decoding error naming the request", err)
			}
		})
	}
}
