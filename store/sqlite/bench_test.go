package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/sqlite"
	"github.com/wugsync/wugsync/store/storetest"
)

// BenchmarkStore runs the shared benchmarks on a file in a temporary
// directory; WUGSYNC_BENCH_RECORDS shrinks the 1,000,000-record store.
func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
