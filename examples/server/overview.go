package main

import (
	"context"
	"errors"
	"time"

	"github.com/wugsync/wugsync/store"
)

// overviewRuns is how many of a connection's newest export runs
// exportOverview reads to find the running and the last finished one.
const overviewRuns = 5

// exportOverview is what the API's export status and the status page both
// show of one connection: the export in progress, the newest runs, the next
// scheduled export and the records by status. Both read it from
// service.exportOverview, so they cannot disagree.
type exportOverview struct {
	// InProgress: an export of the connection runs, here or in another
	// replica (here it may not have recorded its run yet).
	InProgress bool
	Running    *store.Run // the run in progress, when it is recorded
	Latest     *store.Run // the newest export run, running or finished
	Finished   *store.Run // the newest finished export run
	NextExport time.Time  // zero when the scheduler does not know the connection
	Counts     map[store.Status]int
	Total      int // records of the connection
}

// exportOverview reads one connection's export overview. The run this
// process's scheduler runs is the running one; otherwise the newest export
// run the store shows running (another replica's) is.
func (s *service) exportOverview(ctx context.Context, name string) (exportOverview, error) {
	var o exportOverview
	// A run whose holder is gone is not in progress, whoever asks first.
	if _, err := s.sched.RecoverRuns(ctx, name); err != nil {
		s.log.Warn("recovering the runs of gone holders failed", "connection", name, "err", err)
	}
	ours := ""
	if st, err := s.sched.Status(name); err == nil {
		o.NextExport, o.InProgress = st.NextExport, st.Running
		if st.Running {
			ours = st.RunID
		}
	}
	runs, err := s.st.Runs(ctx, store.RunQuery{Connection: name, Kind: store.RunExport, Limit: overviewRuns})
	if err != nil {
		return o, err
	}
	for i := range runs {
		r := &runs[i]
		if o.Latest == nil {
			o.Latest = r
		}
		switch {
		case r.Status == store.RunRunning && o.Running == nil && (ours == "" || r.ID == ours):
			o.Running = r
		case r.Status != store.RunRunning && o.Finished == nil:
			o.Finished = r
		}
	}
	if ours != "" && o.Running == nil {
		// Older than the runs read, or finished since the scheduler was asked.
		run, err := s.st.Run(ctx, ours)
		switch {
		case err == nil && run.Status == store.RunRunning:
			o.Running = &run
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return o, err
		}
	}
	o.InProgress = o.InProgress || o.Running != nil
	if o.Counts, err = s.st.CountByStatus(ctx, name); err != nil {
		return o, err
	}
	for _, n := range o.Counts {
		o.Total += n
	}
	return o, nil
}
