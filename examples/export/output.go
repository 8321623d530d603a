package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/wugsync/wugsync/export"
)

// writeText prints a dry run's plan as a table, or a run's counts followed
// by the items that failed and the records that could not be exported.
func writeText(w io.Writer, res *export.Result, scans *export.ScanResult) error {
	if res.DryRun && res.Plan != nil {
		fmt.Fprintf(w, "Dry run for connection %s: nothing was changed.\n\n", res.Connection)
		return res.Plan.WriteTable(w)
	}
	c := res.Counts
	fmt.Fprintf(w, "Run %s for connection %s: %s in %s\n", res.RunID, res.Connection, res.Status,
		res.FinishedAt.Sub(res.StartedAt).Round(1e6))
	fmt.Fprintf(w, "selected %d, added %d, adopted %d, updated %d, scanned %d, removed %d, unchanged %d, skipped %d, invalid %d, failed %d\n",
		c.Selected, c.Added, c.Adopted, c.Updated, c.Scanned, c.Removed, c.Unchanged, c.Skipped, c.Invalid, c.Failed)
	if wb := res.WriteBack; wb != nil {
		fmt.Fprintf(w, "write-back to NetBox: %d objects written, %d cleared, %d journal entries, %d requests\n",
			wb.Written, wb.Cleared, wb.Journaled, wb.Requests)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if scans != nil {
		fmt.Fprintf(w, "scans: %d followed, %d addresses linked, %d not found, %d still running, %d timed out, %d failed\n",
			scans.Scans, scans.Linked, scans.NotFound, scans.Waiting, scans.TimedOut, scans.Failed)
	}

	failed := res.Describe(export.OutcomeFailed)
	if scans != nil {
		for _, o := range scans.Outcomes {
			if o.Kind == export.OutcomeFailed {
				failed = append(failed, o.String())
			}
		}
	}
	if reasons, n := res.SkipReasons(); len(reasons) > 0 {
		fmt.Fprintf(w, "\nSkipped, by reason:\n")
		for _, r := range reasons {
			fmt.Fprintf(w, "  %5d  %s\n", n[r], r)
		}
	}
	list(w, "Not exportable (fix these in NetBox)", res.Describe(export.OutcomeInvalid))
	list(w, "Failed", failed)
	return nil
}

func list(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// writeJSON prints the result, with the scan follow-up when there was
// one, as one JSON object.
func writeJSON(w io.Writer, res *export.Result, scans *export.ScanResult) error {
	out := struct {
		*export.Result
		Scans *export.ScanResult `json:"scans,omitempty"`
	}{res, scans}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
