package wugtest

import (
	"net/http"
	"strconv"
	"strings"
)

// deviceAttribute is WUG's DeviceAttribute. The fake gives id and
// attributeId the same value.
type deviceAttribute struct {
	AttributeID string `json:"attributeId"`
	Name        string `json:"name"`
	Value       string `json:"value"`
	Discovered  string `json:"discovered,omitempty"`
	ID          string `json:"id"`
}

func renderAttr(a *attribute) deviceAttribute {
	id := strconv.Itoa(a.id)
	return deviceAttribute{AttributeID: id, Name: a.name, Value: a.value, Discovered: a.discovered, ID: id}
}

// Attribute names are unique per device and compared case-insensitively.
func findAttr(d *device, name string) *attribute {
	for _, a := range d.attrs {
		if strings.EqualFold(a.name, name) {
			return a
		}
	}
	return nil
}

func findAttrID(d *device, id string) *attribute {
	for _, a := range d.attrs {
		if strconv.Itoa(a.id) == id {
			return a
		}
	}
	return nil
}

func (s *state) addAttr(d *device, name, value string) *attribute {
	s.nextAttr++
	a := &attribute{id: s.nextAttr, name: name, value: value}
	d.attrs = append(d.attrs, a)
	return a
}

// removeAttrs drops the attributes drop selects and returns how many went.
func removeAttrs(d *device, drop func(*attribute) bool) int {
	kept := d.attrs[:0]
	n := 0
	for _, a := range d.attrs {
		if drop(a) {
			n++
			continue
		}
		kept = append(kept, a)
	}
	clear(d.attrs[len(kept):])
	d.attrs = kept
	return n
}

// checkAttr applies the template schema's limits, the only published ones.
func (c *call) checkAttr(name, value string) bool {
	switch {
	case strings.TrimSpace(name) == "":
		c.fail(http.StatusBadRequest, "attribute name is required")
	case len([]rune(name)) > 150:
		c.fail(http.StatusBadRequest, "attribute name exceeds 150 characters")
	case len([]rune(value)) > 3000:
		c.fail(http.StatusBadRequest, "attribute value exceeds 3000 characters")
	default:
		return true
	}
	return false
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// listAttributes serves GET /devices/{deviceId}/attributes/-; data is the
// array itself. names (repeatable) match exactly but case-insensitively;
// nameContains and valueContains are case-insensitive substrings.
func (h *Handler) listAttributes(c *call) {
	limit, ok := c.limit()
	if !ok {
		return
	}
	names := c.query["names"]
	nameC, valueC := c.query.Get("nameContains"), c.query.Get("valueContains")
	c.withDevice(func(_ *state, d *device) {
		pageItems(c, limit, d.attrs, func(a *attribute) int { return a.id }, func(a *attribute) bool {
			if len(names) > 0 && !anyFold(names, a.name) {
				return false
			}
			return containsFold(a.name, nameC) && containsFold(a.value, valueC)
		}, renderAttr)
	})
}

func anyFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// getAttribute serves GET /devices/{deviceId}/attributes/{attributeId}.
func (h *Handler) getAttribute(c *call) {
	c.withAttr(func(_ *state, _ *device, a *attribute) { c.data(renderAttr(a)) })
}

// withAttr runs fn on the attribute named by the attributeId path parameter
// of the device named by deviceId, answering 404 when either is missing.
func (c *call) withAttr(fn func(s *state, d *device, a *attribute)) {
	id := c.params["attributeId"]
	c.withDevice(func(s *state, d *device) {
		if a := findAttrID(d, id); a != nil {
			fn(s, d, a)
			return
		}
		c.notFound("attribute", id)
	})
}

// addAttribute serves POST /devices/{deviceId}/attributes/-?name=&value=
// (query parameters, no body). A name the device already has (compared
// case-insensitively) is refused with 400.
func (h *Handler) addAttribute(c *call) {
	name, value := c.query.Get("name"), c.query.Get("value")
	if !c.checkAttr(name, value) {
		return
	}
	c.withDevice(func(s *state, d *device) {
		if findAttr(d, name) != nil {
			c.fail(http.StatusBadRequest, "device %d already has an attribute named %q", d.id, name)
			return
		}
		c.data(renderAttr(s.addAttr(d, name, value)))
	})
}

// updateAttribute serves PUT /devices/{deviceId}/attributes/{attributeId}?name=&value=.
// An absent name keeps the current one.
func (h *Handler) updateAttribute(c *call) {
	c.withAttr(func(_ *state, d *device, a *attribute) {
		name := a.name
		if c.query.Has("name") {
			name = c.query.Get("name")
		}
		value := c.query.Get("value")
		if !c.checkAttr(name, value) {
			return
		}
		if other := findAttr(d, name); other != nil && other != a {
			c.fail(http.StatusBadRequest, "device %d already has an attribute named %q", d.id, name)
			return
		}
		a.name, a.value = name, value
		c.data(successResult{true})
	})
}

// deleteAttribute serves DELETE /devices/{deviceId}/attributes/{attributeId}.
func (h *Handler) deleteAttribute(c *call) {
	c.withDevice(func(s *state, d *device) {
		id := c.params["attributeId"]
		if removeAttrs(d, func(a *attribute) bool { return strconv.Itoa(a.id) == id }) == 0 {
			c.notFound("attribute", id)
			return
		}
		c.data(successResult{true})
	})
}

// deleteAttributes serves DELETE /devices/{deviceId}/attributes/-: with no
// filter every attribute goes; otherwise those matching any names,
// nameContains or valueContains value (each repeatable).
func (h *Handler) deleteAttributes(c *call) {
	names, nameC, valueC := c.query["names"], c.query["nameContains"], c.query["valueContains"]
	all := len(names)+len(nameC)+len(valueC) == 0
	c.withDevice(func(s *state, d *device) {
		n := removeAttrs(d, func(a *attribute) bool {
			return all || anyFold(names, a.name) || anyContains(a.name, nameC) || anyContains(a.value, valueC)
		})
		res := newCounted()
		res.SuccessfulOperations = n
		c.data(res.done())
	})
}

func anyContains(s string, subs []string) bool {
	for _, x := range subs {
		if x != "" && containsFold(s, x) {
			return true
		}
	}
	return false
}

// attributeBatch is BulkDeviceAttributeBatch.
type attributeBatch struct {
	DeleteAllAttributes            looseBool   `json:"deleteAllAttributes"`
	AttributesToDelete             idList      `json:"attributesToDelete"`
	AttributeNamesToDelete         []string    `json:"attributeNamesToDelete"`
	AttributeNameContainsToDelete  []string    `json:"attributeNameContainsToDelete"`
	AttributeValueContainsToDelete []string    `json:"attributeValueContainsToDelete"`
	AttributeToModify              []attrMod   `json:"attributeToModify"`
	AttributesToAdd                []nameValue `json:"attributesToAdd"`
}

type attrMod struct {
	AttributeID looseString `json:"attributeId"`
	Name        *string     `json:"name"`
	Value       *string     `json:"value"`
}

// batchAttributes serves PATCH /devices/{deviceId}/attributes/-. Steps run in
// the documented order: deleteAllAttributes, attributesToDelete (ids), the
// name / name-contains / value-contains deletes (case-insensitive), then
// attributeToModify, then attributesToAdd. Ids not found are skipped; adding
// a name the device already has updates that attribute's value.
func (h *Handler) batchAttributes(c *call) {
	var b attributeBatch
	if !c.decode(&b) {
		return
	}
	for _, a := range b.AttributesToAdd {
		if !c.checkAttr(a.Name, a.Value) {
			return
		}
	}
	for _, m := range b.AttributeToModify {
		if m.Name != nil && !c.checkAttr(*m.Name, "") {
			return
		}
		if m.Value != nil && !c.checkAttr("x", *m.Value) {
			return
		}
	}
	c.withDevice(func(s *state, d *device) {
		res := newCounted()
		if b.DeleteAllAttributes {
			res.SuccessfulOperations += removeAttrs(d, func(*attribute) bool { return true })
		}
		res.SuccessfulOperations += removeAttrs(d, func(a *attribute) bool {
			id := strconv.Itoa(a.id)
			for _, x := range b.AttributesToDelete {
				if x == id {
					return true
				}
			}
			return false
		})
		res.SuccessfulOperations += removeAttrs(d, func(a *attribute) bool {
			return anyFold(b.AttributeNamesToDelete, a.name) ||
				anyContains(a.name, b.AttributeNameContainsToDelete) ||
				anyContains(a.value, b.AttributeValueContainsToDelete)
		})
		for _, m := range b.AttributeToModify {
			a := findAttrID(d, string(m.AttributeID))
			if a == nil {
				continue
			}
			if m.Name != nil {
				if other := findAttr(d, *m.Name); other != nil && other != a {
					res.notAllowed(string(m.AttributeID), "attribute name "+strconv.Quote(*m.Name)+" is already used on this device")
					continue
				}
				a.name = *m.Name
			}
			if m.Value != nil {
				a.value = *m.Value
			}
			res.SuccessfulOperations++
		}
		for _, nv := range b.AttributesToAdd {
			if a := findAttr(d, nv.Name); a != nil {
				a.value = nv.Value
			} else {
				s.addAttr(d, nv.Name, nv.Value)
			}
			res.SuccessfulOperations++
		}
		c.data(res.done())
	})
}
