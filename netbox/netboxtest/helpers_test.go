package netboxtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/wugsync/wugsync/netbox/netboxtest"
)

// addQuery is a RoundTripper that adds one query parameter, the way a
// client sends what go-netbox has no builder method for.
type addQuery struct {
	key, value string
	next       http.RoundTripper
}

func (a addQuery) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Add(a.key, a.value)
	r.URL.RawQuery = q.Encode()
	return a.next.RoundTrip(r)
}

// fetch GETs path (with query) from s with its token and returns the
// status and body.
func fetch(t testing.TB, s *netboxtest.Server, path string) (int, []byte) {
	t.Helper()
	return fetchAuth(t, s, path, "Token "+s.Token)
}

func fetchAuth(t testing.TB, s *netboxtest.Server, path, auth string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	return resp.StatusCode, b
}

// page is a paginated list body.
type page struct {
	Count    int               `json:"count"`
	Next     *string           `json:"next"`
	Previous *string           `json:"previous"`
	Results  []json.RawMessage `json:"results"`
}

// list GETs a list and decodes the envelope and each result's id.
func list(t testing.TB, s *netboxtest.Server, path string) (page, []int64) {
	t.Helper()
	status, b := fetch(t, s, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, status, b)
	}
	var p page
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	ids := make([]int64, 0, len(p.Results))
	for _, r := range p.Results {
		var x struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(r, &x); err != nil {
			t.Fatalf("GET %s: result: %v", path, err)
		}
		ids = append(ids, x.ID)
	}
	return p, ids
}
