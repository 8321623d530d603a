package export

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go4.org/netipx"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// items returns each target's items joined by " ".
func items(ts []scanTarget) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = strings.Join(t.Items, " ")
	}
	return out
}

func TestFormatIPsForScan(t *testing.T) {
	t.Parallel()
	mixed := addrs("10.0.0.9", "10.0.0.1", "2001:db8::2", "10.0.0.2", "10.0.0.3", "10.0.0.1", "2001:db8::1", "10.0.0.5", "10.0.1.200", "2001:db8::9")
	tests := []struct {
		name    string
		in      []netip.Addr
		ranges  bool
		opts    ScanOptions
		want    []string
		unknown int
	}{
		{name: "empty", in: nil, ranges: true},
		{
			name: "one address a request sorts and merges duplicates",
			in:   mixed, opts: ScanOptions{BatchSize: 1},
			want: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.9", "10.0.1.200", "2001:db8::1", "2001:db8::2", "2001:db8::9"},
		},
		{
			name: "batch of 4",
			in:   mixed, opts: ScanOptions{BatchSize: 4},
			want: []string{"10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.5", "10.0.0.9 10.0.1.200 2001:db8::1 2001:db8::2", "2001:db8::9"},
		},
		{
			name: "batch default size",
			in:   mixed,
			want: []string{"10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.5 10.0.0.9 10.0.1.200 2001:db8::1 2001:db8::2 2001:db8::9"},
		},
		{
			name: "range without widening joins consecutive addresses only",
			in:   mixed, ranges: true,
			want: []string{"10.0.0.1-10.0.0.3 10.0.0.5 10.0.0.9 10.0.1.200 2001:db8::1-2001:db8::2 2001:db8::9"},
		},
		{
			name: "range bridges the small gaps first",
			in:   mixed, ranges: true, opts: ScanOptions{MaxUnknownPerRange: 10, MaxUnknownTotal: -1},
			want:    []string{"10.0.0.1-10.0.0.9 10.0.1.200 2001:db8::1-2001:db8::2 2001:db8::9"},
			unknown: 4,
		},
		{
			name: "per-range bound",
			in:   mixed, ranges: true, opts: ScanOptions{MaxUnknownPerRange: 2, MaxUnknownTotal: -1},
			want:    []string{"10.0.0.1-10.0.0.5 10.0.0.9 10.0.1.200 2001:db8::1-2001:db8::2 2001:db8::9"},
			unknown: 1,
		},
		{
			name: "total bound",
			in:   addrs("10.0.0.1", "10.0.0.3", "10.0.0.6", "10.0.0.10"), ranges: true,
			opts:    ScanOptions{MaxUnknownPerRange: 100, MaxUnknownTotal: 3},
			want:    []string{"10.0.0.1-10.0.0.6 10.0.0.10"},
			unknown: 3,
		},
		{
			// 10.0.0.9 and 10.0.1.200 join, but a request sweeps at most 50
			// addresses, so the joined range is cut again on known addresses.
			name: "IPv6 widening has its own small bound",
			in:   mixed, ranges: true, opts: ScanOptions{MaxUnknownPerRange: 1000, MaxUnknownPerRangeIPv6: 6, MaxUnknownTotal: -1},
			want:    []string{"10.0.0.1-10.0.0.9", "10.0.1.200", "2001:db8::1-2001:db8::9"},
			unknown: 4 + 6,
		},
		{
			name: "IPv6 far apart is never widened",
			in:   addrs("2001:db8::1", "2001:db8:0:1::1", "2001:db9::1"), ranges: true,
			opts: ScanOptions{MaxUnknownPerRange: 1 << 30, MaxUnknownPerRangeIPv6: maxIPv6Widening, MaxUnknownTotal: -1},
			want: []string{"2001:db8::1 2001:db8:0:1::1 2001:db9::1"},
		},
		{
			name: "ranges packed by swept addresses per request",
			in:   addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.10", "10.0.0.20", "10.0.0.21"), ranges: true,
			opts: ScanOptions{BatchSize: 5},
			want: []string{"10.0.0.1-10.0.0.4 10.0.0.10", "10.0.0.20-10.0.0.21"},
		},
		{
			name: "a long range is cut on known addresses",
			in:   addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6", "10.0.0.9", "10.0.0.10"), ranges: true,
			opts:    ScanOptions{BatchSize: 4, MaxUnknownPerRange: 10, MaxUnknownTotal: -1},
			want:    []string{"10.0.0.1-10.0.0.3", "10.0.0.5-10.0.0.6", "10.0.0.9-10.0.0.10"},
			unknown: 0,
		},
		{
			name: "a long run of known addresses is split",
			in:   addrs("192.168.0.254", "192.168.0.255", "192.168.1.0", "192.168.1.1", "192.168.1.2"), ranges: true,
			opts: ScanOptions{BatchSize: 2},
			want: []string{"192.168.0.254-192.168.0.255", "192.168.1.0-192.168.1.1", "192.168.1.2"},
		},
		{
			name: "IPv4 and IPv6 ends never join",
			in:   addrs("255.255.255.255", "::"), ranges: true,
			opts: ScanOptions{MaxUnknownPerRange: 1000, MaxUnknownPerRangeIPv6: 256, MaxUnknownTotal: -1},
			want: []string{"255.255.255.255 ::"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := formatIPsForScan(tt.in, tt.ranges, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, items(got), cmpEmpty); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			unknown := 0
			for _, tg := range got {
				unknown += tg.Unknown
			}
			if unknown != tt.unknown {
				t.Errorf("unknown swept = %d, want %d", unknown, tt.unknown)
			}
			checkCoverage(t, tt.in, got, tt.ranges, tt.opts)
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })

func TestFormatIPsForScanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     []netip.Addr
		ranges bool
		opts   ScanOptions
		want   string
	}{
		{"invalid address", []netip.Addr{netip.MustParseAddr("10.0.0.1"), {}}, false, ScanOptions{}, "scan address 1 is not a valid"},
		{"zoned address", addrs("fe80::1%eth0"), false, ScanOptions{}, "fe80::1%eth0 has a zone"},
		{"negative batch", addrs("10.0.0.1"), false, ScanOptions{BatchSize: -1}, "batch size -1"},
		{"negative per range", addrs("10.0.0.1"), true, ScanOptions{MaxUnknownPerRange: -1}, "MaxUnknownPerRange -1"},
		{"huge IPv6 widening", addrs("::1"), true, ScanOptions{MaxUnknownPerRangeIPv6: 1 << 20}, "outside 0..256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := formatIPsForScan(tt.in, tt.ranges, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || got != nil {
				t.Errorf("FormatIPsForScan = %v, %v; want an error containing %q", got, err, tt.want)
			}
		})
	}
}

// checkCoverage checks what every grouping must satisfy: each input address
// is swept exactly once, counts add up, and every bound holds.
func checkCoverage(t *testing.T, in []netip.Addr, got []scanTarget, ranges bool, o ScanOptions) {
	t.Helper()
	o, _ = o.check()
	known := make(map[netip.Addr]bool, len(in))
	for _, a := range in {
		known[a] = true
	}
	seen := make(map[netip.Addr]bool, len(in))
	unknownTotal := 0
	for i, tg := range got {
		if len(tg.Items) != len(tg.Ranges) {
			t.Fatalf("target %d: %d items for %d ranges", i, len(tg.Items), len(tg.Ranges))
		}
		k, u := 0, 0
		for j, r := range tg.Ranges {
			if !r.IsValid() {
				t.Fatalf("target %d: invalid range %v", i, r)
			}
			ru := 0
			first, lastKnown := true, netip.Addr{}
			for a := range (scanTarget{Ranges: []netipx.IPRange{r}}).Addrs() {
				if seen[a] {
					t.Fatalf("%s swept twice", a)
				}
				seen[a] = true
				if known[a] {
					k++
					lastKnown = a
				} else {
					u++
					ru++
					if first {
						t.Errorf("target %d range %v starts on an unknown address", i, r)
					}
				}
				first = false
			}
			if lastKnown != r.To() {
				t.Errorf("target %d range %v ends on an unknown address", i, r)
			}
			limit := o.MaxUnknownPerRange
			if r.From().Is6() {
				limit = o.MaxUnknownPerRangeIPv6
			}
			if ru > limit {
				t.Errorf("target %d range %v sweeps %d unknown addresses, bound %d", i, r, ru, limit)
			}
			if want := r.From().String(); r.From() != r.To() {
				want += "-" + r.To().String()
				if tg.Items[j] != want {
					t.Errorf("item %q, want %q", tg.Items[j], want)
				}
			} else if tg.Items[j] != want {
				t.Errorf("item %q, want %q", tg.Items[j], want)
			}
		}
		if k != tg.Known || u != tg.Unknown {
			t.Errorf("target %d: counts known %d unknown %d, want %d %d", i, tg.Known, tg.Unknown, k, u)
		}
		if len(tg.AddrStrings()) != tg.Size() {
			t.Errorf("target %d: %d address strings for size %d", i, len(tg.AddrStrings()), tg.Size())
		}
		if tg.Size() > o.BatchSize || tg.Size() == 0 {
			t.Errorf("target %d sweeps %d, batch size %d", i, tg.Size(), o.BatchSize)
		}
		unknownTotal += u
	}
	for a := range known {
		if !seen[a] {
			t.Errorf("%s is not covered", a)
		}
	}
	if !ranges && unknownTotal > 0 {
		t.Errorf("address lists swept %d unknown addresses", unknownTotal)
	}
	if o.MaxUnknownTotal >= 0 && unknownTotal > o.MaxUnknownTotal {
		t.Errorf("swept %d unknown addresses in total, bound %d", unknownTotal, o.MaxUnknownTotal)
	}
}

// randomAddrs returns n addresses in clusters, the way NetBox subnets fill.
func randomAddrs(r *rand.Rand, n int) []netip.Addr {
	out := make([]netip.Addr, 0, n)
	for len(out) < n {
		base := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, byte(r.IntN(4))}
		if r.IntN(3) > 0 {
			a := netip.AddrFrom4([4]byte{10, byte(r.IntN(2)), byte(r.IntN(3)), byte(r.IntN(256))})
			for range 1 + r.IntN(6) {
				out = append(out, a)
				a = addrAdd(a, uint64(1+r.IntN(8)))
				if !a.Is4() || !netip.MustParsePrefix("10.0.0.0/8").Contains(a) {
					break
				}
			}
			continue
		}
		base[15] = byte(r.IntN(64))
		out = append(out, netip.AddrFrom16(base), netip.AddrFrom16(base).Next())
	}
	return out[:n]
}

func TestFormatIPsForScanProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		in := randomAddrs(r, 1+r.IntN(120))
		opts := ScanOptions{
			BatchSize:              r.IntN(40),
			MaxUnknownPerRange:     r.IntN(20),
			MaxUnknownPerRangeIPv6: r.IntN(4),
			MaxUnknownTotal:        r.IntN(60) - 5,
		}
		ranges := i%2 == 1
		got, err := formatIPsForScan(in, ranges, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkCoverage(t, in, got, ranges, opts)
		if t.Failed() {
			t.Fatalf("case %d: ranges %v opts %+v in %v", i, ranges, opts, in)
		}
	}
}

// TestFormatIPsForScanFewestRanges checks against brute force that, with
// only the total bound binding, range mode finds the fewest ranges.
func TestFormatIPsForScanFewestRanges(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		in := make([]netip.Addr, 2+r.IntN(8))
		for i := range in {
			in[i] = netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(64))})
		}
		total := r.IntN(30)
		opts := ScanOptions{BatchSize: 1000, MaxUnknownPerRange: 1000, MaxUnknownTotal: total}
		got, err := formatIPsForScan(in, true, opts)
		if err != nil {
			t.Fatal(err)
		}
		if want := fewestRanges(in, total); len(got[0].Ranges) != want {
			t.Errorf("%v with total bound %d: %d ranges, brute force finds %d", in, total, len(got[0].Ranges), want)
		}
	}
}

// fewestRanges tries every subset of gaps to bridge.
func fewestRanges(in []netip.Addr, total int) int {
	var b netipx.IPSetBuilder
	for _, a := range in {
		b.Add(a)
	}
	s, _ := b.IPSet()
	runs := s.Ranges()
	gaps := make([]int, len(runs)-1)
	for i := range gaps {
		gaps[i] = int(addrDistance(runs[i].To(), runs[i+1].From()) - 1)
	}
	best := len(runs)
	for mask := 0; mask < 1<<len(gaps); mask++ {
		sum, n := 0, len(runs)
		for i, g := range gaps {
			if mask&(1<<i) != 0 {
				sum += g
				n--
			}
		}
		if sum <= total && n < best {
			best = n
		}
	}
	return best
}

func TestAddrArithmetic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want uint64
	}{
		{"10.0.0.1", "10.0.0.1", 0},
		{"10.0.0.255", "10.0.1.0", 1},
		{"0.0.0.0", "255.255.255.255", 1<<32 - 1},
		{"::ffff:ffff:ffff:ffff", "::1:0:0:0:0", 1},
		{"2001:db8::", "2001:db9::", 1<<64 - 1},
	}
	for _, tt := range tests {
		a, b := netip.MustParseAddr(tt.a), netip.MustParseAddr(tt.b)
		if got := addrDistance(a, b); got != tt.want {
			t.Errorf("addrDistance(%s, %s) = %d, want %d", a, b, got, tt.want)
		}
		if tt.want < 1<<32 {
			if got := addrAdd(a, tt.want); got != b {
				t.Errorf("addrAdd(%s, %d) = %s, want %s", a, tt.want, got, b)
			}
		}
	}
}

// BenchmarkRanges groups 10,000 clustered addresses (about a third IPv6)
// one address a request, in lists and in ranges, with the default options.
func BenchmarkRanges(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	in := make([]netip.Addr, 0, 10_000)
	for len(in) < cap(in) {
		// Subnets filled in clusters: a third IPv6.
		a := netip.AddrFrom4([4]byte{10, byte(r.IntN(16)), byte(r.IntN(256)), byte(r.IntN(200))})
		if len(in)%3 == 2 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(r.IntN(256)), 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(r.IntN(200))})
		}
		for range min(1+r.IntN(10), cap(in)-len(in)) {
			in = append(in, a)
			a = addrAdd(a, uint64(1+r.IntN(4)))
		}
	}
	single := defaultScanOptions()
	single.BatchSize = 1
	for _, bm := range []struct {
		name   string
		ranges bool
		opts   ScanOptions
	}{{"individual", false, single}, {"batch", false, defaultScanOptions()}, {"range", true, defaultScanOptions()}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			var got []scanTarget
			for b.Loop() {
				var err error
				if got, err = formatIPsForScan(in, bm.ranges, bm.opts); err != nil {
					b.Fatal(err)
				}
			}
			items, unknown, known := 0, 0, 0
			for _, t := range got {
				items += len(t.Items)
				unknown += t.Unknown
				known += t.Known
			}
			b.ReportMetric(float64(len(got)), "requests")
			b.ReportMetric(float64(items), "items")
			b.ReportMetric(float64(known), "known")
			b.ReportMetric(float64(unknown), "unknown_swept")
			b.ReportMetric(float64(len(in)*b.N)/b.Elapsed().Seconds(), "addrs/s")
		})
	}
}

func Example_formatIPsForScan() {
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.4"),
		netip.MustParseAddr("10.0.0.40"), netip.MustParseAddr("2001:db8::1"),
	}
	targets, err := formatIPsForScan(addrs, true, ScanOptions{MaxUnknownPerRange: 4, MaxUnknownTotal: 16})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range targets {
		fmt.Println(t.Items, "known", t.Known, "unknown", t.Unknown)
	}
	// Output:
	// [10.0.0.1-10.0.0.4 10.0.0.40 2001:db8::1] known 5 unknown 1
}

// FuzzFormatIPsForScan checks the coverage properties on arbitrary input:
// addresses from 5-byte chunks (4 bytes of IPv4 or the low bytes of an IPv6
// address), options from the leading bytes.
func FuzzFormatIPsForScan(f *testing.F) {
	f.Add([]byte{3, 4, 5, 20, 10, 0, 0, 1, 0, 10, 0, 0, 3, 0, 10, 0, 0, 9, 1, 0, 0, 0, 7, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 {
			return
		}
		opts := ScanOptions{BatchSize: int(b[0] % 16), MaxUnknownPerRange: int(b[1] % 32), MaxUnknownPerRangeIPv6: int(b[2] % 8), MaxUnknownTotal: int(b[3]) - 8}
		ranges := b[3]%2 == 1
		var in []netip.Addr
		for c := b[4:]; len(c) >= 5; c = c[5:] {
			if c[4]&1 == 0 {
				in = append(in, netip.AddrFrom4([4]byte(c[:4])))
			} else {
				in = append(in, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: c[0], 13: c[1], 14: c[2], 15: c[3]}))
			}
		}
		got, err := formatIPsForScan(in, ranges, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkCoverage(t, in, got, ranges, opts)
	})
}
