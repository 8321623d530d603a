package netbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	gonetbox "github.com/netbox-community/go-netbox/v4"

	"github.com/wugsync/wugsync/internal/httpx"
)

// NetBox object types (content types) the custom fields wugsync writes
// are enabled for.
const (
	ObjectTypeDevice         = "dcim.device"
	ObjectTypeVirtualMachine = "virtualization.virtualmachine"
)

// The custom fields wugsync writes back into NetBox after an export (see
// WriteBackFields). Each is enabled for devices and virtual machines,
// grouped as "WhatsUp Gold" and read-only in NetBox's web UI, since
// wugsync owns their values.
const (
	// FieldWUGDeviceID (integer) holds the id of the WUG device the object
	// is exported to; null when it has none.
	FieldWUGDeviceID = "wug_device_id"
	// FieldWUGDeviceURL (URL) links to that device in WUG's web UI.
	FieldWUGDeviceURL = "wug_device_url"
	// FieldWUGSyncState (text) holds the object's sync state: SyncExported,
	// SyncScanPending, or SyncError's "error: <short reason>".
	FieldWUGSyncState = "wug_sync_state"
	// FieldWUGLastSync (date & time) holds when wugsync last wrote the
	// object's sync fields, in UTC (see FormatDateTime).
	FieldWUGLastSync = "wug_last_sync"
	// FieldWUGState (text) holds WUG's up/down state of the device ("up",
	// "down", "maintenance", "unknown"), for the opt-in state write-back.
	FieldWUGState = "wug_state"
)

// Values of FieldWUGSyncState other than errors.
const (
	SyncExported    = "exported"     // the object is a WUG device
	SyncScanPending = "scan_pending" // a WUG scan of its address is running
)

// MaxSyncReason is how many characters of an error's reason SyncError
// keeps, so the state stays readable in a NetBox table.
const MaxSyncReason = 200

// SyncError returns the FieldWUGSyncState value of an object whose export
// failed: "error: " and the reason on one line, cut to MaxSyncReason
// characters.
func SyncError(reason string) string {
	reason = strings.Join(strings.Fields(reason), " ")
	if utf8.RuneCountInString(reason) > MaxSyncReason {
		r := []rune(reason)
		reason = string(r[:MaxSyncReason-1]) + "…"
	}
	return "error: " + reason
}

// FormatDateTime formats t as FieldWUGLastSync stores it: UTC, whole
// seconds, "+00:00", the ISO 8601 form NetBox's date & time custom fields
// accept on every supported version and send back unchanged.
func FormatDateTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05") + "+00:00"
}

// CustomFieldType is a NetBox custom-field type value.
type CustomFieldType string

// The custom-field types wugsync's fields use.
const (
	CustomFieldText     CustomFieldType = "text"
	CustomFieldInteger  CustomFieldType = "integer"
	CustomFieldURL      CustomFieldType = "url"
	CustomFieldDateTime CustomFieldType = "datetime"
)

// CustomField is a NetBox custom-field definition as SetupCustomFields
// creates and checks it.
type CustomField struct {
	Name        string          // internal name: lower-case letters, digits and _, at most 50 characters
	Label       string          // shown in NetBox's web UI; at most 50 characters
	Type        CustomFieldType // NetBox type
	Description string          // at most 200 characters
	ObjectTypes []string        // e.g. ObjectTypeDevice, ObjectTypeVirtualMachine
}

// fieldGroup is the group_name NetBox shows wugsync's fields under.
const fieldGroup = "WhatsUp Gold"

// WriteBackFields returns the custom fields an export with write-back
// writes: FieldWUGDeviceID, FieldWUGDeviceURL, FieldWUGSyncState and
// FieldWUGLastSync, and FieldWUGState too when withState is set (the
// opt-in WUG state write-back). Each is enabled for devices and virtual
// machines.
func WriteBackFields(withState bool) []CustomField {
	fields := []CustomField{
		{FieldWUGDeviceID, "WUG device id", CustomFieldInteger, "Id of the WhatsUp Gold device wugsync exported this object to", nil},
		{FieldWUGDeviceURL, "WUG device", CustomFieldURL, "The device in the WhatsUp Gold web interface", nil},
		{FieldWUGSyncState, "WUG sync state", CustomFieldText, "exported, scan_pending, or error: with the reason", nil},
		{FieldWUGLastSync, "WUG last sync", CustomFieldDateTime, "When wugsync last changed this object's WhatsUp Gold fields", nil},
	}
	if withState {
		fields = append(fields, CustomField{FieldWUGState, "WUG state", CustomFieldText, "Up/down state WhatsUp Gold reports for the device", nil})
	}
	for i := range fields {
		fields[i].ObjectTypes = []string{ObjectTypeDevice, ObjectTypeVirtualMachine}
	}
	return fields
}

func (f *CustomField) validate() error {
	switch {
	case !cfRE.MatchString(f.Name) || len(f.Name) > 50:
		return fmt.Errorf("custom field %q: a name is 1 to 50 lower-case letters, digits and _", f.Name)
	case utf8.RuneCountInString(f.Label) > 50:
		return fmt.Errorf("custom field %q: label longer than 50 characters", f.Name)
	case utf8.RuneCountInString(f.Description) > 200:
		return fmt.Errorf("custom field %q: description longer than 200 characters", f.Name)
	case len(f.ObjectTypes) == 0:
		return fmt.Errorf("custom field %q: no object type", f.Name)
	}
	if _, err := gonetbox.NewPatchedWritableCustomFieldRequestTypeFromValue(string(f.Type)); err != nil {
		return fmt.Errorf("custom field %q: %w", f.Name, err)
	}
	return nil
}

// FieldConflictError reports a custom field NetBox already has in a form
// wugsync cannot write: another type, or not enabled for an object type
// wugsync writes to. SetupCustomFields changes no existing field; an
// administrator settles the conflict (renames or fixes the field).
type FieldConflictError struct {
	Name               string
	Want, Have         CustomFieldType
	MissingObjectTypes []string // object types the existing field is not enabled for
}

// Error names the field and what differs.
func (e *FieldConflictError) Error() string {
	var parts []string
	if e.Want != e.Have {
		parts = append(parts, fmt.Sprintf("it has type %q, wugsync writes %q", e.Have, e.Want))
	}
	if len(e.MissingObjectTypes) > 0 {
		parts = append(parts, "it is not enabled for "+strings.Join(e.MissingObjectTypes, ", "))
	}
	return fmt.Sprintf("custom field %q exists but %s", e.Name, strings.Join(parts, " and "))
}

// SetupResult reports what SetupCustomFields found and did.
type SetupResult struct {
	Created  []string // names of the fields created
	Existing []string // names of the fields that were already defined as wanted
}

// SetupCustomFields makes sure NetBox defines fields (usually
// WriteBackFields): it lists them with one GET /api/extras/custom-fields/
// and creates the missing ones with one POST of a list body. A field that
// already exists is left alone; when one exists with another type or
// without an object type wanted, nothing is created and the error lists
// every conflict (*FieldConflictError each, through errors.As).
//
// wugsync never calls it on its own: it is the explicit setup step (a CLI
// flag, a service start option). The token needs NetBox's
// extras.view_customfield permission, extras.add_customfield to create
// fields, and write access (a write-enabled token).
func (c *Client) SetupCustomFields(ctx context.Context, fields []CustomField) (SetupResult, error) {
	const op = "setup custom fields"
	var res SetupResult
	if len(fields) == 0 {
		return res, nil
	}
	q := url.Values{"limit": {"1000"}}
	for i := range fields {
		if err := fields[i].validate(); err != nil {
			return res, fmt.Errorf("netbox: %s: %w", op, err)
		}
		q.Add("name", fields[i].Name)
	}
	var page struct {
		Next    *string         `json:"next"`
		Results *[]definedField `json:"results"`
	}
	err := c.get(ctx, op, "/api/extras/custom-fields/", q, func(dec *jsontext.Decoder) error {
		return jsonv2.UnmarshalDecode(dec, &page, decodeOpts)
	})
	if err != nil {
		return res, err
	}
	if page.Results == nil || page.Next != nil {
		return res, fmt.Errorf("netbox: %s: the custom-field list is not one page of results", op)
	}
	var conflicts []error
	var create []gonetbox.WritableCustomFieldRequest
	for _, f := range fields {
		i := slices.IndexFunc(*page.Results, func(d definedField) bool { return d.Name == f.Name })
		if i < 0 {
			create = append(create, f.request())
			continue
		}
		have := (*page.Results)[i]
		ce := &FieldConflictError{Name: f.Name, Want: f.Type, Have: have.Type.Value}
		for _, ot := range f.ObjectTypes {
			if !slices.Contains(have.ObjectTypes, ot) {
				ce.MissingObjectTypes = append(ce.MissingObjectTypes, ot)
			}
		}
		if ce.Want != ce.Have || len(ce.MissingObjectTypes) > 0 {
			conflicts = append(conflicts, ce)
			continue
		}
		res.Existing = append(res.Existing, f.Name)
	}
	if len(conflicts) > 0 {
		return res, fmt.Errorf("netbox: %s: %w", op, errors.Join(conflicts...))
	}
	if len(create) == 0 {
		return res, nil
	}
	body, err := json.Marshal(create)
	if err != nil {
		return res, fmt.Errorf("netbox: %s: %w", op, err)
	}
	// Creating is not repeated blind; a repeated setup finds what was made.
	b, err := c.send(ctx, op, http.MethodPost, "/api/extras/custom-fields/", body, httpx.RepeatNever)
	if err != nil {
		return res, err
	}
	var made []struct {
		Name *string `json:"name"`
	}
	if err := json.Unmarshal(b, &made); err != nil || len(made) != len(create) {
		return res, fmt.Errorf("netbox: %s: the answer does not list the %d fields created", op, len(create))
	}
	for i, m := range made {
		if m.Name == nil || *m.Name != create[i].Name {
			return res, fmt.Errorf("netbox: %s: answer item %d is not field %q", op, i, create[i].Name)
		}
		res.Created = append(res.Created, *m.Name)
	}
	return res, nil
}

// definedField is what SetupCustomFields reads of a field NetBox defines.
type definedField struct {
	Name string `json:"name"`
	Type struct {
		Value CustomFieldType `json:"value"`
	} `json:"type"`
	ObjectTypes []string `json:"object_types"`
}

// request is the go-netbox model that creates the field: grouped under
// "WhatsUp Gold" and read-only in the web UI.
func (f *CustomField) request() gonetbox.WritableCustomFieldRequest {
	r := *gonetbox.NewWritableCustomFieldRequest(slices.Clone(f.ObjectTypes), f.Name)
	typ := gonetbox.PatchedWritableCustomFieldRequestType(f.Type)
	r.Type = &typ
	if f.Label != "" {
		r.Label = &f.Label
	}
	if f.Description != "" {
		r.Description = &f.Description
	}
	group := fieldGroup
	r.GroupName = &group
	ro := gonetbox.PATCHEDWRITABLECUSTOMFIELDREQUESTUIEDITABLE_NO
	r.UiEditable = &ro
	return r
}
