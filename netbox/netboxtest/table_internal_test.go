package netboxtest

import "testing"

// TestKeysetStartsAtMinID checks a keyset page touches only rows after
// id__gt, and that a single exact condition is counted without tests.
func TestKeysetStartsAtMinID(t *testing.T) {
	t.Parallel()
	const n = 100_000
	ix := &tindex{ids: make([]int64, n)}
	var even []int32
	for i := range n {
		ix.ids[i] = int64(i + 1)
		if i%2 == 0 {
			even = append(even, int32(i)) // ids 1, 3, 5, …
		}
	}
	calls := 0
	counting := cond{pred: func(int32) bool { calls++; return true }}
	for _, tc := range []struct {
		name      string
		conds     []cond
		minID     int64
		wantCount int
		maxCalls  int
	}{
		{"exact list only", []cond{{list: even}}, 99_000, 500, 0},
		{"no condition", nil, 99_000, 1000, 0},
		{"list and predicate", []cond{{list: even}, counting}, 99_000, 500, 500},
		{"predicate only", []cond{counting}, 99_000, 1000, 1000},
	} {
		calls = 0
		pl := &plan{conds: tc.conds, minID: tc.minID, limit: 100}
		count, page := pl.run(ix)
		if count != tc.wantCount || len(page) != 100 || ix.ids[page[0]] <= tc.minID {
			t.Errorf("%s: count %d, page of %d from id %d", tc.name, count, len(page), ix.ids[page[0]])
		}
		if calls > tc.maxCalls {
			t.Errorf("%s: %d predicate calls, want at most %d (rows after id__gt)", tc.name, calls, tc.maxCalls)
		}
	}
}
