package storetest

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wugsync/wugsync/store"
)

// BenchRecordsEnv names the environment variable that sets how many records
// the query and count benchmarks load (default 1,000,000).
const BenchRecordsEnv = "WUGSYNC_BENCH_RECORDS"

const (
	defaultBenchRecords = 1_000_000
	upsertRecords       = 100_000
	upsertBatch         = 1_000
	loadBatch           = 10_000
	pageSize            = 100
	bigConn             = "bench"
)

// Benchmark runs the shared benchmarks on stores newStore returns:
//
//   - Upsert100k: upserting 100,000 new records in batches of 1,000
//     (records/s);
//   - QueryStatusPage: one page of 100 records of one status after a
//     cursor, out of a store of 1,000,000 records (µs/page);
//   - CountByStatus: counts by status over the same store (ms/op);
//   - SearchPage: a status page's searched list over the same store: the
//     count of the records whose name or address holds "dev-1", and one
//     page of 100 of them at an offset (ms/page).
//
// The big store is loaded once per run of Benchmark, in batches of 10,000,
// and only when a benchmark that needs it runs; BenchRecordsEnv overrides
// its size for quick runs. Benchmark closes every store it opens.
func Benchmark(b *testing.B, newStore func(b *testing.B) store.Store) {
	b.Run("Upsert100k", func(b *testing.B) { benchUpsert(b, closeAtEnd(b, newStore(b))) })

	var big store.Store
	var bigN int
	// load fills the big store on first use. It opens it through the
	// parent benchmark, so it outlives one sub-benchmark.
	load := func(sb *testing.B) (store.Store, int) {
		if big != nil {
			return big, bigN
		}
		n := benchRecords(sb)
		st := closeAtEnd(b, newStore(b))
		start := time.Now()
		batch := make([]store.Record, 0, loadBatch)
		for i := range n {
			batch = append(batch, Record(bigConn, i))
			if len(batch) == loadBatch || i == n-1 {
				if err := st.UpsertRecords(sb.Context(), batch); err != nil {
					sb.Fatalf("loading %d records: %v", n, err)
				}
				batch = batch[:0]
			}
		}
		d := time.Since(start)
		sb.Logf("loaded %d records in batches of %d in %v (%.0f records/s)", n, loadBatch, d.Round(time.Millisecond), float64(n)/d.Seconds())
		big, bigN = st, n
		return big, bigN
	}
	b.Run("QueryStatusPage", func(b *testing.B) {
		st, n := load(b)
		benchQueryPage(b, st, n)
	})
	b.Run("CountByStatus", func(b *testing.B) {
		st, n := load(b)
		benchCount(b, st, n)
	})
	b.Run("SearchPage", func(b *testing.B) {
		st, n := load(b)
		benchSearchPage(b, st, n)
	})
}

// benchRecords returns the size of the big store.
func benchRecords(b *testing.B) int {
	v := os.Getenv(BenchRecordsEnv)
	if v == "" {
		return defaultBenchRecords
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number of records", BenchRecordsEnv, v)
	}
	return n
}

func benchUpsert(b *testing.B, st store.Store) {
	recs := Records("", upsertRecords)
	batch := make([]store.Record, upsertBatch)
	round := 0
	for b.Loop() {
		// Every round writes new keys, under a connection of its own.
		conn := "upsert-" + strconv.Itoa(round)
		round++
		for i := 0; i < len(recs); i += upsertBatch {
			n := copy(batch, recs[i:])
			for j := range batch[:n] {
				batch[j].Connection = conn
			}
			if err := st.UpsertRecords(b.Context(), batch[:n]); err != nil {
				b.Fatalf("UpsertRecords: %v", err)
			}
		}
	}
	b.ReportMetric(float64(upsertRecords*b.N)/b.Elapsed().Seconds(), "records/s")
}

func benchQueryPage(b *testing.B, st store.Store, n int) {
	// Cursors spread over the key space in a fixed pseudo-random order.
	cursors := make([]store.Key, 1024)
	for i := range cursors {
		cursors[i] = Record(bigConn, int(uint64(i)*2654435761%uint64(n))).Key
	}
	q := store.Query{Connection: bigConn, Statuses: []store.Status{store.StatusError}, PageSize: pageSize}
	got, i := 0, 0
	for b.Loop() {
		q.After = &cursors[i%len(cursors)]
		i++
		got += readPage(b, st, q)
	}
	if got == 0 {
		b.Fatal("no page returned a record")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/page")
	b.ReportMetric(float64(got)/float64(b.N), "records/page")
	b.ReportMetric(float64(n), "stored")
}

func benchCount(b *testing.B, st store.Store, n int) {
	var counts map[store.Status]int
	for b.Loop() {
		var err error
		if counts, err = st.CountByStatus(b.Context(), bigConn); err != nil {
			b.Fatalf("CountByStatus: %v", err)
		}
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != n {
		b.Fatalf("counts add up to %d, want %d", total, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	b.ReportMetric(float64(n), "stored")
}

func benchSearchPage(b *testing.B, st store.Store, n int) {
	q := store.Query{Connection: bigConn, Search: "DEV-1", PageSize: pageSize}
	matches, err := st.CountRecords(b.Context(), q)
	if err != nil || matches < pageSize {
		b.Fatalf("CountRecords = %d, %v; want a page or more", matches, err)
	}
	got, i := 0, 0
	for b.Loop() {
		if _, err := st.CountRecords(b.Context(), q); err != nil {
			b.Fatalf("CountRecords: %v", err)
		}
		// Offsets spread over the matches in a fixed pseudo-random order.
		q.Offset = int(uint64(i) * 2654435761 % uint64(matches-pageSize+1))
		i++
		got += readPage(b, st, q)
	}
	if got != pageSize*b.N {
		b.Fatalf("pages held %d records, want %d a page", got, pageSize)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/page")
	b.ReportMetric(float64(matches), "matches")
	b.ReportMetric(float64(n), "stored")
}

// readPage reads up to a page of the records q selects, as a status page
// does, and returns how many it read.
func readPage(b *testing.B, st store.Store, q store.Query) int {
	n := 0
	for _, err := range st.Records(b.Context(), q) {
		if err != nil {
			b.Fatalf("Records: %v", err)
		}
		if n++; n == pageSize {
			break
		}
	}
	return n
}
