package export

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/store"
)

// DefaultRecentWindow is how long after an export an address counts as
// recently exported.
const DefaultRecentWindow = 24 * time.Hour

// CheckRecentExport returns a CodeRecentlyExported warning when rec says the
// address was exported less than window before now (DefaultRecentWindow when
// window is zero). An export time after now (clock skew) counts as recent.
func CheckRecentExport(rec store.Record, now time.Time, window time.Duration) (Finding, bool) {
	if window <= 0 {
		window = DefaultRecentWindow
	}
	if rec.ExportedAt.IsZero() || now.Sub(rec.ExportedAt) >= window {
		return Finding{}, false
	}
	ago := now.Sub(rec.ExportedAt).Round(time.Minute)
	when := "less than a minute ago"
	switch {
	case ago < 0:
		when = "at " + rec.ExportedAt.UTC().Format(time.RFC3339) + ", after the current time"
	case ago >= time.Minute:
		when = fmtDuration(ago) + " ago"
	}
	return Finding{
		Code:    CodeRecentlyExported,
		Message: fmt.Sprintf("%s was exported %s (within %s).", rec.Address, when, fmtDuration(window)),
	}, true
}

// CheckPreviousFailure returns a CodePreviousFailure warning when rec says
// the last export of the address failed.
func CheckPreviousFailure(rec store.Record) (Finding, bool) {
	if rec.Status != store.StatusError {
		return Finding{}, false
	}
	msg := fmt.Sprintf("The previous export of %s failed", rec.Address)
	if rec.Attempts > 0 {
		msg += fmt.Sprintf(" (attempts: %d)", rec.Attempts)
	}
	if rec.LastError != "" {
		msg += ": " + rec.LastError
	}
	return Finding{Code: CodePreviousFailure, Message: msg + "."}, true
}

// CheckRecord returns the warnings a stored record raises about its address
// at time now: CheckRecentExport (with window) and CheckPreviousFailure.
func CheckRecord(rec store.Record, now time.Time, window time.Duration) []Finding {
	var out []Finding
	if f, ok := CheckRecentExport(rec, now, window); ok {
		out = append(out, f)
	}
	if f, ok := CheckPreviousFailure(rec); ok {
		out = append(out, f)
	}
	return out
}

// fmtDuration renders d without trailing zero units ("24h", "1h30m").
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Owner identifies the NetBox object an address belongs to.
type Owner struct {
	Kind netbox.Kind
	ID   int64
	Name string
}

// String renders the owner as `device 12 "core-1"`.
func (o Owner) String() string {
	kind := string(o.Kind)
	if o.Kind == netbox.KindVirtualMachine {
		kind = "virtual machine"
	}
	return fmt.Sprintf("%s %d %q", kind, o.ID, o.Name)
}

// OwnerOf returns the owner of a device's addresses.
func OwnerOf(d *netbox.Device) Owner {
	return Owner{Kind: d.Kind, ID: d.ID, Name: d.Name}
}

type dupKey struct {
	vrf  string
	addr netip.Addr
}

// DuplicateIndex finds addresses that more than one NetBox object uses in
// the same VRF. It is built incrementally while a selection streams by and
// holds one small entry per distinct address. It is safe for concurrent use.
type DuplicateIndex struct {
	mu     sync.Mutex
	owners map[dupKey]owners
}

// owners lists an address's objects; the first is kept inline because
// almost every address has exactly one.
type owners struct {
	first Owner
	more  []Owner
}

func (w owners) all() []Owner { return append([]Owner{w.first}, w.more...) }

// NewDuplicateIndex returns an empty index.
func NewDuplicateIndex() *DuplicateIndex {
	return &DuplicateIndex{owners: make(map[dupKey]owners)}
}

// Observe records that o uses addr in vrf (empty for the global table). If
// another object already uses it, Observe returns a CodeDuplicate warning
// naming the first one. The object seen first gets no warning here; ask
// Duplicates once the selection is complete to flag it too.
func (x *DuplicateIndex) Observe(vrf string, addr netip.Addr, o Owner) (Finding, bool) {
	k := dupKey{vrf, addr.WithZone("")}
	x.mu.Lock()
	have, ok := x.owners[k]
	if !ok {
		x.owners[k] = owners{first: o}
		x.mu.Unlock()
		return Finding{}, false
	}
	if sameObject(have.first, o) || slices.ContainsFunc(have.more, func(h Owner) bool { return sameObject(h, o) }) {
		x.mu.Unlock()
		return Finding{}, false
	}
	others := have.all()
	have.more = append(have.more, o)
	x.owners[k] = have
	x.mu.Unlock()
	return duplicateFinding(vrf, addr, o, others), true
}

func sameObject(a, b Owner) bool { return a.Kind == b.Kind && a.ID == b.ID }

// ObserveCandidate observes c's key and object and adds the duplicate
// warning, if any, to c's verdict. It reports whether it did.
func (x *DuplicateIndex) ObserveCandidate(c *Candidate) bool {
	if c.Device == nil || !c.Key.Address.IsValid() {
		return false
	}
	f, ok := x.Observe(c.Key.VRF, c.Key.Address, OwnerOf(c.Device))
	if ok {
		c.Verdict.Warnings = append(c.Verdict.Warnings, f)
	}
	return ok
}

// Owners returns the objects that use addr in vrf, in the order they were
// observed.
func (x *DuplicateIndex) Owners(vrf string, addr netip.Addr) []Owner {
	x.mu.Lock()
	defer x.mu.Unlock()
	have, ok := x.owners[dupKey{vrf, addr.WithZone("")}]
	if !ok {
		return nil
	}
	return have.all()
}

// Duplicates returns the CodeDuplicate warning for o's use of addr in vrf
// when any other observed object uses it too, whichever came first.
func (x *DuplicateIndex) Duplicates(vrf string, addr netip.Addr, o Owner) (Finding, bool) {
	var others []Owner
	for _, have := range x.Owners(vrf, addr) {
		if !sameObject(have, o) {
			others = append(others, have)
		}
	}
	if len(others) == 0 {
		return Finding{}, false
	}
	return duplicateFinding(vrf, addr, o, others), true
}

// Len returns the number of distinct (VRF, address) pairs observed.
func (x *DuplicateIndex) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.owners)
}

func duplicateFinding(vrf string, addr netip.Addr, o Owner, others []Owner) Finding {
	where := "the global table"
	if vrf != "" {
		where = fmt.Sprintf("VRF %q", vrf)
	}
	msg := fmt.Sprintf("%s is used by %s and also by %s in %s", addr, o, others[0], where)
	if len(others) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(others)-1)
	}
	return Finding{Code: CodeDuplicate, Message: msg + "."}
}
