// Package sqlstore holds what the SQL backends of package store share:
// embedded migrations, argument checks, the record query builder, the
// keyset pager and the bookkeeping of leases a Store must release on Close.
// store/memory uses its argument checks, run preparation and lease
// bookkeeping too, so every backend refuses the same input with the same
// words.
package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wugsync/wugsync/store"
)

// Migration is one embedded schema step, applied in its own transaction.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the files dir/NNNN_name.sql of fsys in version order.
// Versions must start at 1 and have no gaps, so a missing file is caught at
// the first Open rather than by a half-built schema.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return ms, nil
}

// NewerSchemaError is the error Open returns when the database's schema
// version is beyond the newest migration this build embeds.
func NewerSchemaError(have, newest int) error {
	return fmt.Errorf("database schema version %d, this build knows versions 1 to %d: %w",
		have, newest, store.ErrNewerSchema)
}

// Micro converts a time to UTC truncated to the microsecond, the precision
// every backend stores. The zero time stays zero.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// DefaultPageSize is the page size of a Query that leaves PageSize zero.
const DefaultPageSize = 500

// checkText names the first of the (name, value) pairs whose value a store
// cannot keep or look up as text: invalid UTF-8, or a NUL byte, both of
// which PostgreSQL refuses. Record.Validate checks records the same way.
func checkText(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%s %q is not UTF-8 text without NUL bytes", pairs[i], v)
		}
	}
	return nil
}

// CheckQuery reports whether q is a query a backend can run.
func CheckQuery(q store.Query) error {
	vrf := ""
	if q.VRF != nil {
		vrf = *q.VRF
	}
	if err := checkText("connection name", q.Connection, "VRF", vrf, "object kind", string(q.ObjectKind), "search", q.Search); err != nil {
		return fmt.Errorf("store: query: %w", err)
	}
	for _, s := range q.Statuses {
		if !s.Valid() {
			return fmt.Errorf("store: query: invalid status %q", s)
		}
	}
	if q.PageSize < 0 {
		return fmt.Errorf("store: query: negative page size %d", q.PageSize)
	}
	if q.Offset < 0 {
		return fmt.Errorf("store: query: negative offset %d", q.Offset)
	}
	if q.Address.IsValid() && q.Address.Zone() != "" {
		return fmt.Errorf("store: query: address %s has a zone", q.Address)
	}
	if q.After != nil && !q.After.Address.IsValid() {
		return errors.New("store: query: cursor key has no IP address")
	}
	if q.After != nil {
		if err := checkText("cursor connection name", q.After.Connection, "cursor VRF", q.After.VRF); err != nil {
			return fmt.Errorf("store: query: %w", err)
		}
	}
	return nil
}

// Dialect is how a backend spells what Core's statements differ in, and
// which clock it stamps times with. Build it with Prepare.
type Dialect struct {
	// Name prefixes the backend's errors ("store/sqlite").
	Name string
	// Placeholder renders the n-th (1-based) parameter; a placeholder may
	// appear twice in a statement.
	Placeholder func(n int) string
	// Time converts a time to the value the backend binds.
	Time func(time.Time) any
	// Contains renders a condition true when the text of expr contains
	// the parameter param.
	Contains func(expr, param string) string
	// LowerASCII renders expr with ASCII letters lowered and every other
	// character kept.
	LowerASCII func(expr string) string
	// JSONText renders a JSON column read as text; JSONParam a text
	// parameter written to a JSON column.
	JSONText, JSONParam func(string) string
	// Clock, when set, is the clock of the times the store sets, bound as
	// parameters; when nil the database's clock, Now, is used.
	Clock func() time.Time
	Now   string
	// Later renders the database's time a number of microseconds (the
	// parameter micros) from now; only with the database's clock.
	Later func(micros string) string
	// RunSeq is the column that orders runs started in the same
	// microsecond by insertion.
	RunSeq string
	// SchemaVersionTable creates the schema_version table if missing.
	SchemaVersionTable string
	// TimeDest returns a Scan destination that reads a time column into
	// t: NULL as the zero time, else the time in UTC.
	TimeDest func(t *time.Time) any
	// CountByStatus selects the status and the count of each status of
	// the records of one connection, the first parameter; statuses with no
	// records may be left out.
	CountByStatus string

	// The statements Prepare builds.
	upsertRecord, deleteRecord, selectRecord, runList, insertRun, finishRun string
}

// RecordPage builds the WHERE, ORDER BY and LIMIT of one page of q, to
// follow "SELECT <columns> FROM records". Records come in key order; the
// cursor q.After is compared only on the key columns the equality filters
// leave open, so an index whose leading columns are those filters
// (connection, then status or VRF) serves the page as a range scan.
func RecordPage(q store.Query, d Dialect) (string, []any) {
	var b strings.Builder
	where, args := recordWhere(q, d, true)
	b.WriteString(where)
	// The limit and offset are spelled out: SQLite re-prepares a statement
	// on every execution when its LIMIT is a bound parameter.
	b.WriteString(" ORDER BY connection, vrf, address LIMIT ")
	b.WriteString(strconv.Itoa(pageSize(q)))
	if q.Offset > 0 {
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.Itoa(q.Offset))
	}
	return b.String(), args
}

// recordWhere builds the WHERE clause (empty when q selects every record)
// of q's filters, and of its cursor when withCursor.
func recordWhere(q store.Query, d Dialect, withCursor bool) (string, []any) {
	var (
		conds []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return d.Placeholder(len(args))
	}
	if q.Connection != "" {
		conds = append(conds, "connection = "+arg(q.Connection))
	}
	switch len(q.Statuses) {
	case 0:
	case 1:
		conds = append(conds, "status = "+arg(string(q.Statuses[0])))
	default:
		ph := make([]string, len(q.Statuses))
		for i, s := range q.Statuses {
			ph[i] = arg(string(s))
		}
		conds = append(conds, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if q.ObjectKind != "" {
		conds = append(conds, "object_kind = "+arg(string(q.ObjectKind)))
	}
	if q.ObjectID != 0 {
		conds = append(conds, "object_id = "+arg(q.ObjectID))
	}
	if q.VRF != nil {
		conds = append(conds, "vrf = "+arg(*q.VRF))
	}
	if q.Address.IsValid() {
		conds = append(conds, "address = "+arg(q.Address.String()))
	}
	if q.Search != "" {
		// Addresses are stored lowercase (netip.Addr.String).
		text := LowerASCII(q.Search)
		conds = append(conds, "("+d.Contains("address", arg(text))+" OR "+d.Contains(d.LowerASCII("object_name"), arg(text))+")")
	}
	if !q.ChangedSince.IsZero() {
		// Stored times are whole microseconds, so rounding the bound up
		// to one keeps "UpdatedAt >= ChangedSince" exact.
		since := Micro(q.ChangedSince)
		if since.Before(q.ChangedSince) {
			since = since.Add(time.Microsecond)
		}
		conds = append(conds, "updated_at >= "+arg(d.Time(since)))
	}
	if a := q.After; a != nil && withCursor {
		sameConn := q.Connection != "" && a.Connection == q.Connection
		switch {
		case sameConn && q.VRF != nil && a.VRF == *q.VRF:
			conds = append(conds, "address > "+arg(a.Address.String()))
		case sameConn:
			conds = append(conds, "(vrf, address) > ("+arg(a.VRF)+", "+arg(a.Address.String())+")")
		default:
			conds = append(conds, "(connection, vrf, address) > ("+arg(a.Connection)+", "+arg(a.VRF)+", "+arg(a.Address.String())+")")
		}
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// CountQuery is the SQL and arguments that count the records q selects,
// After, Offset and PageSize aside.
func (d Dialect) CountQuery(q store.Query) (string, []any) {
	where, args := recordWhere(q, d, false)
	return "SELECT count(*) FROM records" + where, args
}

func pageSize(q store.Query) int {
	if q.PageSize == 0 {
		return DefaultPageSize
	}
	return q.PageSize
}

// Paginate streams the records q selects, fetching one page at a time with
// fetch and resuming after the last key of each page. No page holds a
// database connection while the caller consumes it.
func Paginate(ctx context.Context, q store.Query, fetch func(context.Context, store.Query) ([]store.Record, error)) iter.Seq2[store.Record, error] {
	q.Statuses = slices.Clone(q.Statuses)
	if q.VRF != nil {
		v := *q.VRF
		q.VRF = &v
	}
	if q.After != nil {
		a := *q.After
		q.After = &a
	}
	return func(yield func(store.Record, error) bool) {
		if err := CheckQuery(q); err != nil {
			yield(store.Record{}, err)
			return
		}
		q := q
		for {
			if err := ctx.Err(); err != nil {
				yield(store.Record{}, err)
				return
			}
			page, err := fetch(ctx, q)
			if err != nil {
				yield(store.Record{}, err)
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
			}
			if len(page) < pageSize(q) {
				return
			}
			last := page[len(page)-1].Key
			q.After, q.Offset = &last, 0
		}
	}
}

// LowerASCII returns s with the ASCII letters lowered and every other
// character kept, the folding Query.Search matches with.
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// ContainsFoldASCII reports whether s contains sub, which must be lowered
// already (LowerASCII), with the ASCII letters of s matching either case.
func ContainsFoldASCII(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// DecodeRecord sets the fields of r that a backend stores as text: the
// address, which must parse, the object kind, status and reason, and what
// was written to the WUG device, as EncodeWritten stored it.
func DecodeRecord(r *store.Record, addr, kind, status, reason, written string) error {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return fmt.Errorf("stored record %s/%s: address: %w", r.Connection, r.VRF, err)
	}
	r.Address = a
	r.ObjectKind, r.Status, r.Reason = store.ObjectKind(kind), store.Status(status), store.Reason(reason)
	if r.Written, err = DecodeWritten(written); err != nil {
		return fmt.Errorf("stored record %s: %w", r.Key, err)
	}
	return nil
}

// writtenJSON is how a store.Written is kept: a JSON object whose names do
// not change with the Go field names.
type writtenJSON struct {
	DisplayName string            `json:"display_name,omitempty"`
	Note        string            `json:"note,omitempty"`
	GroupPath   string            `json:"group_path,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	OSRole      string            `json:"os_role,omitempty"`
	BrandRole   string            `json:"brand_role,omitempty"`
	Maintenance bool              `json:"maintenance,omitempty"`
}

// EncodeWritten renders w as stored: empty for the zero value, else JSON.
func EncodeWritten(w store.Written) (string, error) {
	if w.IsZero() {
		return "", nil
	}
	b, err := json.Marshal(writtenJSON(w))
	if err != nil {
		return "", fmt.Errorf("written: %w", err)
	}
	return string(b), nil
}

// DecodeWritten parses what EncodeWritten stored.
func DecodeWritten(s string) (store.Written, error) {
	if s == "" {
		return store.Written{}, nil
	}
	var w writtenJSON
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return store.Written{}, fmt.Errorf("written: %w", err)
	}
	return store.Written(w), nil
}

// DecodeRun sets the fields of r that a backend stores as text: the kind,
// trigger and status, and the filters as EncodeFilters stored them.
func DecodeRun(r *store.Run, kind, trigger, status string, filters *string) error {
	f, err := DecodeFilters(filters)
	if err != nil {
		return fmt.Errorf("run %s: %w", r.ID, err)
	}
	r.Filters = f
	r.Kind, r.Trigger, r.Status = store.RunKind(kind), store.Trigger(trigger), store.RunStatus(status)
	return nil
}

// CountMap returns a map with every status present and zero.
func CountMap() map[store.Status]int {
	m := make(map[store.Status]int, len(store.Statuses))
	for _, s := range store.Statuses {
		m[s] = 0
	}
	return m
}

// Dedupe returns recs with one record per key, the last one given, as a run
// of single upserts would leave them; CreatedAt comes from the first
// occurrence, because that is the insert the later ones update.
func Dedupe(recs []store.Record) []store.Record {
	seen := make(map[store.Key]int, len(recs))
	out := make([]store.Record, 0, len(recs))
	for _, r := range recs {
		if i, ok := seen[r.Key]; ok {
			created := out[i].CreatedAt
			out[i] = r
			out[i].CreatedAt = created
			continue
		}
		seen[r.Key] = len(out)
		out = append(out, r)
	}
	return out
}

// CheckKeys validates keys for DeleteRecords and ReplaceRecords.
func CheckKeys(keys []store.Key) error {
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return fmt.Errorf("%w (key %d of %d, nothing deleted)", err, i+1, len(keys))
		}
	}
	return nil
}

// CheckConnection validates the connection name the operation op (as
// errors name it) acts on.
func CheckConnection(op, connection string) error {
	if connection == "" {
		return fmt.Errorf("store: %s: connection name is empty", op)
	}
	if err := checkText("connection name", connection); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}

// NewRunID returns a random run id: 32 hexadecimal digits.
func NewRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// PrepareRun validates a run for BeginRun and fills in its ID, status and
// start time. The result shares nothing with run.
func PrepareRun(run store.Run, now time.Time) (store.Run, error) {
	if run.Connection == "" {
		return store.Run{}, errors.New("store: begin run: connection name is empty")
	}
	if run.Kind == "" {
		return store.Run{}, fmt.Errorf("store: begin run for %s: kind is empty", run.Connection)
	}
	if err := checkText("connection name", run.Connection, "id", run.ID, "kind", string(run.Kind),
		"trigger", string(run.Trigger), "error", run.Error,
		"lease name", run.Lease.Name, "lease holder", run.Lease.Holder); err != nil {
		return store.Run{}, fmt.Errorf("store: begin run: %w", err)
	}
	for name, vs := range run.Filters {
		if err := checkText("filter name", name); err != nil {
			return store.Run{}, fmt.Errorf("store: begin run for %s: %w", run.Connection, err)
		}
		for _, v := range vs {
			if err := checkText("filter "+name, v); err != nil {
				return store.Run{}, fmt.Errorf("store: begin run for %s: %w", run.Connection, err)
			}
		}
	}
	if run.ID == "" {
		run.ID = NewRunID()
	}
	run.Status = store.RunRunning
	if run.StartedAt.IsZero() {
		run.StartedAt = now
	}
	run.StartedAt = Micro(run.StartedAt)
	run.FinishedAt = Micro(run.FinishedAt)
	run.Filters = CloneFilters(run.Filters)
	run.Lease.ExpiresAt = time.Time{}
	return run, nil
}

// CheckRunID validates the id Run looks up.
func CheckRunID(id string) error {
	if err := checkText("id", id); err != nil {
		return fmt.Errorf("store: run: %w", err)
	}
	return nil
}

// PrepareFinish validates a run for FinishRun and fills in FinishedAt.
func PrepareFinish(run store.Run, now time.Time) (store.Run, error) {
	if run.ID == "" {
		return store.Run{}, errors.New("store: finish run: id is empty")
	}
	if err := checkText("id", run.ID, "error", run.Error); err != nil {
		return store.Run{}, fmt.Errorf("store: finish run: %w", err)
	}
	switch run.Status {
	case store.RunSucceeded, store.RunFailed, store.RunPartial, store.RunInterrupted:
	default:
		return store.Run{}, fmt.Errorf("store: finish run %s: status %q is not a final run status", run.ID, run.Status)
	}
	if run.FinishedAt.IsZero() {
		run.FinishedAt = now
	}
	run.FinishedAt = Micro(run.FinishedAt)
	return run, nil
}

// CheckRunQuery reports whether q is a run query a backend can run.
func CheckRunQuery(q store.RunQuery) error {
	if q.Limit < 0 {
		return fmt.Errorf("store: runs: negative limit %d", q.Limit)
	}
	if err := checkText("connection name", q.Connection, "kind", string(q.Kind), "status", string(q.Status)); err != nil {
		return fmt.Errorf("store: runs: %w", err)
	}
	return nil
}

// DefaultRunLimit is the limit of a RunQuery that leaves Limit zero.
const DefaultRunLimit = 20

// RunList validates q and builds its WHERE clause (empty when q selects
// every run) and LIMIT, to go around the backend's ORDER BY.
func RunList(q store.RunQuery, d Dialect) (where, limit string, args []any, err error) {
	if err := CheckRunQuery(q); err != nil {
		return "", "", nil, err
	}
	var conds []string
	for _, f := range [...]struct{ col, v string }{
		{"connection", q.Connection}, {"kind", string(q.Kind)}, {"status", string(q.Status)},
	} {
		if f.v != "" {
			args = append(args, f.v)
			conds = append(conds, f.col+" = "+d.Placeholder(len(args)))
		}
	}
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	n := q.Limit
	if n == 0 {
		n = DefaultRunLimit
	}
	return where, " LIMIT " + strconv.Itoa(n), args, nil
}

// CloneFilters deep-copies a run's filters; nil stays nil.
func CloneFilters(f map[string][]string) map[string][]string {
	if f == nil {
		return nil
	}
	out := maps.Clone(f)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}

// EncodeFilters renders filters as JSON; nil filters are stored as NULL.
func EncodeFilters(f map[string][]string) (*string, error) {
	if f == nil {
		return nil, nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// DecodeFilters parses what EncodeFilters stored.
func DecodeFilters(s *string) (map[string][]string, error) {
	if s == nil {
		return nil, nil
	}
	var f map[string][]string
	if err := json.Unmarshal([]byte(*s), &f); err != nil {
		return nil, fmt.Errorf("run filters: %w", err)
	}
	return f, nil
}

// CheckLease validates the arguments of AcquireLease.
func CheckLease(name, holder string, ttl time.Duration) error {
	switch {
	case name == "":
		return errors.New("store: lease: name is empty")
	case holder == "":
		return fmt.Errorf("store: lease %q: holder is empty", name)
	case ttl < time.Microsecond:
		return fmt.Errorf("store: lease %q: time to live %v is shorter than a microsecond", name, ttl)
	}
	if err := checkText("name", name, "holder", holder); err != nil {
		return fmt.Errorf("store: lease: %w", err)
	}
	return nil
}

// CheckRelease validates the lease ReleaseLease gives up. A lease that is
// not held is no error, but text the store cannot compare is.
func CheckRelease(l store.Lease) error {
	if err := checkText("name", l.Name, "holder", l.Holder); err != nil {
		return fmt.Errorf("store: release lease: %w", err)
	}
	return nil
}

// Held tracks the leases a Store acquired and has not released, so Close
// can release them.
type Held struct {
	mu sync.Mutex
	m  map[string]store.Lease
}

// Put records l as held (or renewed).
func (h *Held) Put(l store.Lease) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[string]store.Lease)
	}
	h.m[l.Name] = l
}

// Drop forgets l if it is the lease tracked under its name.
func (h *Held) Drop(l store.Lease) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur, ok := h.m[l.Name]; ok && cur.Holder == l.Holder && cur.Token == l.Token {
		delete(h.m, l.Name)
	}
}

// Take returns every tracked lease and forgets them.
func (h *Held) Take() []store.Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	ls := slices.Collect(maps.Values(h.m))
	h.m = nil
	return ls
}

// ReleaseAll releases every tracked lease with release, under a bounded
// context, and joins the errors.
func (h *Held) ReleaseAll(timeout time.Duration, release func(context.Context, store.Lease) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for _, l := range h.Take() {
		if err := release(ctx, l); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
