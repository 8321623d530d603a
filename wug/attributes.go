package wug

import (
	"context"
	"iter"
	"net/url"
	"slices"
	"strings"

	"github.com/wugsync/wugsync/internal/httpx"
)

// AttributesService reads and changes device attributes.
type AttributesService struct{ c *Client }

// AttributeFilter narrows an attribute listing.
type AttributeFilter struct {
	// Names selects attributes by exact name.
	Names []string
	// NameContains and ValueContains are substring filters.
	NameContains  string
	ValueContains string
}

// List returns a device's attributes
// (GET /api/v1/devices/{deviceId}/attributes/-), following pages.
func (s *AttributesService) List(ctx context.Context, deviceID string, f *AttributeFilter) iter.Seq2[Attribute, error] {
	q := url.Values{}
	if f != nil {
		for _, n := range f.Names {
			q.Add("names", n)
		}
		if f.NameContains != "" {
			q.Set("nameContains", f.NameContains)
		}
		if f.ValueContains != "" {
			q.Set("valueContains", f.ValueContains)
		}
	}
	return pager(ctx, s.c, "Attributes.List", "/devices/"+escape(deviceID)+"/attributes/-", q, arrayItems[Attribute])
}

// Batch applies deletions, modifications and additions to one device's
// attributes in one call (PATCH /api/v1/devices/{deviceId}/attributes/-).
// Names and values of additions and modifications are checked against the
// 150/3000 character limits first.
func (s *AttributesService) Batch(ctx context.Context, deviceID string, b AttributeBatch) (*CountedResult, error) {
	const op = "Attributes.Batch"
	if err := checkAttributes("attributesToAdd", b.AttributesToAdd); err != nil {
		return nil, opErr(op, err)
	}
	mods := make([]NameValue, len(b.AttributeToModify))
	for i, m := range b.AttributeToModify {
		mods[i] = NameValue{Name: m.Name, Value: m.Value}
	}
	if err := checkAttributes("attributeToModify", mods); err != nil {
		return nil, opErr(op, err)
	}
	return s.batch(ctx, op, deviceID, b, httpx.RepeatByMethod)
}

// batch sends one attribute batch, retried as repeat allows.
func (s *AttributesService) batch(ctx context.Context, op, deviceID string, b AttributeBatch, repeat httpx.Repeat) (*CountedResult, error) {
	var res CountedResult
	if err := s.c.do(ctx, request{method: "PATCH", path: "/devices/" + escape(deviceID) + "/attributes/-", body: b, repeat: repeat}, &res, nil); err != nil {
		return nil, opErr(op, err)
	}
	return &res, res.check(op)
}

// MetadataUpdate is the desired metadata of one device for
// Devices.UpdateMetadata.
type MetadataUpdate struct {
	// Attributes maps attribute names to desired values. Names compare
	// case-insensitively with the device's.
	Attributes map[string]string
	// Owned reports whether the caller owns an attribute name; owned
	// attributes absent from Attributes are deleted. Nil means none.
	Owned func(name string) bool
	// OwnedPrefix is a shorthand for Owned: names starting with it
	// (case-insensitively) are owned.
	OwnedPrefix string
	// DisplayName and Note, when set, are the desired display name and note.
	DisplayName *string
	Note        *string
	// Current, when set, is the device as already read (e.g. from
	// Devices.All); its Name and Notes are compared with DisplayName and
	// Note instead of reading the properties.
	Current *Device
}

func (u *MetadataUpdate) owns(name string) bool {
	if u.Owned != nil && u.Owned(name) {
		return true
	}
	return u.OwnedPrefix != "" && len(name) >= len(u.OwnedPrefix) && strings.EqualFold(name[:len(u.OwnedPrefix)], u.OwnedPrefix)
}

// MetadataChange says what Devices.UpdateMetadata changed.
type MetadataChange struct {
	// Added, Modified and Deleted list attribute changes (Modified holds
	// the new values; Deleted the names removed).
	Added    []NameValue
	Modified []NameValue
	Deleted  []string
	// DisplayName and Note report property changes.
	DisplayName bool
	Note        bool
}

// Changed reports whether anything was written.
func (m *MetadataChange) Changed() bool {
	return len(m.Added)+len(m.Modified)+len(m.Deleted) > 0 || m.DisplayName || m.Note
}

// UpdateMetadata brings a device's attributes, display name and note to u.
// It reads the attributes once (GET /api/v1/devices/{deviceId}/attributes/-),
// then sends one PATCH /api/v1/devices/{deviceId}/attributes/- with only the
// additions, modifications and deletions needed (deletions only among owned
// names), and PUT /api/v1/devices/{deviceId}/properties only when the
// display name or note differ. Comparing the display name or note needs the
// device's properties (GET /api/v1/devices/{deviceId}/properties) unless
// u.Current is given. An unchanged device costs one read and no write.
func (s *DevicesService) UpdateMetadata(ctx context.Context, deviceID string, u MetadataUpdate) (*MetadataChange, error) {
	const op = "Devices.UpdateMetadata"
	names := make([]string, 0, len(u.Attributes))
	for n := range u.Attributes {
		names = append(names, n)
	}
	slices.Sort(names)
	desired := make([]NameValue, len(names))
	for i, n := range names {
		desired[i] = NameValue{Name: n, Value: u.Attributes[n]}
	}
	if err := checkAttributes("attributes", desired); err != nil {
		return nil, opErr(op, err)
	}
	if u.DisplayName != nil {
		if err := checkDisplayName("displayName", *u.DisplayName); err != nil {
			return nil, opErr(op, err)
		}
	}

	existing, err := collect(s.c.Attributes.List(ctx, deviceID, nil))
	if err != nil {
		return nil, opErr(op, err)
	}
	batch, change := diffAttributes(existing, desired, u.owns)

	var props PropertiesUpdate
	if u.DisplayName != nil || u.Note != nil {
		curName, curNote := "", ""
		if u.Current != nil {
			curName, curNote = u.Current.Name, u.Current.Notes
		} else {
			p, err := s.Properties(ctx, deviceID)
			if err != nil {
				return nil, opErr(op, err)
			}
			curName, curNote = p.DisplayName, p.Note
		}
		if u.DisplayName != nil && *u.DisplayName != curName {
			props.DisplayName, change.DisplayName = u.DisplayName, true
		}
		if u.Note != nil && *u.Note != curNote {
			props.Note, change.Note = u.Note, true
		}
	}

	if len(batch.AttributesToAdd)+len(batch.AttributeToModify)+len(batch.AttributesToDelete) > 0 {
		if _, err := s.c.Attributes.Batch(ctx, deviceID, batch); err != nil {
			return nil, opErr(op, err)
		}
	}
	if change.DisplayName || change.Note {
		if err := s.UpdateProperties(ctx, deviceID, props); err != nil {
			// The attribute part is done; report it with the error.
			change.DisplayName, change.Note = false, false
			return change, opErr(op, err)
		}
	}
	return change, nil
}

// diffAttributes computes the batch that turns existing into desired,
// deleting only owned names. Names compare case-insensitively; a second
// attribute with the same name is deleted if owned.
func diffAttributes(existing []Attribute, desired []NameValue, owns func(string) bool) (AttributeBatch, *MetadataChange) {
	var b AttributeBatch
	change := &MetadataChange{}
	want := make(map[string]NameValue, len(desired))
	for _, d := range desired {
		want[strings.ToLower(d.Name)] = d
	}
	matched := make(map[string]bool, len(desired))
	for _, a := range existing {
		if a.AttributeID == "" {
			a.AttributeID = a.ID
		}
		key := strings.ToLower(a.Name)
		d, ok := want[key]
		switch {
		case ok && !matched[key]:
			matched[key] = true
			if a.Value != d.Value {
				b.AttributeToModify = append(b.AttributeToModify, AttributeModifier{AttributeID: a.AttributeID, Name: a.Name, Value: d.Value})
				change.Modified = append(change.Modified, NameValue{Name: a.Name, Value: d.Value})
			}
		case owns(a.Name) && a.AttributeID != "":
			b.AttributesToDelete = append(b.AttributesToDelete, a.AttributeID)
			change.Deleted = append(change.Deleted, a.Name)
		}
	}
	for _, d := range desired {
		if !matched[strings.ToLower(d.Name)] {
			b.AttributesToAdd = append(b.AttributesToAdd, d)
			change.Added = append(change.Added, d)
		}
	}
	return b, change
}
