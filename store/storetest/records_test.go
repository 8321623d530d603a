package storetest_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/storetest"
)

func TestRecords(t *testing.T) {
	t.Parallel()
	const n = 50_000
	recs := storetest.Records("wug-a", n)
	seen := make(map[store.Key]int, n)
	type vrfStatus struct {
		vrf    string
		status store.Status
	}
	combos := make(map[vrfStatus]bool)
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if j, ok := seen[r.Key]; ok {
			t.Fatalf("records %d and %d share the key %s", j, i, r.Key)
		}
		seen[r.Key] = i
		combos[vrfStatus{r.VRF, r.Status}] = true
		if !r.CreatedAt.IsZero() || !r.UpdatedAt.IsZero() {
			t.Fatalf("record %d sets CreatedAt or UpdatedAt, which the store sets", i)
		}
	}
	// Every VRF holds every status, so a status page never has to scan a
	// VRF without one.
	for _, vrf := range []string{"", "blue", "red"} {
		for _, st := range store.Statuses {
			if !combos[vrfStatus{vrf, st}] {
				t.Errorf("no record in VRF %q has status %q", vrf, st)
			}
		}
	}
	// The generator is deterministic.
	opts := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	if diff := cmp.Diff(recs[:100], storetest.Records("wug-a", 100), opts); diff != "" {
		t.Errorf("Records is not deterministic (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(recs[4711], storetest.Record("wug-a", 4711), opts); diff != "" {
		t.Errorf("Record(4711) differs from Records(...)[4711] (-want +got):\n%s", diff)
	}
	// Records with a WUG device carry what was written to it, adopted or
	// not; the others carry nothing.
	var written, adopted int
	for _, r := range recs {
		switch {
		case r.WUGDeviceID == "" && (!r.Written.IsZero() || r.Adopted):
			t.Fatalf("record %s has no WUG device but Written %+v, Adopted %v", r.Key, r.Written, r.Adopted)
		case r.WUGDeviceID != "" && r.Written.IsZero():
			t.Fatalf("record %s has a WUG device but nothing written", r.Key)
		case r.Adopted:
			adopted++
		case r.WUGDeviceID != "":
			written++
		}
	}
	if written == 0 || adopted == 0 {
		t.Errorf("generated records: %d written and not adopted, %d adopted; want some of each", written, adopted)
	}
	if a := storetest.Address(19); !a.Is6() || a.Is4In6() {
		t.Errorf("Address(19) = %s, want an IPv6 address", a)
	}
}
