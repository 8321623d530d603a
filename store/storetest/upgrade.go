package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/store"
)

// UpgradeRecords returns records 0 to n-1 of Record(conn, i) as a store of
// schema version 2 held them: the fields that version did not have (Adopted,
// Written) zero, and CreatedAt and UpdatedAt set, for a migration test to
// write with that version's statements and pass to CheckUpgraded.
func UpgradeRecords(conn string, n int) []store.Record {
	recs := Records(conn, n)
	created := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
	for i := range recs {
		r := &recs[i]
		r.Adopted, r.Written = false, store.Written{}
		r.CreatedAt = created.Add(time.Duration(i) * time.Minute)
		r.UpdatedAt = r.CreatedAt.Add(time.Hour)
	}
	return recs
}

// CheckUpgraded is the second half of a backend's schema-migration test:
// st is a store opened by this build on a database an earlier schema made,
// and old are the records that schema held (written there as it wrote
// them, with fields it did not know left zero). It checks that every old
// record reads back intact, each field this schema added zero, and that
// the new fields can then be written and read back.
func CheckUpgraded(t *testing.T, st store.Store, old []store.Record) {
	t.Helper()
	if len(old) < 2 {
		t.Fatal("storetest: CheckUpgraded needs at least two old records")
	}
	want := make([]store.Record, len(old))
	for i, r := range old {
		if r.Adopted || !r.Written.IsZero() {
			t.Fatalf("storetest: old record %s has fields the old schema did not have", r.Key)
		}
		want[i] = normRecord(r)
		if diff := cmp.Diff(want[i], mustGet(t, st, r.Key), cmpOpts); diff != "" {
			t.Errorf("old record %s after the upgrade (-want +got):\n%s", r.Key, diff)
		}
	}
	slices.SortFunc(want, func(a, b store.Record) int { return a.Key.Compare(b.Key) })
	if diff := cmp.Diff(want, collect(t, st, store.Query{}), cmpOpts); diff != "" {
		t.Errorf("old records listed after the upgrade (-want +got):\n%s", diff)
	}
	// The new query field works on old rows.
	name := old[0].ObjectName
	if name == "" {
		t.Fatal("storetest: CheckUpgraded needs an old record with an object name")
	}
	found := false
	for _, r := range collect(t, st, store.Query{Search: name}) {
		found = found || r.Key == old[0].Key
	}
	if !found {
		t.Errorf("search for %q after the upgrade does not find %s", name, old[0].Key)
	}

	// The new fields are written and read back, on an old record and on a
	// record moved from an old key.
	adopted := old[0]
	adopted.Adopted = true
	adopted.Written = store.Written{GroupPath: "My Network/NetBox/ams1", Attributes: map[string]string{"NetBox.Site": "ams1"}, Maintenance: true}
	move := old[1]
	move.Written = store.Written{DisplayName: move.ObjectName, Note: "managed", OSRole: "Linux", BrandRole: "Cisco"}
	move.Address = Address(1 << 23)
	if err := st.ReplaceRecords(t.Context(), []store.Record{adopted, move}, []store.Key{old[1].Key}); err != nil {
		t.Fatalf("ReplaceRecords after the upgrade: %v", err)
	}
	for _, w := range []store.Record{adopted, move} {
		if diff := cmp.Diff(normRecord(w), mustGet(t, st, w.Key), cmpOpts, cmpopts.IgnoreFields(store.Record{}, "UpdatedAt")); diff != "" {
			t.Errorf("record %s written after the upgrade (-want +got):\n%s", w.Key, diff)
		}
	}
	_, err := st.Record(t.Context(), old[1].Key)
	wantNotFound(t, "old record moved after the upgrade", err)
}
