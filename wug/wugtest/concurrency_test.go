package wugtest_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/wugsync/wugsync/wug/wugtest"
)

// TestConcurrentUse hammers the fake from many goroutines (run with -race):
// template applies, listings, attribute batches, membership changes and
// controls, all at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	a := newAPI(t, wugtest.WithPageLimit(10))
	seed := seedFleet(a, 40)
	a.login()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				apply(a, template(fmt.Sprintf("w%d-%d", w, i), "c", fmt.Sprintf("10.200.%d.%d", w, i)))
				listAll(a, "0", url.Values{"search": {"10.200"}})
				id := seed[(w*10+i)%len(seed)]
				a.call("PATCH", "/devices/"+id+"/attributes/-", map[string]any{"attributesToAdd": []any{map[string]any{"name": fmt.Sprintf("k%d", w), "value": "v"}}}, 200, nil)
				a.call("POST", "/device-groups/0/devices/-", map[string]any{"devices": []string{id}}, 200, nil)
				a.srv.DevicesByAddress("10.0.0.1")
				a.srv.Counts()
			}
		})
	}
	wg.Wait()
	if n := a.srv.DeviceCount(); n != 40+80 {
		t.Errorf("DeviceCount() = %d, want 120", n)
	}
}
