package wug

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Strict decoding of WUG's answers. Every 2xx answer must be the envelope
// its operation promises: a JSON object whose "data" holds the payload
// (Result[T], PageResult[T]), or, for SuccessResult and CountedResult,
// which the contract sends bare, that object itself. An answer that is not
// JSON, carries an "error" or "errors" envelope, lacks "data", or whose
// payload is not the promised type fails with a *shapeError, which the
// client turns into an *APIError carrying WUG's message and the status.

// shapeError says how an answer missed the shape its operation promises.
type shapeError struct {
	// Problem says what is wrong, e.g. `no "data"`.
	Problem string
	// Code and Message are WUG's, from an error envelope or a text body.
	Code, Message string
}

func (e *shapeError) Error() string {
	msg := e.Problem
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// mayBeBare marks the answer types the contract sends without the "data"
// envelope (SuccessResult, CountedSuccessResult); an answer with "data" is
// read too.
type mayBeBare interface{ mayBeBare() }

func (*SuccessResult) mayBeBare() {}
func (*CountedResult) mayBeBare() {}

// decodeAnswer decodes a 2xx answer's payload into out (which may be nil,
// when only the paging block is wanted) and its paging block into pg
// (which may be nil).
func decodeAnswer(data []byte, out any, pg *Paging) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return &shapeError{Problem: "empty answer"}
	}
	var env map[string]json.RawMessage
	if data[0] != '{' || json.Unmarshal(data, &env) != nil {
		_, msg := parseErrorBody(data)
		problem := "answer is not a JSON object"
		if !json.Valid(data) {
			problem = "answer is not JSON"
		}
		return &shapeError{Problem: problem, Message: msg}
	}
	raw, hasData := lookupKey(env, "data")
	hasData = hasData && !isNull(raw)
	_, bare := out.(mayBeBare)
	bare = bare && !hasData
	// A bare CountedResult's own "errors" list is part of the result; an
	// object without the result's keys is an "errors" envelope.
	_, hasSuccess := lookupKey(env, "success")
	_, hasCount := lookupKey(env, "successfulOperations")
	ownErrors := bare && (hasSuccess || hasCount)
	for _, key := range []string{"error", "errors"} {
		if v, ok := lookupKey(env, key); ok && !isNull(v) && !(ownErrors && key == "errors") {
			code, msg := parseErrorBody(data)
			return &shapeError{Problem: fmt.Sprintf("answer is an %q envelope", key), Code: code, Message: msg}
		}
	}
	if v, ok := lookupKey(env, "paging"); ok && pg != nil && !isNull(v) {
		if err := json.Unmarshal(v, pg); err != nil {
			return &shapeError{Problem: fmt.Sprintf(`"paging" is not a paging block: %v`, err)}
		}
	}
	if out == nil {
		return nil
	}
	switch {
	case bare:
		raw = data
	case !hasData:
		return &shapeError{Problem: `answer has no "data"`}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &shapeError{Problem: fmt.Sprintf("answer is not the promised %s: %v", typeName(out), err)}
	}
	return nil
}

// typeName names out's type for an error, e.g. "wug.Device".
func typeName(out any) string {
	if p, ok := out.(interface{ what() string }); ok {
		return p.what()
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", out), "*")
}

// pageItems decodes one page's data with its list's decoder, so that a
// page that is not the promised list fails like any malformed answer.
type pageItems[T any] struct {
	decode func(json.RawMessage) ([]T, error)
	items  []T
}

// UnmarshalJSON decodes the page's data.
func (p *pageItems[T]) UnmarshalJSON(b []byte) (err error) {
	p.items, err = p.decode(b)
	return err
}

func (p *pageItems[T]) what() string { return "list page" }

// flexID is an id WUG may send as a JSON string or as a number.
type flexID string

// UnmarshalJSON accepts a string, a number (kept as written) or null.
func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		*f = flexID(b[1 : len(b)-1]) // no escapes: the text is the id
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
	case isNull(b):
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id %.40s is neither a string nor a number", b)
		}
		*f = flexID(n)
	}
	return nil
}

func flexIDs(ids []flexID) []string {
	if ids == nil {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// errMissingID is a listed or returned object without its id.
var errMissingID = errors.New(`no "id"`)

// UnmarshalJSON decodes a device, accepting numeric ids and refusing one
// without an id.
func (d *Device) UnmarshalJSON(b []byte) error {
	type wire Device
	v := struct {
		*wire
		ID flexID `json:"id"`
	}{wire: (*wire)(d)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.ID == "" {
		return fmt.Errorf("device: %w", errMissingID)
	}
	d.ID = string(v.ID)
	return nil
}

// UnmarshalJSON decodes a monitor's state, accepting numeric ids.
func (m *MonitorStatus) UnmarshalJSON(b []byte) error {
	type wire MonitorStatus
	v := struct {
		*wire
		ID            flexID `json:"id"`
		MonitorTypeID flexID `json:"monitorTypeId"`
	}{wire: (*wire)(m)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m.ID, m.MonitorTypeID = string(v.ID), string(v.MonitorTypeID)
	return nil
}

// UnmarshalJSON decodes an attribute, accepting numeric ids and refusing
// one with neither id.
func (a *Attribute) UnmarshalJSON(b []byte) error {
	type wire Attribute
	v := struct {
		*wire
		AttributeID flexID `json:"attributeId"`
		ID          flexID `json:"id"`
	}{wire: (*wire)(a)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.AttributeID == "" && v.ID == "" {
		return errors.New(`attribute: no "attributeId" or "id"`)
	}
	a.AttributeID, a.ID = string(v.AttributeID), string(v.ID)
	return nil
}

// UnmarshalJSON decodes a group, accepting numeric ids and refusing one
// without an id.
func (g *Group) UnmarshalJSON(b []byte) error {
	type wire Group
	v := struct {
		*wire
		ID            flexID `json:"id"`
		ParentGroupID flexID `json:"parentGroupId"`
	}{wire: (*wire)(g)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.ID == "" {
		return fmt.Errorf("group: %w", errMissingID)
	}
	g.ID, g.ParentGroupID = string(v.ID), string(v.ParentGroupID)
	return nil
}

// UnmarshalJSON decodes a group's state, accepting a numeric id.
func (s *GroupStatus) UnmarshalJSON(b []byte) error {
	type wire GroupStatus
	v := struct {
		*wire
		ID flexID `json:"id"`
	}{wire: (*wire)(s)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.ID = string(v.ID)
	return nil
}

// UnmarshalJSON decodes {"success": bool}, refusing an answer without it.
func (r *SuccessResult) UnmarshalJSON(b []byte) error {
	var v struct {
		Success *bool `json:"success"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Success == nil {
		return errors.New(`no "success"`)
	}
	r.Success = *v.Success
	return nil
}

// UnmarshalJSON decodes a CountedSuccessResult: both spellings of the
// errors list ("resourcesWithErros" as in the contract, and
// "resourcesWithErrors"), ids as strings or numbers, and, when "success"
// is absent, success taken from a positive successfulOperations. An answer
// with neither "success" nor "successfulOperations" is refused.
func (r *CountedResult) UnmarshalJSON(b []byte) error {
	var v struct {
		SuccessfulOperations *int     `json:"successfulOperations"`
		ResourcesNotAllowed  []flexID `json:"resourcesNotAllowed"`
		Misspelled           []flexID `json:"resourcesWithErros"`
		Spelled              []flexID `json:"resourcesWithErrors"`
		Errors               []string `json:"errors"`
		LimitReached         bool     `json:"limitReached"`
		MaximumReached       bool     `json:"maximumReached"`
		Success              *bool    `json:"success"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Success == nil && v.SuccessfulOperations == nil {
		return errors.New(`no "success" or "successfulOperations"`)
	}
	*r = CountedResult{
		ResourcesNotAllowed: flexIDs(v.ResourcesNotAllowed),
		ResourcesWithErrors: flexIDs(v.Misspelled),
		Errors:              v.Errors,
		LimitReached:        v.LimitReached,
		MaximumReached:      v.MaximumReached,
	}
	if v.Spelled != nil {
		r.ResourcesWithErrors = append(r.ResourcesWithErrors, flexIDs(v.Spelled)...)
	}
	if v.SuccessfulOperations != nil {
		r.SuccessfulOperations = *v.SuccessfulOperations
	}
	if v.Success != nil {
		r.Success = *v.Success
	} else {
		r.Success = r.SuccessfulOperations > 0
	}
	return nil
}

// UnmarshalJSON decodes a started scan, accepting a numeric id and
// refusing a success without an id or an answer without "success".
func (s *ScanStarted) UnmarshalJSON(b []byte) error {
	type wire ScanStarted
	v := struct {
		*wire
		ID      flexID `json:"id"`
		Success *bool  `json:"success"`
	}{wire: (*wire)(s)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Success == nil {
		return errors.New(`scan start: no "success"`)
	}
	if *v.Success && v.ID == "" {
		return fmt.Errorf("scan start: %w", errMissingID)
	}
	s.ID, s.Success = string(v.ID), *v.Success
	return nil
}

// UnmarshalJSON decodes a scan's progress, accepting a numeric id.
func (s *Scan) UnmarshalJSON(b []byte) error {
	type wire Scan
	v := struct {
		*wire
		ID flexID `json:"id"`
	}{wire: (*wire)(s)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.ID = string(v.ID)
	return nil
}

// UnmarshalJSON decodes a scan's device list, accepting a numeric id and
// refusing an answer without its "devices" list.
func (r *ScanResults) UnmarshalJSON(b []byte) error {
	type wire ScanResults
	v := struct {
		*wire
		ID      flexID          `json:"id"`
		Devices json.RawMessage `json:"devices"`
	}{wire: (*wire)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	devs, err := listOf[Device](v.Devices, "devices")
	if err != nil {
		return err
	}
	r.ID, r.Devices = string(v.ID), devs
	return nil
}

// UnmarshalJSON decodes a template apply's results, refusing an answer that
// holds neither "idMap" nor "errors".
func (r *ApplyTemplateResults) UnmarshalJSON(b []byte) error {
	type wire ApplyTemplateResults
	v := struct {
		*wire
		IDMap  json.RawMessage `json:"idMap"`
		Errors json.RawMessage `json:"errors"`
	}{wire: (*wire)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.IDMap == nil && v.Errors == nil {
		return errors.New(`template results: no "idMap" or "errors"`)
	}
	var err error
	if v.IDMap != nil && !isNull(v.IDMap) {
		if r.IDMap, err = listOf[TemplateMap](v.IDMap, "idMap"); err != nil {
			return err
		}
	}
	if v.Errors != nil && !isNull(v.Errors) {
		if r.Errors, err = listOf[TemplateErrorMap](v.Errors, "errors"); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalJSON decodes one idMap entry, accepting ids as strings or
// numbers and refusing an entry without both.
func (m *TemplateMap) UnmarshalJSON(b []byte) error {
	var v struct {
		TemplateID flexID `json:"templateId"`
		ResultID   flexID `json:"resultId"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.TemplateID == "" || v.ResultID == "" {
		return errors.New(`idMap entry: no "templateId" or "resultId"`)
	}
	m.TemplateID, m.ResultID = string(v.TemplateID), string(v.ResultID)
	return nil
}

// UnmarshalJSON decodes one template's messages, accepting a numeric
// template id.
func (m *TemplateErrorMap) UnmarshalJSON(b []byte) error {
	var v struct {
		TemplateID flexID   `json:"templateId"`
		Messages   []string `json:"messages"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m.TemplateID, m.Messages = string(v.TemplateID), v.Messages
	return nil
}

// UnmarshalJSON decodes the refresh an update option started, accepting a
// numeric id.
func (u *TemplateUpdate) UnmarshalJSON(b []byte) error {
	type wire TemplateUpdate
	v := struct {
		*wire
		ID flexID `json:"id"`
	}{wire: (*wire)(u)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	u.ID = string(v.ID)
	return nil
}

// UnmarshalJSON decodes name/value pairs, refusing an answer without its
// "values" list.
func (p *ProductInfo) UnmarshalJSON(b []byte) error {
	var v struct {
		Values json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	vals, err := listOf[NameValue](v.Values, "values")
	if err != nil {
		return err
	}
	p.Values = vals
	return nil
}

// UnmarshalJSON decodes a paging block, accepting page ids as strings or
// numbers.
func (p *Paging) UnmarshalJSON(b []byte) error {
	var v struct {
		PageID     flexID `json:"pageId"`
		NextPageID flexID `json:"nextPageId"`
		Size       int    `json:"size"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Paging{PageID: string(v.PageID), NextPageID: string(v.NextPageID), Size: v.Size}
	return nil
}

// listOf decodes raw, the value of field name, as a JSON array of T;
// a missing field, null or anything but an array is an error.
func listOf[T any](raw json.RawMessage, name string) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("no %q list", name)
	}
	if raw[0] != '[' {
		return nil, fmt.Errorf("%q is not a list", name)
	}
	v := []T{}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%q: %w", name, err)
	}
	return v, nil
}
