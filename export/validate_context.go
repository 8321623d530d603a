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

// defaultRecentWindow is how long after an export an address counts as
// recently exported.
const defaultRecentWindow = 24 * time.Hour

// checkRecentExport returns a codeRecentlyExported warning when rec says the
// address was exported less than window before now (defaultRecentWindow when
// window is zero). An export time after now (clock skew) counts as recent.
func checkRecentExport(rec store.Record, now time.Time, window time.Duration) (Finding, bool) {
	if window <= 0 {
		window = defaultRecentWindow
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
		Code:    codeRecentlyExported,
		Message: fmt.Sprintf("%s was exported %s (within %s).", rec.Address, when, fmtDuration(window)),
	}, true
}

// checkPreviousFailure returns a codePreviousFailure warning when rec says
// the last export of the address failed.
func checkPreviousFailure(rec store.Record) (Finding, bool) {
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
	return Finding{Code: codePreviousFailure, Message: msg + "."}, true
}

// checkRecord returns the warnings a stored record raises about its address
// at time now: checkRecentExport (with window) and checkPreviousFailure.
func checkRecord(rec store.Record, now time.Time, window time.Duration) []Finding {
	var out []Finding
	if f, ok := checkRecentExport(rec, now, window); ok {
		out = append(out, f)
	}
	if f, ok := checkPreviousFailure(rec); ok {
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

// owner identifies the NetBox object an address belongs to.
type owner struct {
	Kind netbox.Kind
	ID   int64
	Name string
}

// String renders the owner as `device 12 "core-1"`.
func (o owner) String() string {
	kind := string(o.Kind)
	if o.Kind == netbox.KindVirtualMachine {
		kind = "virtual machine"
	}
	return fmt.Sprintf("%s %d %q", kind, o.ID, o.Name)
}

// ownerOf returns the owner of a device's addresses.
func ownerOf(d *netbox.Device) owner {
	return owner{Kind: d.Kind, ID: d.ID, Name: d.Name}
}

type dupKey struct {
	vrf  string
	addr netip.Addr
}

// duplicateIndex finds addresses that more than one NetBox object uses in
// the same VRF. It is built incrementally while a selection streams by and
// holds one small entry per distinct address. It is safe for concurrent use.
type duplicateIndex struct {
	mu     sync.Mutex
	owners map[dupKey]owners
}

// owners lists an address's objects; the first is kept inline because
// almost every address has exactly one.
type owners struct {
	first owner
	more  []owner
}

func (w owners) all() []owner { return append([]owner{w.first}, w.more...) }

// newDuplicateIndex returns an empty index.
func newDuplicateIndex() *duplicateIndex {
	return &duplicateIndex{owners: make(map[dupKey]owners)}
}

// Observe records that o uses addr in vrf (empty for the global table). If
// another object already uses it, Observe returns a codeDuplicate warning
// naming the first one. The object seen first gets no warning here; ask
// Duplicates once the selection is complete to flag it too.
func (x *duplicateIndex) Observe(vrf string, addr netip.Addr, o owner) (Finding, bool) {
	k := dupKey{vrf, addr.WithZone("")}
	x.mu.Lock()
	have, ok := x.owners[k]
	if !ok {
		x.owners[k] = owners{first: o}
		x.mu.Unlock()
		return Finding{}, false
	}
	if sameObject(have.first, o) || slices.ContainsFunc(have.more, func(h owner) bool { return sameObject(h, o) }) {
		x.mu.Unlock()
		return Finding{}, false
	}
	others := have.all()
	have.more = append(have.more, o)
	x.owners[k] = have
	x.mu.Unlock()
	return duplicateFinding(vrf, addr, o, others), true
}

func sameObject(a, b owner) bool { return a.Kind == b.Kind && a.ID == b.ID }

// ObserveCandidate observes c's key and object and adds the duplicate
// warning, if any, to c's verdict. It reports whether it did.
func (x *duplicateIndex) ObserveCandidate(c *candidate) bool {
	if c.Device == nil || !c.Key.Address.IsValid() {
		return false
	}
	f, ok := x.Observe(c.Key.VRF, c.Key.Address, ownerOf(c.Device))
	if ok {
		c.Verdict.Warnings = append(c.Verdict.Warnings, f)
	}
	return ok
}

// Owners returns the objects that use addr in vrf, in the order they were
// observed.
func (x *duplicateIndex) Owners(vrf string, addr netip.Addr) []owner {
	x.mu.Lock()
	defer x.mu.Unlock()
	have, ok := x.owners[dupKey{vrf, addr.WithZone("")}]
	if !ok {
		return nil
	}
	return have.all()
}

// Duplicates returns the codeDuplicate warning for o's use of addr in vrf
// when any other observed object uses it too, whichever came first.
func (x *duplicateIndex) Duplicates(vrf string, addr netip.Addr, o owner) (Finding, bool) {
	var others []owner
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
func (x *duplicateIndex) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.owners)
}

func duplicateFinding(vrf string, addr netip.Addr, o owner, others []owner) Finding {
	where := "the global table"
	if vrf != "" {
		where = fmt.Sprintf("VRF %q", vrf)
	}
	msg := fmt.Sprintf("%s is used by %s and also by %s in %s", addr, o, others[0], where)
	if len(others) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(others)-1)
	}
	return Finding{Code: codeDuplicate, Message: msg + "."}
}
