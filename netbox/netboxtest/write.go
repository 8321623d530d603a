package netboxtest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

const (
	pCustomFields                    = "/api/extras/custom-fields/"
	pJournal                         = "/api/extras/journal-entries/"
	maxBody                          = 32 << 20 // bytes of a request body the fake reads
	msgUnknownCF                     = "Unknown field name '%s' in custom field data."
	msgInvalidCF                     = "Invalid value for custom field '%s': %s"
	journalDisplayTime               = "2006-01-02 15:04"
	bulkWriteOnlyCustomFieldsMessage = "netboxtest writes only custom_fields in bulk updates."
)

// CustomField is a custom-field definition as the fake holds it.
type CustomField struct {
	ID          int64
	Name        string
	Label       string
	Type        string   // NetBox type value, e.g. "text", "integer", "datetime"
	ObjectTypes []string // e.g. "dcim.device", "virtualization.virtualmachine"
	GroupName   string
	Description string
	UIEditable  string // "yes", "no" or "hidden"
}

// JournalEntry is a journal entry as the fake holds it.
type JournalEntry struct {
	ID         int64
	ObjectType string // "dcim.device" or "virtualization.virtualmachine"
	ObjectID   int64
	Kind       string // "info", "success", "warning" or "danger"
	Comments   string
	Created    time.Time
}

type journalEntry struct {
	id       int64
	objType  string
	objID    int64
	kind     string
	comments string
	created  int64
}

var journalKindLabels = map[string]string{"info": "Info", "success": "Success", "warning": "Warning", "danger": "Danger"}

// CustomFields returns the custom-field definitions, generated ones
// included, in id order.
func (h *Handler) CustomFields() []CustomField {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]CustomField, len(h.cfs))
	for i := range h.cfs {
		d := &h.cfs[i]
		out[i] = CustomField{ID: d.id, Name: d.name, Label: d.label, Type: cfTypes[d.typ].value,
			ObjectTypes: d.objectTypeNames(), GroupName: d.group, Description: d.description, UIEditable: d.uiEditable}
	}
	return out
}

// JournalEntries returns the journal entries in the order they were made.
func (h *Handler) JournalEntries() []JournalEntry {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]JournalEntry, len(h.journal))
	for i, j := range h.journal {
		out[i] = JournalEntry{ID: j.id, ObjectType: j.objType, ObjectID: j.objID, Kind: j.kind,
			Comments: j.comments, Created: fromMicros(j.created)}
	}
	return out
}

// Writes returns how many requests with a method other than GET and HEAD
// reached the fake, whatever their outcome: zero means a client wrote
// nothing to NetBox. ResetRequests clears it.
func (h *Handler) Writes() int {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	return h.writes
}

func (d *cfDef) objectTypeNames() []string {
	var out []string
	for _, ot := range objectTypes {
		if d.objects&ot.bit != 0 {
			out = append(out, ot.name)
		}
	}
	return out
}

func (h *Handler) nextCFID() int64 {
	var id int64
	for _, d := range h.cfs {
		id = max(id, d.id)
	}
	return id + 1
}

// fieldErrors is a 400 answer with NetBox's per-field messages.
func fieldErrors(fields map[string]string) *apiError {
	e := enc{}
	e.open()
	for _, k := range sortedKeys(anyMap(fields)) {
		e.k(k)
		e.openA()
		e.str(fields[k])
		e.closeA()
	}
	e.close()
	return &apiError{status: http.StatusBadRequest, body: e.b}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// listErrors is the 400 answer of a list body that failed per item, as a
// DRF list serializer gives it: one object per item, {} for good ones.
func listErrors(items []map[string]string) *apiError {
	e := enc{}
	e.openA()
	for _, it := range items {
		e.raw(string(fieldErrors(it).body))
	}
	e.closeA()
	return &apiError{status: http.StatusBadRequest, body: e.b}
}

// readBody decodes a JSON request body (numbers kept as json.Number), as
// NetBox's parser takes it.
func readBody(r *http.Request) (any, *apiError) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, detail(http.StatusUnsupportedMediaType, `Unsupported media type "`+ct+`" in request.`)
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, detail(http.StatusBadRequest, "JSON parse error - "+err.Error())
	}
	if dec.More() {
		return nil, detail(http.StatusBadRequest, "JSON parse error - Extra data")
	}
	return v, nil
}

// items reads a body that may be one object or a list of them (NetBox's
// bulk create).
func items(v any) ([]map[string]any, bool, *apiError) {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, false, nil
	case []any:
		out := make([]map[string]any, len(v))
		for i, x := range v {
			m, ok := x.(map[string]any)
			if !ok {
				return nil, true, fieldErrors(map[string]string{"non_field_errors": "Invalid data. Expected a dictionary, but got " + jsonKind(x) + "."})
			}
			out[i] = m
		}
		return out, true, nil
	}
	return nil, false, fieldErrors(map[string]string{"non_field_errors": "Invalid data. Expected a dictionary, but got " + jsonKind(v) + "."})
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case json.Number:
		return "int"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "dict"
}

// plain turns decoded JSON numbers into int64 or float64, as the fake
// stores custom-field values.
func plain(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plain(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = plain(x)
		}
		return out
	}
	return v
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// checkCF validates a value for a custom field as NetBox's
// CustomField.validate does and returns it as the fake stores it, or
// NetBox's message.
func checkCF(d *cfDef, v any) (any, string) {
	if v == nil {
		return nil, ""
	}
	s, isStr := v.(string)
	switch d.typ {
	case cfText, cfLongText, cfURL, cfSelect:
		if !isStr {
			return nil, "Value must be a string."
		}
		return s, ""
	case cfInteger:
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || strings.ContainsAny(n.String(), ".eE") {
			return nil, "Value must be an integer."
		}
		return i, ""
	case cfDecimal:
		n, ok := v.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return nil, "Value must be a decimal."
		}
		return f, ""
	case cfBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, "Value must be true or false."
		}
		return b, ""
	case cfDate:
		if !isStr || !dateRE.MatchString(s) {
			return nil, "Date values must be in ISO 8601 format (YYYY-MM-DD)."
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, "Date values must be in ISO 8601 format (YYYY-MM-DD)."
		}
		return s, ""
	case cfDateTime:
		if !isStr || !isoDateTime(s) {
			return nil, "Date and time values must be in ISO 8601 format (YYYY-MM-DD HH:MM:SS)."
		}
		return s, ""
	}
	return plain(v), ""
}

// isoDateTime reports whether Python's datetime.fromisoformat (3.10, as
// NetBox 4.3 may run on) reads s: a date, "T" or a space, a time with
// optional fraction, and an optional ±hh:mm offset ("Z" came in 3.11).
func isoDateTime(s string) bool {
	for _, layout := range []string{"2006-01-02T15:04:05.999999-07:00", "2006-01-02T15:04:05.999999",
		"2006-01-02 15:04:05.999999-07:00", "2006-01-02 15:04:05.999999"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// patchObjects serves NetBox's bulk partial update of devices or VMs
// (PATCH with a list body) for custom fields, as NetBox 4.3 does: every
// item needs an integer id; ids that do not exist are skipped; each
// object is validated in turn and the first refusal answers 400 with
// nothing changed; otherwise every object is saved (last_updated bumped,
// an "updated" webhook each) and the answer lists them in full.
func (h *Handler) patchObjects(t *table[object], vm bool) func(*http.Request, string) ([]byte, *apiError) {
	return func(r *http.Request, base string) ([]byte, *apiError) {
		v, ae := readBody(r)
		if ae != nil {
			return nil, ae
		}
		list, ok := v.([]any)
		if !ok {
			return nil, fieldErrors(map[string]string{"non_field_errors": `Expected a list of items but got type "` + jsonKind(v) + `".`})
		}
		updates := map[int64]map[string]any{}
		perItem := make([]map[string]string, len(list))
		bad := false
		for i, x := range list {
			perItem[i] = map[string]string{}
			m, _ := x.(map[string]any)
			n, isNum := m["id"].(json.Number)
			id, err := n.Int64()
			switch {
			case m == nil:
				perItem[i]["non_field_errors"] = "Invalid data. Expected a dictionary, but got " + jsonKind(x) + "."
			case m["id"] == nil:
				perItem[i]["id"] = "This field is required."
			case !isNum || err != nil:
				perItem[i]["id"] = "A valid integer is required."
			default:
				updates[id] = m
				continue
			}
			bad = true
		}
		if bad {
			return nil, listErrors(perItem)
		}
		var body []byte
		err := h.mutateAll(func() ([]*hookEvent, error) {
			var objs []*object
			for id := range updates {
				if o := t.byID[id]; o != nil {
					objs = append(objs, o)
				}
			}
			slices.SortFunc(objs, func(a, b *object) int { return cmp.Compare(a.id, b.id) })
			vals := make([][]any, len(objs))
			for i, o := range objs {
				if vals[i], ae = h.patchedCFs(o, updates[o.id], vm); ae != nil {
					return nil, errAPI
				}
			}
			evs := make([]*hookEvent, len(objs))
			for i, o := range objs {
				evs[i] = &hookEvent{event: "updated", vm: vm, obj: o, pre: h.snapshot(o, vm)}
				o.cf = vals[i]
				o.updated = h.stamp()
			}
			if len(objs) > 0 {
				t.changed()
			}
			e := newEnc(256 + len(objs)*3200)
			e.openA()
			v := view{base: base, config: true}
			for _, o := range objs {
				if vm {
					h.vm(e, v, o)
				} else {
					h.device(e, v, o)
				}
			}
			e.closeA()
			body = e.b
			return evs, nil
		})
		if err != nil {
			return nil, ae
		}
		return body, nil
	}
}

// errAPI tells mutateAll's caller that the *apiError it holds answers.
var errAPI = errors.New("netboxtest: refused")

// patchedCFs returns o's custom-field values after the update m, or
// NetBox's 400 for the first thing it refuses.
func (h *Handler) patchedCFs(o *object, m map[string]any, vm bool) ([]any, *apiError) {
	for k := range m {
		if k != "id" && k != "custom_fields" {
			return nil, fieldErrors(map[string]string{k: bulkWriteOnlyCustomFieldsMessage})
		}
	}
	vals := make([]any, len(h.cfs))
	copy(vals, o.cf)
	raw, present := m["custom_fields"]
	if !present {
		return vals, nil
	}
	cf, ok := raw.(map[string]any)
	if !ok {
		return nil, fieldErrors(map[string]string{"custom_fields": "Invalid data format. Custom field data must be passed as a dictionary mapping field names to their values."})
	}
	for _, name := range sortedKeys(cf) {
		i := slices.IndexFunc(h.cfs, func(d cfDef) bool { return d.name == name && d.on(vm) })
		if i < 0 {
			return nil, fieldErrors(map[string]string{"__all__": fmt.Sprintf(msgUnknownCF, name)})
		}
		v, msg := checkCF(&h.cfs[i], cf[name])
		if msg != "" {
			return nil, fieldErrors(map[string]string{"__all__": fmt.Sprintf(msgInvalidCF, name, msg)})
		}
		vals[i] = v
	}
	return vals, nil
}

var cfNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// createCustomFields serves POST /api/extras/custom-fields/ with one
// definition or a list. The fake takes the types that need no choice set
// or related object type.
func (h *Handler) createCustomFields(r *http.Request, base string) ([]byte, *apiError) {
	return createRows(h, r, base, h.cfFromRequest, func(d *cfDef) {
		d.id, d.created = h.nextCFID(), h.stamp()
		h.cfs = append(h.cfs, *d)
	}, h.customField)
}

// createRows serves a create of one object or a list of them (NetBox's
// bulk create, all or nothing): read turns each item into a row or
// NetBox's messages per field (it sees the items before it), add stores a
// row and render writes it into the answer.
func createRows[T any](h *Handler, r *http.Request, base string,
	read func(m map[string]any, before []map[string]any) (T, map[string]string),
	add func(*T), render func(*enc, string, *T)) ([]byte, *apiError) {
	v, ae := readBody(r)
	if ae != nil {
		return nil, ae
	}
	list, many, ae := items(v)
	if ae != nil {
		return nil, ae
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rows := make([]T, len(list))
	perItem := make([]map[string]string, len(list))
	bad := false
	for i, m := range list {
		rows[i], perItem[i] = read(m, list[:i])
		bad = bad || len(perItem[i]) > 0
	}
	switch {
	case bad && many:
		return nil, listErrors(perItem)
	case bad:
		return nil, fieldErrors(perItem[0])
	}
	e := &enc{}
	if many {
		e.openA()
	}
	for i := range rows {
		add(&rows[i])
		render(e, base, &rows[i])
	}
	if many {
		e.closeA()
	}
	return e.b, nil
}

// listRows serves a list of the rows that pass the filter the query
// asks for, paged, rendered by render.
func listRows[T any](h *Handler, r *http.Request, base string, rows func() []T,
	filter func(*params) func(*T) bool, render func(*enc, string, *T)) ([]byte, *apiError) {
	p := &params{q: r.URL.Query()}
	h.mu.RLock()
	defer h.mu.RUnlock()
	keep := filter(p)
	limit, offset := h.paging(p)
	h.strict(p)
	if e := p.err(); e != nil {
		return nil, e
	}
	all := rows()
	var match []*T
	for i := range all {
		if keep(&all[i]) {
			match = append(match, &all[i])
		}
	}
	page := match[min(offset, len(match)):min(offset+limit, len(match))]
	return envelope(r, base, len(match), offset, limit, len(page), func(e *enc) {
		for _, x := range page {
			render(e, base, x)
		}
	}), nil
}

// cfFromRequest reads one custom-field definition of a create request,
// with NetBox's per-field messages for what it refuses; before holds the
// definitions of the same request ahead of it.
func (h *Handler) cfFromRequest(m map[string]any, before []map[string]any) (cfDef, map[string]string) {
	errs := map[string]string{}
	d := cfDef{uiEditable: "yes"}
	str := func(key string, maxLen int) string {
		s, ok := m[key].(string)
		if m[key] != nil && !ok {
			errs[key] = "Not a valid string."
		} else if len([]rune(s)) > maxLen {
			errs[key] = fmt.Sprintf("Ensure this field has no more than %d characters.", maxLen)
		}
		return s
	}
	d.name = str("name", 50)
	d.label, d.group, d.description = str("label", 50), str("group_name", 50), str("description", 200)
	switch {
	case m["name"] == nil:
		errs["name"] = "This field is required."
	case !cfNameRE.MatchString(d.name):
		errs["name"] = "Only alphanumeric characters and underscores are allowed."
	case slices.ContainsFunc(h.cfs, func(c cfDef) bool { return c.name == d.name }) ||
		slices.ContainsFunc(before, func(x map[string]any) bool { return x["name"] == d.name }):
		errs["name"] = "custom field with this name already exists."
	}
	ots, _ := m["object_types"].([]any)
	if len(ots) == 0 {
		errs["object_types"] = "This list may not be empty."
	}
	for _, x := range ots {
		s, _ := x.(string)
		i := slices.IndexFunc(objectTypes, func(ot struct {
			bit  uint8
			name string
		}) bool {
			return ot.name == s
		})
		if i < 0 {
			errs["object_types"] = fmt.Sprintf("Object with app_label.model=%v does not exist.", x)
			continue
		}
		d.objects |= objectTypes[i].bit
	}
	typ := "text"
	if m["type"] != nil {
		typ, _ = m["type"].(string)
	}
	i := slices.IndexFunc(cfTypes[:], func(t struct{ value, label, dataType string }) bool { return t.value == typ })
	switch {
	case i < 0 && slices.Contains([]string{"multiselect", "object", "multiobject"}, typ):
		errs["type"] = "netboxtest does not hold choice sets or related object types."
	case i < 0:
		errs["type"] = fmt.Sprintf(`"%v" is not a valid choice.`, m["type"])
	case cfType(i) == cfSelect:
		errs["choice_set"] = "Selection fields must specify a set of choices."
	default:
		d.typ = cfType(i)
	}
	if ui, ok := m["ui_editable"].(string); ok {
		if ui != "yes" && ui != "no" && ui != "hidden" {
			errs["ui_editable"] = fmt.Sprintf(`"%s" is not a valid choice.`, ui)
		}
		d.uiEditable = ui
	}
	return d, errs
}

// listCustomFields serves GET /api/extras/custom-fields/ with the id,
// name and object_type filters.
func (h *Handler) listCustomFields(r *http.Request, base string) ([]byte, *apiError) {
	return listRows(h, r, base, func() []cfDef { return h.cfs }, func(p *params) func(*cfDef) bool {
		ids, names, ot := p.ints("id"), p.get("name"), p.last("object_type")
		return func(d *cfDef) bool {
			return (len(ids) == 0 || slices.Contains(ids, d.id)) && (len(names) == 0 || slices.Contains(names, d.name)) &&
				(ot == "" || slices.Contains(d.objectTypeNames(), ot))
		}
	}, h.customField)
}

// customField writes a custom-field definition as
// /api/extras/custom-fields/ does.
func (h *Handler) customField(e *enc, base string, d *cfDef) {
	t := cfTypes[d.typ]
	e.head(view{base: base}, pCustomFields, d.id, orString(d.label, d.name))
	e.k("object_types")
	e.openA()
	for _, n := range d.objectTypeNames() {
		e.str(n)
	}
	e.closeA()
	e.k("type")
	e.choice(t.value, t.label)
	e.k("related_object_type")
	e.null()
	e.k("data_type")
	e.str(t.dataType)
	e.k("name")
	e.str(d.name)
	e.k("label")
	e.str(d.label)
	e.k("group_name")
	e.str(d.group)
	e.k("description")
	e.str(d.description)
	e.k("required")
	e.bool(false)
	e.k("unique")
	e.bool(false)
	e.k("search_weight")
	e.int(1000)
	e.k("filter_logic")
	e.choice("loose", "Loose")
	e.k("ui_visible")
	e.choice("always", "Always")
	e.k("ui_editable")
	e.choice(d.uiEditable, map[string]string{"yes": "Yes", "no": "No", "hidden": "Hidden"}[d.uiEditable])
	e.k("is_cloneable")
	e.bool(false)
	e.k("default")
	e.null()
	e.k("related_object_filter")
	e.null()
	e.k("weight")
	e.int(100)
	e.nulls("validation_minimum", "validation_maximum")
	e.k("validation_regex")
	e.str("")
	e.k("choice_set")
	e.null()
	e.k("comments")
	e.str("")
	e.k("created")
	e.time(orTime(d.created, siteCreated))
	e.k("last_updated")
	e.time(orTime(d.created, siteCreated))
	e.close()
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orTime(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}

// createJournalEntries serves POST /api/extras/journal-entries/ with one
// entry or a list, on devices and VMs.
func (h *Handler) createJournalEntries(r *http.Request, base string) ([]byte, *apiError) {
	return createRows(h, r, base, h.journalFromRequest, func(j *journalEntry) {
		j.id, j.created = int64(len(h.journal)+1), h.stamp()
		h.journal = append(h.journal, *j)
	}, h.journalItem)
}

// journalFromRequest reads one journal entry of a create request, with
// NetBox's messages per field for what it refuses.
func (h *Handler) journalFromRequest(m map[string]any, _ []map[string]any) (journalEntry, map[string]string) {
	errs := map[string]string{}
	j := journalEntry{kind: "info"}
	j.objType, _ = m["assigned_object_type"].(string)
	n, _ := m["assigned_object_id"].(json.Number)
	id, err := n.Int64()
	j.objID = id
	j.comments, _ = m["comments"].(string)
	switch {
	case m["assigned_object_type"] == nil:
		errs["assigned_object_type"] = "This field is required."
	case j.objType != "dcim.device" && j.objType != "virtualization.virtualmachine":
		errs["assigned_object_type"] = "netboxtest keeps journals of devices and virtual machines only."
	}
	switch {
	case m["assigned_object_id"] == nil:
		errs["assigned_object_id"] = "This field is required."
	case err != nil || id < 0:
		errs["assigned_object_id"] = "A valid integer is required."
	case len(errs) == 0 && h.journalTarget(j.objType, id) == nil:
		errs["__all__"] = fmt.Sprintf("Related object not found using the provided numeric ID: %d", id)
	}
	if strings.TrimSpace(j.comments) == "" {
		errs["comments"] = "This field is required."
	}
	if k, ok := m["kind"].(string); ok {
		if _, known := journalKindLabels[k]; !known {
			errs["kind"] = fmt.Sprintf(`"%s" is not a valid choice.`, k)
		}
		j.kind = k
	}
	return j, errs
}

func (h *Handler) journalTarget(objType string, id int64) *object {
	if objType == "virtualization.virtualmachine" {
		return h.vms.byID[id]
	}
	return h.devices.byID[id]
}

// journalItem writes a journal entry as /api/extras/journal-entries/ does.
func (h *Handler) journalItem(e *enc, base string, j *journalEntry) {
	e.head(view{base: base}, pJournal, j.id, fromMicros(j.created).Format(journalDisplayTime)+" ("+journalKindLabels[j.kind]+")")
	e.k("assigned_object_type")
	e.str(j.objType)
	e.k("assigned_object_id")
	e.int(j.objID)
	e.k("assigned_object")
	vm := j.objType == "virtualization.virtualmachine"
	if o := h.journalTarget(j.objType, j.objID); o != nil {
		h.briefObject(e, view{base: base}, o, vm)
	} else {
		e.null()
	}
	e.k("created")
	e.time(j.created)
	e.k("created_by")
	e.int(1)
	e.k("kind")
	e.choice(j.kind, journalKindLabels[j.kind])
	e.k("comments")
	e.str(j.comments)
	e.k("tags")
	e.raw("[]")
	e.k("custom_fields")
	e.raw("{}")
	e.k("last_updated")
	e.time(j.created)
	e.close()
}

// listJournalEntries serves GET /api/extras/journal-entries/ with the
// assigned_object_type, assigned_object_id and kind filters.
func (h *Handler) listJournalEntries(r *http.Request, base string) ([]byte, *apiError) {
	return listRows(h, r, base, func() []journalEntry { return h.journal }, func(p *params) func(*journalEntry) bool {
		types, ids, kinds := p.get("assigned_object_type"), p.ints("assigned_object_id"), p.get("kind")
		return func(j *journalEntry) bool {
			return (len(types) == 0 || slices.Contains(types, j.objType)) &&
				(len(ids) == 0 || slices.Contains(ids, j.objID)) && (len(kinds) == 0 || slices.Contains(kinds, j.kind))
		}
	}, h.journalItem)
}
