package export

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wugsync/wugsync/store"
)

// Counts are an export's item counts.
type Counts struct {
	Selected  int `json:"selected"`  // addresses the selection produced
	Added     int `json:"added"`     // devices created (adds and re-adds)
	Adopted   int `json:"adopted"`   // existing WUG devices linked
	Updated   int `json:"updated"`   // metadata updates
	Scanned   int `json:"scanned"`   // addresses handed to a discovery scan
	Removed   int `json:"removed"`   // removal policy applied
	Unchanged int `json:"unchanged"` // nothing to do
	Skipped   int `json:"skipped"`   // skipped for another reason (recent, in progress, kept)
	Invalid   int `json:"invalid"`   // not exportable (bad NetBox data)
	Failed    int `json:"failed"`    // WUG, store or NetBox failures
}

// OutcomeKind says how an Outcome ended.
type OutcomeKind string

// Outcome kinds.
const (
	// OutcomeApplied: the action was carried out (in a plan: would be).
	OutcomeApplied OutcomeKind = "applied"
	// OutcomeSkipped: nothing was done, for the reason given.
	OutcomeSkipped OutcomeKind = "skipped"
	// OutcomeInvalid: the NetBox data cannot be exported (the findings
	// marked Error say why); fix it in NetBox.
	OutcomeInvalid OutcomeKind = "invalid"
	// OutcomeFailed: WUG, the store or NetBox failed (Error says how).
	OutcomeFailed OutcomeKind = "failed"
)

// Outcome is what happened to one address (or, for a NetBox object that
// could not be read or has no address, one object).
type Outcome struct {
	Kind       OutcomeKind      `json:"kind"`
	Key        store.Key        `json:"key"`
	ObjectKind store.ObjectKind `json:"object_kind,omitempty"`
	ObjectID   int64            `json:"object_id,omitempty"`
	ObjectName string           `json:"object_name,omitempty"`
	Action     Action           `json:"action"`
	Status     store.Status     `json:"status,omitempty"` // as recorded; empty when nothing was recorded
	DeviceID   string           `json:"wug_device_id,omitempty"`
	ScanID     string           `json:"scan_id,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	Findings   []Finding        `json:"findings,omitempty"`
	Error      string           `json:"error,omitempty"` // why it failed (Kind OutcomeFailed) or is invalid
}

// String names the outcome's NetBox object and address and says what
// happened to it, for people: `device 12 "core-1" 10.0.0.1: <error or
// reason>`, or the reason alone for an object-level outcome that names the
// object itself.
func (o Outcome) String() string {
	if !o.Key.Address.IsValid() && o.Error == "" {
		return o.Reason
	}
	var who []string
	if o.ObjectID != 0 {
		who = append(who, fmt.Sprintf("%s %d %q", o.ObjectKind, o.ObjectID, o.ObjectName))
	}
	if o.Key.Address.IsValid() {
		who = append(who, o.Key.Address.String())
	}
	return strings.Join(who, " ") + ": " + cmp.Or(o.Error, o.Reason)
}

// Result is the outcome of an export run. Outcomes list every address
// except the unchanged ones, in completion order.
type Result struct {
	RunID      string           `json:"run_id,omitempty"` // empty for a dry run
	Connection string           `json:"connection"`
	Status     store.RunStatus  `json:"status"`
	DryRun     bool             `json:"dry_run"`
	Plan       *Plan            `json:"plan,omitempty"` // dry runs only
	Counts     Counts           `json:"counts"`
	Outcomes   []Outcome        `json:"outcomes,omitempty"`
	Warnings   []string         `json:"warnings,omitempty"`
	WriteBack  *WriteBackResult `json:"write_back,omitempty"` // when write-back is on
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
}

// SkipReasons counts the skipped outcomes by reason and returns the
// reasons most frequent first (ties by reason).
func (r *Result) SkipReasons() (reasons []string, count map[string]int) {
	count = map[string]int{}
	for _, o := range r.Outcomes {
		if o.Kind == OutcomeSkipped {
			if count[o.Reason]++; count[o.Reason] == 1 {
				reasons = append(reasons, o.Reason)
			}
		}
	}
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(count[b]-count[a], strings.Compare(a, b)) })
	return reasons, count
}

// Describe returns the outcomes of a kind as text for people (see
// Outcome.String), in completion order.
func (r *Result) Describe(kind OutcomeKind) []string {
	var out []string
	for _, o := range r.Outcomes {
		if o.Kind == kind {
			out = append(out, o.String())
		}
	}
	return out
}

// RunCounts converts the counts to the store's run counts.
func (c Counts) RunCounts() store.RunCounts {
	return store.RunCounts{Selected: c.Selected, Added: c.Added, Updated: c.Updated + c.Adopted,
		Scanned: c.Scanned, Unchanged: c.Unchanged, Failed: c.Failed}
}
