package export

import (
	"flag"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// The -update flag rewrites golden files. It is registered here, in the
// file whose init runs last, only if no other test file of the package has
// registered it already, so every golden test of the package shares it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata")
	}
}

// updatingGolden reports whether the test run was asked to rewrite golden files.
func updatingGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// codes returns a verdict's error and warning codes.
func codes(v verdict) (errs, warns []string) {
	for _, f := range v.Errors {
		errs = append(errs, f.Code)
	}
	for _, f := range v.Warnings {
		warns = append(warns, f.Code)
	}
	return errs, warns
}

func TestValidateIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		errs  []string
		warns []string
	}{
		// Good private hosts.
		{in: "10.0.0.5/24"},
		{in: "172.16.4.1/12"},
		{in: "192.168.1.10"},
		{in: " 192.168.1.10/24 "},
		{in: "fd00:1::10/64"},
		{in: "10.0.0.0/31"},    // /31: both addresses are hosts (RFC 3021)
		{in: "10.0.0.1/31"},    // idem
		{in: "10.0.0.0/32"},    // a /32 is its own host
		{in: "10.255.255.255"}, // bare: full-length prefix

		// Unparseable and zoned.
		{in: "", errs: []string{codeUnparseable}},
		{in: "not-an-ip", errs: []string{codeUnparseable}},
		{in: "10.0.0.256/24", errs: []string{codeUnparseable}},
		{in: "10.0.0.1/33", errs: []string{codeUnparseable}},
		{in: "010.0.0.1", errs: []string{codeUnparseable}},
		{in: "2001:db8::1/129", errs: []string{codeUnparseable}},
		{in: "fe80::1%eth0/64", errs: []string{codeZoned}},

		// Errors.
		{in: "0.0.0.0/0", errs: []string{codeUnspecified}},
		{in: "0.0.0.0", errs: []string{codeUnspecified}},
		{in: "0.1.2.3/8", errs: []string{codeThisNetwork}},
		{in: "::/0", errs: []string{codeUnspecified}},
		{in: "127.0.0.1/8", errs: []string{codeLoopback}},
		{in: "127.1.2.3", errs: []string{codeLoopback}},
		{in: "::1/128", errs: []string{codeLoopback}},
		{in: "224.0.0.5", errs: []string{codeMulticast}},
		{in: "239.255.255.250/32", errs: []string{codeMulticast}},
		{in: "ff02::1", errs: []string{codeMulticast}},
		{in: "255.255.255.255", errs: []string{codeLimitedBroadcast}},
		{in: "255.255.255.255/32", errs: []string{codeLimitedBroadcast}},
		{in: "10.1.2.0/24", errs: []string{codeNetworkAddress}},
		{in: "10.1.2.255/24", errs: []string{codeBroadcastAddress}},
		{in: "10.1.2.3/30", errs: []string{codeBroadcastAddress}},
		{in: "10.0.0.0/8", errs: []string{codeNetworkAddress}},
		{in: "fe80::1/64", errs: []string{codeIPv6LinkLocal}},
		{in: "fe80::abcd", errs: []string{codeIPv6LinkLocal}},

		// Warnings.
		{in: "169.254.1.1/16", warns: []string{codeIPv4LinkLocal}},
		{in: "240.0.0.1/4", warns: []string{codeReserved}},
		{in: "250.1.2.3", warns: []string{codeReserved}},
		{in: "192.0.0.9/24", warns: []string{codeReserved}},
		{in: "192.0.2.10/24", warns: []string{codeDocumentation}},
		{in: "198.51.100.7/24", warns: []string{codeDocumentation}},
		{in: "203.0.113.99/24", warns: []string{codeDocumentation}},
		{in: "198.18.0.1/15", warns: []string{codeBenchmarking}},
		{in: "198.19.255.254/15", warns: []string{codeBenchmarking}},
		{in: "100.64.0.1/10", warns: []string{codeSharedAddressSpace}},
		{in: "100.127.255.254", warns: []string{codeSharedAddressSpace}},
		{in: "8.8.8.8", warns: []string{codePublic}},
		{in: "2001:db8::10/64", warns: []string{codeDocumentation}},
		{in: "3fff:1::10/64", warns: []string{codeDocumentation}},
		{in: "2001:2::1/48", warns: []string{codeBenchmarking}},
		{in: "2606:4700::1111/64", warns: []string{codePublic}},
		{in: "2002:c000:204::1/48", warns: []string{codeIPv6Transition}},
		{in: "2001:0:4136:e378::1", warns: []string{codeIPv6Transition}},
		{in: "64:ff9b::192.0.2.1", warns: []string{codeIPv6Transition}},
		{in: "fec0::1/64", warns: []string{codeIPv6SiteLocal}},
		{in: "100::1", warns: []string{codeReserved}},
		{in: "4000::1", warns: []string{codeReserved}},
		{in: "fd00::/64", warns: []string{codeSubnetAnycast}},
		{in: "fd00::/127"}, // /127 point-to-point: both are hosts (RFC 6164)

		// Several findings at once.
		{in: "192.0.2.0/24", errs: []string{codeNetworkAddress}, warns: []string{codeDocumentation}},
		{in: "8.8.8.255/24", errs: []string{codeBroadcastAddress}, warns: []string{codePublic}},
		{in: "::ffff:10.0.0.1", warns: []string{codeIPv4Mapped}},
		{in: "::ffff:10.0.0.0/120", errs: []string{codeNetworkAddress}, warns: []string{codeIPv4Mapped}},
		{in: "::ffff:127.0.0.1", errs: []string{codeLoopback}, warns: []string{codeIPv4Mapped}},
		{in: "::ffff:192.0.2.1/64", warns: []string{codeIPv4Mapped, codeDocumentation}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			v := validateIP(tt.in)
			errs, warns := codes(v)
			if diff := cmp.Diff(tt.errs, errs); diff != "" {
				t.Errorf("ValidateIP(%q) error codes (-want +got):\n%s\n%s", tt.in, diff, v)
			}
			if diff := cmp.Diff(tt.warns, warns); diff != "" {
				t.Errorf("ValidateIP(%q) warning codes (-want +got):\n%s\n%s", tt.in, diff, v)
			}
			if got, want := v.OK(), len(tt.errs) == 0; got != want {
				t.Errorf("ValidateIP(%q).OK() = %v, want %v", tt.in, got, want)
			}
			// Every sentence names the address it is about.
			p, err := parseAddress(tt.in)
			for _, f := range append(append([]Finding(nil), v.Errors...), v.Warnings...) {
				if !strings.HasSuffix(f.Message, ".") {
					t.Errorf("message %q is not a sentence", f.Message)
				}
				if err == nil && !strings.Contains(f.Message, p.Addr().String()) && !strings.Contains(f.Message, p.Addr().Unmap().String()) {
					t.Errorf("message %q does not name %s", f.Message, p.Addr())
				}
				if err != nil && tt.in != "" && !strings.Contains(f.Message, strings.TrimSpace(tt.in)) {
					t.Errorf("message %q does not quote %q", f.Message, tt.in)
				}
			}
		})
	}
}

func TestValidatePrefixInvalid(t *testing.T) {
	t.Parallel()
	v := validatePrefix(netip.Prefix{})
	if errs, _ := codes(v); !cmp.Equal(errs, []string{codeUnparseable}) {
		t.Errorf("ValidatePrefix(zero) = %v, want %s", v, codeUnparseable)
	}
}

func TestParseAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want netip.Prefix
	}{
		{"192.0.2.10/24", netip.MustParsePrefix("192.0.2.10/24")},
		{"192.0.2.10", netip.MustParsePrefix("192.0.2.10/32")},
		{"2001:db8::10/64", netip.MustParsePrefix("2001:db8::10/64")},
		{"2001:db8::10", netip.MustParsePrefix("2001:db8::10/128")},
		{"\t10.0.0.1/8\n", netip.MustParsePrefix("10.0.0.1/8")},
	}
	for _, tt := range tests {
		got, err := parseAddress(tt.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAddress(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "x", "10.0.0.1/", "/24", "fe80::1%eth0"} {
		if _, err := parseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) succeeded, want an error", bad)
		}
	}
}

func TestCheckRecord(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	key := store.Key{Connection: "wug1", Address: netip.MustParseAddr("10.0.0.5")}
	tests := []struct {
		name   string
		rec    store.Record
		window time.Duration
		want   []Finding
	}{
		{name: "never exported", rec: store.Record{Key: key, Status: store.StatusPending}},
		{
			name: "exported an hour ago",
			rec:  store.Record{Key: key, Status: store.StatusExported, ExportedAt: now.Add(-90 * time.Minute)},
			want: []Finding{{Code: codeRecentlyExported, Message: "10.0.0.5 was exported 1h30m ago (within 24h)."}},
		},
		{
			name: "exported seconds ago",
			rec:  store.Record{Key: key, Status: store.StatusExported, ExportedAt: now.Add(-10 * time.Second)},
			want: []Finding{{Code: codeRecentlyExported, Message: "10.0.0.5 was exported less than a minute ago (within 24h)."}},
		},
		{
			name: "exported exactly a window ago",
			rec:  store.Record{Key: key, Status: store.StatusExported, ExportedAt: now.Add(-24 * time.Hour)},
		},
		{
			name:   "custom window",
			rec:    store.Record{Key: key, Status: store.StatusExported, ExportedAt: now.Add(-3 * time.Hour)},
			window: 2 * time.Hour,
		},
		{
			name: "exported in the future",
			rec:  store.Record{Key: key, Status: store.StatusExported, ExportedAt: now.Add(time.Hour)},
			want: []Finding{{Code: codeRecentlyExported, Message: "10.0.0.5 was exported at 2026-11-25T13:00:00Z, after the current time (within 24h)."}},
		},
		{
			name: "failed",
			rec:  store.Record{Key: key, Status: store.StatusError, Attempts: 3, LastError: "wug: PATCH /devices/-/config/template: 500 Internal Server Error"},
			want: []Finding{{Code: codePreviousFailure, Message: "The previous export of 10.0.0.5 failed (attempts: 3): wug: PATCH /devices/-/config/template: 500 Internal Server Error."}},
		},
		{
			name: "failed without detail, recently exported before",
			rec:  store.Record{Key: key, Status: store.StatusError, ExportedAt: now.Add(-2 * time.Hour)},
			want: []Finding{
				{Code: codeRecentlyExported, Message: "10.0.0.5 was exported 2h ago (within 24h)."},
				{Code: codePreviousFailure, Message: "The previous export of 10.0.0.5 failed."},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := checkRecord(tt.rec, now, tt.window)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckRecord (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDuplicateIndex(t *testing.T) {
	t.Parallel()
	x := newDuplicateIndex()
	a := netip.MustParseAddr("10.0.0.5")
	core := owner{Kind: netbox.KindDevice, ID: 1, Name: "core-1"}
	edge := owner{Kind: netbox.KindDevice, ID: 2, Name: "edge-1"}
	vm := owner{Kind: netbox.KindVirtualMachine, ID: 1, Name: "app-1"}

	if _, dup := x.Observe("", a, core); dup {
		t.Error("first observation reported a duplicate")
	}
	if _, dup := x.Observe("", a, core); dup {
		t.Error("the same object observed twice reported a duplicate")
	}
	if _, dup := x.Observe("blue", a, edge); dup {
		t.Error("the same address in another VRF reported a duplicate")
	}
	f, dup := x.Observe("", a, edge)
	want := Finding{Code: codeDuplicate, Message: `10.0.0.5 is used by device 2 "edge-1" and also by device 1 "core-1" in the global table.`}
	if diff := cmp.Diff(want, f); !dup || diff != "" {
		t.Errorf("Observe duplicate = %v (-want +got):\n%s", dup, diff)
	}
	// A VM with the same numeric id as a device is another object.
	if f, dup = x.Observe("", a, vm); !dup || !strings.Contains(f.Message, "(and 1 more)") {
		t.Errorf("Observe third owner = %v, %q", dup, f.Message)
	}
	// The first owner is flagged once the selection is complete.
	f, dup = x.Duplicates("", a, core)
	want = Finding{Code: codeDuplicate, Message: `10.0.0.5 is used by device 1 "core-1" and also by device 2 "edge-1" in the global table (and 1 more).`}
	if diff := cmp.Diff(want, f); !dup || diff != "" {
		t.Errorf("Duplicates(first owner) = %v (-want +got):\n%s", dup, diff)
	}
	if _, dup := x.Duplicates("blue", a, edge); dup {
		t.Error("Duplicates reported the only owner in VRF blue")
	}
	if diff := cmp.Diff([]owner{core, edge, vm}, x.Owners("", a)); diff != "" {
		t.Errorf("Owners (-want +got):\n%s", diff)
	}
	if got := x.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}

	d := &netbox.Device{Kind: netbox.KindDevice, ID: 9, Name: "sw-9"}
	c := &candidate{Key: store.Key{Connection: "c", VRF: "blue", Address: a}, Device: d}
	if !x.ObserveCandidate(c) || !c.Verdict.Has(codeDuplicate) || !c.Verdict.OK() {
		t.Errorf("ObserveCandidate: verdict %v, want a duplicate warning only", c.Verdict)
	}
	if !strings.Contains(c.Verdict.Warnings[0].Message, `VRF "blue"`) {
		t.Errorf("duplicate message %q does not name the VRF", c.Verdict.Warnings[0].Message)
	}
}

func TestDuplicateIndexConcurrent(t *testing.T) {
	t.Parallel()
	x := newDuplicateIndex()
	var wg sync.WaitGroup
	var mu sync.Mutex
	dups := 0
	for id := range 8 {
		wg.Go(func() {
			for i := range 200 {
				a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
				if _, dup := x.Observe("", a, owner{Kind: netbox.KindDevice, ID: int64(id)}); dup {
					mu.Lock()
					dups++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if got, want := dups, 7*200; got != want {
		t.Errorf("duplicates = %d, want %d", got, want)
	}
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	var v verdict
	if !v.OK() || v.String() != "ok" {
		t.Errorf("zero verdict: OK=%v String=%q", v.OK(), v)
	}
	v.Warn(codePublic, "8.8.8.8 is public.")
	if !v.OK() || !v.Has(codePublic) || v.Has(codeLoopback) {
		t.Errorf("warned verdict: %v", v)
	}
	var o verdict
	o.Error(codeLoopback, "127.0.0.1 is loopback.")
	v.Merge(o)
	if v.OK() || !v.Has(codeLoopback) {
		t.Errorf("merged verdict: %v", v)
	}
	if got, want := v.String(), "error loopback: 127.0.0.1 is loopback.; warning public_address: 8.8.8.8 is public."; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func Example_validateIP() {
	for _, text := range []string{"10.0.0.5/24", "10.0.0.255/24", "2001:db8::10/64", "fe80::1/64"} {
		v := validateIP(text)
		fmt.Printf("%s exportable=%v\n", text, v.OK())
		for _, f := range v.Errors {
			fmt.Println("  error:", f.Code)
		}
		for _, f := range v.Warnings {
			fmt.Println("  warning:", f.Code)
		}
	}
	// Output:
	// 10.0.0.5/24 exportable=true
	// 10.0.0.255/24 exportable=false
	//   error: broadcast_address
	// 2001:db8::10/64 exportable=true
	//   warning: documentation
	// fe80::1/64 exportable=false
	//   error: ipv6_link_local
}

// FuzzValidateIP checks that any text gets a verdict, never a panic, and
// that only parseable text can be exportable.
func FuzzValidateIP(f *testing.F) {
	for _, s := range []string{"10.0.0.1/24", "::ffff:1.2.3.4/100", "fe80::1%eth0", "0.0.0.0/0", "2001:db8::/32", "1.2.3.4/", " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v := validateIP(text)
		if _, err := parseAddress(text); err != nil && v.OK() {
			t.Fatalf("ValidateIP(%q) is OK but ParseAddress fails: %v", text, err)
		}
		for _, f := range append(v.Errors, v.Warnings...) {
			if f.Code == "" || f.Message == "" {
				t.Fatalf("ValidateIP(%q): empty finding %+v", text, f)
			}
		}
	})
}

// BenchmarkDuplicateIndex observes 100,000 distinct addresses (one owner
// each, the common case) and reports the heap the index holds per address.
func BenchmarkDuplicateIndex(b *testing.B) {
	const n = 100_000
	var before, after runtime.MemStats
	perAddr := 0.0
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := newDuplicateIndex()
		for i := range n {
			a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			x.Observe("", a, owner{Kind: netbox.KindDevice, ID: int64(i), Name: "dev"})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perAddr = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
		runtime.KeepAlive(x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/address")
	b.ReportMetric(perAddr, "heap_B/address")
}
