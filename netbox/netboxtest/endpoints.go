package netboxtest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// view reads brief=, fields= and exclude= for one request. Any non-empty
// brief value enables the brief form; fields= (NetBox 4.0 and later; older
// versions ignore it) takes precedence over brief.
func (h *Handler) view(p *params, base string, configContext bool) view {
	p.get("format") // ?format=json, DRF's renderer switch
	v := view{base: base, brief: p.last("brief") != ""}
	if !h.since(4, 0) {
		// Not read: a strict fake flags it as NetBox 3.x would ignore it.
	} else if f := p.last("fields"); f != "" {
		v.only = map[string]bool{}
		for _, k := range strings.Split(f, ",") {
			v.only[strings.TrimSpace(k)] = true
		}
		v.brief = false
	}
	v.config = configContext && !v.brief && !strings.Contains(p.last("exclude"), "config_context")
	return v
}

// requestURL is the absolute URL of the request as the client sent it
// (before any prefix stripping), which NetBox's paging links are built on.
func requestURL(r *http.Request, base string) (path string, q url.Values) {
	path, raw, _ := strings.Cut(r.RequestURI, "?")
	if path == "" || !strings.HasPrefix(path, "/") {
		path = r.URL.EscapedPath()
	}
	q, _ = url.ParseQuery(raw)
	return base + path, q
}

// envelope writes the paginated list body with NetBox's next/previous
// links: the request URL with limit and offset replaced, keys sorted;
// next is null on the last page, previous drops offset when it would be 0.
func envelope(r *http.Request, base string, count, offset, limit, rows int, items func(e *enc)) []byte {
	e := newEnc(256 + rows*3200)
	e.open()
	e.k("count")
	e.int(int64(count))
	path, q := requestURL(r, base)
	e.k("next")
	if offset+limit < count {
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(offset+limit))
		e.str(path + "?" + q.Encode())
	} else {
		e.null()
	}
	e.k("previous")
	if offset > 0 {
		q.Set("limit", strconv.Itoa(limit))
		if offset-limit <= 0 {
			q.Del("offset")
		} else {
			q.Set("offset", strconv.Itoa(offset-limit))
		}
		e.str(path + "?" + q.Encode())
	} else {
		e.null()
	}
	e.k("results")
	e.openA()
	items(e)
	e.closeA()
	e.close()
	return e.b
}

func (h *Handler) listDevices(r *http.Request, base string) ([]byte, *apiError) {
	return h.listObjects(r, base, h.devices, false)
}

func (h *Handler) listVMs(r *http.Request, base string) ([]byte, *apiError) {
	return h.listObjects(r, base, h.vms, true)
}

func (h *Handler) listObjects(r *http.Request, base string, t *table[object], vm bool) ([]byte, *apiError) {
	render := h.device
	if vm {
		render = h.vm
	}
	return listTable(h, r, base, t, true, func(p *params, ix *tindex) *plan { return h.objectPlan(p, t, ix, vm) }, render)
}

// listTable serves a list endpoint over t: plan turns the query's filters
// into a plan, render writes one row; configContext says whether the
// objects carry a config context.
func listTable[T any](h *Handler, r *http.Request, base string, t *table[T], configContext bool,
	plan func(*params, *tindex) *plan, render func(*enc, view, *T)) ([]byte, *apiError) {
	p := &params{q: r.URL.Query()}
	h.mu.RLock()
	defer h.mu.RUnlock()
	ix := t.index()
	pl := plan(p, ix)
	pl.limit, pl.offset = h.paging(p)
	v := h.view(p, base, configContext)
	h.strict(p)
	if e := p.err(); e != nil {
		return nil, e
	}
	count, page := pl.run(ix)
	return envelope(r, base, count, pl.offset, pl.limit, len(page), func(e *enc) {
		e.only = v.only
		for _, pos := range page {
			render(e, v, t.rows[pos])
		}
		e.only = nil
	}), nil
}

// pathID reads the {id} of a detail URL; NetBox's URL patterns only match
// integers, so anything else is a 404.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (h *Handler) getDevice(r *http.Request, base string) ([]byte, *apiError) {
	return getOne(h, r, base, "Device", true, func(id int64) *object { return h.devices.byID[id] }, h.device)
}

func (h *Handler) getVM(r *http.Request, base string) ([]byte, *apiError) {
	return getOne(h, r, base, "VirtualMachine", true, func(id int64) *object { return h.vms.byID[id] }, h.vm)
}

// getOne serves a detail URL: find returns the row of its {id} (nil for
// NetBox's 404 naming model) and render writes it in the view the query
// asks for; configContext says whether the model has a config context.
func getOne[T any](h *Handler, r *http.Request, base, model string, configContext bool,
	find func(int64) *T, render func(*enc, view, *T)) ([]byte, *apiError) {
	id, ok := pathID(r)
	if !ok {
		return nil, detail(http.StatusNotFound, "Not found.")
	}
	p := &params{q: r.URL.Query()}
	h.mu.RLock()
	defer h.mu.RUnlock()
	x := find(id)
	if x == nil {
		return nil, detail(http.StatusNotFound, "No "+model+" matches the given query.")
	}
	v := h.view(p, base, configContext)
	e := &enc{only: v.only}
	render(e, v, x)
	return e.b, nil
}

func (h *Handler) listIPs(r *http.Request, base string) ([]byte, *apiError) {
	return listTable(h, r, base, h.ips, false, h.ipPlan, h.ip)
}

func (h *Handler) getIP(r *http.Request, base string) ([]byte, *apiError) {
	return getOne(h, r, base, "IPAddress", false, func(id int64) *ipAddr { return h.ips.byID[id] }, h.ip)
}

func (h *Handler) listInterfaces(r *http.Request, base string) ([]byte, *apiError) {
	return listTable(h, r, base, h.ifaces, false, h.ifacePlan, h.iface)
}

func (h *Handler) listSites(r *http.Request, base string) ([]byte, *apiError) {
	p := &params{q: r.URL.Query()}
	h.mu.RLock()
	defer h.mu.RUnlock()
	sites := h.cat.sites
	ids := p.ints("id")
	slugs := p.get("slug")
	regions := p.fkIDs("region_id", h.cat.regions, false, false)
	regions = append(regions, p.fkIDs("region", h.cat.regions, true, false)...)
	limit, offset := h.paging(p)
	v := h.view(p, base, false)
	h.strict(p)
	if e := p.err(); e != nil {
		return nil, e
	}
	var match []*catEntry
	for i := range sites {
		s := &sites[i]
		if (len(ids) > 0 && !slices.Contains(ids, s.id)) || (len(slugs) > 0 && !slices.Contains(slugs, s.slug)) ||
			((len(p.get("region_id")) > 0 || len(p.get("region")) > 0) && !slices.Contains(regions, s.parent)) {
			continue
		}
		match = append(match, s)
	}
	page := match[min(offset, len(match)):min(offset+limit, len(match))]
	return envelope(r, base, len(match), offset, limit, len(page), func(e *enc) {
		e.only = v.only
		for _, s := range page {
			h.site(e, v, s)
		}
		e.only = nil
	}), nil
}

func (h *Handler) getSite(r *http.Request, base string) ([]byte, *apiError) {
	return getOne(h, r, base, "Site", false, func(id int64) *catEntry { return get(h.cat.sites, id) }, h.site)
}

// getStatus serves /api/status/ (values as a NetBox 4.3 Docker image
// reports them).
func (h *Handler) getStatus(r *http.Request, base string) ([]byte, *apiError) {
	e := &enc{}
	e.open()
	e.k("django-version")
	e.str("5.2")
	e.k("installed-apps")
	e.open()
	for _, kv := range [][2]string{{"django_filters", "25.1"}, {"django_prometheus", "2.3.1"}, {"django_rq", "3.0.1"},
		{"django_tables2", "2.7.5"}, {"drf_spectacular", "0.28.0"}, {"drf_spectacular_sidecar", "2025.5.1"},
		{"mptt", "0.17.0"}, {"rest_framework", "3.16.0"}, {"social_django", "5.4.3"}, {"taggit", "6.1.0"},
		{"timezone_field", "7.1"}} {
		e.k(kv[0])
		e.str(kv[1])
	}
	e.close()
	e.k("netbox-version")
	e.str(h.cfg.version)
	e.k("netbox-full-version")
	e.str(h.cfg.version)
	e.k("plugins")
	e.raw("{}")
	e.k("python-version")
	e.str("3.12.3")
	e.k("rq-workers-running")
	e.int(1)
	e.close()
	return e.b, nil
}
