package netbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deliver posts body to a handler with the given secret and returns the
// response and what was emitted.
func deliver(t *testing.T, cfg WebhookConfig, body []byte, header http.Header) (*httptest.ResponseRecorder, []Event) {
	t.Helper()
	var got []Event
	h, err := NewWebhookHandler(cfg, func(_ context.Context, e Event) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/hooks/netbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, got
}

// reform rewrites the reference webhook body (NetBox 4.3 form) into
// another version's form.
func reform(t *testing.T, body []byte, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookReferencePayload(t *testing.T) {
	t.Parallel()
	ref := readTestdata(t, "webhook_device_updated.json")
	ip := IPAddress{ID: 101, Address: netip.MustParsePrefix("192.0.2.10/24")}
	want := Event{
		Action: Updated, Kind: KindDevice, ID: 42, Name: "ams1-edge-01",
		Timestamp: mustTime("2025-05-02T11:04:12.345678+00:00"),
		Username:  "netops", RequestID: "8d3c2b8e-4f3e-4a51-9a37-2f5b8e1c6d10",
		Device: &Device{
			Kind: KindDevice, ID: 42, Name: "ams1-edge-01", Display: "ams1-edge-01",
			URL:          "https://netbox.example.com/dcim/devices/42/",
			Site:         Ref{ID: 1, Name: "AMS1", Slug: "ams1"},
			Role:         Ref{ID: 2, Name: "Edge Router", Slug: "edge-router"},
			Platform:     Ref{ID: 4, Name: "Junos", Slug: "junos"},
			Manufacturer: Ref{ID: 3, Name: "Juniper", Slug: "juniper"},
			Model:        Ref{ID: 7, Name: "MX204", Slug: "mx204"},
			Serial:       "JN12AB34CDEF", AssetTag: "AT-000042", Status: "active", StatusLabel: "Active",
			Tags:         []Ref{{ID: 1, Name: "monitored", Slug: "monitored"}},
			CustomFields: map[string]any{"snmp_location": "AMS1", "ssh_port": float64(22)},
			PrimaryIPv4:  ip, IPs: []IPAddress{ip},
			LastUpdated: mustTime("2025-05-02T11:04:12.120411Z"),
		},
	}
	deleted := want
	deleted.Action, deleted.Device = Deleted, nil
	tests := []struct {
		name string
		body []byte
		want Event
	}{
		{"4.3 model", ref, want},
		{"4.4 model and object_type", reform(t, ref, func(m map[string]any) { m["object_type"] = "dcim.device" }), want},
		{"4.5 object_type", reform(t, ref, func(m map[string]any) { m["object_type"] = "dcim.device"; delete(m, "model") }), want},
		{"4.6 request object", reform(t, ref, func(m map[string]any) {
			m["object_type"] = "dcim.device"
			delete(m, "model")
			m["request"] = map[string]any{"id": "x", "method": "PATCH", "path": "/api/dcim/devices/42/", "user": "netops"}
		}), want},
		{"deleted", reform(t, ref, func(m map[string]any) { m["event"] = "deleted"; m["snapshots"].(map[string]any)["postchange"] = nil }), deleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := WebhookConfig{Secret: "s3cret", BaseURL: "https://netbox.example.com/"}
			rec, got := deliver(t, cfg, tt.body, http.Header{SignatureHeader: {Sign([]byte("s3cret"), tt.body)}})
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff([]Event{tt.want}, got, equatePrefix); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookRejects(t *testing.T) {
	t.Parallel()
	ref := readTestdata(t, "webhook_device_updated.json")
	sig := Sign([]byte("s3cret"), ref)
	tests := []struct {
		name   string
		cfg    WebhookConfig
		body   []byte
		header http.Header
		status int
		reason string
	}{
		{"no signature", WebhookConfig{Secret: "s3cret"}, ref, nil, 401, "missing X-Hook-Signature"},
		{"wrong secret", WebhookConfig{Secret: "other"}, ref, http.Header{SignatureHeader: {sig}}, 403, "does not match"},
		{"not hex", WebhookConfig{Secret: "s3cret"}, ref, http.Header{SignatureHeader: {"zz"}}, 403, "does not match"},
		{"body changed", WebhookConfig{Secret: "s3cret"}, append(bytes.Clone(ref), ' '), http.Header{SignatureHeader: {sig}}, 403, "does not match"},
		{"oversized", WebhookConfig{MaxBodyBytes: 100}, ref, nil, 413, "larger than 100 bytes"},
		{"malformed", WebhookConfig{}, []byte(`{"event": "updated",`), nil, 400, "malformed JSON"},
		{"trailing data", WebhookConfig{}, []byte(`{"event": "updated"} {}`), nil, 400, "malformed JSON"},
		{"no object type", WebhookConfig{}, []byte(`{"event": "updated", "data": {"id": 1}}`), nil, 400, "no model or object_type"},
		{"disagreeing forms", WebhookConfig{}, []byte(`{"event": "updated", "model": "device", "object_type": "virtualization.virtualmachine", "data": {"id": 1}}`), nil, 400, "disagree"},
		{"job event", WebhookConfig{}, []byte(`{"event": "job_started", "model": "device", "data": {"id": 1}}`), nil, 400, `unsupported event "job_started"`},
		{"no id", WebhookConfig{}, []byte(`{"event": "updated", "model": "device", "data": {"name": "x"}}`), nil, 400, "positive id"},
		{"text body", WebhookConfig{}, ref, http.Header{"Content-Type": {"text/plain"}}, 415, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, got := deliver(t, tt.cfg, tt.body, tt.header)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.reason) {
				t.Errorf("got %d %q, want %d with %q", rec.Code, rec.Body, tt.status, tt.reason)
			}
			if len(got) != 0 {
				t.Errorf("emitted %v", got)
			}
		})
	}
}

func TestWebhookIgnoresOtherObjectsAndKeepsUndecodable(t *testing.T) {
	t.Parallel()
	rec, got := deliver(t, WebhookConfig{}, []byte(`{"event": "updated", "model": "ipaddress", "object_type": "ipam.ipaddress", "data": {"id": 5}}`), nil)
	if rec.Code != http.StatusAccepted || len(got) != 0 {
		t.Errorf("IP address event: %d, emitted %v", rec.Code, got)
	}
	// A custom status choice decodes as a plain value.
	body := reform(t, readTestdata(t, "webhook_device_updated.json"), func(m map[string]any) {
		m["data"].(map[string]any)["status"] = map[string]any{"value": "maintenance", "label": "Maintenance"}
	})
	rec, got = deliver(t, WebhookConfig{}, body, nil)
	if rec.Code != http.StatusNoContent || len(got) != 1 || got[0].Device == nil ||
		got[0].Device.Status != "maintenance" || got[0].Device.StatusLabel != "Maintenance" {
		t.Errorf("custom status: %d, emitted %+v", rec.Code, got)
	}
	// Data that cannot be decoded: the event still names the device.
	body = reform(t, readTestdata(t, "webhook_device_updated.json"), func(m map[string]any) {
		m["data"].(map[string]any)["primary_ip4"] = map[string]any{"id": 101, "address": "192.0.2.300/24"}
	})
	rec, got = deliver(t, WebhookConfig{}, body, nil)
	if rec.Code != http.StatusNoContent || len(got) != 1 || got[0].ID != 42 || got[0].Device != nil {
		t.Errorf("undecodable data: %d, emitted %+v", rec.Code, got)
	}
}

func TestWebhookMethodAndEmitFailure(t *testing.T) {
	t.Parallel()
	h, err := NewWebhookHandler(WebhookConfig{}, func(context.Context, Event) error { return errors.New("queue full") })
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(readTestdata(t, "webhook_device_updated.json"))))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "queue full") {
		t.Errorf("emit failure: %d %q", rec.Code, rec.Body)
	}
	if _, err := NewWebhookHandler(WebhookConfig{}, nil); err == nil {
		t.Error("nil emit accepted")
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	// HMAC-SHA512 of "" keyed with "" (a published test value).
	const want = "b936cee86c9f87aa5d3c6f2e84cb5a4239a5fe50480a6ec66b70ab5b1f4ac6730c6c515421b327ec1d69402e53dfb49ad7381eb067b338fd7b0cb22247225d47"
	if got := Sign(nil, nil); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if len(Sign([]byte("k"), []byte("body"))) != 128 {
		t.Error("signature is not 128 hex characters")
	}
}
