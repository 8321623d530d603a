package netboxtest

import (
	"cmp"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Index keys of each row type.

func (h *Handler) objectKeys(o *object, emit func(ikey)) {
	emit(ikey{f: fSite, v: o.site})
	emit(ikey{f: fLocation, v: o.location})
	emit(ikey{f: fRack, v: o.rack})
	emit(ikey{f: fRole, v: o.role})
	emit(ikey{f: fTenant, v: o.tenant})
	emit(ikey{f: fPlatform, v: o.platform})
	emit(ikey{f: fDevType, v: o.devType})
	emit(ikey{f: fCluster, v: o.cluster})
	if dt := get(h.cat.deviceTypes, o.devType); dt != nil {
		emit(ikey{f: fManufacturer, v: dt.parent})
	}
	if s := get(h.cat.sites, o.site); s != nil {
		emit(ikey{f: fRegion, v: s.parent})
	}
	for _, t := range o.tags {
		emit(ikey{f: fTag, v: t})
	}
	emit(ikey{f: fStatus, s: o.status})
	emit(ikey{f: fPrimary, v: b2i(o.ip4 != 0 || o.ip6 != 0)})
	emit(ikey{f: fOOB, v: b2i(o.oob != 0)})
}

func ipKeys(ip *ipAddr, emit func(ikey)) {
	if ip.owner != kindNone {
		emit(ikey{f: fOwner, v: ip.ownerID, s: ownerTag(ip.owner)})
	}
	emit(ikey{f: fIface, v: ip.iface})
	emit(ikey{f: fVRF, v: ip.vrf})
	emit(ikey{f: fStatus, s: ip.status})
	emit(ikey{f: fFamily, v: b2i(ip.prefix.Addr().Is4())})
}

func ifaceKeys(i *iface, emit func(ikey)) {
	emit(ikey{f: fOwner, v: i.ownerID, s: ownerTag(i.owner)})
}

func ownerTag(k kind) string {
	if k == kindVM {
		return "v"
	}
	return "d"
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// params reads a query string and collects NetBox-style validation errors.
type params struct {
	q     url.Values
	order []string
	errs  map[string][]string
	used  map[string]bool // parameters the endpoint understands
}

// get returns the values of a parameter and marks it understood.
func (p *params) get(name string) []string {
	if p.used == nil {
		p.used = map[string]bool{}
	}
	p.used[name] = true
	return p.q[name]
}

// strict flags, with WithStrictParams, the parameters no filter read;
// NetBox itself ignores them.
func (h *Handler) strict(p *params) {
	if !h.cfg.strict {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(p.q)) {
		if !p.used[k] {
			p.fail(k, "Unknown query parameter (netboxtest strict mode; NetBox would ignore it).")
		}
	}
}

func (p *params) fail(param, msg string) {
	if p.errs == nil {
		p.errs = map[string][]string{}
	}
	if _, ok := p.errs[param]; !ok {
		p.order = append(p.order, param)
	}
	p.errs[param] = append(p.errs[param], msg)
}

// err is the 400 body NetBox sends for invalid filter values.
func (p *params) err() *apiError {
	if len(p.errs) == 0 {
		return nil
	}
	e := enc{}
	e.open()
	for _, k := range p.order {
		e.k(k)
		e.openA()
		for _, m := range p.errs[k] {
			e.str(m)
		}
		e.closeA()
	}
	e.close()
	return &apiError{status: http.StatusBadRequest, body: e.b}
}

// last returns the last value of a parameter, as Django's QueryDict.get does.
func (p *params) last(name string) string {
	v := p.get(name)
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func invalidChoice(v string) string {
	return "Select a valid choice. " + v + " is not one of the available choices."
}

// ints parses a number filter; bad values are reported.
func (p *params) ints(name string) []int64 {
	var out []int64
	for _, s := range p.get(name) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			p.fail(name, "Enter a number.")
			continue
		}
		out = append(out, n)
	}
	return out
}

func (p *params) boolean(name string) (val, ok bool) {
	s := p.last(name)
	switch strings.ToLower(s) {
	case "":
		return false, false
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	p.fail(name, invalidChoice(s))
	return false, false
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05",
	"2006-01-02 15:04:05.999999", "2006-01-02 15:04", "2006-01-02"}

func (p *params) time(name string) []int64 {
	var out []int64
	for _, s := range p.get(name) {
		var t time.Time
		var err error
		for _, l := range timeLayouts {
			if t, err = time.Parse(l, strings.TrimSpace(s)); err == nil {
				break
			}
		}
		if err != nil {
			p.fail(name, "Enter a valid date/time.")
			continue
		}
		out = append(out, t.UnixMicro())
	}
	return out
}

// paging reads limit and offset as NetBox's OptionalLimitOffsetPagination
// does: a bad or negative limit means the default, 0 means MAX_PAGE_SIZE,
// and larger limits are clamped to it.
func (h *Handler) paging(p *params) (limit, offset int) {
	max := h.cfg.maxPage
	limit = min(50, max)
	if s := p.last("limit"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			limit = n
			if n == 0 || n > max {
				limit = max
			}
		}
	}
	if s := p.last("offset"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			offset = n
		}
	}
	return limit, offset
}

// fkDef is a foreign-key filter pair such as site_id / site.
type fkDef struct {
	idParam, refParam string
	f                 field
	list              func(*catalog) []catEntry
	byName            bool // refParam matches names, not slugs
}

var objectFKs = []fkDef{
	{"site_id", "site", fSite, func(c *catalog) []catEntry { return c.sites }, false},
	{"location_id", "location", fLocation, func(c *catalog) []catEntry { return c.locations }, false},
	{"rack_id", "", fRack, func(c *catalog) []catEntry { return c.racks }, false},
	{"role_id", "role", fRole, func(c *catalog) []catEntry { return c.roles }, false},
	{"tenant_id", "tenant", fTenant, func(c *catalog) []catEntry { return c.tenants }, false},
	{"platform_id", "platform", fPlatform, func(c *catalog) []catEntry { return c.platforms }, false},
	{"manufacturer_id", "manufacturer", fManufacturer, func(c *catalog) []catEntry { return c.manufacturers }, false},
	{"device_type_id", "device_type", fDevType, func(c *catalog) []catEntry { return c.deviceTypes }, false},
	{"cluster_id", "cluster", fCluster, func(c *catalog) []catEntry { return c.clusters }, true},
	{"region_id", "region", fRegion, func(c *catalog) []catEntry { return c.regions }, false},
}

// fkIDs resolves the values of one FK parameter to ids (0 for "null").
func (p *params) fkIDs(param string, list []catEntry, ref, byName bool) []int64 {
	var out []int64
	for _, s := range p.get(param) {
		if s == "null" {
			out = append(out, 0)
			continue
		}
		var id int64
		switch {
		case !ref:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				p.fail(param, "“"+s+"” is not a valid value.")
				continue
			}
			if get(list, n) != nil {
				id = n
			}
		case byName:
			id = findName(list, s)
		default:
			id = findSlug(list, s)
		}
		if id == 0 {
			p.fail(param, invalidChoice(s))
			continue
		}
		out = append(out, id)
	}
	return out
}

// inAny is a cond matching rows whose key is one of vals.
func inAny(ix *tindex, f field, vals []int64) cond {
	lists := make([][]int32, 0, len(vals))
	for _, v := range vals {
		lists = append(lists, ix.post[ikey{f: f, v: v}])
	}
	return cond{list: union(lists...)}
}

func not(c cond) cond {
	return cond{pred: func(p int32) bool { return !c.test(p) }}
}

// common adds the filters every model has: id (with lookups),
// last_updated and created lookups.
func (p *params) common(pl *plan, ix *tindex, stamps func(int32) (created, updated int64)) {
	if ids := p.ints("id"); len(ids) > 0 {
		l := []int32{}
		for _, id := range ids {
			if i, ok := slices.BinarySearch(ix.ids, id); ok {
				l = append(l, int32(i))
			}
		}
		slices.Sort(l)
		pl.conds = append(pl.conds, cond{list: slices.Compact(l)})
	}
	if ids := p.ints("id__n"); len(ids) > 0 {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return !slices.Contains(ids, ix.ids[pos]) }})
	}
	// Repeated values of one lookup are alternatives (OR), as in NetBox;
	// different lookups are all applied.
	if vs := p.ints("id__gt"); len(vs) > 0 {
		pl.minID = max(pl.minID, slices.Min(vs))
	}
	if vs := p.ints("id__gte"); len(vs) > 0 {
		pl.minID = max(pl.minID, slices.Min(vs)-1)
	}
	if vs := p.ints("id__lt"); len(vs) > 0 {
		m := slices.Max(vs)
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return ix.ids[pos] < m }})
	}
	if vs := p.ints("id__lte"); len(vs) > 0 {
		m := slices.Max(vs)
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return ix.ids[pos] <= m }})
	}
	for _, field := range []string{"created", "last_updated"} {
		which := func(pos int32) int64 {
			c, u := stamps(pos)
			if field == "created" {
				return c
			}
			return u
		}
		for _, lk := range []struct {
			suffix string
			ok     func(a, b int64) bool
		}{{"", func(a, b int64) bool { return a == b }}, {"__gte", func(a, b int64) bool { return a >= b }},
			{"__gt", func(a, b int64) bool { return a > b }}, {"__lte", func(a, b int64) bool { return a <= b }},
			{"__lt", func(a, b int64) bool { return a < b }}} {
			if ts := p.time(field + lk.suffix); len(ts) > 0 {
				pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
					return slices.ContainsFunc(ts, func(t int64) bool { return lk.ok(which(pos), t) })
				}})
			}
		}
	}
}

// strFilter adds a string filter with NetBox's lookups (exact is
// case-insensitive for names: iexact).
func (p *params) strFilter(pl *plan, name string, value func(int32) string) {
	lookups := []struct {
		suffix string
		ok     func(v, want string) bool
		neg    bool
	}{
		{"", strings.EqualFold, false}, {"__n", strings.EqualFold, true},
		{"__ic", func(v, w string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(w)) }, false},
		{"__nic", func(v, w string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(w)) }, true},
		{"__isw", func(v, w string) bool { return strings.HasPrefix(strings.ToLower(v), strings.ToLower(w)) }, false},
		{"__iew", func(v, w string) bool { return strings.HasSuffix(strings.ToLower(v), strings.ToLower(w)) }, false},
	}
	for _, lk := range lookups {
		vals := p.get(name + lk.suffix)
		if len(vals) == 0 {
			continue
		}
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
			v := value(pos)
			for _, w := range vals {
				if lk.ok(v, w) {
					return !lk.neg
				}
			}
			return lk.neg
		}})
	}
	if b, ok := p.boolean(name + "__empty"); ok {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return (value(pos) == "") == b }})
	}
}

// objectPlan parses the filters of the device and VM lists.
func (h *Handler) objectPlan(p *params, t *table[object], ix *tindex, vm bool) *plan {
	pl := &plan{}
	row := func(pos int32) *object { return t.rows[pos] }
	p.common(pl, ix, func(pos int32) (int64, int64) { o := row(pos); return o.created, o.updated })
	for _, d := range objectFKs {
		if vm && (d.f == fLocation || d.f == fRack || d.f == fManufacturer || d.f == fDevType) {
			continue // not filters of NetBox's VirtualMachineFilterSet: ignored, as unknown parameters are
		}
		list := d.list(&h.cat)
		for _, param := range []string{d.idParam, d.refParam} {
			if param == "" {
				continue
			}
			ref := param == d.refParam
			if ids := p.fkIDs(param, list, ref, d.byName); len(ids) > 0 {
				pl.conds = append(pl.conds, inAny(ix, d.f, ids))
			}
			if ids := p.fkIDs(param+"__n", list, ref, d.byName); len(ids) > 0 {
				pl.conds = append(pl.conds, not(inAny(ix, d.f, ids)))
			}
		}
	}
	// Tags: repeated values are ANDed.
	for _, param := range []string{"tag", "tag_id"} {
		ids := p.fkIDs(param, h.cat.tags, param == "tag", false)
		for _, id := range ids {
			pl.conds = append(pl.conds, cond{list: nonNil(ix.post[ikey{f: fTag, v: id}])})
		}
		if ids := p.fkIDs(param+"__n", h.cat.tags, param == "tag", false); len(ids) > 0 {
			pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
				o := row(pos)
				for _, id := range ids {
					if o.hasTag(id) {
						return false
					}
				}
				return true
			}})
		}
	}
	labels := deviceStatusLabels
	if vm {
		labels = vmStatusLabels
	}
	for _, param := range []string{"status", "status__n"} {
		var lists [][]int32
		for _, s := range p.get(param) {
			if _, ok := labels[s]; !ok && !(s == customStatus && h.cfg.custom) {
				p.fail(param, invalidChoice(s))
				continue
			}
			lists = append(lists, ix.post[ikey{f: fStatus, s: s}])
		}
		if len(p.get(param)) > 0 {
			c := cond{list: union(lists...)}
			if param == "status__n" {
				c = not(c)
			}
			pl.conds = append(pl.conds, c)
		}
	}
	for _, b := range []struct {
		param string
		f     field
	}{{"has_primary_ip", fPrimary}, {"has_oob_ip", fOOB}} {
		if vm && b.f == fOOB {
			continue
		}
		if v, ok := p.boolean(b.param); ok {
			pl.conds = append(pl.conds, cond{list: nonNil(ix.post[ikey{f: b.f, v: b2i(v)}])})
		}
	}
	p.strFilter(pl, "name", func(pos int32) string { return row(pos).name })
	p.strFilter(pl, "serial", func(pos int32) string { return row(pos).serial })
	p.strFilter(pl, "asset_tag", func(pos int32) string { return row(pos).assetTag })
	p.strFilter(pl, "description", func(pos int32) string { return row(pos).description })
	if q := strings.ToLower(strings.TrimSpace(p.last("q"))); q != "" {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
			o := row(pos)
			for _, s := range []string{o.name, o.serial, o.assetTag, o.description, o.comments} {
				if strings.Contains(strings.ToLower(s), q) {
					return true
				}
			}
			return false
		}})
	}
	h.customFieldFilters(p, pl, row)
	pl.order, pl.desc = objectOrder(t, p.last("ordering"))
	return pl
}

// customFieldFilters adds cf_<name> filters: exact per type (OR across
// values), plus __n and, for text, __ic.
func (h *Handler) customFieldFilters(p *params, pl *plan, row func(int32) *object) {
	for param, vals := range p.q {
		name, ok := strings.CutPrefix(param, "cf_")
		if !ok {
			continue
		}
		name, lookup, _ := strings.Cut(name, "__")
		ci := slices.IndexFunc(h.cfs, func(d cfDef) bool { return d.name == name })
		if ci < 0 || (lookup != "" && lookup != "n" && lookup != "ic") {
			continue // unknown filters are ignored, as django-filter does
		}
		p.get(param)
		typ := h.cfs[ci].typ
		var wants []any
		for _, s := range vals {
			w, err := parseCF(typ, s)
			if err != "" {
				p.fail(param, err)
				continue
			}
			wants = append(wants, w)
		}
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
			o := row(pos)
			var v any
			if ci < len(o.cf) {
				v = o.cf[ci]
			}
			hit := false
			for _, w := range wants {
				if lookup == "ic" {
					s, _ := v.(string)
					ws, _ := w.(string)
					hit = hit || strings.Contains(strings.ToLower(s), strings.ToLower(ws))
				} else {
					hit = hit || cfEqual(v, w)
				}
			}
			return hit != (lookup == "n")
		}})
	}
}

func parseCF(typ cfType, s string) (any, string) {
	switch typ {
	case cfInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, "Enter a number."
		}
		return n, ""
	case cfDecimal:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, "Enter a number."
		}
		return f, ""
	case cfBoolean:
		switch strings.ToLower(s) {
		case "true", "1":
			return true, ""
		case "false", "0":
			return false, ""
		}
		return nil, invalidChoice(s)
	}
	return s, ""
}

func cfEqual(v, w any) bool {
	switch v := v.(type) {
	case int64:
		switch w := w.(type) {
		case int64:
			return v == w
		case float64:
			return float64(v) == w
		}
	case int:
		return cfEqual(int64(v), w)
	case float64:
		switch w := w.(type) {
		case int64:
			return v == float64(w)
		case float64:
			return v == w
		}
	case []string:
		return slices.Contains(v, w.(string))
	}
	return v == w
}

func nonNil(l []int32) []int32 {
	if l == nil {
		return []int32{}
	}
	return l
}

// natural compares names as NetBox's naturalized ordering does: digit runs
// compare by value. Unnamed rows sort last.
func natural(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			ra, rb := digitRun(a), digitRun(b)
			na, nb := strings.TrimLeft(ra, "0"), strings.TrimLeft(rb, "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[len(ra):], b[len(rb):]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}

// objectOrder turns ordering= into a sort order; nil with desc false means
// ascending id, nil with desc true descending id. Unknown fields are
// ignored; the default is name, then id.
func objectOrder(t *table[object], ordering string) (func(*tindex) sorted, bool) {
	keys := orderKeys(ordering, []string{"id", "name", "created", "last_updated", "serial", "status"})
	if len(keys) == 0 {
		keys = []string{"name"}
	}
	switch keys[0] {
	case "id":
		return nil, false
	case "-id":
		return nil, true
	}
	cmps := make([]func(a, b *object) int, 0, len(keys)+1)
	for _, k := range keys {
		field, desc := strings.CutPrefix(k, "-")
		var c func(a, b *object) int
		switch field {
		case "id":
			c = func(a, b *object) int { return cmp.Compare(a.id, b.id) }
		case "name":
			c = func(a, b *object) int { return natural(a.name, b.name) }
		case "created":
			c = func(a, b *object) int { return cmp.Compare(a.created, b.created) }
		case "last_updated":
			c = func(a, b *object) int { return cmp.Compare(a.updated, b.updated) }
		case "serial":
			c = func(a, b *object) int { return strings.Compare(a.serial, b.serial) }
		case "status":
			c = func(a, b *object) int { return strings.Compare(a.status, b.status) }
		}
		if desc {
			inner := c
			c = func(a, b *object) int { return inner(b, a) }
		}
		cmps = append(cmps, c)
	}
	name := strings.Join(keys, ",")
	return func(ix *tindex) sorted {
		return t.order(ix, name, func(a, b *object) int {
			for _, c := range cmps {
				if r := c(a, b); r != 0 {
					return r
				}
			}
			return cmp.Compare(a.id, b.id)
		})
	}, false
}

func orderKeys(ordering string, known []string) []string {
	var keys []string
	for _, k := range strings.Split(ordering, ",") {
		k = strings.TrimSpace(k)
		if slices.Contains(known, strings.TrimPrefix(k, "-")) {
			keys = append(keys, k)
		}
	}
	return keys
}

// ipPlan parses the filters of /api/ipam/ip-addresses/.
func (h *Handler) ipPlan(p *params, ix *tindex) *plan {
	pl := &plan{}
	t := h.ips
	row := func(pos int32) *ipAddr { return t.rows[pos] }
	p.common(pl, ix, func(pos int32) (int64, int64) { ip := row(pos); return ip.created, ip.updated })
	owners := func(ids []int64, tag string) cond {
		lists := make([][]int32, 0, len(ids))
		for _, id := range ids {
			lists = append(lists, ix.post[ikey{f: fOwner, v: id, s: tag}])
		}
		return cond{list: union(lists...)}
	}
	if ids := p.ints("device_id"); len(p.get("device_id")) > 0 {
		pl.conds = append(pl.conds, owners(ids, "d"))
	}
	if ids := p.ints("virtual_machine_id"); len(p.get("virtual_machine_id")) > 0 {
		pl.conds = append(pl.conds, owners(ids, "v"))
	}
	for _, x := range []struct {
		param string
		t     *table[object]
		tag   string
	}{{"device", h.devices, "d"}, {"virtual_machine", h.vms, "v"}} {
		if names := p.get(x.param); len(names) > 0 {
			var ids []int64
			for _, o := range x.t.rows {
				if o.name != "" && slices.Contains(names, o.name) {
					ids = append(ids, o.id)
				}
			}
			pl.conds = append(pl.conds, owners(ids, x.tag))
		}
	}
	if ids := p.ints("interface_id"); len(p.get("interface_id")) > 0 {
		pl.conds = append(pl.conds, inAny(ix, fIface, ids))
	}
	if ids := p.fkIDs("vrf_id", h.cat.vrfs, false, false); len(ids) > 0 {
		pl.conds = append(pl.conds, inAny(ix, fVRF, ids))
	}
	if vals := p.get("vrf"); len(vals) > 0 { // by RD
		var ids []int64
		for _, rd := range vals {
			if rd == "null" {
				ids = append(ids, 0)
			} else if i := slices.IndexFunc(h.cat.vrfs, func(v catEntry) bool { return v.extra == rd }); i >= 0 {
				ids = append(ids, h.cat.vrfs[i].id)
			} else {
				p.fail("vrf", invalidChoice(rd))
			}
		}
		pl.conds = append(pl.conds, inAny(ix, fVRF, ids))
	}
	if fams := p.ints("family"); len(fams) > 0 {
		var vals []int64
		for _, f := range fams {
			switch f {
			case 4, 6:
				vals = append(vals, b2i(f == 4))
			default:
				p.fail("family", invalidChoice(strconv.FormatInt(f, 10)))
			}
		}
		pl.conds = append(pl.conds, inAny(ix, fFamily, vals))
	}
	if vals := p.get("status"); len(vals) > 0 {
		var lists [][]int32
		for _, s := range vals {
			if _, ok := ipStatusLabels[s]; !ok {
				p.fail("status", invalidChoice(s))
			}
			lists = append(lists, ix.post[ikey{f: fStatus, s: s}])
		}
		pl.conds = append(pl.conds, cond{list: union(lists...)})
	}
	if vals := p.get("role"); len(vals) > 0 {
		for _, s := range vals {
			if _, ok := ipRoleLabels[s]; !ok && s != "null" {
				p.fail("role", invalidChoice(s))
			}
		}
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
			r := row(pos).role
			return slices.Contains(vals, r) || (r == "" && slices.Contains(vals, "null"))
		}})
	}
	if vals := p.get("address"); len(vals) > 0 {
		var addrs []netip.Addr
		for _, s := range vals {
			a, err := netip.ParseAddr(s)
			if err != nil {
				pf, perr := netip.ParsePrefix(s)
				if perr != nil {
					p.fail("address", "Enter a valid IPv4 or IPv6 address.")
					continue
				}
				a = pf.Addr()
			}
			addrs = append(addrs, a)
		}
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return slices.Contains(addrs, row(pos).prefix.Addr()) }})
	}
	if vals := p.get("parent"); len(vals) > 0 {
		var parents []netip.Prefix
		for _, s := range vals {
			pf, err := netip.ParsePrefix(s)
			if err != nil {
				p.fail("parent", "Enter a valid IPv4 or IPv6 prefix.")
				continue
			}
			parents = append(parents, pf.Masked())
		}
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
			a := row(pos).prefix.Addr()
			return slices.ContainsFunc(parents, func(pf netip.Prefix) bool { return pf.Contains(a) })
		}})
	}
	if b, ok := p.boolean("assigned_to_interface"); ok {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return (row(pos).iface != 0) == b }})
	}
	if b, ok := p.boolean("assigned"); ok {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return (row(pos).iface != 0) == b }})
	}
	p.strFilter(pl, "dns_name", func(pos int32) string { return row(pos).dnsName })
	if q := strings.ToLower(strings.TrimSpace(p.last("q"))); q != "" {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
			ip := row(pos)
			return strings.HasPrefix(ip.prefix.String(), q) || strings.Contains(strings.ToLower(ip.dnsName), q) ||
				strings.Contains(strings.ToLower(ip.description), q)
		}})
	}
	keys := orderKeys(p.last("ordering"), []string{"id", "address", "dns_name", "last_updated", "created"})
	if len(keys) == 0 {
		keys = []string{"address"}
	}
	switch keys[0] {
	case "id", "-id":
		pl.desc = keys[0] == "-id"
	default:
		name := strings.Join(keys, ",")
		pl.order = func(ix *tindex) sorted {
			return t.order(ix, name, func(a, b *ipAddr) int {
				for _, k := range keys {
					field, desc := strings.CutPrefix(k, "-")
					var c int
					switch field {
					case "id":
						c = cmp.Compare(a.id, b.id)
					case "address":
						c = comparePrefix(a.prefix, b.prefix)
					case "dns_name":
						c = strings.Compare(a.dnsName, b.dnsName)
					case "last_updated":
						c = cmp.Compare(a.updated, b.updated)
					case "created":
						c = cmp.Compare(a.created, b.created)
					}
					if desc {
						c = -c
					}
					if c != 0 {
						return c
					}
				}
				return cmp.Compare(a.id, b.id)
			})
		}
	}
	return pl
}

// comparePrefix orders addresses as PostgreSQL orders inet values: family,
// then address, then prefix length.
func comparePrefix(a, b netip.Prefix) int {
	if c := cmp.Compare(a.Addr().BitLen(), b.Addr().BitLen()); c != 0 {
		return c
	}
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// ifacePlan parses the filters of /api/dcim/interfaces/.
func (h *Handler) ifacePlan(p *params, ix *tindex) *plan {
	pl := &plan{}
	t := h.ifaces
	row := func(pos int32) *iface { return t.rows[pos] }
	p.common(pl, ix, func(pos int32) (int64, int64) { i := row(pos); return i.created, i.updated })
	pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return row(pos).owner == kindDevice }})
	if ids := p.ints("device_id"); len(p.get("device_id")) > 0 {
		lists := make([][]int32, 0, len(ids))
		for _, id := range ids {
			lists = append(lists, ix.post[ikey{f: fOwner, v: id, s: "d"}])
		}
		pl.conds = append(pl.conds, cond{list: union(lists...)})
	}
	if names := p.get("device"); len(names) > 0 {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool {
			o := h.devices.byID[row(pos).ownerID]
			return o != nil && o.name != "" && slices.Contains(names, o.name)
		}})
	}
	p.strFilter(pl, "name", func(pos int32) string { return row(pos).name })
	if vals := p.get("type"); len(vals) > 0 {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return slices.Contains(vals, row(pos).typ) }})
	}
	if b, ok := p.boolean("mgmt_only"); ok {
		pl.conds = append(pl.conds, cond{pred: func(pos int32) bool { return row(pos).mgmtOnly == b }})
	}
	keys := orderKeys(p.last("ordering"), []string{"id", "name"})
	if len(keys) > 0 && keys[0] == "-id" {
		pl.desc = true
	} else if len(keys) == 0 || keys[0] != "id" {
		// NetBox orders interfaces by device, then name naturally.
		pl.order = func(ix *tindex) sorted {
			return t.order(ix, "device,name", func(a, b *iface) int {
				if c := cmp.Compare(a.ownerID, b.ownerID); c != 0 {
					return c
				}
				return natural(a.name, b.name)
			})
		}
	}
	return pl
}
