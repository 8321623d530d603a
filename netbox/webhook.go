package netbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SignatureHeader is the header in which NetBox sends a webhook body's
// signature when the webhook has a secret.
const SignatureHeader = "X-Hook-Signature"

// DefaultMaxWebhookBody is the largest webhook body accepted unless
// WebhookConfig.MaxBodyBytes says otherwise.
const DefaultMaxWebhookBody = 1 << 20

// Action is what happened to the object of an Event.
type Action string

// Event actions, as NetBox names them.
const (
	Created Action = "created"
	Updated Action = "updated"
	Deleted Action = "deleted"
)

// Event is one NetBox change to a device or virtual machine.
type Event struct {
	Action Action
	Kind   Kind
	ID     int64
	Name   string // the object's name (the last one, for Deleted)
	// Device is the object after the change, built from the webhook's
	// data; nil for Deleted, or when NetBox sent data that cannot be
	// decoded (fetch it by ID then). Its IPs hold only the primary and
	// out-of-band addresses, and Region is empty: a webhook does not carry
	// them.
	Device    *Device
	Timestamp time.Time
	Username  string // who made the change, when NetBox says
	RequestID string // NetBox's change request id, when NetBox says
}

// WebhookConfig configures a WebhookHandler.
type WebhookConfig struct {
	// Secret is the webhook's secret in NetBox. When set, every request
	// must carry a valid X-Hook-Signature; when empty, none is checked.
	Secret string
	// MaxBodyBytes limits the body; 0 means DefaultMaxWebhookBody.
	MaxBodyBytes int64
	// BaseURL is the NetBox base URL, used to make the relative UI URLs of
	// webhook data absolute. Empty leaves them relative.
	BaseURL string
	// Logger receives a record for each ignored or rejected delivery;
	// nil is silent.
	Logger *slog.Logger
}

// WebhookHandler is an http.Handler for NetBox event rules with a webhook
// action (POST, JSON body). It accepts the NetBox 4.3 to 4.5 body forms,
// which name the object with "model" (4.3), "object_type" (4.5) or both
// (4.4), and passes device and virtual machine events to its emit
// function. It answers 204 when the event was emitted, 202 for events it
// ignores (other object types), and 4xx with a reason, emitting nothing,
// for a bad signature, an oversized body or malformed JSON.
type WebhookHandler struct {
	secret  []byte
	maxBody int64
	base    *url.URL
	logger  *slog.Logger
	emit    func(context.Context, Event) error
}

// NewWebhookHandler returns a handler that calls emit for each event. An
// error from emit is answered with 503, so the NetBox job shows as failed.
func NewWebhookHandler(cfg WebhookConfig, emit func(context.Context, Event) error) (*WebhookHandler, error) {
	if emit == nil {
		return nil, errors.New("netbox: webhook handler: nil emit function")
	}
	h := &WebhookHandler{secret: []byte(cfg.Secret), maxBody: cfg.MaxBodyBytes, logger: cfg.Logger, emit: emit}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxWebhookBody
	}
	if h.maxBody < 0 {
		return nil, fmt.Errorf("netbox: webhook handler: MaxBodyBytes %d is negative", h.maxBody)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("netbox: webhook handler: BaseURL %q is not an absolute URL", cfg.BaseURL)
		}
		h.base = u
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// EmitTo returns an emit function that sends events to ch, waiting until
// ch takes the event or the request ends.
func EmitTo(ch chan<- Event) func(context.Context, Event) error {
	return func(ctx context.Context, e Event) error {
		select {
		case ch <- e:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Sign returns the X-Hook-Signature NetBox sends for body: the lowercase
// hex HMAC-SHA512 of the body keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha512.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// webhookError is a rejected delivery: its status and reason.
type webhookError struct {
	status int
	reason string
}

func (e *webhookError) Error() string { return e.reason }

func reject(status int, format string, args ...any) *webhookError {
	return &webhookError{status: status, reason: fmt.Sprintf(format, args...)}
}

// ServeHTTP checks, decodes and emits one delivery.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, ok, werr := h.read(w, r)
	if werr != nil {
		h.logger.WarnContext(r.Context(), "netbox webhook rejected", "status", werr.status, "reason", werr.reason)
		http.Error(w, werr.reason, werr.status)
		return
	}
	if !ok {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := h.emit(r.Context(), ev); err != nil {
		h.logger.WarnContext(r.Context(), "netbox webhook event not taken", "kind", ev.Kind, "id", ev.ID, "error", err)
		http.Error(w, "event not taken: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// webhookBody is the default NetBox 4.3–4.6 webhook body.
type webhookBody struct {
	Event      string          `json:"event"`
	Timestamp  string          `json:"timestamp"`
	Model      string          `json:"model"`       // 4.3, 4.4
	ObjectType string          `json:"object_type"` // 4.4+
	Username   string          `json:"username"`
	RequestID  *string         `json:"request_id"`
	Data       json.RawMessage `json:"data"`
}

// read returns the event, or ok=false for a delivery to ignore, or the
// reason to reject it.
func (h *WebhookHandler) read(w http.ResponseWriter, r *http.Request) (Event, bool, *webhookError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return Event{}, false, reject(http.StatusMethodNotAllowed, "method %s not allowed; NetBox webhooks use POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return Event{}, false, reject(http.StatusUnsupportedMediaType, "content type %q is not JSON", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return Event{}, false, reject(http.StatusRequestEntityTooLarge, "body larger than %d bytes", h.maxBody)
		}
		return Event{}, false, reject(http.StatusBadRequest, "reading body: %v", err)
	}
	if len(h.secret) > 0 {
		sig := r.Header.Get(SignatureHeader)
		if sig == "" {
			return Event{}, false, reject(http.StatusUnauthorized, "missing %s header", SignatureHeader)
		}
		got, err := hex.DecodeString(strings.TrimSpace(sig))
		want, _ := hex.DecodeString(Sign(h.secret, body))
		if err != nil || !hmac.Equal(got, want) {
			return Event{}, false, reject(http.StatusForbidden, "%s does not match the body", SignatureHeader)
		}
	}
	var p webhookBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return Event{}, false, reject(http.StatusBadRequest, "malformed JSON: %v", err)
	}
	// dec.More is false for a stray '}' or ']', so look at the rest itself.
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return Event{}, false, reject(http.StatusBadRequest, "malformed JSON: data after the object")
	}
	kind, known, werr := payloadKind(p.Model, p.ObjectType)
	if werr != nil {
		return Event{}, false, werr
	}
	if !known {
		h.logger.DebugContext(r.Context(), "netbox webhook ignored", "model", p.Model, "object_type", p.ObjectType)
		return Event{}, false, nil
	}
	ev := Event{Action: Action(p.Event), Kind: kind, Username: p.Username}
	switch ev.Action {
	case Created, Updated, Deleted:
	default:
		return Event{}, false, reject(http.StatusBadRequest, "unsupported event %q", p.Event)
	}
	if p.RequestID != nil {
		ev.RequestID = *p.RequestID
	}
	if p.Timestamp != "" {
		if ev.Timestamp, err = time.Parse(time.RFC3339Nano, p.Timestamp); err != nil {
			return Event{}, false, reject(http.StatusBadRequest, "timestamp %q is not RFC 3339", p.Timestamp)
		}
	}
	var head struct {
		ID   *int64 `json:"id"`
		Name string `json:"name"`
	}
	if len(p.Data) == 0 || json.Unmarshal(p.Data, &head) != nil || head.ID == nil || *head.ID <= 0 {
		return Event{}, false, reject(http.StatusBadRequest, "data is not an object with a positive id")
	}
	ev.ID, ev.Name = *head.ID, head.Name
	if ev.Action == Deleted {
		return ev, true, nil
	}
	d, err := h.decodeData(kind, p.Data)
	if err != nil {
		// Valid JSON of an unexpected shape (a field of another type, an
		// address that does not parse): pass the event on without a
		// snapshot so the receiver can fetch the object.
		h.logger.WarnContext(r.Context(), "netbox webhook data not decodable", "kind", kind, "id", ev.ID, "error", err)
		return ev, true, nil
	}
	ev.Device, ev.Name = &d, d.Name
	return ev, true, nil
}

// payloadKind maps the body's model (4.3, 4.4) and object_type (4.4+) to a
// Kind; known is false for other objects.
func payloadKind(model, objectType string) (kind Kind, known bool, werr *webhookError) {
	byModel := map[string]Kind{"device": KindDevice, "virtualmachine": KindVirtualMachine}
	byType := map[string]Kind{"dcim.device": KindDevice, "virtualization.virtualmachine": KindVirtualMachine}
	switch {
	case model == "" && objectType == "":
		return "", false, reject(http.StatusBadRequest, "body names no model or object_type")
	case model != "" && objectType != "":
		km, okm := byModel[model]
		kt, okt := byType[objectType]
		if okm != okt || km != kt || !strings.HasSuffix(objectType, "."+model) {
			return "", false, reject(http.StatusBadRequest, "model %q and object_type %q disagree", model, objectType)
		}
		return kt, okt, nil
	case objectType != "":
		kind, known = byType[objectType]
	default:
		kind, known = byModel[model]
	}
	return kind, known, nil
}

// decodeData converts webhook data (the API rendering, with relative URLs
// and no config context) with the list decoder into a Device, adding the
// primary and out-of-band addresses to its IPs.
func (h *WebhookHandler) decodeData(kind Kind, data json.RawMessage) (Device, error) {
	d, err := decodeObject(kind, data, h.base)
	if err != nil {
		return Device{}, err
	}
	d.IPs = d.ChooseIPs(AllIPs)
	return d, nil
}
