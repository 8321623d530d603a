package export

import (
	"fmt"
	"net/netip"
	"testing"
)

// An adoption export plans (and links devices) while the update workers
// apply earlier batches: the workers must read nothing the planner writes.
// Under -race this fails if the executor reads the planner's inventory.
func TestAdoptionWhilePlanningIsRaceFree(t *testing.T) {
	t.Parallel()
	const n = 400
	e := newJobEnv(t, n)
	e.job.Connection.BatchSize = 5
	e.job.Connection.Concurrency = 4
	for i := 1; i <= n; i++ {
		e.wug.seed(fmt.Sprintf("hand-made-%d", i), netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	res := e.run(t, RunOptions{})
	if res.Counts.Adopted != n || res.Counts.Failed != 0 {
		t.Fatalf("counts %+v, want %d adopted", res.Counts, n)
	}
	e.checkConsistent(t, n)
}
