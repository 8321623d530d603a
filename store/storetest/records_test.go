package storetest_test

import (
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
	opts := cmp.Comparer(func(a, b store.Record) bool { return a == b })
	if diff := cmp.Diff(recs[:100], storetest.Records("wug-a", 100), opts); diff != "" {
		t.Errorf("Records is not deterministic (-want +got):\n%s", diff)
	}
	if got := storetest.Record("wug-a", 4711); got != recs[4711] {
		t.Errorf("Record(4711) = %+v, want Records(...)[4711] = %+v", got, recs[4711])
	}
	if a := storetest.Address(19); !a.Is6() || a.Is4In6() {
		t.Errorf("Address(19) = %s, want an IPv6 address", a)
	}
}
