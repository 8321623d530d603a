package export

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wugsync/wugsync/store"
)

func TestRecordSetRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 10, 11, 12, 123456000, time.UTC)
	full := store.Record{Key: store.Key{Connection: "c", VRF: "blue", Address: netip.MustParseAddr("2001:db8::7")},
		ObjectKind: store.ObjectVirtualMachine, ObjectID: 42, ObjectName: "vm-42", Status: store.StatusScanCompleted,
		Reason: store.ReasonReAdd, WUGDeviceID: "99", ScanID: "s-1", ScanState: "Complete", ScanDiscovered: true,
		Fingerprint: "v1:abc", Attempts: 3, LastError: "boom", CreatedAt: at, UpdatedAt: at, Adopted: true,
		Written: store.Written{DisplayName: "vm-42", Note: "n", GroupPath: "My Network/NetBox/ams1",
			Attributes: map[string]string{"NetBox.Site": "ams1"}},
		ExportedAt: at, ScanTriggeredAt: at.Add(-time.Minute), ScanCompletedAt: at.Add(time.Minute)}
	other := rec("10.0.0.1", store.StatusPending, "", "")
	s := recordSetOf(other, full)
	want := full
	want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{} // the store keeps them
	got, ok := s.Get(full.Key)
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); !ok || diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	full.Status = store.StatusError
	s.Add(full)
	if got, _ := s.Get(full.Key); got.Status != store.StatusError || s.Len() != 2 {
		t.Errorf("Add did not replace the record: %s, %d records", got.Status, s.Len())
	}
	if _, ok := s.Get(store.Key{Connection: "c", Address: netip.MustParseAddr("10.9.9.9")}); ok {
		t.Error("Get found a key never added")
	}
	n := 0
	for range s.All() {
		n++
	}
	if n != 2 {
		t.Errorf("All yielded %d records, want 2", n)
	}
}

// TestRecordSetFingerprints checks that every fingerprint comes back as it
// was stored, whether it is held as bytes or as text.
func TestRecordSetFingerprints(t *testing.T) {
	t.Parallel()
	for _, fp := range []string{"", "v1:0123456789abcdef0123456789abcdef", "v1:0123456789ABCDEF0123456789ABCDEF",
		"v1:0123456789abcdef", "v0:0123456789abcdef0123456789abcdef", "v1:zz23456789abcdef0123456789abcdef", "legacy"} {
		r := rec("10.0.0.1", store.StatusExported, "7", fp)
		got, _ := recordSetOf(r).Get(r.Key)
		if got.Fingerprint != fp {
			t.Errorf("fingerprint %q came back as %q", fp, got.Fingerprint)
		}
	}
}
