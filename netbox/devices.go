package netbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/url"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/sync/errgroup"
)

// item is one object of a page: a converted Device, or a *DeviceError.
type item struct {
	dev Device
	err error
}

func (it item) id() int64 { return it.dev.ID }

// page is a batch of items handed from the fetching goroutine to the
// consumer, or the error that ends the stream.
type page struct {
	items []item
	err   error
}

// Devices streams the devices (and, with Selector.IncludeVMs, virtual
// machines) that sel picks, in id order, devices first, each with its
// addresses and its site's region.
//
// It calls GET /api/status/ once per Client (for the version), GET
// /api/dcim/devices/ and GET /api/virtualization/virtual-machines/ with
// ordering=id, id__gt (keyset paging), limit (1000 by default) and fields=
// (NetBox 4.0+) or exclude=config_context; GET /api/ipam/ip-addresses/
// with batches of device_id= or virtual_machine_id= per page; and GET
// /api/dcim/sites/?id=… once per site (neither with
// Selector.CustomFieldsOnly). The next page is fetched while the current one is consumed, so at
// most two pages are held in memory.
//
// A *DeviceError is a per-object failure and the stream continues after
// it; any other error is fatal and is the last value yielded (see
// DeviceError). Breaking out of the loop stops the background fetching.
func (c *Client) Devices(ctx context.Context, sel Selector) iter.Seq2[Device, error] {
	return func(yield func(Device, error) bool) {
		if err := sel.Validate(); err != nil {
			yield(Device{}, err)
			return
		}
		fields, err := c.useFields(ctx)
		if err != nil {
			yield(Device{}, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		pages := make(chan page)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.produce(ctx, &sel, fields, pages)
		}()
		// On leaving, the producer sees the cancellation in its next send
		// (nobody receives any more) and starts no further request.
		defer func() {
			cancel()
			<-done
		}()
		for p := range pages {
			for _, it := range p.items {
				if !yield(it.dev, it.err) {
					return
				}
			}
			if p.err != nil {
				yield(Device{}, p.err)
				return
			}
		}
		// The producer gives up without an error only when ctx ends.
		if err := ctx.Err(); err != nil {
			yield(Device{}, fmt.Errorf("netbox: list devices: %w", context.Cause(ctx)))
		}
	}
}

// produce fetches pages until the selection is exhausted, an error ends
// it or ctx is done, and closes out. fields says whether NetBox takes
// fields=.
func (c *Client) produce(ctx context.Context, sel *Selector, fields bool, out chan<- page) {
	defer close(out)
	f := fetcher{c: c, sel: sel, fields: fields, regions: map[int64]Ref{}}
	send := func(p page) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var kinds []Kind
	if sel.includesDevices() {
		kinds = append(kinds, KindDevice)
	}
	if sel.includesVMs() {
		kinds = append(kinds, KindVirtualMachine)
	}
	for _, kind := range kinds {
		// Long explicit id lists go in parts that fit a URL, in id order.
		for _, part := range sel.idParts(kind, f.idBudget(kind)) {
			f.sel = part
			if err := f.stream(ctx, kind, send); err != nil {
				send(page{err: err})
				return
			}
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// fetcher holds the state of one Devices call.
type fetcher struct {
	c       *Client
	sel     *Selector
	fields  bool          // NetBox takes fields=
	regions map[int64]Ref // site id → region; Ref{} for sites without one
}

// cursor is one keyset-paged list: one per any-of tag.
type cursor struct {
	tag   string
	after int64
	buf   []item
	done  bool
}

// stream pages through one kind of object. With several any-of tags it
// runs one keyset cursor per tag and merges them by id: an object is
// emitted once every cursor that is not exhausted has read past its id,
// so the merged output stays in id order without duplicates.
func (f *fetcher) stream(ctx context.Context, kind Kind, send func(page) bool) error {
	tags := f.sel.AnyTags
	if len(tags) == 0 {
		tags = []string{""}
	}
	curs := make([]cursor, len(tags))
	for i, t := range tags {
		curs[i].tag = t
	}
	for {
		for i := range curs {
			cur := &curs[i]
			if len(cur.buf) > 0 || cur.done {
				continue
			}
			items, more, err := f.list(ctx, kind, cur.tag, cur.after)
			if err != nil {
				return err
			}
			for _, it := range items {
				if it.id() > cur.after {
					cur.after = it.id()
				} else if it.id() != 0 {
					return fmt.Errorf("netbox: list %ss: id %d after %d: NetBox did not honour ordering=id", kind, it.id(), cur.after)
				}
			}
			cur.buf, cur.done = items, !more || len(items) == 0
		}
		mark := int64(math.MaxInt64)
		finished := true
		for _, cur := range curs {
			if !cur.done {
				mark = min(mark, cur.after)
			}
			finished = finished && cur.done
		}
		var ready []item
		for i := range curs {
			n := 0
			for n < len(curs[i].buf) && curs[i].buf[n].id() <= mark {
				n++
			}
			ready = append(ready, curs[i].buf[:n]...)
			curs[i].buf = curs[i].buf[n:]
		}
		if len(curs) > 1 {
			ready = mergeByID(ready)
		}
		if len(ready) > 0 {
			if !f.sel.CustomFieldsOnly {
				if err := f.enrich(ctx, kind, ready); err != nil {
					return err
				}
			}
			if !send(page{items: ready}) {
				return nil
			}
		}
		if finished {
			return nil
		}
	}
}

// mergeByID sorts items by id and drops repeated ids (an object carrying
// several of the any-of tags).
func mergeByID(items []item) []item {
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.id(), b.id()) })
	return slices.CompactFunc(items, func(a, b item) bool { return a.id() != 0 && a.id() == b.id() })
}

// list fetches one page of kind after id after, with anyTag added to the
// all-of tags. more reports whether NetBox has further pages.
func (f *fetcher) list(ctx context.Context, kind Kind, anyTag string, after int64) (items []item, more bool, err error) {
	path, op := listPath(kind)
	more, err = f.c.list(ctx, op, path, f.listQuery(kind, anyTag, after), func(raw jsontext.Value) {
		d, err := decodeObject(kind, raw, f.c.base)
		if err != nil {
			id, name := peek(raw)
			items = append(items, item{dev: Device{Kind: kind, ID: id, Name: name}, err: &DeviceError{Kind: kind, ID: id, Name: name, Err: err}})
			return
		}
		items = append(items, item{dev: d})
	})
	f.c.objects.Add(int64(len(items)))
	return items, more, err
}

// listPath returns the list endpoint of kind and the operation's name.
func listPath(kind Kind) (path, op string) {
	if kind == KindVirtualMachine {
		return "/api/virtualization/virtual-machines/", "list virtual machines"
	}
	return "/api/dcim/devices/", "list devices"
}

// listQuery is the query of one list page: the selector's filters, keyset
// paging after id after, and what to leave out of the objects.
func (f *fetcher) listQuery(kind Kind, anyTag string, after int64) url.Values {
	q := f.sel.query(kind, anyTag)
	q.Set("ordering", "id")
	q.Set("limit", strconv.Itoa(f.c.pageSize))
	if after > 0 {
		q.Set("id__gt", strconv.FormatInt(after, 10))
	}
	if f.fields {
		fields := objectFields[kind]
		if f.sel.CustomFieldsOnly {
			fields = "id,name"
		}
		if !f.sel.OmitCustomFields {
			fields += ",custom_fields"
		}
		q.Set("fields", fields)
	} else {
		q.Set("exclude", "config_context")
	}
	return q
}

// idBudget is how many characters of a list URL of kind the explicit ids
// may take: the client's URL limit less everything else the URL holds.
func (f *fetcher) idBudget(kind Kind) int {
	rest := *f.sel
	rest.IDs, rest.VMIDs = nil, nil
	longest := ""
	for _, t := range rest.AnyTags {
		if len(t) > len(longest) {
			longest = t
		}
	}
	g := fetcher{c: f.c, sel: &rest, fields: f.fields}
	path, _ := listPath(kind)
	fixed := len(f.c.base.String()) + len(path) + 1 + len(g.listQuery(kind, longest, math.MaxInt64).Encode())
	return f.c.maxURL - fixed - 1
}

// enrich attaches IP addresses and regions to a page's objects; an object
// with an undecodable address becomes a *DeviceError.
func (f *fetcher) enrich(ctx context.Context, kind Kind, items []item) error {
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		if it.err == nil {
			ids = append(ids, it.id())
		}
	}
	ips, bad, err := f.ips(ctx, kind, ids)
	if err != nil {
		return err
	}
	if err := f.loadRegions(ctx, items); err != nil {
		return err
	}
	for i := range items {
		it := &items[i]
		if it.err != nil {
			continue
		}
		d := &it.dev
		if e, ok := bad[d.ID]; ok {
			*it = item{dev: Device{Kind: kind, ID: d.ID, Name: d.Name}, err: &DeviceError{Kind: kind, ID: d.ID, Name: d.Name, Err: e}}
			continue
		}
		d.IPs = ips[d.ID]
		for _, p := range []*IPAddress{&d.PrimaryIPv4, &d.PrimaryIPv6, &d.OOBIP} {
			if !p.IsValid() {
				continue
			}
			for _, ip := range d.IPs {
				if ip.ID == p.ID {
					*p = ip
					break
				}
			}
		}
		d.Region = f.regions[d.Site.ID]
	}
	return nil
}

// ipFetchers bounds the IP batches of one page fetched at the same time.
const ipFetchers = 4

// ownedIP is an address read from NetBox with the id of the object holding
// it, or the reason it could not be read.
type ownedIP struct {
	ip    IPAddress
	owner int64
	err   error
}

// ips fetches the addresses of the given objects with GET
// /api/ipam/ip-addresses/?device_id=… (or virtual_machine_id=…) in batches
// whose URL stays under the client's limit, a few batches at a time, each
// keyset-paged by id. It returns the addresses by owner and, per owner, the
// first address that could not be decoded.
func (f *fetcher) ips(ctx context.Context, kind Kind, ids []int64) (map[int64][]IPAddress, map[int64]error, error) {
	fixed := len(f.c.base.String()) + len("/api/ipam/ip-addresses/?fields="+url.QueryEscape(ipFields)+"&id__gt=9223372036854775807&limit=1000&ordering=id")
	chunks := chunkIDs(ids, ownerParam(kind), f.c.maxURL-fixed)
	results := make([][]ownedIP, len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ipFetchers)
	for i, chunk := range chunks {
		g.Go(func() (err error) {
			results[i], err = f.ipBatch(gctx, kind, chunk)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}

	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	byOwner := make(map[int64][]IPAddress, len(ids))
	bad := map[int64]error{}
	for _, batch := range results {
		for _, o := range batch {
			switch {
			case !want[o.owner]:
				// Held by an object on another page (a virtual-chassis
				// member), by none, or unreadable without a known owner.
				if o.err != nil {
					f.c.logger.WarnContext(ctx, "netbox: skipping an undecodable IP address with no known owner", "id", o.ip.ID, "error", o.err)
				}
			case o.err != nil:
				if _, seen := bad[o.owner]; !seen {
					bad[o.owner] = fmt.Errorf("IP address %d: %w", o.ip.ID, o.err)
				}
			case !slices.ContainsFunc(byOwner[o.owner], func(x IPAddress) bool { return x.ID == o.ip.ID }):
				byOwner[o.owner] = append(byOwner[o.owner], o.ip)
			}
		}
	}
	return byOwner, bad, nil
}

// ownerParam is the IP address filter that selects the addresses of
// objects of kind by id.
func ownerParam(kind Kind) string {
	if kind == KindVirtualMachine {
		return "virtual_machine_id"
	}
	return "device_id"
}

// ipBatch reads every address of one batch of objects, page by page.
func (f *fetcher) ipBatch(ctx context.Context, kind Kind, chunk []int64) ([]ownedIP, error) {
	var out []ownedIP
	var after int64
	for {
		q := url.Values{}
		for _, id := range chunk {
			q.Add(ownerParam(kind), strconv.FormatInt(id, 10))
		}
		q.Set("ordering", "id")
		q.Set("limit", strconv.Itoa(f.c.pageSize))
		if after > 0 {
			q.Set("id__gt", strconv.FormatInt(after, 10))
		}
		if f.fields {
			q.Set("fields", ipFields)
		}
		var last int64
		n := 0
		more, err := f.c.list(ctx, "list IP addresses", "/api/ipam/ip-addresses/", q, func(raw jsontext.Value) {
			ip, owner, err := decodeIP(raw, kind)
			last = max(last, ip.ID)
			n++
			out = append(out, ownedIP{ip: ip, owner: owner, err: err})
		})
		if err != nil {
			return nil, err
		}
		if !more || n == 0 {
			return out, nil
		}
		if last <= after {
			return nil, fmt.Errorf("netbox: list IP addresses: id %d after %d: NetBox did not honour ordering=id", last, after)
		}
		after = last
	}
}

// chunkIDs splits ids into batches whose "param=id&…" query text stays
// within budget characters.
func chunkIDs(ids []int64, param string, budget int) [][]int64 {
	var chunks [][]int64
	var cur []int64
	used := 0
	for _, id := range ids {
		n := len(param) + 2 + len(strconv.FormatInt(id, 10))
		if len(cur) > 0 && used+n > budget {
			chunks = append(chunks, cur)
			cur, used = nil, 0
		}
		cur = append(cur, id)
		used += n
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// loadRegions looks up, with GET /api/dcim/sites/?id=…, the regions of the
// page's sites not yet cached. A refused or failing lookup leaves regions
// empty and is logged: the region is a detail, not worth the run.
func (f *fetcher) loadRegions(ctx context.Context, items []item) error {
	var missing []int64
	for _, it := range items {
		id := it.dev.Site.ID
		if _, ok := f.regions[id]; it.err == nil && id != 0 && !ok && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	fixed := len(f.c.base.String()) + len("/api/dcim/sites/?fields=id%2Cregion&limit=1000")
	for _, chunk := range chunkIDs(missing, "id", f.c.maxURL-fixed) {
		q := url.Values{"limit": {strconv.Itoa(MaxPageSize)}}
		for _, id := range chunk {
			f.regions[id] = Ref{} // also for sites this token cannot see
			q.Add("id", strconv.FormatInt(id, 10))
		}
		if f.fields {
			q.Set("fields", "id,region")
		}
		_, err := f.c.list(ctx, "list sites", "/api/dcim/sites/", q, func(raw jsontext.Value) {
			// Only the region is needed.
			var s struct {
				ID     int64 `json:"id"`
				Region Ref   `json:"region"`
			}
			if err := json.Unmarshal(raw, &s, decodeOpts); err != nil {
				f.c.logger.WarnContext(ctx, "netbox: site region unreadable", "error", decodeErr(err))
				return
			}
			f.regions[s.ID] = s.Region
		})
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			f.c.logger.WarnContext(ctx, "netbox: site regions unavailable", "error", err)
		}
	}
	return nil
}

// list reads one list page from path with the query q, handing each object
// of its results to each as raw JSON (valid until each returns), in order.
// more reports whether NetBox announced a next page.
func (c *Client) list(ctx context.Context, op, path string, q url.Values, each func(jsontext.Value)) (more bool, err error) {
	err = c.get(ctx, op, path, q, func(dec *jsontext.Decoder) error {
		more, err = readPage(dec, each)
		return err
	})
	return more, err
}

// readPage reads NetBox's list envelope ({"count", "next", "previous",
// "results"}) from dec, one object of results at a time. An answer that is
// not JSON, not an object or has no results array is an error: an empty
// list must say so.
func readPage(dec *jsontext.Decoder, each func(jsontext.Value)) (more bool, err error) {
	if tok, err := dec.ReadToken(); err != nil {
		return false, fmt.Errorf("list answer: %w", err)
	} else if tok.Kind() != '{' {
		return false, fmt.Errorf("list answer is a JSON %s, not an object", tok.Kind())
	}
	results := false
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return false, fmt.Errorf("list answer: %w", err)
		}
		switch name.String() {
		case "next":
			v, err := dec.ReadValue()
			if err != nil {
				return false, fmt.Errorf("list answer: %w", err)
			}
			more = v.Kind() == '"'
		case "results":
			if tok, err := dec.ReadToken(); err != nil {
				return false, fmt.Errorf("list answer: %w", err)
			} else if tok.Kind() != '[' {
				return false, fmt.Errorf("list answer: results is a JSON %s, not an array", tok.Kind())
			}
			for dec.PeekKind() != ']' {
				v, err := dec.ReadValue()
				if err != nil {
					return false, fmt.Errorf("list answer: %w", err)
				}
				each(v)
			}
			if _, err := dec.ReadToken(); err != nil {
				return false, fmt.Errorf("list answer: %w", err)
			}
			results = true
		default:
			if err := dec.SkipValue(); err != nil {
				return false, fmt.Errorf("list answer: %w", err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return false, fmt.Errorf("list answer: %w", err)
	}
	if !results {
		return false, errors.New("list answer has no results")
	}
	return more, nil
}
