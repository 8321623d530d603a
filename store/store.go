// Package store defines the state store that records every IP address
// wugsync exports to WhatsUp Gold, the runs that exported them, and the
// leases that keep two processes from exporting one connection at once.
//
// The Store interface is small on purpose: a backend is a few hundred lines,
// and storetest.Run proves it behaves like the ones shipped here
// (store/memory, store/sqlite, store/postgres).
//
// Every method takes a context and returns promptly once it is cancelled.
// Every backend is safe for concurrent use by many goroutines. Values passed
// in or returned never share slices or maps with the store.
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotFound is returned (wrapped) when a record, run or lease does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrLeaseHeld is returned by AcquireLease when another holder has an
// unexpired lease of that name.
var ErrLeaseHeld = errors.New("store: lease held by another holder")

// LeaseHeldError is the error AcquireLease returns (wrapped) when another
// holder has an unexpired lease of that name: it names that holder and when
// its lease ends, so a caller can say who runs and when to try again.
type LeaseHeldError struct {
	Lease Lease // the lease as the other holder has it
}

// Error names the lease, its holder and its expiry.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("lease %q is held by %s (token %d) until %s", e.Lease.Name, e.Lease.Holder, e.Lease.Token,
		e.Lease.ExpiresAt.UTC().Format(time.RFC3339Nano))
}

// Is makes errors.Is(err, ErrLeaseHeld) true.
func (e *LeaseHeldError) Is(target error) bool { return target == ErrLeaseHeld }

// ErrLeaseLost is returned by RenewLease when the lease expired (whether or
// not another holder has taken it over since) or was released.
var ErrLeaseLost = errors.New("store: lease lost")

// ErrNewerSchema is returned by a backend's Open when the database was
// written by a newer wugsync than this one.
var ErrNewerSchema = errors.New("store: database schema is newer than this version of wugsync supports")

// Status is where an exported IP address is in its life cycle.
type Status string

// The life cycle of an export record.
const (
	// StatusPending: the intent is recorded and a WUG request may be in
	// flight; its outcome is not known yet. A resumed run resolves pending
	// records by looking the address up in WUG before acting again.
	StatusPending Status = "pending"
	// StatusExported: WUG has a device for the address (WUGDeviceID is set).
	StatusExported Status = "exported"
	// StatusScanTriggered: a WUG discovery scan was started (ScanID is set).
	StatusScanTriggered Status = "scan_triggered"
	// StatusScanCompleted: the scan finished; ScanDiscovered says whether it
	// found a device.
	StatusScanCompleted Status = "scan_completed"
	// StatusError: the last attempt failed (LastError says why).
	StatusError Status = "error"
	// StatusRemoved: the address is no longer selected in NetBox and the
	// removal policy was applied.
	StatusRemoved Status = "removed"
)

// Statuses lists every valid Status in life-cycle order.
var Statuses = []Status{StatusPending, StatusExported, StatusScanTriggered, StatusScanCompleted, StatusError, StatusRemoved}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Reason says why an address was (last) exported.
type Reason string

// Export reasons.
const (
	ReasonNewDevice      Reason = "new_device"
	ReasonIPChanged      Reason = "ip_changed"
	ReasonMetadataUpdate Reason = "metadata_update"
	ReasonAdopted        Reason = "adopted"
	ReasonReAdd          Reason = "re_add"
	ReasonManual         Reason = "manual"
	ReasonBulk           Reason = "bulk"
)

// ObjectKind is the kind of NetBox object an address belongs to.
type ObjectKind string

// NetBox object kinds.
const (
	ObjectDevice         ObjectKind = "device"
	ObjectVirtualMachine ObjectKind = "virtual_machine"
)

// Key identifies an export record: one IP address in one VRF for one WUG
// connection. VRF is the NetBox VRF name, empty for the global table.
type Key struct {
	Connection string
	VRF        string
	Address    netip.Addr
}

// String renders the key as connection/vrf/address.
func (k Key) String() string {
	vrf := k.VRF
	if vrf == "" {
		vrf = "global"
	}
	return k.Connection + "/" + vrf + "/" + k.Address.String()
}

// Compare orders keys the way Records returns them: by connection, then
// VRF, then the address's text form (netip.Addr.String), each compared byte
// by byte like SQL's binary ("C") collation. It returns -1, 0 or +1.
func (k Key) Compare(o Key) int {
	if c := strings.Compare(k.Connection, o.Connection); c != 0 {
		return c
	}
	if c := strings.Compare(k.VRF, o.VRF); c != 0 {
		return c
	}
	return strings.Compare(k.Address.String(), o.Address.String())
}

// Validate reports whether the key can be stored.
func (k Key) Validate() error {
	if k.Connection == "" {
		return fmt.Errorf("store: record %s: connection name is empty", k)
	}
	if !k.Address.IsValid() {
		return fmt.Errorf("store: record key %q: IP address is missing or does not parse", k.Connection+"/"+k.VRF)
	}
	if k.Address.Zone() != "" {
		return fmt.Errorf("store: record key %s: IP address has a zone", k)
	}
	if err := badText("connection name", k.Connection, "VRF", k.VRF); err != nil {
		return fmt.Errorf("store: record key %q: %w", k.String(), err)
	}
	return nil
}

// badText names the first of the (name, value) pairs whose value a store
// cannot keep as text: invalid UTF-8, or a NUL byte, both of which
// PostgreSQL refuses.
func badText(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%s %q is not UTF-8 text without NUL bytes", pairs[i], v)
		}
	}
	return nil
}

// Record is the state of one exported IP address.
//
// Times are stored in UTC, truncated to the microsecond; a zero time stays
// zero. CreatedAt is set by the store on first insert (when zero) and kept on
// later upserts, whatever they carry; UpdatedAt is set by the store to the
// time of every upsert.
type Record struct {
	Key

	ObjectKind ObjectKind // NetBox object kind
	ObjectID   int64      // NetBox object id
	ObjectName string     // NetBox object name as exported

	Status Status
	Reason Reason

	WUGDeviceID    string // WUG device id, once known
	ScanID         string // WUG scan id, when a scan was triggered
	ScanState      string // WUG scan state as last seen
	ScanDiscovered bool   // whether the scan found a device
	Fingerprint    string // hash of what was last sent to WUG
	Attempts       int    // WUG attempts for this address
	LastError      string // the last failure, empty after a success

	// Adopted: the WUG device existed before wugsync linked it (wugsync
	// did not create it), so its display name and note are not wugsync's.
	Adopted bool
	// Written is what wugsync last wrote to the WUG device; zero when
	// unknown (a record from before wugsync kept it).
	Written Written

	CreatedAt       time.Time
	UpdatedAt       time.Time
	ExportedAt      time.Time
	ScanTriggeredAt time.Time
	ScanCompletedAt time.Time
}

// Written is what wugsync last wrote to a WUG device, so that a later run
// can tell what changed, and send only that, without reading the device
// back. The zero value means unknown.
type Written struct {
	DisplayName string
	Note        string
	GroupPath   string            // the group wugsync put the device in
	Attributes  map[string]string // owned attribute name to value as written
	OSRole      string            // WUG OS role
	BrandRole   string            // WUG brand role
	Maintenance bool              // whether wugsync put the device in maintenance
}

// IsZero reports whether w records nothing written (nil and empty
// attributes alike).
func (w Written) IsZero() bool {
	return w.DisplayName == "" && w.Note == "" && w.GroupPath == "" && len(w.Attributes) == 0 &&
		w.OSRole == "" && w.BrandRole == "" && !w.Maintenance
}

// Clone returns a copy of w that shares no map with it.
func (w Written) Clone() Written {
	w.Attributes = maps.Clone(w.Attributes)
	return w
}

// validate names the first field of w a store cannot keep: text with a NUL
// byte or invalid UTF-8, or an attribute with an empty name. Attributes are
// judged in name order, so the error is the same every time.
func (w *Written) validate() error {
	if err := badText("written display name", w.DisplayName, "written note", w.Note,
		"written group path", w.GroupPath, "written OS role", w.OSRole, "written brand role", w.BrandRole); err != nil {
		return err
	}
	var first error
	firstName := ""
	for name, v := range w.Attributes {
		var err error
		switch {
		case name == "":
			err = errors.New("written attribute name is empty")
		case badText("", name, "", v) != nil:
			// The field is named only when it is wrong: most are not.
			err = badText("written attribute name", name, fmt.Sprintf("written attribute %q value", name), v)
		}
		if err != nil && (first == nil || name < firstName) {
			first, firstName = err, name
		}
	}
	return first
}

// Validate reports whether r can be stored: a valid key and status, no
// negative attempts, and text fields (Written's included) of valid UTF-8
// without NUL bytes.
func (r *Record) Validate() error {
	if err := r.Key.Validate(); err != nil {
		return err
	}
	if !r.Status.Valid() {
		return fmt.Errorf("store: record %s: invalid status %q", r.Key, r.Status)
	}
	if r.Attempts < 0 {
		return fmt.Errorf("store: record %s: negative attempts %d", r.Key, r.Attempts)
	}
	if err := badText("object kind", string(r.ObjectKind), "object name", r.ObjectName, "reason", string(r.Reason),
		"WUG device id", r.WUGDeviceID, "scan id", r.ScanID, "scan state", r.ScanState,
		"fingerprint", r.Fingerprint, "last error", r.LastError); err != nil {
		return fmt.Errorf("store: record %s: %w", r.Key, err)
	}
	if err := r.Written.validate(); err != nil {
		return fmt.Errorf("store: record %s: %w", r.Key, err)
	}
	return nil
}

// ValidateRecords validates a batch for UpsertRecords. The error names the
// first invalid record by key and by position in the batch.
func ValidateRecords(recs []Record) error {
	for i := range recs {
		if err := recs[i].Validate(); err != nil {
			return fmt.Errorf("%w (batch item %d of %d, nothing written)", err, i+1, len(recs))
		}
	}
	return nil
}

// Query selects records. Zero fields do not filter. Records come in key
// order (see Key.Compare); After resumes after a key. The store copies the
// query when Records is called.
//
// A paged list (a status page) reads a page of records and stops there.
// It either passes the last key it showed as the next page's After, so each
// page costs the page however deep it is, or numbers its pages with Offset
// and CountRecords, which the database answers without sending the records
// skipped or counted.
type Query struct {
	Connection   string
	Statuses     []Status
	ObjectKind   ObjectKind
	ObjectID     int64
	VRF          *string    // nil: any VRF
	Address      netip.Addr // exact address
	ChangedSince time.Time  // UpdatedAt >= ChangedSince
	// Search selects records whose address (in netip.Addr.String form) or
	// object name contains it, ASCII letters matching either case; other
	// characters match only themselves.
	Search string
	After  *Key // cursor: start after this key
	// Offset skips that many selected records (after After) before the
	// first one Records yields.
	Offset   int
	PageSize int // records fetched per round trip; 0 means 500
}

// RunKind is the kind of job a run is.
type RunKind string

// Run kinds.
const (
	RunExport      RunKind = "export"
	RunScanMonitor RunKind = "scan_monitor"
)

// Trigger says what started a run.
type Trigger string

// Run triggers.
const (
	TriggerSchedule Trigger = "schedule"
	TriggerManual   Trigger = "manual"
	TriggerWebhook  Trigger = "webhook"
	TriggerBulk     Trigger = "bulk"
)

// RunStatus is where a run is.
type RunStatus string

// Run statuses.
const (
	RunRunning     RunStatus = "running"
	RunSucceeded   RunStatus = "succeeded"
	RunFailed      RunStatus = "failed"      // the run itself failed
	RunPartial     RunStatus = "partial"     // finished, some items failed
	RunInterrupted RunStatus = "interrupted" // stopped before it finished
)

// RunCounts are a run's item counts.
type RunCounts struct {
	Selected  int `json:"selected"`
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Scanned   int `json:"scanned"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
}

// Run is one execution of a job for a connection.
type Run struct {
	ID         string // assigned by BeginRun when empty
	Connection string
	Kind       RunKind
	Trigger    Trigger
	Filters    map[string][]string // the selection used, as filter name to values
	Status     RunStatus
	StartedAt  time.Time // set by BeginRun when zero
	FinishedAt time.Time // set by FinishRun when zero
	Counts     RunCounts
	Error      string
	// Lease is the lease the run is written under (Name, Holder and
	// Token; ExpiresAt is not kept), zero for a run that took none.
	// InterruptOrphanedRuns finishes a running run whose holder no longer
	// holds it.
	Lease Lease
}

// OrphanedRunError is the Error InterruptOrphanedRuns records on a run
// whose holder stopped without finishing it.
const OrphanedRunError = "interrupted: its holder stopped without finishing the run (the lease expired or was released)"

// RunQuery selects runs, newest first.
type RunQuery struct {
	Connection string  // empty: every connection
	Kind       RunKind // empty: every kind
	Status     RunStatus
	Limit      int // 0 means 20
}

// Lease is a named, time-limited claim held by one holder. Token increases
// every time the lease is newly acquired (after being free, released or
// expired), so it can fence stale holders; re-acquiring or renewing a lease
// one still holds keeps its token.
type Lease struct {
	Name      string
	Holder    string
	Token     int64
	ExpiresAt time.Time
}

// Store records export state. Implementations must be safe for concurrent
// use, honour context cancellation, and copy values in and out. Arguments a
// method cannot act on (an empty name, an invalid status, a time to live
// under a microsecond, a negative limit, text with a NUL byte or invalid
// UTF-8) are refused with an error naming the field, before anything is
// written.
type Store interface {
	// UpsertRecords inserts or replaces records by key in one transaction,
	// in order: of two records with one key, the later wins. If any record
	// fails Validate, nothing is written.
	UpsertRecords(ctx context.Context, recs []Record) error
	// Record returns the record for key, or an error wrapping ErrNotFound.
	Record(ctx context.Context, key Key) (Record, error)
	// Records streams the records q selects in key order, a page at a time.
	Records(ctx context.Context, q Query) iter.Seq2[Record, error]
	// CountRecords counts the records q selects, After, Offset and
	// PageSize aside.
	CountRecords(ctx context.Context, q Query) (int, error)
	// CountByStatus counts a connection's records by status. Every status
	// in Statuses is present in the map, zero or not. The connection name
	// must not be empty.
	CountByStatus(ctx context.Context, connection string) (map[Status]int, error)
	// DeleteRecords deletes records by key; missing keys are ignored.
	DeleteRecords(ctx context.Context, keys []Key) error
	// ReplaceRecords deletes the records of deletes (missing keys are
	// ignored) and then upserts upserts, as UpsertRecords does, in one
	// transaction: it moves a record to a new key (a renumbered address)
	// without a moment where both or neither exist. A key in both is
	// upserted, as a new record. If any record fails Validate or any key
	// is invalid, nothing is written.
	ReplaceRecords(ctx context.Context, upserts []Record, deletes []Key) error

	// BeginRun records a run as running and returns it with ID and
	// StartedAt set. Connection and Kind must not be empty; an ID already
	// taken is an error.
	BeginRun(ctx context.Context, run Run) (Run, error)
	// FinishRun records a run's end: status, counts, error, FinishedAt.
	FinishRun(ctx context.Context, run Run) error
	// Run returns a run by id, or an error wrapping ErrNotFound.
	Run(ctx context.Context, id string) (Run, error)
	// Runs lists runs newest first.
	Runs(ctx context.Context, q RunQuery) ([]Run, error)

	// InterruptOrphanedRuns finishes, as RunInterrupted with
	// OrphanedRunError and FinishedAt now, every run of the connection that
	// is still running although its lease is no longer held by its holder
	// with its token (the lease is free, expired, or someone else's): the
	// holder died or gave up without recording the run's end. It returns
	// those runs as recorded now, oldest first. Runs begun without a lease
	// are left alone. The connection name must not be empty.
	InterruptOrphanedRuns(ctx context.Context, connection string) ([]Run, error)

	// AcquireLease takes the named lease for holder for ttl. It succeeds
	// when the lease is free, expired, or already held by holder (which
	// extends it); otherwise it returns an error wrapping a
	// *LeaseHeldError (errors.Is ErrLeaseHeld).
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (Lease, error)
	// RenewLease extends a held lease by ttl from now, or returns an error
	// wrapping ErrLeaseLost if it expired or is no longer held by l.Holder
	// with l.Token.
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// ReleaseLease gives the lease up; releasing a lost lease is not an error.
	ReleaseLease(ctx context.Context, l Lease) error

	// Close releases the leases this Store acquired and frees its
	// resources.
	Close() error
}
