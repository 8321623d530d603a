package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wugsync/wugsync/netbox/netboxtest"
	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/postgres"
	"github.com/wugsync/wugsync/wug/wugtest"
)

// envPostgresDSN names the PostgreSQL server the replica test may create a
// schema in.
const envPostgresDSN = "WUGSYNC_TEST_POSTGRES_DSN"

// postgresSchema returns the test server's DSN and a fresh schema name,
// dropped when the test ends; it skips the test without a server.
func postgresSchema(t *testing.T) (dsn, schema string) {
	t.Helper()
	dsn = os.Getenv(envPostgresDSN)
	if dsn == "" {
		t.Skip("needs PostgreSQL: set " + envPostgresDSN + " to the postgres:// URL of a database the test may create a schema in")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = "wugsync_server_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

// TestReplicasNeverOverlap runs two service processes on one PostgreSQL
// database, exporting one connection on a short schedule while both are
// asked for exports again and again, and checks in the store that no two
// runs of the connection ever overlapped.
func TestReplicasNeverOverlap(t *testing.T) {
	t.Parallel()
	dsn, schema := postgresSchema(t)
	bin := buildServer(t)
	nb := netboxtest.NewServer(t, netboxtest.WithDevices(30))
	nb.SetLatency(100*time.Millisecond, 150*time.Millisecond) // each export takes a few hundred milliseconds
	wg := wugtest.NewServer(t, wugtest.WithPlainHTTP())
	cfgPath := filepath.Join(t.TempDir(), "wugsync.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`
listen: 127.0.0.1:0
api_token: {env: API_TOKEN}
netbox: {url: %q, token: {env: NB_TOKEN}}
store: {postgres_dsn: {env: PG_DSN}, postgres_schema: %q}
connections:
  - id: "1"
    name: main
    wug: {url: %q, username: %s, password: {env: WUG_PW}, rate_limit: 1000, burst: 100}
    export_interval_minutes: 0.02   # 1.2 s
    scan_interval_minutes: 0.01     # the scan monitor takes the lease too
`, nb.URL, schema, wg.URL, wugtest.DefaultUser))
	secrets := []string{"API_TOKEN=" + testToken, "NB_TOKEN=" + netboxtest.DefaultToken,
		"WUG_PW=" + wugtest.DefaultPassword, "PG_DSN=" + dsn}
	replicas := []*serverProcess{startServer(t, bin, cfgPath, secrets), startServer(t, bin, cfgPath, secrets)}

	// Both replicas are asked for an export every 40 ms for 4 seconds, and
	// each goes on (up to 30 s) until it has started one.
	accepted := make([]int, len(replicas))
	conflicts := 0
	var wgAsk sync.WaitGroup
	var mu sync.Mutex
	start := time.Now()
	for i, p := range replicas {
		wgAsk.Go(func() {
			for {
				mu.Lock()
				more := time.Since(start) < 4*time.Second || (accepted[i] == 0 && time.Since(start) < 30*time.Second)
				mu.Unlock()
				if !more {
					return
				}
				time.Sleep(40 * time.Millisecond)
				code, body := do(t, "POST", p.URL("/api/plugins/wug-sync/connections/1/export/"), testToken, "")
				mu.Lock()
				switch code {
				case http.StatusAccepted:
					accepted[i]++
				case http.StatusConflict:
					conflicts++
				default:
					t.Errorf("replica %d: export: %d %s", i, code, body)
				}
				mu.Unlock()
			}
		})
	}
	wgAsk.Wait()
	for _, p := range replicas {
		p.Terminate()
	}
	for _, p := range replicas {
		p.Wait()
	}
	if accepted[0] == 0 || accepted[1] == 0 || conflicts == 0 {
		t.Errorf("accepted %v, %d conflicts: want both replicas to start runs and some requests refused", accepted, conflicts)
	}

	st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunQuery{Connection: "main", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(runs, func(a, b store.Run) int { return a.StartedAt.Compare(b.StartedAt) })
	exports := 0
	for i, r := range runs {
		if r.Kind == store.RunExport {
			exports++
		}
		if r.Status == store.RunRunning || r.FinishedAt.IsZero() {
			t.Errorf("run %s (%s) is still %s after both replicas stopped", r.ID, r.Kind, r.Status)
			continue
		}
		if i+1 < len(runs) && runs[i+1].StartedAt.Before(r.FinishedAt) {
			n := runs[i+1]
			t.Errorf("runs overlap: %s %s %s..%s and %s %s %s..%s", r.ID, r.Kind, r.StartedAt.Format(time.StampMicro), r.FinishedAt.Format(time.StampMicro),
				n.ID, n.Kind, n.StartedAt.Format(time.StampMicro), n.FinishedAt.Format(time.StampMicro))
		}
	}
	if exports < 3 {
		t.Errorf("%d export runs, want at least 3", exports)
	}
	// WUG holds each address once: no two exports added the same device.
	seen := map[string]bool{}
	for _, d := range wg.Devices() {
		if seen[d.Address] {
			t.Errorf("WUG holds %s twice", d.Address)
		}
		seen[d.Address] = true
	}
	t.Logf("%d runs (%d exports), accepted %v, %d conflicts, %d WUG devices", len(runs), exports, accepted, conflicts, len(seen))
}
