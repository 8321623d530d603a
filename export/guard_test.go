package export

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wugsync/wugsync/store"
)

// The add guard stops a run before any write when WUG's listing lacks more
// than the set share (at least 5) of the devices the store links, and says
// how to override it.
func TestExportAddGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fleet   int
		missing int
		opts    RunOptions
		share   float64
		stop    bool
	}{
		{name: "a few deleted by hand", fleet: 20, missing: 4},
		{name: "at the share", fleet: 100, missing: 10},
		{name: "over the share", fleet: 100, missing: 11, stop: true},
		{name: "small fleet, five gone", fleet: 20, missing: 5, stop: true},
		{name: "all gone", fleet: 60, missing: 60, stop: true},
		{name: "overridden", fleet: 100, missing: 50, opts: RunOptions{AcceptMissingDevices: true}},
		{name: "a wider share", fleet: 100, missing: 30, share: 0.5},
		{name: "dry run warns", fleet: 100, missing: 30, opts: RunOptions{dryRun: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newJobEnv(t, tt.fleet)
			e.run(t, RunOptions{})
			e.job.Connection.MaxMissingShare = tt.share
			e.wug.mu.Lock()
			for i := 1; i <= tt.missing; i++ {
				delete(e.wug.devs, fmt.Sprint(i))
			}
			e.wug.mu.Unlock()
			before := e.records(t)
			w0, _ := e.wug.stats()

			res, err := e.job.Run(context.Background(), tt.opts)
			w1, _ := e.wug.stats()
			if tt.stop {
				var me *MissingDevicesError
				if !errors.As(err, &me) || me.Missing != tt.missing || me.Linked != tt.fleet {
					t.Fatalf("err = %v, want the guard naming %d of %d", err, tt.missing, tt.fleet)
				}
				for _, s := range []string{fmt.Sprintf("lacks %d of the %d devices", tt.missing, tt.fleet), "AcceptMissingDevices"} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				if res.Status != store.RunFailed || w1 != w0 {
					t.Errorf("stopped run: status %s, %d WUG writes", res.Status, w1-w0)
				}
				for addr, r := range e.records(t) {
					if b := before[addr]; b.Status != r.Status || b.WUGDeviceID != r.WUGDeviceID || b.Attempts != r.Attempts {
						t.Errorf("record %s changed: %+v -> %+v", addr, b, r)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.opts.dryRun {
				if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "AcceptMissingDevices") || w1 != w0 {
					t.Errorf("dry run: warnings %q, %d writes", res.Warnings, w1-w0)
				}
				return
			}
			if res.Counts.Added != tt.missing || res.Counts.Failed != 0 {
				t.Errorf("counts %+v, want the %d missing added again", res.Counts, tt.missing)
			}
			e.checkConsistent(t, tt.fleet)
		})
	}
}
