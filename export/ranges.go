package export

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"slices"

	"go4.org/netipx"
)

// Scan grouping defaults and bounds.
const (
	// defaultScanBatchSize is the default number of addresses per request.
	defaultScanBatchSize = 50
	// maxIPv6Widening is the most unknown addresses one IPv6 range may
	// sweep, whatever the options say: IPv6 subnets are far too large to
	// sweep, so IPv6 ranges only join near neighbours.
	maxIPv6Widening = 256
)

// ScanOptions bound range grouping. The zero value sweeps no unknown
// address: ranges join only consecutive known addresses.
type ScanOptions struct {
	// BatchSize is the most addresses one request carries, or sweeps when
	// Settings.ScanRanges is set; 0 means 50, and 1 scans each address
	// on its own.
	BatchSize int
	// MaxUnknownPerRange is the most addresses NetBox does not know that one
	// IPv4 range may sweep.
	MaxUnknownPerRange int
	// MaxUnknownPerRangeIPv6 is the same bound for IPv6 ranges, at most
	// 256.
	MaxUnknownPerRangeIPv6 int
	// MaxUnknownTotal is the most unknown addresses all ranges together may
	// sweep; negative means no total bound.
	MaxUnknownTotal int
}

// defaultScanOptions returns the recommended range grouping: 50 addresses
// per request, up to 8 unknown addresses per IPv4 range and 2 per IPv6
// range, 256 in total.
func defaultScanOptions() ScanOptions {
	return ScanOptions{BatchSize: defaultScanBatchSize, MaxUnknownPerRange: 8, MaxUnknownPerRangeIPv6: 2, MaxUnknownTotal: 256}
}

func (o ScanOptions) check() (ScanOptions, error) {
	switch {
	case o.BatchSize < 0:
		return o, fmt.Errorf("export: scan options: batch size %d is negative", o.BatchSize)
	case o.MaxUnknownPerRange < 0:
		return o, fmt.Errorf("export: scan options: MaxUnknownPerRange %d is negative", o.MaxUnknownPerRange)
	case o.MaxUnknownPerRangeIPv6 < 0 || o.MaxUnknownPerRangeIPv6 > maxIPv6Widening:
		return o, fmt.Errorf("export: scan options: MaxUnknownPerRangeIPv6 %d is outside 0..%d", o.MaxUnknownPerRangeIPv6, maxIPv6Widening)
	}
	if o.BatchSize == 0 {
		o.BatchSize = defaultScanBatchSize
	}
	return o, nil
}

// scanTarget is what one WUG scan request covers.
type scanTarget struct {
	// Items are the request's targets: addresses ("10.0.0.5") or inclusive
	// ranges ("10.0.0.5-10.0.0.9", the form wug.ExpandRange and
	// Scans.ScanRange take).
	Items []string
	// Ranges are the address ranges Items stand for, in the same order.
	Ranges []netipx.IPRange
	// Known counts the input addresses covered; Unknown counts the covered
	// addresses that were not in the input.
	Known, Unknown int
}

// Size returns the number of addresses the target sweeps.
func (t scanTarget) Size() int { return t.Known + t.Unknown }

// Addrs yields every address the target sweeps, in order.
func (t scanTarget) Addrs() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		for _, r := range t.Ranges {
			for a := r.From(); ; a = a.Next() {
				if !yield(a) || a == r.To() {
					break
				}
			}
		}
	}
}

// AddrStrings returns the swept addresses as text, for a bulk newDevice
// request (wug Scans.ScanIPs).
func (t scanTarget) AddrStrings() []string {
	out := make([]string, 0, t.Size())
	for a := range t.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// formatIPsForScan groups addresses into scan requests: lists of up to
// opts.BatchSize addresses, or, with ranges, address ranges. Duplicates are
// merged and the targets come in address order, IPv4 first.
//
// With ranges, consecutive addresses always share a range, and gaps of
// addresses NetBox does not know are bridged smallest first while no IPv4
// range sweeps more than opts.MaxUnknownPerRange of them, no IPv6 range more
// than opts.MaxUnknownPerRangeIPv6, and all ranges together no more than
// opts.MaxUnknownTotal. With only the total bound binding, this gives the
// fewest ranges; with the per-range bounds it is a close greedy answer.
// Ranges are then packed into requests of at most opts.BatchSize swept
// addresses, a longer range being split.
//
// An invalid or zoned address is an error naming it; nothing is returned
// then.
func formatIPsForScan(addrs []netip.Addr, ranges bool, opts ScanOptions) ([]scanTarget, error) {
	opts, err := opts.check()
	if err != nil {
		return nil, err
	}
	sorted := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		switch {
		case !a.IsValid():
			return nil, fmt.Errorf("export: scan address %d is not a valid IP address", i)
		case a.Zone() != "":
			return nil, fmt.Errorf("export: scan address %s has a zone, which WUG cannot use", a)
		}
		sorted[i] = a
	}
	slices.SortFunc(sorted, netip.Addr.Compare)
	runs := consecutiveRuns(slices.Compact(sorted))
	if len(runs) == 0 {
		return nil, nil
	}
	if !ranges {
		return packSingles(runs, opts.BatchSize), nil
	}
	return packRanges(widen(runs, opts), opts.BatchSize), nil
}

// consecutiveRuns returns the maximal runs of consecutive addresses in
// sorted, de-duplicated addrs.
func consecutiveRuns(addrs []netip.Addr) []netipx.IPRange {
	var runs []netipx.IPRange
	for i := 0; i < len(addrs); {
		j := i
		for j+1 < len(addrs) && addrs[j].Next() == addrs[j+1] {
			j++
		}
		runs = append(runs, netipx.IPRangeFrom(addrs[i], addrs[j]))
		i = j + 1
	}
	return runs
}

// packSingles lists every address of runs as its own item, size per target.
func packSingles(runs []netipx.IPRange, size int) []scanTarget {
	var out []scanTarget
	var cur scanTarget
	for _, r := range runs {
		for a := r.From(); ; a = a.Next() {
			cur.Items = append(cur.Items, a.String())
			cur.Ranges = append(cur.Ranges, netipx.IPRangeFrom(a, a))
			cur.Known++
			if cur.Known == size {
				out = append(out, cur)
				cur = scanTarget{}
			}
			if a == r.To() {
				break
			}
		}
	}
	if cur.Known > 0 {
		out = append(out, cur)
	}
	return out
}

// span is a range of the output with its known and unknown counts and
// the runs of known addresses inside it.
type span struct {
	r              netipx.IPRange
	known, unknown int
	runs           []netipx.IPRange
}

// widen joins runs across the smallest gaps the bounds allow.
func widen(runs []netipx.IPRange, o ScanOptions) []span {
	// Joined runs form groups of consecutive runs; the group's first run
	// leads it and holds its unknown count and last run.
	n := len(runs)
	parent := make([]int, n)
	unknown := make([]int, n)
	last := make([]int, n)
	limitAt := func(i int) int {
		if runs[i].From().Is4() {
			return o.MaxUnknownPerRange
		}
		return o.MaxUnknownPerRangeIPv6
	}
	type gap struct {
		i    int // between runs[i] and runs[i+1]
		size int
	}
	var gaps []gap
	for i := range n {
		parent[i], last[i] = i, i
		if i+1 == n || runs[i].From().Is4() != runs[i+1].From().Is4() {
			continue
		}
		if g := addrDistance(runs[i].To(), runs[i+1].From()) - 1; g <= uint64(limitAt(i)) {
			gaps = append(gaps, gap{i, int(g)})
		}
	}
	slices.SortStableFunc(gaps, func(a, b gap) int { return cmp.Compare(a.size, b.size) })
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	total := 0
	for _, g := range gaps {
		if o.MaxUnknownTotal >= 0 && total+g.size > o.MaxUnknownTotal {
			break // the rest are no smaller
		}
		left, right := find(g.i), g.i+1 // runs[g.i+1] still leads its group
		if u := unknown[left] + g.size + unknown[right]; u <= limitAt(g.i) {
			parent[right] = left
			unknown[left] = u
			last[left] = last[right]
			total += g.size
		}
	}
	var out []span
	for i := 0; i < n; i = last[i] + 1 {
		r := netipx.IPRangeFrom(runs[i].From(), runs[last[i]].To())
		size := int(addrDistance(r.From(), r.To()) + 1)
		out = append(out, span{r: r, known: size - unknown[i], unknown: unknown[i], runs: runs[i : last[i]+1]})
	}
	return out
}

// packRanges packs spans into targets of at most size swept addresses.
// A longer span is cut into pieces that start and end on known addresses.
func packRanges(spans []span, size int) []scanTarget {
	var out []scanTarget
	var cur scanTarget
	flush := func() {
		if cur.Size() > 0 {
			out = append(out, cur)
			cur = scanTarget{}
		}
	}
	for _, s := range spans {
		if cur.Size()+s.known+s.unknown > size {
			flush()
		}
		if s.known+s.unknown <= size {
			cur.add(s.r, s.known, s.unknown)
			continue
		}
		runs, pos := s.runs, s.runs[0].From()
		for len(runs) > 0 {
			limit := addrAdd(pos, uint64(size-1))
			if limit.Less(pos) || s.r.To().Less(limit) { // wrapped, or past the span
				limit = s.r.To()
			}
			known, end, k := 0, pos, 0
			for ; k < len(runs) && !limit.Less(runs[k].From()); k++ {
				from := runs[k].From()
				if from.Less(pos) {
					from = pos
				}
				to := runs[k].To()
				if limit.Less(to) {
					to = limit
				}
				known += int(addrDistance(from, to) + 1)
				end = to
			}
			piece := int(addrDistance(pos, end) + 1)
			cur.add(netipx.IPRangeFrom(pos, end), known, piece-known)
			flush()
			if end == runs[k-1].To() {
				runs = runs[k:]
				if len(runs) > 0 {
					pos = runs[0].From()
				}
			} else {
				runs = runs[k-1:]
				pos = end.Next()
			}
		}
	}
	flush()
	return out
}

// add appends a range with its counts to t.
func (t *scanTarget) add(r netipx.IPRange, known, unknown int) {
	if r.From() == r.To() {
		t.Items = append(t.Items, r.From().String())
	} else {
		t.Items = append(t.Items, r.From().String()+"-"+r.To().String())
	}
	t.Ranges = append(t.Ranges, r)
	t.Known += known
	t.Unknown += unknown
}

// addrDistance returns b - a for a <= b of one family, saturating at
// math.MaxUint64.
func addrDistance(a, b netip.Addr) uint64 {
	x, y := a.As16(), b.As16()
	ahi, alo := be64(x[:8]), be64(x[8:])
	bhi, blo := be64(y[:8]), be64(y[8:])
	switch {
	case bhi == ahi:
		return blo - alo
	case bhi == ahi+1 && blo < alo:
		return blo - alo // wraps to the right value
	}
	return math.MaxUint64
}

// addrAdd returns a + n; it must not overflow the family.
func addrAdd(a netip.Addr, n uint64) netip.Addr {
	x := a.As16()
	hi, lo := be64(x[:8]), be64(x[8:])
	lo2 := lo + n
	if lo2 < lo {
		hi++
	}
	var y [16]byte
	putBE64(y[:8], hi)
	putBE64(y[8:], lo2)
	if a.Is4() {
		return netip.AddrFrom4([4]byte(y[12:]))
	}
	return netip.AddrFrom16(y)
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

func putBE64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}
