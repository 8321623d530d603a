package wug_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/wugsync/wugsync/wug"
	"github.com/wugsync/wugsync/wug/wugtest"
)

func TestDoAgainstTheFake(t *testing.T) {
	t.Parallel()
	_, c := fake(t, nil)
	ctx := context.Background()

	// A create through Do: the fake's contract check sees the request.
	req, err := c.NewRequest("POST", "/device-groups/"+wug.RootGroupID+"/child", wug.NewGroup{Name: "via-do", GroupType: "static"})
	if err != nil {
		t.Fatal(err)
	}
	var made wug.Group
	if _, err := c.Do(ctx, req, &made); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b", "c"} {
		if _, err := c.Groups.CreateChild(ctx, wug.RootGroupID, name); err != nil {
			t.Fatal(err)
		}
	}

	// A list through Do, page by page, agrees with Groups.List.
	var got []string
	path := "/device-groups/-?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		req, err := c.NewRequest("GET", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Groups []wug.Group `json:"groups"`
		}
		res, err := c.Do(ctx, req, &page)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || len(page.Groups) > 2 {
			t.Fatalf("status %d, %d groups on a page of 2", res.StatusCode, len(page.Groups))
		}
		for _, g := range page.Groups {
			got = append(got, g.ID)
		}
		if res.Paging.NextPageID == "" {
			break
		}
		path = "/device-groups/-?limit=2&pageId=" + res.Paging.NextPageID
	}
	all, err := c.Groups.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, g := range all {
		want = append(want, g.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("group ids through Do (-want +got):\n%s", diff)
	}
	if !slices.Contains(got, made.ID) {
		t.Errorf("the group made through Do (%q) is not listed", made.ID)
	}
}

func TestDoRenewsTheTokenOnceOn401(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	m.handle("GET", "/product/whoAmI", 200, `{"data":"api-user"}`)
	c := m.client(t)
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.revoke(false) // WUG restarted and forgot the access token
	req, err := c.NewRequest("GET", "product/whoAmI", nil)
	if err != nil {
		t.Fatal(err)
	}
	var who string
	if _, err := c.Do(context.Background(), req, &who); err != nil {
		t.Fatal(err)
	}
	if who != mockUser {
		t.Errorf("who = %q", who)
	}
	if diff := cmp.Diff([]string{"password", "refresh_token"}, m.grantLog()); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	if n := m.calls("GET", "/product/whoAmI"); n != 2 {
		t.Errorf("whoAmI sent %d times, want 2: refused, then repeated once with the new token", n)
	}
}

func TestDoRenewsOnlyOnce(t *testing.T) {
	t.Parallel()
	m := newMockWUG(t)
	// WUG refuses every token for this endpoint, e.g. the user lost a right.
	m.mt.RegisterResponder("GET", mockBase+"/api/v1/product/whoAmI", httpmock.NewStringResponder(401, `{"message":"Authorization has been denied for this request."}`))
	c := m.client(t)
	req, err := c.NewRequest("GET", "/product/whoAmI", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), req, nil)
	if !errors.Is(err, wug.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if n := m.calls("GET", "/product/whoAmI"); n != 2 {
		t.Errorf("sent %d times, want 2: once, then once more with a renewed token", n)
	}
	if diff := cmp.Diff([]string{"password", "refresh_token"}, m.grantLog()); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
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
		unknown   bool // the failure matches ErrOutcomeUnknown
	}{
		{"POST not re-sent after 502", "POST", false, 502, 1, true},
		{"POST not re-sent after 500", "POST", false, 500, 1, true},
		{"PATCH not re-sent after 504", "PATCH", false, 504, 1, true},
		{"POST re-sent after 503, a refusal", "POST", false, 503, 4, false},
		{"POST marked safe re-sent after 502", "POST", true, 502, 4, false},
		{"GET re-sent after 502", "GET", false, 502, 4, false},
		{"PUT re-sent after 500", "PUT", false, 500, 4, false},
		{"POST refused with 409 not re-sent", "POST", false, 409, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle(tt.method, "/things/-", tt.status, `{"error":{"code":"E","message":"no"}}`)
			c := m.client(t)
			req, err := c.NewRequest(tt.method, "/things/-", map[string]string{"name": "x"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.safe {
				ctx = wug.SafeToRepeat(ctx)
			}
			_, err = c.Do(ctx, req, nil)
			var ae *wug.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tt.status {
				t.Fatalf("err = %v, want an *APIError with %d", err, tt.status)
			}
			if got := errors.Is(err, wug.ErrOutcomeUnknown); got != tt.unknown {
				t.Errorf("errors.Is(err, ErrOutcomeUnknown) = %v, want %v: %v", got, tt.unknown, err)
			}
			if n := m.calls(tt.method, "/things/-"); n != tt.wantCalls {
				t.Errorf("sent %d times, want %d", n, tt.wantCalls)
			}
			if !strings.HasPrefix(err.Error(), "wug: "+tt.method+" "+mockBase+"/api/v1/things/-: ") {
				t.Errorf("error text %q", err)
			}
		})
	}
}

func TestDoDecodesStrictly(t *testing.T) {
	t.Parallel()
	type thing struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name      string
		body      string
		into      bool // decode into a *thing rather than nil
		malformed string
	}{
		{"data", `{"data":{"name":"a"}}`, true, ""},
		{"no data", `{"paging":{"size":0}}`, true, `answer has no "data"`},
		{"error envelope", `{"error":{"code":"X","message":"bad"}}`, true, `answer is an "error" envelope`},
		{"error envelope, nothing wanted", `{"errors":["bad"]}`, false, `answer is an "errors" envelope`},
		{"not the promised shape", `{"data":[1,2]}`, true, "answer is not the promised"},
		{"empty, nothing wanted", ``, false, ""},
		{"not JSON", `<html>`, true, "answer is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMockWUG(t)
			m.handle("GET", "/things/1", 200, tt.body)
			c := m.client(t)
			req, err := c.NewRequest("GET", "/things/1", nil)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			var got thing
			if tt.into {
				v = &got
			}
			_, err = c.Do(context.Background(), req, v)
			var ae *wug.APIError
			switch {
			case tt.malformed == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.malformed != "" && (!errors.As(err, &ae) || !strings.Contains(ae.Malformed, tt.malformed)):
				t.Fatalf("err = %v, want an *APIError whose Malformed says %q", err, tt.malformed)
			case tt.malformed == "" && tt.into && got.Name != "a":
				t.Errorf("decoded %+v", got)
			}
		})
	}
}

func TestDoKeepsTheTokenToItsServer(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	m := newMockWUG(t)
	m.mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
		elsewhere.Add(1)
		return httpmock.NewStringResponse(200, `{"data":{}}`), nil
	})
	c := m.client(t)
	for _, ref := range []string{"https://evil.test/api/v1/devices", "//evil.test/x", "http://wug.test:9644/api/v1/devices"} {
		if _, err := c.NewRequest("GET", ref, nil); err == nil || !strings.Contains(err.Error(), "is not a path below") {
			t.Errorf("NewRequest(%q) = %v, want a refusal", ref, err)
		}
	}
	req, _ := http.NewRequest("GET", "https://evil.test/api/v1/devices", nil)
	if _, err := c.Do(context.Background(), req, nil); err == nil || !strings.Contains(err.Error(), "not on "+mockBase) {
		t.Errorf("Do to another server = %v, want a refusal", err)
	}
	if n := elsewhere.Load(); n != 0 || len(m.grantLog()) != 0 {
		t.Errorf("%d requests and %d logins for another server, want none", n, len(m.grantLog()))
	}
}

// An endpoint called by its path goes through the client's login,
// retries and strict decoding of WUG's envelope.
func ExampleClient_Do() {
	srv := wugtest.Start()
	defer srv.Close()
	c := srv.Client()

	req, err := c.NewRequest("GET", "/product/whoAmI", nil)
	if err != nil {
		log.Fatal(err)
	}
	var who string
	if _, err := c.Do(context.Background(), req, &who); err != nil {
		log.Fatal(err)
	}
	fmt.Println(who)
	// Output: admin
}
