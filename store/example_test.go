package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"time"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/memory"
)

// An export records each address's intent before it calls WUG and the
// outcome right after, inside a run; status is then a count away.
func Example() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()

	run, err := st.BeginRun(ctx, store.Run{
		Connection: "wug-prod",
		Kind:       store.RunExport,
		Trigger:    store.TriggerManual,
		Filters:    map[string][]string{"site": {"ams1"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	recs := []store.Record{
		{Key: store.Key{Connection: "wug-prod", Address: netip.MustParseAddr("192.0.2.10")},
			ObjectKind: store.ObjectDevice, ObjectID: 42, ObjectName: "core-sw-1",
			Status: store.StatusPending, Reason: store.ReasonNewDevice},
		{Key: store.Key{Connection: "wug-prod", Address: netip.MustParseAddr("192.0.2.11")},
			ObjectKind: store.ObjectDevice, ObjectID: 43, ObjectName: "core-sw-2",
			Status: store.StatusPending, Reason: store.ReasonNewDevice},
	}
	if err := st.UpsertRecords(ctx, recs); err != nil { // the intent
		log.Fatal(err)
	}
	recs[0].Status, recs[0].WUGDeviceID = store.StatusExported, "1001"
	recs[1].Status, recs[1].LastError, recs[1].Attempts = store.StatusError, "wug: 500 Internal Server Error", 1
	if err := st.UpsertRecords(ctx, recs); err != nil { // the outcome
		log.Fatal(err)
	}

	run.Status = store.RunPartial
	run.Counts = store.RunCounts{Selected: 2, Added: 1, Failed: 1}
	if err := st.FinishRun(ctx, run); err != nil {
		log.Fatal(err)
	}

	counts, err := st.CountByStatus(ctx, "wug-prod")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range store.Statuses {
		fmt.Printf("%s: %d\n", s, counts[s])
	}
	for r, err := range st.Records(ctx, store.Query{Connection: "wug-prod", Statuses: []store.Status{store.StatusError}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("retry %s (%s): %s\n", r.Key, r.ObjectName, r.LastError)
	}
	runs, err := st.Runs(ctx, store.RunQuery{Connection: "wug-prod"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("last run: %s, %+v\n", runs[0].Status, runs[0].Counts)

	_, err = st.Record(ctx, store.Key{Connection: "wug-prod", Address: netip.MustParseAddr("192.0.2.99")})
	fmt.Println("192.0.2.99 not found:", errors.Is(err, store.ErrNotFound))
	// Output:
	// pending: 0
	// exported: 1
	// scan_triggered: 0
	// scan_completed: 0
	// error: 1
	// removed: 0
	// retry wug-prod/global/192.0.2.11 (core-sw-2): wug: 500 Internal Server Error
	// last run: partial, {Selected:2 Added:1 Updated:0 Scanned:0 Unchanged:0 Failed:1}
	// 192.0.2.99 not found: true
}

// One lease per connection keeps two processes from exporting it at once;
// the token of a new holder is higher, so a stale holder can be fenced off.
func Example_lease() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()

	a, err := st.AcquireLease(ctx, "export/wug-prod", "host-a", time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	_, err = st.AcquireLease(ctx, "export/wug-prod", "host-b", time.Minute)
	fmt.Println("host-b waits:", errors.Is(err, store.ErrLeaseHeld))

	if err := st.ReleaseLease(ctx, a); err != nil {
		log.Fatal(err)
	}
	b, err := st.AcquireLease(ctx, "export/wug-prod", "host-b", time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("host-b holds it, newer token:", b.Holder, b.Token > a.Token)
	_, err = st.RenewLease(ctx, a, time.Minute)
	fmt.Println("host-a lost it:", errors.Is(err, store.ErrLeaseLost))
	// Output:
	// host-b waits: true
	// host-b holds it, newer token: host-b true
	// host-a lost it: true
}

// When a NetBox object's address changes, its record moves to the new
// address with its WUG device and what was written to it, in one
// transaction; a searchable list then finds it by name or address.
func Example_renumber() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()

	old := store.Record{
		Key:        store.Key{Connection: "wug-prod", Address: netip.MustParseAddr("192.0.2.10")},
		ObjectKind: store.ObjectDevice, ObjectID: 42, ObjectName: "Core-SW-1",
		Status: store.StatusExported, WUGDeviceID: "1001",
		Written: store.Written{DisplayName: "Core-SW-1", GroupPath: "My Network/NetBox/ams1",
			Attributes: map[string]string{"NetBox.Site": "ams1"}},
	}
	if err := st.UpsertRecords(ctx, []store.Record{old}); err != nil {
		log.Fatal(err)
	}

	moved := old
	moved.Address = netip.MustParseAddr("198.51.100.10")
	moved.Reason = store.ReasonIPChanged
	if err := st.ReplaceRecords(ctx, []store.Record{moved}, []store.Key{old.Key}); err != nil {
		log.Fatal(err)
	}

	for _, search := range []string{"core-sw", "198.51", "192.0.2"} {
		for r, err := range st.Records(ctx, store.Query{Connection: "wug-prod", Search: search}) {
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%q: %s %s, WUG device %s in %s\n", search, r.ObjectName, r.Address, r.WUGDeviceID, r.Written.GroupPath)
		}
	}
	// Output:
	// "core-sw": Core-SW-1 198.51.100.10, WUG device 1001 in My Network/NetBox/ams1
	// "198.51": Core-SW-1 198.51.100.10, WUG device 1001 in My Network/NetBox/ams1
}
