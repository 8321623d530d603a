package storetest

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wugsync/wugsync/store"
)

// full returns a record with every field set, times off the microsecond
// and outside UTC.
func full(k store.Key) store.Record {
	zone := time.FixedZone("UTC-5", -5*3600)
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, zone)
	return store.Record{
		Key:            k,
		ObjectKind:     store.ObjectVirtualMachine,
		ObjectID:       1<<40 + 7,
		ObjectName:     "vm-ünïcode 'quoted' \"double\"",
		Status:         store.StatusScanCompleted,
		Reason:         store.ReasonIPChanged,
		WUGDeviceID:    "4711",
		ScanID:         "3f6c2a9e-scan",
		ScanState:      "Completed",
		ScanDiscovered: true,
		Fingerprint:    "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		Attempts:       3,
		LastError:      "wug: 503 Service Unavailable\nretry later",
		Adopted:        true,
		Written: store.Written{
			DisplayName: "vm-ünïcode",
			Note:        "line one\nline \"two\" 'quoted'",
			GroupPath:   "My Network/NetBox/ams 1/rack \"A\"",
			Attributes:  map[string]string{"NetBox.Site": "ams1", "NetBox.Tags": "a,b", "NetBox.Empty": "", "NetBox.ünï": "{\"json\": [1]}"},
			OSRole:      "Linux",
			BrandRole:   "Dell",
			Maintenance: true,
		},
		CreatedAt:       at.Add(-48 * time.Hour),
		ExportedAt:      at.Add(-time.Hour),
		ScanTriggeredAt: at,
		ScanCompletedAt: at.Add(90*time.Second + 999),
	}
}

func (s *suite) testRecordRoundTrip(t *testing.T) {
	st := s.open(t)
	recs := []store.Record{
		full(key("wug-a", "", "192.0.2.10")),
		full(key("wug-a", "blue", "2001:db8::10")),
		// An IPv4-mapped IPv6 address is a different key from the IPv4 one.
		full(key("wug-a", "", "::ffff:192.0.2.10")),
		full(key("wug-a", "vrf 'ü' \"x\"; --", "192.0.2.10")),
		// Only the key and status: every other field is zero and comes
		// back zero, CreatedAt apart.
		{Key: key("wug-a", "red", "198.51.100.7"), Status: store.StatusPending},
	}
	before := time.Now()
	mustUpsert(t, st, recs...)
	after := time.Now()

	var want []store.Record
	for _, r := range recs {
		got := mustGet(t, st, r.Key)
		w := normRecord(r)
		if r.CreatedAt.IsZero() {
			checkStamp(t, r.Key.String()+" CreatedAt", got.CreatedAt, before, after)
			w.CreatedAt = got.CreatedAt
		}
		checkStamp(t, r.Key.String()+" UpdatedAt", got.UpdatedAt, before, after)
		w.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(w, got, cmpOpts); diff != "" {
			t.Errorf("Record(%s) mismatch (-want +got):\n%s", r.Key, diff)
		}
		for _, tm := range []time.Time{got.ExportedAt, got.ScanTriggeredAt, got.ScanCompletedAt, got.CreatedAt} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("Record(%s): time %v not in UTC", r.Key, tm)
			}
		}
		want = append(want, w)
	}
	// The query path returns the same values, in key order.
	slices.SortFunc(want, func(a, b store.Record) int { return a.Key.Compare(b.Key) })
	if diff := cmp.Diff(want, collect(t, st, store.Query{Connection: "wug-a"}), cmpOpts); diff != "" {
		t.Errorf("Records mismatch (-want +got):\n%s", diff)
	}
	global := ""
	got := collect(t, st, store.Query{VRF: &global, Address: netip.MustParseAddr("192.0.2.10")})
	if len(got) != 1 || got[0].Key != recs[0].Key {
		t.Errorf("query for 192.0.2.10 in the global VRF returned %v, want only %s", keys(got), recs[0].Key)
	}
}

func (s *suite) testUpsertReplaces(t *testing.T) {
	st := s.open(t)
	k := key("wug-a", "", "192.0.2.20")
	first := full(k)
	first.CreatedAt = time.Time{}
	mustUpsert(t, st, first)
	got1 := mustGet(t, st, k)

	time.Sleep(5 * time.Millisecond)
	// A replacement, not a merge: fields left zero become zero, and a
	// CreatedAt the caller sends is ignored.
	second := store.Record{
		Key:        k,
		ObjectKind: store.ObjectDevice,
		ObjectID:   9,
		ObjectName: "sw-9",
		Status:     store.StatusError,
		Reason:     store.ReasonManual,
		Attempts:   4,
		LastError:  "timeout",
		CreatedAt:  time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	before := time.Now()
	mustUpsert(t, st, second)
	after := time.Now()
	got2 := mustGet(t, st, k)

	want := second
	want.CreatedAt = got1.CreatedAt
	checkStamp(t, "UpdatedAt after replace", got2.UpdatedAt, before, after)
	if !got2.UpdatedAt.After(got1.UpdatedAt) {
		t.Errorf("UpdatedAt = %v after replace, want later than %v", got2.UpdatedAt, got1.UpdatedAt)
	}
	want.UpdatedAt = got2.UpdatedAt
	if diff := cmp.Diff(want, got2, cmpOpts); diff != "" {
		t.Errorf("Record after replace mismatch (-want +got):\n%s", diff)
	}

	// A third upsert with a zero CreatedAt keeps it too.
	third := second
	third.CreatedAt = time.Time{}
	third.Status = store.StatusExported
	mustUpsert(t, st, third)
	if got3 := mustGet(t, st, k); !got3.CreatedAt.Equal(got1.CreatedAt) || got3.Status != store.StatusExported {
		t.Errorf("after third upsert: CreatedAt %v status %q, want %v %q", got3.CreatedAt, got3.Status, got1.CreatedAt, store.StatusExported)
	}
	if n := len(collect(t, st, store.Query{})); n != 1 {
		t.Errorf("store holds %d records after three upserts of one key, want 1", n)
	}
}

func (s *suite) testUpsertBatchOrder(t *testing.T) {
	st := s.open(t)
	// The same key twice in one batch: applied in order, the later wins.
	first := Record("wug-a", 0)
	first.Status = store.StatusPending
	second := first
	second.Status, second.WUGDeviceID = store.StatusExported, "77"
	other := Record("wug-a", 1)
	other.Status = store.StatusError
	mustUpsert(t, st, first, other, second)
	if got := mustGet(t, st, first.Key); got.Status != store.StatusExported || got.WUGDeviceID != "77" {
		t.Errorf("after a batch with one key twice: status %q, WUG id %q; want the later record's %q, %q",
			got.Status, got.WUGDeviceID, store.StatusExported, "77")
	}
	if got := collect(t, st, store.Query{}); len(got) != 2 {
		t.Errorf("store holds %d records, want 2", len(got))
	}
	counts, err := st.CountByStatus(ctx(t), "wug-a")
	if err != nil {
		t.Fatal(err)
	}
	want := map[store.Status]int{}
	for _, status := range store.Statuses {
		want[status] = 0
	}
	want[store.StatusExported], want[store.StatusError] = 1, 1
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("counts after a batch with one key twice (-want +got):\n%s", diff)
	}
}

func (s *suite) testUpsertBatchDuplicates(t *testing.T) {
	st := s.open(t)
	// Every key twice, in batches small and large enough for a backend's
	// bulk path: the later record wins, and the first one's CreatedAt
	// stays, as a run of single upserts would leave them.
	first := time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC)
	for _, n := range []int{3, 300} {
		conn := fmt.Sprint("dup-", n)
		var batch []store.Record
		for i := range n {
			r := Record(conn, i)
			r.Status, r.CreatedAt = store.StatusPending, first
			batch = append(batch, r)
		}
		for i := range n {
			r := batch[i]
			r.Status, r.CreatedAt, r.Attempts = store.StatusExported, time.Time{}, n
			batch = append(batch, r)
		}
		mustUpsert(t, st, batch...)
		got := collect(t, st, store.Query{Connection: conn, PageSize: 7})
		if len(got) != n {
			t.Errorf("batch of %d keys, each twice: %d records", n, len(got))
		}
		for _, r := range got {
			if r.Status != store.StatusExported || r.Attempts != n || !r.CreatedAt.Equal(first) {
				t.Fatalf("%s: status %s, attempts %d, created %v; want %s, %d, %v", r.Key, r.Status, r.Attempts, r.CreatedAt,
					store.StatusExported, n, first)
			}
		}
		counts, err := st.CountByStatus(ctx(t), conn)
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.StatusExported] != n || counts[store.StatusPending] != 0 {
			t.Errorf("counts after a batch of %d keys, each twice: %v", n, counts)
		}
	}
}

func (s *suite) testUpsertLargeBatch(t *testing.T) {
	st := s.open(t)
	// One batch bigger than SQL parameter limits (3,500 records of 20
	// fields exceed PostgreSQL's 65,535 and SQLite's 32,766 parameters) and
	// than default page sizes.
	const n = 3_500
	mustUpsert(t, st, Records("wug-a", n)...)
	if total := countAll(t, st, "wug-a"); total != n {
		t.Errorf("after one batch of %d records, counts add up to %d", n, total)
	}
	if got := len(collect(t, st, store.Query{Connection: "wug-a", PageSize: 1_500})); got != n {
		t.Errorf("after one batch of %d records, Records returns %d", n, got)
	}
	r := Record("wug-a", n-1)
	if diff := cmp.Diff(r, mustGet(t, st, r.Key), cmpOpts, cmpopts.IgnoreFields(store.Record{}, "CreatedAt", "UpdatedAt")); diff != "" {
		t.Errorf("last record of a large batch mismatch (-want +got):\n%s", diff)
	}
}

// countAll adds up the counts by status of a connection's records, and
// checks that CountRecords says the same.
func countAll(t *testing.T, st store.Store, conn string) int {
	t.Helper()
	counts, err := st.CountByStatus(ctx(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if n, err := st.CountRecords(ctx(t), store.Query{Connection: conn}); err != nil || n != total {
		t.Errorf("CountRecords of %s = %d, %v; the counts by status add up to %d", conn, n, err, total)
	}
	return total
}

func (s *suite) testUpsertEmptyBatch(t *testing.T) {
	st := s.open(t)
	if err := st.UpsertRecords(ctx(t), nil); err != nil {
		t.Errorf("UpsertRecords(nil) = %v, want nil", err)
	}
	if err := st.UpsertRecords(ctx(t), []store.Record{}); err != nil {
		t.Errorf("UpsertRecords(empty) = %v, want nil", err)
	}
}

func (s *suite) testBadInput(t *testing.T) {
	good := Record("wug-a", 1) // made bad by each case
	tests := []struct {
		name  string
		bad   func(r *store.Record)
		words []string // the error must contain each, case-insensitively
	}{
		{"invalid status", func(r *store.Record) { r.Status = "exportd" }, []string{"status", "exportd", good.Key.String()}},
		{"empty status", func(r *store.Record) { r.Status = "" }, []string{"status", good.Key.String()}},
		{"empty connection", func(r *store.Record) { r.Connection = "" }, []string{"connection", good.Address.String()}},
		{"zero address", func(r *store.Record) { r.Address = netip.Addr{} }, []string{"address", "wug-a"}},
		{"zoned address", func(r *store.Record) { r.Address = netip.MustParseAddr("fe80::1%eth0") }, []string{"zone", "fe80::1"}},
		{"negative attempts", func(r *store.Record) { r.Attempts = -1 }, []string{"attempts", good.Key.String()}},
		// PostgreSQL cannot keep either in text: no backend does.
		{"NUL in a name", func(r *store.Record) { r.ObjectName = "sw\x001" }, []string{"object name", "utf-8", good.Key.String()}},
		{"invalid UTF-8 in an error", func(r *store.Record) { r.LastError = "wug: \xff\xfe" }, []string{"last error", "utf-8", good.Key.String()}},
		{"NUL in a VRF", func(r *store.Record) { r.VRF = "blue\x00" }, []string{"vrf", "utf-8"}},
		{"NUL in a written display name", func(r *store.Record) { r.Written.DisplayName = "sw\x001" }, []string{"written display name", "utf-8", good.Key.String()}},
		{"invalid UTF-8 in a written note", func(r *store.Record) { r.Written.Note = "\xc3" }, []string{"written note", "utf-8", good.Key.String()}},
		{"NUL in a written group path", func(r *store.Record) { r.Written.GroupPath = "My Network/\x00" }, []string{"written group path", "utf-8"}},
		{"invalid UTF-8 in a written role", func(r *store.Record) { r.Written.BrandRole = "\xff" }, []string{"written brand role", "utf-8"}},
		{"invalid UTF-8 in a written attribute value", func(r *store.Record) {
			r.Written.Attributes = map[string]string{"NetBox.Site": "ams1", "NetBox.Serial": "\xfe", "NetBox.Tags": "\x00"}
		}, []string{`written attribute "netbox.serial" value`, "utf-8", good.Key.String()}},
		{"NUL in a written attribute name", func(r *store.Record) { r.Written.Attributes = map[string]string{"NetBox\x00Site": "ams1"} }, []string{"written attribute name", "utf-8"}},
		{"empty written attribute name", func(r *store.Record) { r.Written.Attributes = map[string]string{"": "ams1"} }, []string{"written attribute name is empty", good.Key.String()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !s.opts.Serial {
				t.Parallel()
			}
			st := s.open(t)
			existing := Record("wug-a", 0)
			mustUpsert(t, st, existing)
			existing = mustGet(t, st, existing.Key)
			countsBefore, err := st.CountByStatus(ctx(t), "wug-a")
			if err != nil {
				t.Fatal(err)
			}

			changed := existing
			changed.Status, changed.Attempts = store.StatusError, 3
			bad := good
			tt.bad(&bad)
			batch := []store.Record{Record("wug-a", 2), changed, bad, Record("wug-a", 3)}
			err = st.UpsertRecords(ctx(t), batch)
			if err == nil {
				t.Fatalf("UpsertRecords with a bad record (%s) succeeded", tt.name)
			}
			for _, w := range tt.words {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// Nothing written: the existing record is as it was, the good
			// records of the batch are absent.
			if diff := cmp.Diff(existing, mustGet(t, st, existing.Key), cmpOpts); diff != "" {
				t.Errorf("existing record changed by a failed batch (-want +got):\n%s", diff)
			}
			for _, r := range []store.Record{batch[0], batch[3]} {
				_, err := st.Record(ctx(t), r.Key)
				wantNotFound(t, "Record("+r.Key.String()+") after a failed batch", err)
			}
			if got := collect(t, st, store.Query{}); len(got) != 1 {
				t.Errorf("store holds %d records after a failed batch, want 1: %v", len(got), keys(got))
			}
			countsAfter, err := st.CountByStatus(ctx(t), "wug-a")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(countsBefore, countsAfter); diff != "" {
				t.Errorf("counts changed by a failed batch (-want +got):\n%s", diff)
			}
		})
	}
}

func (s *suite) testNotFound(t *testing.T) {
	st := s.open(t)
	k := key("wug-a", "", "192.0.2.1")
	_, err := st.Record(ctx(t), k)
	wantNotFound(t, "Record of an empty store", err)

	mustUpsert(t, st, Record("wug-a", 0))
	_, err = st.Record(ctx(t), k)
	wantNotFound(t, "Record of a missing key", err)
	other := Record("wug-a", 0).Key
	other.VRF = "other"
	_, err = st.Record(ctx(t), other)
	wantNotFound(t, "Record of a key in another VRF", err)
	other = Record("wug-a", 0).Key
	other.Connection = "wug-b"
	_, err = st.Record(ctx(t), other)
	wantNotFound(t, "Record of a key in another connection", err)

	_, err = st.Run(ctx(t), "no-such-run")
	wantNotFound(t, "Run of a missing id", err)
	err = st.FinishRun(ctx(t), store.Run{ID: "no-such-run", Connection: "wug-a", Status: store.RunSucceeded})
	wantNotFound(t, "FinishRun of a missing id", err)
}

// fleet is a varied set of records over two connections, for the query
// tests.
func fleet() []store.Record {
	var recs []store.Record
	for _, conn := range []string{"wug-a", "wug-b"} {
		recs = append(recs, Records(conn, 48)...)
	}
	return recs
}

// named are records whose names and addresses the search cases look for:
// mixed case, SQL pattern characters, letters outside ASCII.
func named() []store.Record {
	var recs []store.Record
	for i, n := range []struct{ name, addr string }{
		{"Core-SW_01", "192.0.2.77"},
		{"CORE-rtr%2", "192.0.2.78"},
		{"SW-Ünï", "2001:db8::abcd"},
		{"edge.sw01", "::ffff:192.0.2.79"},
	} {
		r := Record("wug-a", 10_000+i)
		r.Address, r.ObjectName = netip.MustParseAddr(n.addr), n.name
		recs = append(recs, r)
	}
	return recs
}

// searchHit is Query.Search's rule: the address or the object name
// contains the text, ASCII letters matching either case.
func searchHit(r store.Record, text string) bool {
	lower := func(s string) string {
		return strings.Map(func(c rune) rune {
			if 'A' <= c && c <= 'Z' {
				return c + 'a' - 'A'
			}
			return c
		}, s)
	}
	return strings.Contains(lower(r.Address.String()), lower(text)) || strings.Contains(lower(r.ObjectName), lower(text))
}

func (s *suite) testQueryFilters(t *testing.T) {
	st := s.open(t)
	recs := append(fleet(), named()...)
	split := len(recs) * 2 / 3
	mustUpsert(t, st, recs[:split]...)
	time.Sleep(5 * time.Millisecond)
	mustUpsert(t, st, recs[split:]...)
	// Re-upsert a few early ones, so changed-since selects a mix.
	mustUpsert(t, st, recs[3], recs[30], recs[61])

	// The stored records, read back, are the reference.
	stored := collect(t, st, store.Query{})
	if len(stored) != len(recs) {
		t.Fatalf("store holds %d records, want %d", len(stored), len(recs))
	}
	since := mustGet(t, st, recs[split].Key).UpdatedAt
	blue, global := "blue", ""
	mid := stored[len(stored)/3].Key
	midVRF := mid.VRF
	// A cursor in the global VRF whose address sorts after every stored
	// one: a store comparing addresses alone would skip all of "blue".
	globalLast := store.Key{Connection: "wug-a", Address: netip.MustParseAddr("2001:db8::ffff:ffff")}
	between := mid
	between.Address = netip.MustParseAddr("203.0.113.1") // not stored: a cursor need not exist
	tests := []struct {
		name string
		q    store.Query
		keep func(r store.Record) bool
	}{
		{"all", store.Query{}, func(store.Record) bool { return true }},
		{"connection", store.Query{Connection: "wug-b"}, func(r store.Record) bool { return r.Connection == "wug-b" }},
		{"missing connection", store.Query{Connection: "wug-c"}, func(store.Record) bool { return false }},
		{"one status", store.Query{Connection: "wug-a", Statuses: []store.Status{store.StatusError}}, func(r store.Record) bool {
			return r.Connection == "wug-a" && r.Status == store.StatusError
		}},
		{"two statuses, any connection", store.Query{Statuses: []store.Status{store.StatusPending, store.StatusScanTriggered}}, func(r store.Record) bool {
			return r.Status == store.StatusPending || r.Status == store.StatusScanTriggered
		}},
		{"object kind", store.Query{ObjectKind: store.ObjectVirtualMachine}, func(r store.Record) bool { return r.ObjectKind == store.ObjectVirtualMachine }},
		{"object id", store.Query{Connection: "wug-a", ObjectKind: store.ObjectDevice, ObjectID: 4}, func(r store.Record) bool {
			return r.Connection == "wug-a" && r.ObjectKind == store.ObjectDevice && r.ObjectID == 4
		}},
		{"object id, any kind", store.Query{ObjectID: 5}, func(r store.Record) bool { return r.ObjectID == 5 }},
		{"vrf", store.Query{Connection: "wug-a", VRF: &blue}, func(r store.Record) bool { return r.Connection == "wug-a" && r.VRF == "blue" }},
		{"global vrf", store.Query{VRF: &global}, func(r store.Record) bool { return r.VRF == "" }},
		{"address", store.Query{Address: recs[7].Address}, func(r store.Record) bool { return r.Address == recs[7].Address }},
		{"address in connection", store.Query{Connection: "wug-b", Address: recs[7].Address}, func(r store.Record) bool {
			return r.Connection == "wug-b" && r.Address == recs[7].Address
		}},
		{"changed since", store.Query{ChangedSince: since}, func(r store.Record) bool { return !r.UpdatedAt.Before(since) }},
		// A bound between two microseconds excludes the stored time just
		// below it.
		{"changed since, a nanosecond later", store.Query{ChangedSince: since.Add(time.Nanosecond)}, func(r store.Record) bool { return r.UpdatedAt.After(since) }},
		{"changed since, in another zone", store.Query{Connection: "wug-a", ChangedSince: since.In(time.FixedZone("UTC+9", 9*3600))}, func(r store.Record) bool {
			return r.Connection == "wug-a" && !r.UpdatedAt.Before(since)
		}},
		{"after", store.Query{After: &mid}, func(r store.Record) bool { return r.Key.Compare(mid) > 0 }},
		{"after a key not stored", store.Query{After: &between}, func(r store.Record) bool { return r.Key.Compare(between) > 0 }},
		{"after, with filters", store.Query{Connection: mid.Connection, Statuses: []store.Status{store.StatusExported, store.StatusRemoved}, After: &mid},
			func(r store.Record) bool {
				return r.Connection == mid.Connection && r.Key.Compare(mid) > 0 &&
					(r.Status == store.StatusExported || r.Status == store.StatusRemoved)
			}},
		{"after, in the cursor's VRF", store.Query{Connection: mid.Connection, VRF: &midVRF, After: &mid}, func(r store.Record) bool {
			return r.Connection == mid.Connection && r.VRF == midVRF && r.Key.Compare(mid) > 0
		}},
		{"after a key in an earlier VRF", store.Query{Connection: "wug-a", VRF: &blue, After: &globalLast}, func(r store.Record) bool {
			return r.Connection == "wug-a" && r.VRF == "blue"
		}},
		{"after the connection's keys", store.Query{Connection: "wug-a", After: &store.Key{Connection: "wug-a~", Address: netip.MustParseAddr("0.0.0.0")}}, func(store.Record) bool { return false }},
		{"after an earlier connection's key", store.Query{Connection: "wug-b", After: &store.Key{Connection: "wug-a", Address: netip.MustParseAddr("10.0.0.1")}},
			func(r store.Record) bool { return r.Connection == "wug-b" }},
		{"search, any case", store.Query{Search: "core"}, func(r store.Record) bool { return searchHit(r, "core") }},
		{"search for an underscore", store.Query{Search: "sw_0"}, func(r store.Record) bool { return r.ObjectName == "Core-SW_01" }},
		{"search for a percent sign", store.Query{Search: "%"}, func(r store.Record) bool { return r.ObjectName == "CORE-rtr%2" }},
		{"search for a dot", store.Query{Connection: "wug-a", Search: "E.S"}, func(r store.Record) bool { return r.ObjectName == "edge.sw01" }},
		{"search an address", store.Query{Search: "192.0.2.7"}, func(r store.Record) bool { return searchHit(r, "192.0.2.7") }},
		{"search an IPv6 address in capitals", store.Query{Search: "2001:DB8::AB"}, func(r store.Record) bool { return searchHit(r, "2001:db8::ab") }},
		{"search an IPv4-mapped address", store.Query{Search: "FFFF:192"}, func(r store.Record) bool { return r.ObjectName == "edge.sw01" }},
		{"search a name and an address", store.Query{Connection: "wug-b", Search: "1"}, func(r store.Record) bool {
			return r.Connection == "wug-b" && searchHit(r, "1")
		}},
		{"search letters outside ASCII as they are", store.Query{Search: "W-Ünï"}, func(r store.Record) bool { return r.ObjectName == "SW-Ünï" }},
		{"search letters outside ASCII in another case", store.Query{Search: "ünï"}, func(store.Record) bool { return false }},
		{"search, filtered, after a cursor", store.Query{Connection: "wug-a", Statuses: []store.Status{store.StatusExported, store.StatusError},
			Search: "DEV-1", After: &mid}, func(r store.Record) bool {
			return r.Connection == "wug-a" && (r.Status == store.StatusExported || r.Status == store.StatusError) &&
				searchHit(r, "dev-1") && r.Key.Compare(mid) > 0
		}},
		{"everything at once", store.Query{Connection: "wug-a", Statuses: []store.Status{store.StatusExported}, ObjectKind: store.ObjectDevice,
			VRF: &global, ChangedSince: since.Add(-time.Hour)}, func(r store.Record) bool {
			return r.Connection == "wug-a" && r.Status == store.StatusExported && r.ObjectKind == store.ObjectDevice && r.VRF == ""
		}},
	}
	for _, tt := range tests {
		var want []store.Record
		for _, r := range stored {
			if tt.keep(r) {
				want = append(want, r)
			}
		}
		if len(want) == 0 && tt.q.Connection != "wug-c" && tt.name != "after the connection's keys" && tt.name != "search letters outside ASCII in another case" {
			t.Fatalf("%s: the test data select nothing; the test is broken", tt.name)
		}
		for _, size := range []int{0, 2} {
			q := tt.q
			q.PageSize = size
			if diff := cmp.Diff(want, collect(t, st, q), cmpOpts); diff != "" {
				t.Errorf("%s, page size %d: Records mismatch (-want +got):\n%s", tt.name, size, diff)
			}
			// An offset skips that many of the selected records.
			for _, off := range []int{1, len(want) / 2, len(want), len(want) + 3, math.MaxInt} {
				q.Offset = off
				if diff := cmp.Diff(want[min(off, len(want)):], collect(t, st, q), cmpOpts); diff != "" {
					t.Errorf("%s, page size %d, offset %d: Records mismatch (-want +got):\n%s", tt.name, size, off, diff)
				}
			}
		}
		// A count ignores the cursor, offset and page size.
		q := tt.q
		q.Offset, q.PageSize = 3, 2
		wantN := len(want)
		if q.After != nil {
			q.After, q.Offset = nil, 0
			wantN = len(collect(t, st, q))
		}
		if n, err := st.CountRecords(ctx(t), q); err != nil || n != wantN {
			t.Errorf("%s: CountRecords = %d, %v; want %d", tt.name, n, err, wantN)
		}
	}
}

func (s *suite) testKeyOrder(t *testing.T) {
	st := s.open(t)
	// Keys whose byte order differs from numeric order and from a
	// locale's collation: the store must follow Key.Compare.
	var recs []store.Record
	for _, conn := range []string{"wug-b", "wug-a", "WUG-a", "wug-a2"} {
		for _, vrf := range []string{"", "blue", "Blue", "b-1"} {
			for _, a := range []string{"10.0.0.10", "10.0.0.2", "100.0.0.1", "10.0.0.100", "2001:db8::1", "::1", "::ffff:10.0.0.1", "9.9.9.9", "fd00::a"} {
				recs = append(recs, store.Record{Key: key(conn, vrf, a), Status: store.StatusPending})
			}
		}
	}
	mustUpsert(t, st, recs...)
	want := keys(recs)
	slices.SortFunc(want, store.Key.Compare)
	for _, size := range []int{0, 5} {
		got := keys(collect(t, st, store.Query{PageSize: size}))
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("page size %d: key order mismatch (-want +got):\n%s", size, diff)
		}
	}
	var wantA []store.Key
	for _, k := range want {
		if k.Connection == "wug-a" && k.VRF == "Blue" {
			wantA = append(wantA, k)
		}
	}
	vrf := "Blue"
	if diff := cmp.Diff(wantA, keys(collect(t, st, store.Query{Connection: "wug-a", VRF: &vrf, PageSize: 2})), cmpOpts); diff != "" {
		t.Errorf("connection and VRF: key order mismatch (-want +got):\n%s", diff)
	}
}

func (s *suite) testPagination(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 250)
	mustUpsert(t, st, recs...)
	want := keys(recs)
	slices.SortFunc(want, store.Key.Compare)
	for _, size := range []int{1, 7, 249, 250, 251} {
		got := keys(collect(t, st, store.Query{Connection: "wug-a", PageSize: size}))
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("page size %d mismatch (-want +got):\n%s", size, diff)
		}
	}
	// Resuming after the last key seen continues where a stopped
	// iteration left off.
	var got []store.Key
	var after *store.Key
	for {
		n := 0
		for r, err := range st.Records(ctx(t), store.Query{Connection: "wug-a", PageSize: 10, After: after}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Key)
			if n++; n == 33 {
				break
			}
		}
		if n < 33 {
			break
		}
		after = &got[len(got)-1]
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("resumed iteration mismatch (-want +got):\n%s", diff)
	}

	// An iterator can be ranged over more than once.
	seq := st.Records(ctx(t), store.Query{Connection: "wug-a", PageSize: 64})
	for round := range 2 {
		var got []store.Key
		for r, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Key)
		}
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("ranging over one iterator, round %d, mismatch (-want +got):\n%s", round+1, diff)
		}
	}
}

func (s *suite) testIterationBreak(t *testing.T) {
	st := s.open(t)
	mustUpsert(t, st, Records("wug-a", 50)...)
	// Stopping early, many times over, must free what the iteration held
	// (locks, connections, cursors): writes and reads still work after.
	for i := range 100 {
		for _, err := range st.Records(ctx(t), store.Query{Connection: "wug-a", PageSize: 10}) {
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			break
		}
	}
	mustUpsert(t, st, Record("wug-a", 50))
	if got := len(collect(t, st, store.Query{Connection: "wug-a"})); got != 51 {
		t.Errorf("after 100 stopped iterations, Records returns %d records, want 51", got)
	}
}

func (s *suite) testPaginationWhileWriting(t *testing.T) {
	st := s.open(t)
	const n = 300
	initial := Records("wug-a", n)
	for i := range initial {
		initial[i].Status = []store.Status{store.StatusPending, store.StatusExported}[i%2]
	}
	mustUpsert(t, st, initial...)
	var wantAll, wantExported []store.Key
	for _, r := range initial {
		wantAll = append(wantAll, r.Key)
		if r.Status == store.StatusExported {
			wantExported = append(wantExported, r.Key)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	writeErr := make(chan error, 3)
	writer := func(f func(i int) error) {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := f(i); err != nil {
					writeErr <- err
					return
				}
			}
		})
	}
	// New keys in between the initial ones.
	writer(func(i int) error {
		r := Record("wug-a", n+i)
		r.Status = store.StatusExported
		return st.UpsertRecords(ctx(t), []store.Record{r})
	})
	// Updates of initial records that keep them selected.
	writer(func(i int) error {
		r := initial[(i*7)%n]
		r.Attempts = i%3 + 1
		r.Fingerprint = fmt.Sprint("round-", i)
		return st.UpsertRecords(ctx(t), []store.Record{r})
	})
	// Inserts and deletes of other records in the key space.
	writer(func(i int) error {
		r := Record("wug-a", 10_000+i%50)
		r.VRF = "churn"
		if i%2 == 0 {
			return st.UpsertRecords(ctx(t), []store.Record{r})
		}
		return st.DeleteRecords(ctx(t), []store.Key{r.Key})
	})

	check := func(name string, q store.Query, want []store.Key) {
		got := keys(collect(t, st, q))
		checkOrder(t, got)
		seen := make(map[store.Key]bool, len(got))
		for _, k := range got {
			seen[k] = true
		}
		for _, k := range want {
			if !seen[k] {
				t.Errorf("%s: record %s, stored before the iteration began, was skipped", name, k)
			}
		}
	}
	for range 3 {
		check("all", store.Query{Connection: "wug-a", PageSize: 7}, wantAll)
		check("exported", store.Query{Connection: "wug-a", Statuses: []store.Status{store.StatusExported}, PageSize: 5}, wantExported)
	}
	close(stop)
	wg.Wait()
	close(writeErr)
	for err := range writeErr {
		t.Errorf("concurrent writer: %v", err)
	}
}

func (s *suite) testWriteWhileIterating(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 120)
	for i := range recs {
		recs[i].Status = store.StatusPending
	}
	mustUpsert(t, st, recs...)
	// Move each pending record on from inside the loop, as a resumed
	// export does; the iteration must neither block nor see a record twice.
	var seen []store.Key
	for r, err := range st.Records(ctx(t), store.Query{Connection: "wug-a", Statuses: []store.Status{store.StatusPending}, PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, r.Key)
		r.Status, r.WUGDeviceID = store.StatusExported, "1"
		mustUpsert(t, st, r)
	}
	checkOrder(t, seen)
	if len(seen) != len(recs) {
		t.Errorf("iteration saw %d records, want %d", len(seen), len(recs))
	}
	counts, err := st.CountByStatus(ctx(t), "wug-a")
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.StatusExported] != len(recs) || counts[store.StatusPending] != 0 {
		t.Errorf("counts after updating every record = %v, want %d exported", counts, len(recs))
	}
}

func (s *suite) testCountByStatus(t *testing.T) {
	st := s.open(t)
	check := func(conn string, want map[store.Status]int) {
		t.Helper()
		got, err := st.CountByStatus(ctx(t), conn)
		if err != nil {
			t.Fatalf("CountByStatus(%q): %v", conn, err)
		}
		all := make(map[store.Status]int)
		for _, status := range store.Statuses {
			all[status] = want[status]
		}
		// Compare the maps as they are: every status must be a key.
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("CountByStatus(%q) mismatch (-want +got):\n%s", conn, diff)
		}
	}
	check("wug-a", nil)

	mustUpsert(t, st, Records("wug-a", 61)...)
	mustUpsert(t, st, Records("wug-b", 7)...)
	want := map[store.Status]int{}
	for _, r := range Records("wug-a", 61) {
		want[r.Status]++
	}
	check("wug-a", want)
	check("wug-c", nil)

	// A status change moves a record between counts.
	r := Record("wug-a", 0)
	old := r.Status
	r.Status = store.StatusError
	mustUpsert(t, st, r)
	want[old]--
	want[store.StatusError]++
	check("wug-a", want)

	// Deleting removes it from the counts.
	if err := st.DeleteRecords(ctx(t), []store.Key{r.Key}); err != nil {
		t.Fatal(err)
	}
	want[store.StatusError]--
	check("wug-a", want)
}

func (s *suite) testDeleteRecords(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 20)
	mustUpsert(t, st, recs...)
	missing := key("wug-a", "", "203.0.113.99")
	del := []store.Key{recs[2].Key, recs[5].Key, missing, recs[19].Key}
	if err := st.DeleteRecords(ctx(t), del); err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	for _, k := range del {
		_, err := st.Record(ctx(t), k)
		wantNotFound(t, "Record("+k.String()+") after delete", err)
	}
	var want []store.Key
	for i, r := range recs {
		if i != 2 && i != 5 && i != 19 {
			want = append(want, r.Key)
		}
	}
	slices.SortFunc(want, store.Key.Compare)
	if diff := cmp.Diff(want, keys(collect(t, st, store.Query{})), cmpOpts); diff != "" {
		t.Errorf("records after delete mismatch (-want +got):\n%s", diff)
	}
	if err := st.DeleteRecords(ctx(t), nil); err != nil {
		t.Errorf("DeleteRecords(nil) = %v, want nil", err)
	}
	if err := st.DeleteRecords(ctx(t), del); err != nil {
		t.Errorf("DeleteRecords of deleted keys = %v, want nil", err)
	}
	// A deleted key inserted again is a new record with a new CreatedAt.
	again := recs[2]
	before := time.Now()
	mustUpsert(t, st, again)
	checkStamp(t, "CreatedAt of a re-inserted record", mustGet(t, st, again.Key).CreatedAt, before, time.Now())
}

func (s *suite) testConcurrentWriters(t *testing.T) {
	st := s.open(t)
	const writers, batches, size = 8, 10, 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := make([]store.Record, 0, size)
				for i := range size {
					// Half the keys are the writer's own, half are shared
					// with every other writer.
					n := w*batches*size + b*size + i
					if i%2 == 1 {
						n = 100_000 + b*size + i
					}
					r := Record("wug-a", n)
					r.ObjectName = fmt.Sprint("writer-", w)
					r.Fingerprint = fmt.Sprint("writer-", w)
					batch = append(batch, r)
				}
				if err := st.UpsertRecords(ctx(t), batch); err != nil {
					errs <- err
					return
				}
			}
		})
		// Readers alongside.
		wg.Go(func() {
			for range 3 {
				if _, err := st.CountByStatus(ctx(t), "wug-a"); err != nil {
					errs <- err
					return
				}
				for _, err := range st.Records(ctx(t), store.Query{Connection: "wug-a", PageSize: 50}) {
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	got := collect(t, st, store.Query{Connection: "wug-a"})
	checkOrder(t, keys(got))
	wantN := writers*batches*size/2 + batches*size/2
	if len(got) != wantN {
		t.Errorf("store holds %d records, want %d", len(got), wantN)
	}
	for _, r := range got {
		if r.ObjectName != r.Fingerprint {
			t.Errorf("record %s mixes two writers' upserts: name %q, fingerprint %q", r.Key, r.ObjectName, r.Fingerprint)
		}
	}
	if total := countAll(t, st, "wug-a"); total != wantN {
		t.Errorf("counts add up to %d, want %d", total, wantN)
	}
}

// moved is r at the address addr, as a renumbering leaves it: the same
// NetBox object, WUG device and CreatedAt.
func moved(r store.Record, addr string) store.Record {
	r.Address = netip.MustParseAddr(addr)
	r.Reason = store.ReasonIPChanged
	return r
}

func (s *suite) testReplaceRecords(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 12)
	mustUpsert(t, st, recs...)
	old := mustGet(t, st, recs[4].Key)
	if old.WUGDeviceID == "" || old.Written.IsZero() {
		t.Fatalf("record %s has no WUG device or nothing written; the test is broken", old.Key)
	}
	countsBefore, err := st.CountByStatus(ctx(t), "wug-a")
	if err != nil {
		t.Fatal(err)
	}

	// A renumbering: the record leaves its old address for a new one.
	next := moved(old, "198.51.100.4")
	changed := recs[5]
	changed.Attempts = 3
	before := time.Now()
	if err := st.ReplaceRecords(ctx(t), []store.Record{next, changed}, []store.Key{old.Key, key("wug-a", "", "203.0.113.250")}); err != nil {
		t.Fatalf("ReplaceRecords: %v", err)
	}
	after := time.Now()
	_, err = st.Record(ctx(t), old.Key)
	wantNotFound(t, "Record of the old address after the move", err)
	got := mustGet(t, st, next.Key)
	checkStamp(t, "UpdatedAt of the moved record", got.UpdatedAt, before, after)
	want := next
	want.UpdatedAt = got.UpdatedAt
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("moved record mismatch (-want +got):\n%s", diff)
	}
	if got := mustGet(t, st, changed.Key); got.Attempts != 3 {
		t.Errorf("record upserted beside the move: attempts %d, want 3", got.Attempts)
	}
	countsAfter, err := st.CountByStatus(ctx(t), "wug-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(countsBefore, countsAfter); diff != "" {
		t.Errorf("counts changed by a move (-want +got):\n%s", diff)
	}
	if n := len(collect(t, st, store.Query{Connection: "wug-a"})); n != len(recs) {
		t.Errorf("store holds %d records after a move, want %d", n, len(recs))
	}

	// A key both deleted and upserted is upserted afresh: a new CreatedAt
	// when the record leaves it zero.
	again := mustGet(t, st, recs[6].Key)
	again.CreatedAt = time.Time{}
	before = time.Now()
	if err := st.ReplaceRecords(ctx(t), []store.Record{again}, []store.Key{again.Key}); err != nil {
		t.Fatal(err)
	}
	checkStamp(t, "CreatedAt of a key deleted and upserted", mustGet(t, st, again.Key).CreatedAt, before, time.Now())

	// Nothing to do is no error.
	if err := st.ReplaceRecords(ctx(t), nil, nil); err != nil {
		t.Errorf("ReplaceRecords(nil, nil) = %v, want nil", err)
	}
	// Only deletes, only upserts.
	if err := st.ReplaceRecords(ctx(t), nil, []store.Key{recs[7].Key}); err != nil {
		t.Fatal(err)
	}
	_, err = st.Record(ctx(t), recs[7].Key)
	wantNotFound(t, "Record after ReplaceRecords deleted it", err)
	if err := st.ReplaceRecords(ctx(t), []store.Record{recs[7]}, nil); err != nil {
		t.Fatal(err)
	}
	mustGet(t, st, recs[7].Key)
}

func (s *suite) testReplaceAllOrNothing(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 6)
	mustUpsert(t, st, recs...)
	stored := collect(t, st, store.Query{})
	badRec := Record("wug-a", 100)
	badRec.Written.Note = "\xff"
	noAddr := recs[1].Key
	noAddr.Address = netip.Addr{}
	for _, tc := range []struct {
		name    string
		upserts []store.Record
		deletes []store.Key
		words   []string
	}{
		{"an invalid record", []store.Record{moved(recs[0], "198.51.100.1"), badRec}, []store.Key{recs[0].Key}, []string{"written note", badRec.Key.String()}},
		{"an invalid key", []store.Record{moved(recs[0], "198.51.100.1")}, []store.Key{recs[0].Key, noAddr}, []string{"address"}},
	} {
		err := st.ReplaceRecords(ctx(t), tc.upserts, tc.deletes)
		if err == nil {
			t.Errorf("ReplaceRecords with %s succeeded", tc.name)
			continue
		}
		for _, w := range tc.words {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
				t.Errorf("ReplaceRecords with %s: error %q does not mention %q", tc.name, err, w)
			}
		}
		if diff := cmp.Diff(stored, collect(t, st, store.Query{}), cmpOpts); diff != "" {
			t.Errorf("ReplaceRecords with %s changed the store (-want +got):\n%s", tc.name, diff)
		}
	}
}

// testReplaceAtomic moves one record back and forth between two addresses
// while readers list the connection in one page (one statement): every
// listing holds the record exactly once, at one address or the other, so
// the delete and the upsert are never seen apart.
func (s *suite) testReplaceAtomic(t *testing.T) {
	st := s.open(t)
	recs := Records("wug-a", 20)
	mustUpsert(t, st, recs...)
	a := mustGet(t, st, recs[3].Key)
	b := moved(a, "198.51.100.3")
	// The mover goes on until the readers have listed the store a number
	// of times, and stops after an even number of moves.
	const moves, minListings = 40, 20
	var listings atomic.Int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 4)
	wg.Go(func() {
		defer close(done)
		from, to := a, b
		// A reader that failed lists no more: the bound ends the moves then.
		for i := 0; i%2 == 1 || i < moves || (listings.Load() < minListings && i < 100_000); i++ {
			if err := st.ReplaceRecords(ctx(t), []store.Record{to}, []store.Key{from.Key}); err != nil {
				errs <- fmt.Errorf("move %s to %s: %w", from.Key, to.Key, err)
				return
			}
			from, to = to, from
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				n, total := 0, 0
				for r, err := range st.Records(ctx(t), store.Query{Connection: "wug-a", PageSize: 100}) {
					if err != nil {
						errs <- err
						return
					}
					total++
					if r.Key == a.Key || r.Key == b.Key {
						n++
					}
				}
				if n != 1 || total != len(recs) {
					errs <- fmt.Errorf("a listing during the moves holds the moved record %d times among %d records, want once among %d", n, total, len(recs))
					return
				}
				listings.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := listings.Load(); n < minListings {
		t.Errorf("%d listings ran during the moves, want at least %d", n, minListings)
	}
	// After an even number of moves the record is back where it began.
	if diff := cmp.Diff(a, mustGet(t, st, a.Key), cmpOpts, cmpopts.IgnoreFields(store.Record{}, "UpdatedAt")); diff != "" {
		t.Errorf("record after the moves mismatch (-want +got):\n%s", diff)
	}
}
