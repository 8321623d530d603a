package netbox

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"net/http"
	"slices"
	"strconv"

	nb "github.com/netbox-community/go-netbox/v4"
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
// It calls GET /api/dcim/devices/ and GET
// /api/virtualization/virtual-machines/ with ordering=id, id__gt (keyset
// paging), limit (1000 by default) and exclude=config_context; GET
// /api/ipam/ip-addresses/ with batches of device_id= or
// virtual_machine_id= per page; and GET /api/dcim/sites/?id=… once per
// site. The next page is fetched while the current one is consumed, so at
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
		ctx, cancel := context.WithCancel(ctx)
		pages := make(chan page)
		go c.produce(ctx, &sel, pages)
		defer func() {
			cancel()
			for range pages { // let the producer finish
			}
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
	}
}

// produce fetches pages until the selection is exhausted and closes out.
// Its final error is sent unconditionally: the consumer always drains out.
func (c *Client) produce(ctx context.Context, sel *Selector, out chan<- page) {
	defer close(out)
	f := fetcher{c: c, sel: sel, listCtx: withQuery(ctx, sel.extraQuery()), regions: map[int64]Ref{}}
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
		// Long explicit id lists go in parts, half a URL each, in id order.
		for _, part := range sel.idParts(kind, c.maxURL/2) {
			f.sel = part
			if err := f.stream(ctx, kind, send); err != nil {
				out <- page{err: err}
				return
			}
		}
	}
}

// fetcher holds the state of one Devices call.
type fetcher struct {
	c       *Client
	sel     *Selector
	listCtx context.Context // ctx with the selector's extra query parameters
	regions map[int64]Ref   // site id → region; Ref{} for sites without one
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
			items, more, err := f.list(kind, cur.tag, cur.after)
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
			if err := f.enrich(ctx, kind, ready); err != nil {
				return err
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
func (f *fetcher) list(kind Kind, anyTag string, after int64) (items []item, more bool, err error) {
	c := f.c
	var p *rawPage
	if kind == KindDevice {
		p, err = rawList(f.listCtx, "list devices", func(ctx context.Context) (*http.Response, error) {
			r := f.sel.deviceListRequest(c.api.DcimAPI.DcimDevicesList(ctx), anyTag).Ordering("id").Limit(c.pageSize)
			if after > 0 {
				r = r.IdGt([]int32{int32(after)})
			}
			_, resp, err := r.Execute()
			return resp, err
		})
	} else {
		p, err = rawList(f.listCtx, "list virtual machines", func(ctx context.Context) (*http.Response, error) {
			r := f.sel.vmListRequest(c.api.VirtualizationAPI.VirtualizationVirtualMachinesList(ctx), anyTag).Ordering("id").Limit(c.pageSize)
			if after > 0 {
				r = r.IdGt([]int32{int32(after)})
			}
			_, resp, err := r.Execute()
			return resp, err
		})
	}
	if err != nil {
		return nil, false, err
	}
	items = make([]item, len(p.Results))
	for i, raw := range p.Results {
		if d, err := decodeObject(kind, raw, c.base); err != nil {
			id, name := peek(raw)
			items[i] = item{dev: Device{Kind: kind, ID: id, Name: name}, err: &DeviceError{Kind: kind, ID: id, Name: name, Err: err}}
		} else {
			items[i] = item{dev: d}
		}
	}
	return items, p.Next != nil, nil
}

// rawList runs a go-netbox list call whose answer body the transport
// captures (see withCapture) and returns the envelope with its objects
// still raw, so that each object is decoded by go-netbox on its own and one
// undecodable object fails alone instead of failing its whole page.
func rawList(ctx context.Context, op string, exec func(context.Context) (*http.Response, error)) (*rawPage, error) {
	ctx, body := withCapture(ctx)
	resp, err := exec(ctx)
	if err := wrapErr(op, resp, err); err != nil {
		return nil, err
	}
	if body.data == nil {
		return nil, fmt.Errorf("netbox: %s: empty answer", op)
	}
	p, err := decodeRawPage(body.data)
	if err != nil {
		return nil, fmt.Errorf("netbox: %s: %w", op, err)
	}
	return p, nil
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
	param := "device_id"
	if kind == KindVirtualMachine {
		param = "virtual_machine_id"
	}
	fixed := len(f.c.base.String()) + len("/api/ipam/ip-addresses/?id__gt=2147483647&limit=1000&ordering=id")
	chunks := chunkIDs(ids, param, f.c.maxURL-fixed)
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

// ipBatch reads every address of one batch of objects, page by page.
func (f *fetcher) ipBatch(ctx context.Context, kind Kind, chunk []int32) ([]ownedIP, error) {
	var out []ownedIP
	var after int32
	for {
		p, err := rawList(ctx, "list IP addresses", func(ctx context.Context) (*http.Response, error) {
			r := f.c.api.IpamAPI.IpamIpAddressesList(ctx).Ordering("id").Limit(f.c.pageSize)
			if kind == KindDevice {
				r = r.DeviceId(chunk)
			} else {
				r = r.VirtualMachineId(chunk)
			}
			if after > 0 {
				r = r.IdGt([]int32{after})
			}
			_, resp, err := r.Execute()
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		var last int32
		for _, raw := range p.Results {
			var nip nb.IPAddress
			if err := json.Unmarshal(raw, &nip); err != nil {
				id, _ := peek(raw)
				last = max(last, int32(id))
				out = append(out, ownedIP{ip: IPAddress{ID: id}, owner: rawOwner(raw, kind), err: err})
				continue
			}
			last = max(last, nip.Id)
			ip, owner, err := fromIP(&nip, kind)
			out = append(out, ownedIP{ip: ip, owner: owner, err: err})
		}
		if p.Next == nil || len(p.Results) == 0 {
			return out, nil
		}
		if last <= after {
			return nil, fmt.Errorf("netbox: list IP addresses: id %d after %d: NetBox did not honour ordering=id", last, after)
		}
		after = last
	}
}

// rawOwner reads the owner id of an IP address that go-netbox rejected.
func rawOwner(raw json.RawMessage, kind Kind) int64 {
	var v struct {
		AO struct {
			Device struct{ ID int64 } `json:"device"`
			VM     struct{ ID int64 } `json:"virtual_machine"`
		} `json:"assigned_object"`
	}
	_ = json.Unmarshal(raw, &v)
	if kind == KindVirtualMachine {
		return v.AO.VM.ID
	}
	return v.AO.Device.ID
}

// chunkIDs splits ids into batches whose "param=id&…" query text stays
// within budget characters.
func chunkIDs(ids []int64, param string, budget int) [][]int32 {
	var chunks [][]int32
	var cur []int32
	used := 0
	for _, id := range ids {
		n := len(param) + 2 + len(strconv.FormatInt(id, 10))
		if len(cur) > 0 && used+n > budget {
			chunks = append(chunks, cur)
			cur, used = nil, 0
		}
		cur = append(cur, int32(id))
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
	fixed := len(f.c.base.String()) + len("/api/dcim/sites/?limit=1000")
	for _, chunk := range chunkIDs(missing, "id", f.c.maxURL-fixed) {
		for _, id := range chunk {
			f.regions[int64(id)] = Ref{} // also for sites this token cannot see
		}
		p, err := rawList(ctx, "list sites", func(ctx context.Context) (*http.Response, error) {
			_, resp, err := f.c.api.DcimAPI.DcimSitesList(ctx).Id(chunk).Limit(MaxPageSize).Execute()
			return resp, err
		})
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			f.c.logger.WarnContext(ctx, "netbox: site regions unavailable", "error", err)
			continue
		}
		for _, raw := range p.Results {
			// Only the region is needed: read it without go-netbox's Site model.
			var s struct {
				ID     int64 `json:"id"`
				Region *Ref  `json:"region"`
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("netbox: list sites: %w", err)
			}
			if s.Region != nil {
				f.regions[s.ID] = *s.Region
			}
		}
	}
	return nil
}
