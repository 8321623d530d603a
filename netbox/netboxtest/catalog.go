package netboxtest

import (
	"net/http"
	"slices"
)

func (h *Handler) listRoles(r *http.Request, base string) ([]byte, *apiError) {
	return h.listCatalog(r, base, func(c *catalog) []catEntry { return c.roles }, h.role)
}

func (h *Handler) listTags(r *http.Request, base string) ([]byte, *apiError) {
	return h.listCatalog(r, base, func(c *catalog) []catEntry { return c.tags }, h.tag)
}

// listCatalog serves a catalog list with the id and slug filters (each
// OR over its values) and paging.
func (h *Handler) listCatalog(r *http.Request, base string, list func(*catalog) []catEntry,
	render func(*enc, string, *catEntry)) ([]byte, *apiError) {
	return listRows(h, r, base, func() []catEntry { return list(&h.cat) }, func(p *params) func(*catEntry) bool {
		ids, slugs := p.ints("id"), p.get("slug")
		return func(c *catEntry) bool {
			return (len(ids) == 0 || slices.Contains(ids, c.id)) && (len(slugs) == 0 || slices.Contains(slugs, c.slug))
		}
	}, render)
}

// catalogHead writes the keys every catalog object starts with.
func (e *enc) catalogHead(base, path string, c *catEntry) {
	e.head(view{base: base}, path, c.id, c.name)
	e.k("name")
	e.str(c.name)
	e.k("slug")
	e.str(c.slug)
	e.k("color")
	e.str(c.extra)
}

// role writes a device role as /api/dcim/device-roles/ does.
func (h *Handler) role(e *enc, base string, c *catEntry) {
	e.catalogHead(base, pRoles, c)
	var devices, vms int64
	for _, o := range h.devices.rows {
		if o.role == c.id {
			devices++
		}
	}
	for _, o := range h.vms.rows {
		if o.role == c.id {
			vms++
		}
	}
	e.k("vm_role")
	e.bool(true)
	e.k("config_template")
	e.null()
	e.k("parent")
	e.null()
	e.k("description")
	e.str("")
	e.k("tags")
	e.raw("[]")
	e.k("custom_fields")
	e.raw("{}")
	e.k("created")
	e.time(siteCreated)
	e.k("last_updated")
	e.time(siteCreated)
	e.k("device_count")
	e.int(devices)
	e.k("virtualmachine_count")
	e.int(vms)
	e.k("comments")
	e.str("")
	e.k("_depth")
	e.int(0)
	e.close()
}

// tag writes a tag as /api/extras/tags/ does.
func (h *Handler) tag(e *enc, base string, c *catEntry) {
	e.catalogHead(base, pTags, c)
	var tagged int64
	for _, t := range []*table[object]{h.devices, h.vms} {
		for _, o := range t.rows {
			if o.hasTag(c.id) {
				tagged++
			}
		}
	}
	e.k("description")
	e.str("")
	e.k("weight")
	e.int(1000)
	e.k("object_types")
	e.raw("[]")
	e.k("tagged_items")
	e.int(tagged)
	e.k("created")
	e.time(siteCreated)
	e.k("last_updated")
	e.time(siteCreated)
	e.close()
}
