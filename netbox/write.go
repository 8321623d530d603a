package netbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/wugsync/wugsync/internal/httpx"
)

// DefaultWritePageSize is how many objects one bulk write carries unless
// the caller says otherwise. NetBox saves a bulk write's objects one by one
// in one transaction, with a change-log entry each, so pages far below
// MaxPageSize keep a request well inside NetBox's 120 s worker timeout.
const DefaultWritePageSize = 100

// writePageSize checks a bulk write's page size; 0 means
// DefaultWritePageSize.
func writePageSize(n int) (int, error) {
	switch {
	case n < 0 || n > MaxPageSize:
		return 0, fmt.Errorf("page size %d is outside 0..%d", n, MaxPageSize)
	case n == 0:
		return DefaultWritePageSize, nil
	}
	return n, nil
}

// ObjectRef names one NetBox device or virtual machine.
type ObjectRef struct {
	Kind Kind
	ID   int64
}

// objectType is the NetBox content type of the kind, as custom fields and
// journal entries name it.
func (k Kind) objectType() string {
	if k == KindVirtualMachine {
		return ObjectTypeVirtualMachine
	}
	return ObjectTypeDevice
}

// listPath is the API list endpoint of the kind.
func (k Kind) listPath() string {
	if k == KindVirtualMachine {
		return "/api/virtualization/virtual-machines/"
	}
	return "/api/dcim/devices/"
}

// checkRef reports what NetBox could not take about r.
func checkRef(r ObjectRef) error {
	switch {
	case r.Kind != KindDevice && r.Kind != KindVirtualMachine:
		return fmt.Errorf("unknown kind %q", r.Kind)
	case r.ID <= 0 || r.ID > 1<<31-1:
		return fmt.Errorf("%d is not a valid NetBox id", r.ID)
	}
	return nil
}

// WriteResult reports what a bulk write did.
type WriteResult struct {
	// Requests is the number of write requests sent: for each kind,
	// ⌈objects / page size⌉, or fewer when a request failed in a way that
	// stops the rest.
	Requests int
	// Written lists the objects NetBox confirmed, in request order.
	Written []ObjectRef
	// Failed lists the objects NetBox did not write, with the reason.
	Failed []WriteFailure
}

// WriteFailure is a group of objects one write did not change.
type WriteFailure struct {
	Kind Kind
	IDs  []int64
	Err  error
}

// Error names the objects and the reason.
func (f WriteFailure) Error() string {
	return fmt.Sprintf("%s ids %v: %v", f.Kind, f.IDs, f.Err)
}

// Unwrap returns the reason.
func (f WriteFailure) Unwrap() error { return f.Err }

// err joins the failures, or returns nil when there are none.
func (r *WriteResult) err(op string) error {
	if len(r.Failed) == 0 {
		return nil
	}
	errs := make([]error, len(r.Failed))
	for i, f := range r.Failed {
		errs[i] = f
	}
	return fmt.Errorf("netbox: %s: %w", op, errors.Join(errs...))
}

// ErrNotUpdated is the reason given for objects a bulk write named but
// NetBox's answer did not include: NetBox skips ids that do not exist or
// that the token may not change, without an error.
var ErrNotUpdated = errors.New("netbox left the object out of its answer: it does not exist or the token may not change it")

// stopsRun reports whether a failed write request means the requests after
// it would fail too: anything but NetBox refusing that request's data (400)
// or a missing object (404).
func stopsRun(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode != http.StatusBadRequest && ae.StatusCode != http.StatusNotFound
	}
	return true
}

// send sends method <base><path> with a JSON body through the HTTP stack,
// marked with repeat for the retry layer, and returns the 2xx answer's
// JSON; any other answer is an *APIError. Errors name op.
func (c *Client) send(ctx context.Context, op, method, path string, body []byte, repeat httpx.Repeat) ([]byte, error) {
	req, err := http.NewRequestWithContext(httpx.WithRepeat(ctx, repeat), method, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("netbox: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	var ans []byte
	_, err = c.exchange(req, func(dec *jsontext.Decoder) error {
		v, err := dec.ReadValue()
		ans = bytes.Clone(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netbox: %s: %w", op, err)
	}
	return ans, nil
}

// answerIDs reads the ids of a bulk write's answer, a JSON list of
// objects; an answer of another shape is an error.
func answerIDs(b []byte) ([]int64, error) {
	var items []struct {
		ID *int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("answer is not a list of objects: %w", err)
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		if it.ID == nil {
			return nil, fmt.Errorf("answer item %d has no id", i)
		}
		ids[i] = *it.ID
	}
	return ids, nil
}

// byKind splits refs into devices and virtual machines, keeping order.
func byKind[T any](items []T, kind func(T) Kind) [2][]T {
	var out [2][]T
	for _, it := range items {
		if kind(it) == KindVirtualMachine {
			out[1] = append(out[1], it)
		} else {
			out[0] = append(out[0], it)
		}
	}
	return out
}

// pages calls fn with consecutive pages of at most size items.
func pages[T any](items []T, size int, fn func([]T) bool) {
	for start := 0; start < len(items); start += size {
		if !fn(items[start:min(start+size, len(items))]) {
			return
		}
	}
}

// confirm records the outcome of one bulk write of ids: the ids NetBox
// answered with are written, the others failed with ErrNotUpdated.
func (r *WriteResult) confirm(kind Kind, sent, answered []int64) {
	got := make(map[int64]bool, len(answered))
	for _, id := range answered {
		got[id] = true
	}
	var missing []int64
	for _, id := range sent {
		if got[id] {
			r.Written = append(r.Written, ObjectRef{Kind: kind, ID: id})
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		r.Failed = append(r.Failed, WriteFailure{Kind: kind, IDs: missing, Err: ErrNotUpdated})
	}
}

// FieldUpdate is the custom-field values one object should have after a
// write: the named fields are set, a nil value clears one, others are left
// as they are. Values are JSON scalars: string, bool, integers, float64.
type FieldUpdate struct {
	ObjectRef
	Fields map[string]any
}

// validate reports what NetBox could not take about u.
func (u *FieldUpdate) validate() error {
	if err := checkRef(u.ObjectRef); err != nil {
		return err
	}
	if len(u.Fields) == 0 {
		return errors.New("no custom field to write")
	}
	for name, v := range u.Fields {
		if !cfRE.MatchString(name) {
			return fmt.Errorf("%q is not a custom field name", name)
		}
		switch v.(type) {
		case nil, string, bool, int, int32, int64, float64, json.Number:
		default:
			return fmt.Errorf("custom field %q: a %T is not a value NetBox stores", name, v)
		}
	}
	return nil
}

// UpdateCustomFields writes custom-field values with NetBox's bulk PATCH:
// PATCH /api/dcim/devices/ and PATCH /api/virtualization/virtual-machines/
// with a list body ([{"id": N, "custom_fields": {…}}]), pageSize objects
// per request (DefaultWritePageSize when 0), so for each kind it sends
// ⌈objects / pageSize⌉ requests. The caller passes only what changed; an
// empty list sends nothing. Bodies are go-netbox's
// PatchedWritableDeviceWithConfigContextRequest and
// PatchedWritableVirtualMachineWithConfigContextRequest.
//
// NetBox applies each request whole or not at all. A request it refuses
// (400: an unknown custom field, a value of the wrong type) fails its
// objects and the others go on; one that fails otherwise (403, 5xx, the
// network) stops the write. An update that cannot be sent (a bad id or
// field name) fails alone. Objects NetBox leaves out of its answer fail
// with ErrNotUpdated. The error joins every failure; the result lists them
// too. Setting absolute values is idempotent, so the HTTP layer may repeat
// a request after a lost answer.
//
// The token needs dcim.view_device and dcim.change_device (and the
// virtualization.*_virtualmachine pair for virtual machines) and write
// access.
func (c *Client) UpdateCustomFields(ctx context.Context, updates []FieldUpdate, pageSize int) (WriteResult, error) {
	const op = "update custom fields"
	var res WriteResult
	pageSize, err := writePageSize(pageSize)
	if err != nil {
		return res, fmt.Errorf("netbox: %s: %w", op, err)
	}
	seen := make(map[ObjectRef]bool, len(updates))
	ok := updates[:0:0]
	for _, u := range updates {
		err := u.validate()
		if err == nil && seen[u.ObjectRef] {
			err = errors.New("named twice")
		}
		if err != nil {
			res.Failed = append(res.Failed, WriteFailure{Kind: u.Kind, IDs: []int64{u.ID}, Err: err})
			continue
		}
		seen[u.ObjectRef] = true
		ok = append(ok, u)
	}
	stopped := false
	for _, group := range byKind(ok, func(u FieldUpdate) Kind { return u.Kind }) {
		pages(group, pageSize, func(page []FieldUpdate) bool {
			if stopped {
				return false
			}
			kind := page[0].Kind
			ids := make([]int64, len(page))
			body := make([]any, len(page))
			for i, u := range page {
				ids[i] = u.ID
				body[i] = patchModel(u)
			}
			res.Requests++
			err := c.writeList(ctx, op, http.MethodPatch, kind.listPath(), body, httpx.RepeatSafe, func(answered []int64) {
				res.confirm(kind, ids, answered)
			})
			if err != nil {
				res.Failed = append(res.Failed, WriteFailure{Kind: kind, IDs: ids, Err: err})
				stopped = stopsRun(err)
			}
			return !stopped
		})
	}
	return res, res.err(op)
}

// patchModel is the go-netbox request model of one object's bulk PATCH
// item; its id travels as an additional property, as NetBox's bulk
// endpoints read it.
func patchModel(u FieldUpdate) any {
	id := map[string]any{"id": u.ID}
	if u.Kind == KindVirtualMachine {
		m := gonetbox.NewPatchedWritableVirtualMachineWithConfigContextRequest()
		m.CustomFields, m.AdditionalProperties = u.Fields, id
		return m
	}
	m := gonetbox.NewPatchedWritableDeviceWithConfigContextRequest()
	m.CustomFields, m.AdditionalProperties = u.Fields, id
	return m
}

// writeList sends one bulk write with a list body and hands the ids of
// NetBox's answer to done.
func (c *Client) writeList(ctx context.Context, op, method, path string, body []any, repeat httpx.Repeat, done func([]int64)) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding the request: %w", err)
	}
	ans, err := c.send(ctx, op, method, path, b, repeat)
	if err != nil {
		return err
	}
	ids, err := answerIDs(ans)
	if err != nil {
		return fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	done(ids)
	return nil
}

// ChangedFields returns the fields of want whose values differ from have,
// an object's custom fields as the read path gave them (Device.CustomFields),
// or nil when none differs, so a caller sends a FieldUpdate only for what
// changed and an unchanged run writes nothing. Numbers compare by value
// (NetBox's 7 reads back as float64 7), date & time strings by the instant
// they name, and a field missing from have counts as null.
func ChangedFields(have, want map[string]any) map[string]any {
	var out map[string]any
	for name, w := range want {
		if sameValue(have[name], w) {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[name] = w
	}
	return out
}

func sameValue(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	sa, okA := a.(string)
	sb, okB := b.(string)
	if okA && okB && sa != sb {
		ta, errA := parseDateTime(sa)
		tb, errB := parseDateTime(sb)
		return errA == nil && errB == nil && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// parseDateTime reads the ISO 8601 forms NetBox stores date & time custom
// fields in.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date and time", s)
}
