package export

import (
	"encoding/hex"
	"iter"
	"net/netip"
	"strings"
	"time"

	"github.com/wugsync/wugsync/store"
)

// recordSet is the recorded state of one connection as the planner reads
// it: every record by key, held compactly (an export of 100,000 addresses
// keeps all of them in memory for the length of a run).
type recordSet struct {
	conn  string              // the connection of the first record added
	idx   map[recKey]int32    // keys of conn
	other map[store.Key]int32 // keys of any other connection
	recs  []recState
	names map[string]string // one copy of each connection and VRF name the keys hold
	// objs lists, per NetBox object, the keys of conn that record it, so a
	// renumbered object finds its record (objectKeys).
	objs map[objRef][]recKey
}

// objRef names a NetBox object.
type objRef struct {
	kind store.ObjectKind
	id   int64
}

// recKey is a store.Key without its connection, which all keys of a
// connection's records share.
type recKey struct {
	vrf  string
	addr netip.Addr
}

// newRecordSet returns an empty set with room for n records.
func newRecordSet(n int) *recordSet {
	return &recordSet{idx: make(map[recKey]int32, n), recs: make([]recState, 0, n)}
}

// index returns the position in recs of k's record.
func (s *recordSet) index(k store.Key) (int32, bool) {
	if k.Connection == s.conn {
		i, ok := s.idx[recKey{k.VRF, k.Address}]
		return i, ok
	}
	i, ok := s.other[k]
	return i, ok
}

// recState is a store.Record without its key, creation and update times,
// with times as Unix microseconds, interned enumerations, and the fields
// most records leave empty held apart.
type recState struct {
	objectName, deviceID string
	scan                 *recScan       // nil when the record has no scan id, scan state or error
	written              *store.Written // nil when the record has none (Written.IsZero)
	// fingerprint is the record's fingerprint when it is not a current
	// one; a current one is held as its 16 bytes in sum.
	fingerprint string
	sum         [16]byte

	kind   store.ObjectKind
	status store.Status
	reason store.Reason

	objectID                                     int64
	exportedAt, scanTriggeredAt, scanCompletedAt int64
	attempts                                     int32
	scanDiscovered                               bool
	adopted                                      bool
	hasSum                                       bool // fingerprint is in sum
	seen                                         bool // decided in this run (planner state)
}

// recordSetOf holds records; later records replace earlier ones with the
// same key.
func recordSetOf(records ...store.Record) *recordSet {
	s := newRecordSet(len(records))
	for i := range records {
		s.Add(records[i])
	}
	return s
}

// Add holds one more record.
func (s *recordSet) Add(r store.Record) {
	st := recState{objectName: r.ObjectName, deviceID: r.WUGDeviceID, kind: intern(r.ObjectKind), status: intern(r.Status),
		reason: intern(r.Reason), objectID: r.ObjectID, exportedAt: micros(r.ExportedAt),
		scanTriggeredAt: micros(r.ScanTriggeredAt), scanCompletedAt: micros(r.ScanCompletedAt),
		attempts: int32(r.Attempts), scanDiscovered: r.ScanDiscovered, adopted: r.Adopted}
	if !r.Written.IsZero() {
		w := r.Written.Clone()
		st.written = &w
	}
	if st.sum, st.hasSum = packFingerprint(r.Fingerprint); !st.hasSum {
		st.fingerprint = r.Fingerprint
	}
	r.Key.Connection, r.Key.VRF = s.name(r.Key.Connection), s.name(r.Key.VRF)
	if r.ScanID != "" || r.ScanState != "" || r.LastError != "" {
		st.scan = &recScan{id: r.ScanID, state: r.ScanState, lastError: r.LastError}
	}
	if i, ok := s.index(r.Key); ok {
		s.recs[i] = st
		return
	}
	if len(s.recs) == 0 {
		s.conn = r.Key.Connection
	}
	i := int32(len(s.recs))
	s.recs = append(s.recs, st)
	if r.Key.Connection == s.conn {
		rk := recKey{r.Key.VRF, r.Key.Address}
		s.idx[rk] = i
		if r.ObjectID != 0 {
			if s.objs == nil {
				s.objs = map[objRef][]recKey{}
			}
			o := objRef{st.kind, r.ObjectID}
			s.objs[o] = append(s.objs[o], rk)
		}
		return
	}
	if s.other == nil {
		s.other = map[store.Key]int32{}
	}
	s.other[r.Key] = i
}

// name returns the set's copy of a connection or VRF name, so keys read
// from a store share one string per name instead of holding one each.
func (s *recordSet) name(v string) string {
	if v == "" {
		return ""
	}
	if n, ok := s.names[v]; ok {
		return n
	}
	if s.names == nil {
		s.names = map[string]string{}
	}
	s.names[v] = v
	return v
}

// Len is the number of records held.
func (s *recordSet) Len() int { return len(s.recs) }

// Get returns the record for k. CreatedAt and UpdatedAt are not held: they
// are zero, which the store keeps as they were on the next upsert.
func (s *recordSet) Get(k store.Key) (store.Record, bool) {
	i, ok := s.index(k)
	if !ok {
		return store.Record{}, false
	}
	return s.recs[i].record(k), true
}

// All yields every record, in no particular order.
func (s *recordSet) All() iter.Seq[store.Record] {
	return func(yield func(store.Record) bool) {
		for k, i := range s.idx {
			if !yield(s.recs[i].record(store.Key{Connection: s.conn, VRF: k.vrf, Address: k.addr})) {
				return
			}
		}
		for k, i := range s.other {
			if !yield(s.recs[i].record(k)) {
				return
			}
		}
	}
}

// objectKeys returns the keys of the connection's records of a NetBox
// object. A record added again under another object is still listed under
// the first: callers check the record's object.
func (s *recordSet) objectKeys(kind store.ObjectKind, id int64) []store.Key {
	rks := s.objs[objRef{kind, id}]
	keys := make([]store.Key, len(rks))
	for i, rk := range rks {
		keys[i] = store.Key{Connection: s.conn, VRF: rk.vrf, Address: rk.addr}
	}
	return keys
}

// recScan holds a record's scan id, scan state and last error, which most
// records of a settled connection do not have.
type recScan struct {
	id, state, lastError string
}

func (st *recState) record(k store.Key) store.Record {
	r := store.Record{Key: k, ObjectKind: st.kind, ObjectID: st.objectID, ObjectName: st.objectName,
		Status: st.status, Reason: st.reason, WUGDeviceID: st.deviceID,
		ScanDiscovered: st.scanDiscovered, Fingerprint: st.fingerprint, Attempts: int(st.attempts), Adopted: st.adopted,
		ExportedAt: fromMicros(st.exportedAt), ScanTriggeredAt: fromMicros(st.scanTriggeredAt), ScanCompletedAt: fromMicros(st.scanCompletedAt)}
	if st.hasSum {
		r.Fingerprint = fingerprintVersion + hex.EncodeToString(st.sum[:])
	}
	if st.written != nil {
		r.Written = st.written.Clone()
	}
	if st.scan != nil {
		r.ScanID, r.ScanState, r.LastError = st.scan.id, st.scan.state, st.scan.lastError
	}
	return r
}

// markSeen records that the planner decided for k and reports whether it
// had already; ok is false when k has no record.
func (s *recordSet) markSeen(k store.Key) (already, ok bool) {
	i, ok := s.index(k)
	if !ok {
		return false, false
	}
	already = s.recs[i].seen
	s.recs[i].seen = true
	return already, true
}

func (s *recordSet) seen(k store.Key) bool {
	i, ok := s.index(k)
	return ok && s.recs[i].seen
}

// packFingerprint returns the 16 bytes of a fingerprint as Fingerprint
// writes it, and false for any other text (kept as it is).
func packFingerprint(f string) (sum [16]byte, ok bool) {
	h, ok := strings.CutPrefix(f, fingerprintVersion)
	if !ok || len(h) != 2*len(sum) {
		return sum, false
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil || hex.EncodeToString(sum[:]) != h {
		return [16]byte{}, false
	}
	return sum, true
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// intern returns the shared constant for a known enumeration value, so
// records read from a store do not each hold a copy.
func intern[T ~string](v T) T {
	for _, s := range internTable {
		if string(v) == s {
			return T(s)
		}
	}
	return v
}

var internTable = func() []string {
	var out []string
	for _, s := range store.Statuses {
		out = append(out, string(s))
	}
	for _, r := range []store.Reason{store.ReasonNewDevice, store.ReasonIPChanged, store.ReasonMetadataUpdate,
		store.ReasonAdopted, store.ReasonReAdd, store.ReasonManual, store.ReasonBulk} {
		out = append(out, string(r))
	}
	return append(out, string(store.ObjectDevice), string(store.ObjectVirtualMachine))
}()
