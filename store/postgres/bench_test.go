package postgres_test

import (
	"testing"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/pgtest"
	"github.com/wugsync/wugsync/store/postgres"
	"github.com/wugsync/wugsync/store/storetest"
)

// BenchmarkStore runs the shared benchmarks in a schema of their own on the
// server WUGSYNC_TEST_POSTGRES_DSN names; WUGSYNC_BENCH_RECORDS shrinks the
// 1,000,000-record store.
func BenchmarkStore(b *testing.B) {
	dsn := pgtest.DSN(b)
	storetest.Benchmark(b, func(b *testing.B) store.Store {
		s, err := postgres.Open(b.Context(), dsn, postgres.WithSchema(pgtest.Schema(b)))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
