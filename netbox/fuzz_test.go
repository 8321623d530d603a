package netbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// fuzzMaxBody is the body limit of the fuzzed handler.
const fuzzMaxBody = 1 << 16

// fuzzDeliver posts body with the given signature header (none when sig is
// empty) to a handler keyed with secret, and returns the status and what
// was emitted.
func fuzzDeliver(t *testing.T, secret string, body []byte, sig string) (int, []Event) {
	t.Helper()
	header := http.Header{}
	if sig != "" {
		header.Set(SignatureHeader, sig)
	}
	rec, got := deliver(t, WebhookConfig{Secret: secret, MaxBodyBytes: fuzzMaxBody, BaseURL: "https://netbox.example.com"}, body, header)
	if rec.Code >= 400 && len(bytes.TrimSpace(rec.Body.Bytes())) == 0 {
		t.Errorf("status %d without a reason", rec.Code)
	}
	return rec.Code, got
}

// flipHex changes one hex digit of sig at i (mod its length) to another.
func flipHex(sig string, i int) string {
	b := []byte(sig)
	i %= len(b)
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}

// FuzzWebhook sends arbitrary bodies under arbitrary secrets. A body signed
// with the secret is never refused for its signature; the same body with
// one signature digit or one body byte changed, or with no signature, is
// refused (403, 401) and emits nothing. Whatever the body, the handler
// answers 204 with exactly one well-formed event, 202 with none, or 400
// with none, and never panics.
func FuzzWebhook(f *testing.F) {
	f.Fuzz(func(t *testing.T, secret string, body []byte, at uint16) {
		if secret == "" {
			secret = "s"
		}
		if len(body) > fuzzMaxBody {
			if s, ev := fuzzDeliver(t, secret, body, ""); s != http.StatusRequestEntityTooLarge || len(ev) != 0 {
				t.Fatalf("oversized body: status %d, %d events; want 413 and none", s, len(ev))
			}
			return
		}
		sig := Sign([]byte(secret), body)
		status, events := fuzzDeliver(t, secret, body, sig)
		switch status {
		case http.StatusNoContent:
			if len(events) != 1 {
				t.Fatalf("204 with %d events", len(events))
			}
			checkEvent(t, body, events[0])
		case http.StatusAccepted, http.StatusBadRequest:
			if len(events) != 0 {
				t.Fatalf("%d with %d events: %+v", status, len(events), events)
			}
		default:
			t.Fatalf("signed body: status %d, want 204, 202 or 400; body %q", status, body)
		}

		if s, ev := fuzzDeliver(t, secret, body, flipHex(sig, int(at))); s != http.StatusForbidden || len(ev) != 0 {
			t.Errorf("signature with one digit changed: status %d, %d events; want 403 and none", s, len(ev))
		}
		if s, ev := fuzzDeliver(t, secret, body, ""); s != http.StatusUnauthorized || len(ev) != 0 {
			t.Errorf("no signature: status %d, %d events; want 401 and none", s, len(ev))
		}
		if len(body) > 0 {
			changed := bytes.Clone(body)
			changed[int(at)%len(changed)] ^= 1 << (at % 8)
			if s, ev := fuzzDeliver(t, secret, changed, sig); s != http.StatusForbidden || len(ev) != 0 {
				t.Errorf("body with one bit changed: status %d, %d events; want 403 and none", s, len(ev))
			}
		}
	})
}

// checkEvent checks an emitted event against the body it came from.
func checkEvent(t *testing.T, body []byte, ev Event) {
	t.Helper()
	switch ev.Action {
	case Created, Updated, Deleted:
	default:
		t.Fatalf("event action %q", ev.Action)
	}
	if ev.Kind != KindDevice && ev.Kind != KindVirtualMachine {
		t.Fatalf("event kind %q", ev.Kind)
	}
	if ev.ID <= 0 {
		t.Fatalf("event id %d", ev.ID)
	}
	if ev.Action == Deleted && ev.Device != nil {
		t.Fatalf("deleted event carries a device: %+v", ev.Device)
	}
	if d := ev.Device; d != nil && (d.ID != ev.ID || d.Kind != ev.Kind || d.Name != ev.Name) {
		t.Fatalf("event %s %d %q carries device %s %d %q", ev.Kind, ev.ID, ev.Name, d.Kind, d.ID, d.Name)
	}
	var head struct {
		Event string `json:"event"`
		Data  struct {
			ID int64 `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		t.Fatalf("emitted an event for a body encoding/json refuses: %v", err)
	}
	if Action(head.Event) != ev.Action || head.Data.ID != ev.ID {
		t.Fatalf("event %s %d, body says %q %d", ev.Action, ev.ID, head.Event, head.Data.ID)
	}
}

// TestWebhookRefusesDataAfterTheObject pins a FuzzWebhook finding: a body
// with a stray '}' or ']' after the object was taken as a valid delivery,
// because the decoder's More reports no further value for them.
func TestWebhookRefusesDataAfterTheObject(t *testing.T) {
	t.Parallel()
	const obj = `{"event":"updated","model":"device","data":{"id":1}}`
	for _, body := range []string{obj + "}", obj + "]", obj + " {}", obj + "\n}\n", obj + "x"} {
		rec, got := deliver(t, WebhookConfig{}, []byte(body), nil)
		if rec.Code != http.StatusBadRequest || len(got) != 0 || !strings.Contains(rec.Body.String(), "data after the object") {
			t.Errorf("body %q: %d %q with %d events; want 400 naming the data after the object, and none", body, rec.Code, rec.Body.String(), len(got))
		}
	}
	if rec, got := deliver(t, WebhookConfig{}, []byte(obj+" \r\n\t"), nil); rec.Code != http.StatusNoContent || len(got) != 1 {
		t.Errorf("white space after the object: %d with %d events; want 204 and one", rec.Code, len(got))
	}
}
