package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
)

// bodyFuzzConfig has one connection with export disabled, so a request
// that passes every check of the body ends at the trigger's "disabled"
// answer instead of starting a run.
const bodyFuzzConfig = `
api_token: {env: API_TOKEN}
netbox: {url: "https://netbox.example.com", token: {env: NB_TOKEN}}
store: {sqlite_path: unused.db}
connections:
  - id: "2"
    name: off
    enable_netbox_export: false
    wug: {url: "https://wug.example.com:9644", username: admin, password: {env: WUG_PW}}
`

// fuzzService returns the handler of a service on bodyFuzzConfig and its
// memory store.
func fuzzService(f testing.TB) (http.Handler, store.Store) {
	cfg, err := ParseConfig([]byte(bodyFuzzConfig), env(map[string]string{"API_TOKEN": testToken, "NB_TOKEN": "nb", "WUG_PW": "pw"}))
	if err != nil {
		f.Fatal(err)
	}
	st := memory.New()
	f.Cleanup(func() { st.Close() })
	svc, err := newService(cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	return svc.handler(), st
}

// disabledReason is the start of the answer to a request that passed every
// check of its body.
const disabledReason = "NetBox export is disabled for connection"

// FuzzRequestBodies posts arbitrary bodies to the two endpoints that take
// one (export and bulk export). Every answer is 400, 404 or 413 with a JSON
// reason, no run starts, a body that is not JSON is refused as such, and a
// body that passes every check holds what the endpoint needs: valid JSON,
// and for a bulk export a known connection and at least one address, each
// of which parses.
func FuzzRequestBodies(f *testing.F) {
	h, st := fuzzService(f)

	f.Fuzz(func(t *testing.T, bulk bool, body []byte) {
		path := apiPrefix + "connections/off/export/"
		if bulk {
			path = bulkExportPath
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Token "+testToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		var ans map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans["reason"] == "" || ans["reason"] != ans["detail"] {
			t.Fatalf("%s: %d answer %q is not a JSON reason (%v)", path, rec.Code, rec.Body.Bytes(), err)
		}
		reason := ans["reason"]
		switch rec.Code {
		case http.StatusBadRequest, http.StatusNotFound:
		case http.StatusRequestEntityTooLarge:
			if len(body) <= maxAPIBody {
				t.Fatalf("%s: 413 for a %d-byte body", path, len(body))
			}
		default:
			t.Fatalf("%s: status %d (%s), want 400, 404 or 413", path, rec.Code, reason)
		}
		blank := len(bytes.TrimSpace(body)) == 0
		if !blank && !json.Valid(body) && len(body) <= maxAPIBody && !strings.HasPrefix(reason, "invalid JSON body") {
			t.Fatalf("%s: body %q is not JSON, but the reason is %q", path, body, reason)
		}
		if strings.HasPrefix(reason, disabledReason) {
			checkAcceptedBody(t, bulk, blank, body)
		}
		if runs, err := st.Runs(context.Background(), store.RunQuery{}); err != nil || len(runs) != 0 {
			t.Fatalf("%d runs started (%v)", len(runs), err)
		}
	})
}

// checkAcceptedBody checks a body the service passed on to the trigger.
func checkAcceptedBody(t *testing.T, bulk, blank bool, body []byte) {
	t.Helper()
	if blank {
		if bulk {
			t.Fatalf("bulk export accepted an empty body")
		}
		return
	}
	if !json.Valid(body) {
		t.Fatalf("accepted a body that is not JSON: %q", body)
	}
	if !bulk {
		return
	}
	var req struct {
		Connection   any      `json:"connection"`
		ConnectionID any      `json:"connection_id"`
		Addresses    []string `json:"addresses"`
		IPAddresses  []string `json:"ip_addresses"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("accepted bulk body %q that does not decode: %v", body, err)
	}
	id := req.Connection
	if id == nil {
		id = req.ConnectionID
	}
	switch id {
	case "2", "off", 2.0:
	default:
		t.Fatalf("accepted bulk body %q for connection %v", body, id)
	}
	addrs := append(req.Addresses, req.IPAddresses...)
	if len(addrs) == 0 {
		t.Fatalf("accepted bulk body %q without addresses", body)
	}
	for _, a := range addrs {
		if _, err := parseAddress(a); err != nil {
			t.Fatalf("accepted bulk body %q with address %q: %v", body, a, err)
		}
	}
}

// Planted secrets for FuzzParseConfig: one written in the file where a
// secret belongs, one in every environment variable the file names. Both
// look like nothing the configuration's errors could say by themselves.
const (
	plantedFileSecret = "Zq8vK3mPw2xR7tLn"
	plantedEnvSecret  = "Hb4cJ9sWd6yF1gQe"
	secretPlaceholder = "$SECRET"
)

// secretKeys are the configuration keys whose value is a secret.
var secretKeys = map[string]bool{"api_token": true, "webhook_secret": true, "token": true, "password": true, "postgres_dsn": true}

// FuzzParseConfig reads arbitrary YAML as the service's configuration. It
// never panics; an accepted configuration is complete (secrets resolved,
// connection names and ids usable in the API); and an error never echoes
// a secret: neither one read from the environment nor one written by
// mistake in plain text where a secret reference belongs (the fuzzed text's
// "$SECRET" is replaced by a planted secret before parsing).
func FuzzParseConfig(f *testing.F) {
	getenv := func(name string) string {
		if strings.HasPrefix(name, "EMPTY") {
			return ""
		}
		return plantedEnvSecret
	}
	f.Fuzz(func(t *testing.T, text string) {
		doc := strings.ReplaceAll(text, secretPlaceholder, plantedFileSecret)
		var root yaml.Node
		parsed := yaml.NewDecoder(strings.NewReader(doc)).Decode(&root) == nil
		if parsed && readsUnsafeFile(&root) {
			return // a secret file outside the package directory could be /dev/zero
		}
		cfg, err := ParseConfig([]byte(doc), getenv)
		if err == nil {
			checkConfig(t, cfg)
			return
		}
		if leak := echoed(err.Error(), plantedEnvSecret, text); leak != "" {
			t.Fatalf("error %q echoes %q of a secret read from the environment", err, leak)
		}
		if parsed && strings.Count(doc, plantedFileSecret) > 0 && strings.Count(doc, plantedFileSecret) == secretUses(&root, "") {
			if leak := echoed(err.Error(), plantedFileSecret, text); leak != "" {
				t.Fatalf("error %q echoes %q of a secret written in the file", err, leak)
			}
		}
	})
}

// echoed returns a piece (five characters or more) of secret that msg
// holds and the fuzzed text does not, or "".
func echoed(msg, secret, text string) string {
	for i := 0; i+5 <= len(secret); i++ {
		if p := secret[i : i+5]; strings.Contains(msg, p) && !strings.Contains(text, p) {
			return p
		}
	}
	return ""
}

// secretUses counts the planted file secret in scalar values written under
// a secret key (key is the nearest mapping key above n). It returns -1
// when the secret may also appear anywhere else (a key, another value, a
// tag, a comment, through an alias), where echoing it is no leak.
func secretUses(n *yaml.Node, key string) int {
	other := strings.Contains(n.Anchor, plantedFileSecret) || strings.Contains(n.Tag, plantedFileSecret) ||
		strings.Contains(n.HeadComment+n.LineComment+n.FootComment, plantedFileSecret)
	if other {
		return -1
	}
	switch n.Kind {
	case yaml.ScalarNode:
		c := strings.Count(n.Value, plantedFileSecret)
		if c > 0 && !secretKeys[key] {
			return -1
		}
		return c
	case yaml.MappingNode:
		total := 0
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || secretUses(k, "") != 0 {
				return -1
			}
			c := secretUses(v, k.Value)
			if c < 0 {
				return -1
			}
			total += c
		}
		return total
	case yaml.AliasNode:
		return -1 // the anchored value may land anywhere
	}
	total := 0
	for _, c := range n.Content {
		u := secretUses(c, key)
		if u < 0 {
			return -1
		}
		total += u
	}
	return total
}

// readsUnsafeFile reports whether the document may name a secret file
// other than a plain name in the package directory (or hides what it names
// behind a merge key or an alias).
func readsUnsafeFile(n *yaml.Node) bool {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				return true
			}
			if strings.EqualFold(k.Value, "file") && (v.Kind != yaml.ScalarNode || strings.ContainsAny(v.Value, `/\`) || strings.HasPrefix(v.Value, ".")) {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if readsUnsafeFile(c) {
			return true
		}
	}
	return false
}

// checkConfig checks an accepted configuration is complete.
func checkConfig(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg.APIToken.Value() == "" || cfg.NetBox.Token.Value() == "" || cfg.WebhookSecret.IsSet() != (cfg.WebhookSecret.Value() != "") {
		t.Fatalf("accepted with a secret unresolved: %+v", cfg)
	}
	if len(cfg.Connections) == 0 {
		t.Fatal("accepted without connections")
	}
	seen := map[string]int{}
	for i, cc := range cfg.Connections {
		if cc.Name == "" || cc.ID == "" || strings.ContainsAny(cc.Name, "/ ") || strings.Contains(cc.ID, "/") {
			t.Fatalf("connection %d: name %q, id %q", i, cc.Name, cc.ID)
		}
		if cc.WUG.Password.Value() == "" || cc.Interval() <= 0 || cc.EnableNetBoxExport == nil {
			t.Fatalf("connection %d (%s) incomplete: %+v", i, cc.Name, cc)
		}
		for _, k := range []string{cc.Name, cc.ID} {
			if j, dup := seen[k]; dup && j != i {
				t.Fatalf("connections %d and %d are both called %q", j, i, k)
			}
			seen[k] = i
		}
	}
}

// FuzzIPExportsQuery lists the records of a small store with arbitrary
// query strings. Every answer is 200, 400 or 404 with JSON; a page holds at
// most limit results, exactly those after offset; and its next link moves
// forward and its previous link back, so a client following them stops.
func FuzzIPExportsQuery(f *testing.F) {
	h, st := fuzzService(f)
	var recs []store.Record
	for i := range 7 {
		recs = append(recs, store.Record{
			Key:        store.Key{Connection: "off", Address: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})},
			ObjectKind: store.ObjectDevice, ObjectID: int64(100 + i%2), Status: []store.Status{store.StatusExported, store.StatusError}[i%2],
		})
	}
	if err := st.UpsertRecords(context.Background(), recs); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, query string) {
		req, err := http.NewRequest(http.MethodGet, "http://wugsync.example.com"+ipExportsPath+"?"+query, nil)
		if err != nil {
			return // not a URL a client could send
		}
		req.Header.Set("Authorization", "Token "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusBadRequest, http.StatusNotFound:
			var ans map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans["reason"] == "" {
				t.Fatalf("?%s: %d answer %q is not a JSON reason", query, rec.Code, rec.Body.Bytes())
			}
			return
		case http.StatusOK:
		default:
			t.Fatalf("?%s: status %d: %s", query, rec.Code, rec.Body.Bytes())
		}
		var p struct {
			Count    int               `json:"count"`
			Next     *string           `json:"next"`
			Previous *string           `json:"previous"`
			Results  []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("?%s: page does not decode: %v", query, err)
		}
		limit, offset := pageOf(t, req.URL.String())
		if want := min(limit, max(0, p.Count-offset)); len(p.Results) != want {
			t.Fatalf("?%s: %d results of %d at offset %d, limit %d; want %d", query, len(p.Results), p.Count, offset, limit, want)
		}
		if p.Next != nil {
			if _, next := pageOf(t, *p.Next); next <= offset || next >= p.Count {
				t.Fatalf("?%s: offset %d of %d: next link %q does not move forward", query, offset, p.Count, *p.Next)
			}
		}
		if p.Previous != nil {
			if _, prev := pageOf(t, *p.Previous); prev >= offset {
				t.Fatalf("?%s: offset %d: previous link %q does not move back", query, offset, *p.Previous)
			}
		}
	})
}

// pageOf returns the limit and offset a page URL asks for, with the
// service's defaults and cap.
func pageOf(t *testing.T, link string) (limit, offset int) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	q := u.Query()
	limit = defaultPageLimit
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			t.Fatalf("link %q: limit: %v", link, err)
		}
		if limit == 0 || limit > maxPageLimit {
			limit = maxPageLimit
		}
	}
	if s := q.Get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil {
			t.Fatalf("link %q: offset: %v", link, err)
		}
	}
	return limit, offset
}

// TestBodyRefusesDataAfterTheValue pins a FuzzRequestBodies finding: a
// body with a stray '}' or ']' after the JSON value was accepted, because
// the decoder's More reports no further value for them.
func TestBodyRefusesDataAfterTheValue(t *testing.T) {
	t.Parallel()
	h, _ := fuzzService(t)
	for _, body := range []string{`{"device_filters": {}}}`, `{}]`, `{} {}`, `{} x`} {
		req := httptest.NewRequest(http.MethodPost, apiPrefix+"connections/off/export/", strings.NewReader(body))
		req.Header.Set("Authorization", "Token "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "data after the JSON value") {
			t.Errorf("body %q: %d %s; want 400 naming the data after the JSON value", body, rec.Code, rec.Body.String())
		}
	}
}
