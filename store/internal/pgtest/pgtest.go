// Package pgtest gives the PostgreSQL store tests a server and a schema of
// their own.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable with the test server's DSN.
const EnvDSN = "WUGSYNC_TEST_POSTGRES_DSN"

// DSN returns the test server's DSN, or skips the test without one.
func DSN(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv(EnvDSN)
	if d == "" {
		tb.Skip("PostgreSQL tests need a server: run `bash .ci/run`, or set " + EnvDSN +
			" to the postgres:// URL of a database the tests may create schemas in")
	}
	return d
}

// Schema returns a fresh schema name and drops that schema when the test
// ends, so parallel tests and reruns never share tables.
func Schema(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "wugsync_test_" + hex.EncodeToString(b[:])
	DropAtEnd(tb, name)
	return name
}

// DropAtEnd drops the schema name, with all it holds, when the test ends.
func DropAtEnd(tb testing.TB, name string) {
	tb.Helper()
	d := DSN(tb)
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
}
