package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/basictest"
	"github.com/wugsync/wugsync/store/postgres"
)

// dsn returns the test server's DSN, or skips the test without one.
func dsn(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("WUGSYNC_TEST_POSTGRES_DSN")
	if d == "" {
		tb.Skip("PostgreSQL tests need a server: run `bash .ci/run`, or set WUGSYNC_TEST_POSTGRES_DSN to a postgres:// URL of a database the tests may create schemas in")
	}
	return d
}

// newSchema returns a fresh schema name and drops that schema when the
// test ends, so parallel tests and reruns never share tables.
func newSchema(tb testing.TB) string {
	tb.Helper()
	d := dsn(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "wugsync_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, d)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// openSchema opens the store in schema.
func openSchema(ctx context.Context, schema string) (store.Store, error) {
	return postgres.Open(ctx, os.Getenv("WUGSYNC_TEST_POSTGRES_DSN"), postgres.WithSchema(schema), postgres.WithMaxConns(4))
}

func newStore(t *testing.T) store.Store {
	t.Helper()
	s, err := openSchema(context.Background(), newSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBasics(t *testing.T) {
	t.Parallel()
	basictest.Run(t, newStore)
}
