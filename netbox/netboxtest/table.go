package netboxtest

import (
	"cmp"
	"slices"
	"sync"
)

// ikey names one posting list: the rows whose field f has value v (or s).
type ikey struct {
	f field
	v int64
	s string
}

type field uint8

const (
	fSite field = iota + 1
	fLocation
	fRack
	fRole
	fTenant
	fPlatform
	fManufacturer
	fDevType
	fCluster
	fRegion
	fTag
	fStatus
	fOwner // IPs and interfaces: device or VM id, v = id, s = "d" or "v"
	fIface
	fVRF
	fFamily
	fPrimary // devices with a primary IPv4 or IPv6 address
	fOOB
)

// table holds rows sorted by id. Its index (posting lists of row positions,
// each sorted) is built on first use after a change, so a burst of
// mutations costs one rebuild and reads of an unchanged table cost nothing.
type table[T any] struct {
	rows   []*T
	byID   map[int64]*T
	nextID int64
	idOf   func(*T) int64
	keys   func(*T, func(ikey)) // emits the index keys of a row

	imu sync.Mutex // guards ix; readers hold Handler.mu for reading, writers for writing
	ix  *tindex
}

type tindex struct {
	ids    []int64
	post   map[ikey][]int32
	orders map[string]sorted // cached sort orders by name
}

// sorted is a sort order of a table: the positions in order, and each
// position's rank in it.
type sorted struct {
	order []int32
	rank  []int32
}

func newTable[T any](idOf func(*T) int64, keys func(*T, func(ikey))) *table[T] {
	return &table[T]{byID: map[int64]*T{}, nextID: 1, idOf: idOf, keys: keys}
}

// reserve makes room for n more rows.
func (t *table[T]) reserve(n int) {
	t.rows = slices.Grow(t.rows, n)
	if len(t.byID) == 0 {
		t.byID = make(map[int64]*T, n)
	}
}

// add appends a row whose id is above every stored id.
func (t *table[T]) add(r *T) {
	id := t.idOf(r)
	t.rows = append(t.rows, r)
	t.byID[id] = r
	if id >= t.nextID {
		t.nextID = id + 1
	}
	t.ix = nil
}

func (t *table[T]) remove(id int64) bool {
	if _, ok := t.byID[id]; !ok {
		return false
	}
	delete(t.byID, id)
	i, _ := slices.BinarySearchFunc(t.rows, id, func(r *T, id int64) int { return cmp.Compare(t.idOf(r), id) })
	t.rows = slices.Delete(t.rows, i, i+1)
	t.ix = nil
	return true
}

// changed drops the index after rows were modified in place.
func (t *table[T]) changed() { t.ix = nil }

// index returns the current index, building it if needed.
func (t *table[T]) index() *tindex {
	t.imu.Lock()
	defer t.imu.Unlock()
	if t.ix != nil {
		return t.ix
	}
	ix := &tindex{ids: make([]int64, len(t.rows)), post: map[ikey][]int32{}, orders: map[string]sorted{}}
	for i, r := range t.rows {
		ix.ids[i] = t.idOf(r)
		t.keys(r, func(k ikey) { ix.post[k] = append(ix.post[k], int32(i)) })
	}
	t.ix = ix
	return ix
}

// order returns the rows sorted by less, cached under name until the next
// change.
func (t *table[T]) order(ix *tindex, name string, less func(a, b *T) int) sorted {
	t.imu.Lock()
	defer t.imu.Unlock()
	if o, ok := ix.orders[name]; ok {
		return o
	}
	o := sorted{order: make([]int32, len(t.rows)), rank: make([]int32, len(t.rows))}
	for i := range o.order {
		o.order[i] = int32(i)
	}
	slices.SortStableFunc(o.order, func(a, b int32) int {
		if c := less(t.rows[a], t.rows[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for r, pos := range o.order {
		o.rank[pos] = int32(r)
	}
	ix.orders[name] = o
	return o
}

// cond is one AND-ed condition of a query. list, when set, holds every
// matching position (sorted) and maybe more; pred is the exact test. A cond
// with a list and no pred matches exactly its list.
type cond struct {
	list []int32
	pred func(p int32) bool
}

func (c cond) test(p int32) bool {
	if c.pred != nil {
		return c.pred(p)
	}
	_, ok := slices.BinarySearch(c.list, p)
	return ok
}

// union merges sorted posting lists.
func union(lists ...[]int32) []int32 {
	switch len(lists) {
	case 0:
		return []int32{}
	case 1:
		if lists[0] == nil {
			return []int32{}
		}
		return lists[0]
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]int32, 0, n)
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// plan is a parsed list request against a table.
type plan struct {
	conds  []cond
	minID  int64 // only ids above minID (id__gt / id__gte - 1)
	order  func(ix *tindex) sorted
	desc   bool // id descending (when order is nil)
	offset int
	limit  int
}

// run returns the full match count and the positions of the requested page.
// The driver is the smallest posting list among the conditions, entered by
// binary search at minID, so keyset paging (id__gt) starts where the last
// page ended instead of at the first row; when a single exact list is the
// only condition the count is computed without a scan.
func (p *plan) run(ix *tindex) (count int, page []int32) {
	driver, di := []int32(nil), -1
	for i, c := range p.conds {
		if c.list != nil && (driver == nil || len(c.list) < len(driver)) {
			driver, di = c.list, i
		}
	}
	at := func(i int) int32 {
		if di < 0 {
			return int32(i)
		}
		return driver[i]
	}
	size := len(ix.ids)
	if di >= 0 {
		size = len(driver)
	}
	start := searchStart(size, func(i int) bool { return ix.ids[at(i)] > p.minID })

	var others []cond
	for i, c := range p.conds {
		if i == di && c.pred == nil {
			continue
		}
		others = append(others, c)
	}
	match := func(pos int32) bool {
		for _, c := range others {
			if !c.test(pos) {
				return false
			}
		}
		return true
	}
	lo, hi := p.offset, p.offset+p.limit

	if p.order == nil && len(others) == 0 {
		count = size - start
		if lo >= count {
			return count, nil
		}
		hi = min(hi, count)
		page = make([]int32, 0, hi-lo)
		for k := lo; k < hi; k++ {
			i := start + k
			if p.desc {
				i = size - 1 - k
			}
			page = append(page, at(i))
		}
		return count, page
	}
	if p.order == nil {
		step, i := 1, start
		if p.desc {
			step, i = -1, size-1
		}
		for ; i >= start && i < size; i += step {
			pos := at(i)
			if !match(pos) {
				continue
			}
			if count >= lo && count < hi {
				page = append(page, pos)
			}
			count++
		}
		return count, page
	}
	o := p.order(ix)
	if di >= 0 && len(driver)*4 < len(o.order) {
		// A small driver: sort its matches by their rank in the order.
		var m []int32
		for i := start; i < size; i++ {
			if pos := driver[i]; match(pos) {
				m = append(m, pos)
			}
		}
		slices.SortFunc(m, func(a, b int32) int { return cmp.Compare(o.rank[a], o.rank[b]) })
		count = len(m)
		return count, m[min(lo, count):min(hi, count)]
	}
	// Otherwise walk the whole order and keep the rows the conditions select.
	inDriver := func(int32) bool { return true }
	if di >= 0 {
		inDriver = p.conds[di].test
	}
	for _, pos := range o.order {
		if ix.ids[pos] <= p.minID || !inDriver(pos) || !match(pos) {
			continue
		}
		if count >= lo && count < hi {
			page = append(page, pos)
		}
		count++
	}
	return count, page
}

// searchStart returns the first i in [0, n) for which ok is true, assuming
// ok is false then true.
func searchStart(n int, ok func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !ok(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
