package export

import (
	"fmt"

	"github.com/wugsync/wugsync/store"
)

// defaultMaxMissingShare is the add guard's threshold when
// Settings.MaxMissingShare is zero: a run stops before any write when
// WUG's listing lacks more than this share of the devices the store links.
const defaultMaxMissingShare = 0.1

// minMissingForGuard is how many linked devices must be missing before the
// add guard stops a run, so a few devices deleted by hand in a small
// fleet are simply added again.
const minMissingForGuard = 5

// MissingDevicesError is returned when the add guard stops a run (errors.As
// finds it in a wrapped error). It is the guard's verdict: WUG's device listing
// lacks Missing of the Linked devices the store links for the connection,
// more than MaxShare of them. An answer read wrongly, or a WUG restored
// from an old backup, looks like this, and adding would duplicate every
// device, so the run stopped before any write.
type MissingDevicesError struct {
	Connection      string
	Linked, Missing int
	MaxShare        float64
}

// Error gives both numbers and how to override the guard.
func (e *MissingDevicesError) Error() string {
	return fmt.Sprintf("add guard: WUG's device listing lacks %d of the %d devices the store links, more than the %.0f%% (and at least %d) a run accepts; "+
		"nothing was written. If WUG really lost them, run again with RunOptions.AcceptMissingDevices to add them again",
		e.Missing, e.Linked, 100*e.MaxShare, minMissingForGuard)
}

// checkMissing is the add guard, the twin of the removal cap: it compares
// the devices the records link with the inventory and returns a
// *MissingDevicesError when more than maxShare (at least
// minMissingForGuard) of them are missing.
func checkMissing(connection string, recs *recordSet, inv *inventory, maxShare float64) error {
	if maxShare <= 0 {
		maxShare = defaultMaxMissingShare
	}
	linked, missing := 0, 0
	for i := range recs.recs {
		st := &recs.recs[i]
		if st.deviceID == "" || st.status == store.StatusRemoved {
			continue
		}
		linked++
		if !inv.Has(st.deviceID) {
			missing++
		}
	}
	if missing < minMissingForGuard || float64(missing) <= maxShare*float64(linked) {
		return nil
	}
	return &MissingDevicesError{Connection: connection, Linked: linked, Missing: missing, MaxShare: maxShare}
}
