// Package sqltest holds the checks the SQL backends' own tests share: the
// schema_version table after a migration, and records written the way an
// earlier schema wrote them.
package sqltest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wugsync/wugsync/store"
	"github.com/wugsync/wugsync/store/internal/sqlstore"
	"github.com/wugsync/wugsync/store/storetest"
)

// CheckSchemaVersion checks that schema_version holds one row for each of
// the want migrations, the newest being version want: each migration ran
// exactly once.
func CheckSchemaVersion(t *testing.T, conn sqlstore.Conn, want int) {
	t.Helper()
	var n, v int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), max(version) FROM schema_version`).Scan(&n, &v); err != nil {
		t.Fatalf("reading schema_version: %v", err)
	}
	if n != want || v != want {
		t.Errorf("schema_version: %d rows, max %d; want %d", n, v, want)
	}
}

// CheckUpgraded checks a store that this build, at schema version, opened
// on a version-2 database holding old: the migrations ran once each, and
// the old records read back intact (storetest.CheckUpgraded).
func CheckUpgraded(t *testing.T, st store.Store, conn sqlstore.Conn, version int, old []store.Record) {
	t.Helper()
	if version < 3 {
		t.Fatalf("schema version %d: there is no upgrade from version 2 to test", version)
	}
	CheckSchemaVersion(t, conn, version)
	storetest.CheckUpgraded(t, st, old)
}

// CheckPlan logs the plan of the query named name and checks that it holds
// want and none of the keys of refused, each of which is refused for the
// reason it maps to ("sorts", say).
func CheckPlan(t *testing.T, name, query, plan, want string, refused map[string]string) {
	t.Helper()
	t.Logf("%s:\n%s\n%s", name, query, plan)
	if !strings.Contains(plan, want) {
		t.Errorf("%s: plan does not contain %q:\n%s", name, want, plan)
	}
	for marker, reason := range refused {
		if strings.Contains(plan, marker) {
			t.Errorf("%s: plan %s:\n%s", name, reason, plan)
		}
	}
}

// version2Columns are the records columns of schema version 2.
var version2Columns = []string{"connection", "vrf", "address", "object_kind", "object_id", "object_name", "status", "reason",
	"wug_device_id", "scan_id", "scan_state", "scan_discovered", "fingerprint", "attempts", "last_error",
	"created_at", "updated_at", "exported_at", "scan_triggered_at", "scan_completed_at"}

// InsertVersion2 writes recs into a schema at version 2 the way that
// version wrote them, with placeholder rendering the n-th parameter and at
// binding a time that is not zero (the zero time is NULL).
func InsertVersion2(t *testing.T, conn sqlstore.Conn, placeholder func(n int) string, at func(time.Time) any, recs []store.Record) {
	t.Helper()
	orNull := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return at(t)
	}
	params := make([]string, len(version2Columns))
	for i := range params {
		params[i] = placeholder(i + 1)
	}
	query := fmt.Sprintf("INSERT INTO records (%s) VALUES (%s)", strings.Join(version2Columns, ", "), strings.Join(params, ", "))
	for _, r := range recs {
		if _, err := conn.Exec(context.Background(), query,
			r.Connection, r.VRF, r.Address.String(), string(r.ObjectKind), r.ObjectID, r.ObjectName, string(r.Status), string(r.Reason),
			r.WUGDeviceID, r.ScanID, r.ScanState, r.ScanDiscovered, r.Fingerprint, r.Attempts, r.LastError,
			orNull(r.CreatedAt), orNull(r.UpdatedAt), orNull(r.ExportedAt), orNull(r.ScanTriggeredAt), orNull(r.ScanCompletedAt)); err != nil {
			t.Fatalf("insert %s the version-2 way: %v", r.Key, err)
		}
	}
}
