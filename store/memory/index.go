package memory

import (
	"slices"
	"sort"
	"strings"

	"github.com/wugsync/wugsync/store"
)

// sortKey is a record key in the form Key.Compare orders it, with the
// address text computed once.
type sortKey struct {
	conn, vrf, addr string
}

func keyOf(k store.Key) sortKey {
	return sortKey{conn: k.Connection, vrf: k.VRF, addr: k.Address.String()}
}

func (a sortKey) compare(b sortKey) int {
	if c := strings.Compare(a.conn, b.conn); c != 0 {
		return c
	}
	if c := strings.Compare(a.vrf, b.vrf); c != 0 {
		return c
	}
	return strings.Compare(a.addr, b.addr)
}

// entry is one stored record and its position in the index.
type entry struct {
	sk  sortKey
	rec store.Record
}

// maxBlock bounds a block's length, so an insert or delete moves at most
// that many pointers and a seek is two binary searches.
const maxBlock = 512

// index keeps entries in key order as a list of sorted blocks: every entry
// of a block sorts before every entry of the next.
type index struct {
	blocks [][]*entry
	n      int // entries
}

// pos is a position in the index: block bi, element i.
type pos struct{ bi, i int }

// seek returns the position of the first entry whose key is >= k (or > k when
// strict), and whether the index is exhausted there.
func (x *index) seek(k sortKey, strict bool) (p pos, ok bool) {
	ge := func(e *entry) bool {
		c := e.sk.compare(k)
		return c > 0 || (c == 0 && !strict)
	}
	p.bi = sort.Search(len(x.blocks), func(i int) bool {
		b := x.blocks[i]
		return ge(b[len(b)-1])
	})
	if p.bi == len(x.blocks) {
		return p, false
	}
	b := x.blocks[p.bi]
	p.i = sort.Search(len(b), func(i int) bool { return ge(b[i]) })
	return p, true
}

// first returns the position of the first entry.
func (x *index) first() (pos, bool) {
	return pos{}, len(x.blocks) > 0
}

// at returns the entry at p.
func (x *index) at(p pos) *entry { return x.blocks[p.bi][p.i] }

// next advances p, reporting false at the end of the index.
func (x *index) next(p pos) (pos, bool) {
	p.i++
	if p.i == len(x.blocks[p.bi]) {
		p.bi, p.i = p.bi+1, 0
	}
	return p, p.bi < len(x.blocks)
}

// insert adds e, whose key must not be in the index yet.
func (x *index) insert(e *entry) {
	x.n++
	p, ok := x.seek(e.sk, false)
	if !ok {
		if len(x.blocks) == 0 {
			x.blocks = append(x.blocks, []*entry{e})
			return
		}
		p.bi = len(x.blocks) - 1
		p.i = len(x.blocks[p.bi])
	}
	b := slices.Insert(x.blocks[p.bi], p.i, e)
	if len(b) <= maxBlock {
		x.blocks[p.bi] = b
		return
	}
	half := len(b) / 2
	right := slices.Clone(b[half:])
	clear(b[half:])
	x.blocks[p.bi] = b[:half]
	x.blocks = slices.Insert(x.blocks, p.bi+1, right)
}

// remove deletes the entry with key k, if any.
func (x *index) remove(k sortKey) {
	p, ok := x.seek(k, false)
	if !ok || x.at(p).sk.compare(k) != 0 {
		return
	}
	x.n--
	b := slices.Delete(x.blocks[p.bi], p.i, p.i+1)
	if len(b) == 0 {
		x.blocks = slices.Delete(x.blocks, p.bi, p.bi+1)
		return
	}
	x.blocks[p.bi] = b
}
