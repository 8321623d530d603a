// Package proctest tests a store backend across operating system processes:
// a writer killed with SIGKILL must lose no write it reported committed, and
// two processes contending for one lease must never hold it at once.
//
// The test binary plays both parts. A backend's tests call Crash or Leases
// as the parent, and declare a TestHelperProcess that calls Child: when the
// parent re-executes the binary with -test.run=^TestHelperProcess$ and the
// role in the environment, Child plays that role and exits; in an ordinary
// test run it skips.
package proctest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wugsync/wugsync/store"
)

// Environment variables that carry a child's orders.
const (
	envRole   = "WUGSYNC_PROCTEST_ROLE"   // "crash" or "lease"
	envTarget = "WUGSYNC_PROCTEST_TARGET" // what Open opens: a file path or a schema
	envArg    = "WUGSYNC_PROCTEST_ARG"    // the crash round, or the lease holder
)

// Open opens the store under test at target in a child or in the parent.
type Open func(ctx context.Context, target string) (store.Store, error)

// childTimeout bounds a child's life if the parent never kills it.
const childTimeout = 60 * time.Second

// Child plays the role the parent gave this process and exits; without a
// role it skips the test.
func Child(t *testing.T, open Open) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("runs only as a child process of the cross-process tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	s, err := open(ctx, os.Getenv(envTarget))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	switch role {
	case "crash":
		err = crashWriter(ctx, s, os.Getenv(envArg))
	case "lease":
		err = leaseContender(ctx, s, os.Getenv(envArg))
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, role+":", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// Crash batches: each batch is batchSize records of one connection, told
// apart by ObjectID (the batch number).
const batchSize = 50

func crashBatch(conn string, batch int) []store.Record {
	recs := make([]store.Record, batchSize)
	for i := range recs {
		n := batch*batchSize + i
		recs[i] = store.Record{
			Key: store.Key{
				Connection: conn,
				Address:    netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}),
			},
			ObjectKind:  store.ObjectDevice,
			ObjectID:    int64(batch),
			ObjectName:  fmt.Sprintf("dev-%d", n),
			Status:      store.StatusExported,
			Reason:      store.ReasonBulk,
			Fingerprint: fmt.Sprintf("batch-%d", batch),
			Attempts:    1,
		}
	}
	return recs
}

// crashWriter writes batches until killed and prints "committed N" once
// batch N's UpsertRecords has returned.
func crashWriter(ctx context.Context, s store.Store, round string) error {
	conn := "crash-" + round
	for b := 0; ; b++ {
		if err := s.UpsertRecords(ctx, crashBatch(conn, b)); err != nil {
			return err
		}
		fmt.Printf("committed %d\n", b) // os.Stdout is unbuffered: one write(2) per line
	}
}

// child is a running child process and its stdout lines.
type child struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *syncBuffer
	done   chan struct{} // closed when stdout hit EOF
}

func startChild(t *testing.T, role, target, arg string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"="+role, envTarget+"="+target, envArg+"="+arg)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 4096), stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

// kill sends SIGKILL and reaps the process; it is safe to call twice.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.done
	_ = c.cmd.Wait()
}

// syncBuffer collects a child's stderr for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Crash starts a writer child rounds times, kills it with SIGKILL at a
// moment drawn from seed after its first commit, then reopens the store and
// checks that every batch the child reported committed is there in full
// and that no batch is there in part. check, if not nil, inspects the store
// file or database after each round (an integrity check, say).
func Crash(t *testing.T, target string, open Open, rounds int, seed uint64, check func(t *testing.T)) {
	rng := rand.New(rand.NewPCG(seed, 0x63726173))
	for round := range rounds {
		c := startChild(t, "crash", target, strconv.Itoa(round))
		var reported []int
		delay := time.Duration(rng.IntN(300)) * time.Millisecond
		var killAt <-chan time.Time
		deadline := time.After(30 * time.Second)
	read:
		for {
			select {
			case line, ok := <-c.lines:
				if !ok {
					c.kill()
					t.Fatalf("round %d: writer exited before it was killed: %s", round, c.stderr.String())
				}
				n, err := strconv.Atoi(strings.TrimPrefix(line, "committed "))
				if err != nil {
					continue // test framework output
				}
				reported = append(reported, n)
				if killAt == nil {
					killAt = time.After(delay)
				}
			case <-killAt:
				if err := c.cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				break read
			case <-deadline:
				t.Fatalf("round %d: no commit from the writer in 30s: %s", round, c.stderr.String())
			}
		}
		// Lines already written before the kill still count.
		for line := range c.lines {
			if n, err := strconv.Atoi(strings.TrimPrefix(line, "committed ")); err == nil {
				reported = append(reported, n)
			}
		}
		_ = c.cmd.Wait()
		if c.cmd.ProcessState.Success() {
			t.Fatalf("round %d: writer was not killed", round)
		}
		t.Logf("round %d: killed the writer %v after its first commit; it reported %d batches", round, delay, len(reported))
		verifyCrash(t, target, open, "crash-"+strconv.Itoa(round), reported)
		if check != nil {
			check(t)
		}
	}
}

func verifyCrash(t *testing.T, target string, open Open, conn string, reported []int) {
	t.Helper()
	ctx := context.Background()
	s, err := open(ctx, target)
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	defer s.Close()
	perBatch := map[int]int{}
	for r, err := range s.Records(ctx, store.Query{Connection: conn, PageSize: 1000}) {
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if want := crashBatch(conn, int(r.ObjectID)); r.Fingerprint != want[0].Fingerprint {
			t.Fatalf("record %s: fingerprint %q, want %q", r.Key, r.Fingerprint, want[0].Fingerprint)
		}
		perBatch[int(r.ObjectID)]++
	}
	for _, b := range reported {
		if perBatch[b] != batchSize {
			t.Errorf("batch %d was reported committed, but %d of its %d records are there", b, perBatch[b], batchSize)
		}
	}
	for b, n := range perBatch {
		if n != batchSize {
			t.Errorf("batch %d is there in part: %d of %d records", b, n, batchSize)
		}
	}
	if len(perBatch) < len(reported) {
		t.Errorf("%d batches there, %d reported", len(perBatch), len(reported))
	}
}

// Lease contention parameters: a holder keeps the lease for leaseHold,
// renewing it every leaseRenew, with a time to live of leaseTTL. The time
// to live is many renewals long, so a contender stalled on a loaded
// machine seldom loses its lease; when it does, it says so and contends
// again.
const (
	leaseName  = "proctest"
	leaseTTL   = 3 * time.Second
	leaseHold  = 400 * time.Millisecond
	leaseRenew = 100 * time.Millisecond
)

// leaseContender takes the lease whenever it can, holds it for a while and
// gives it up, printing "acquire|renew|lost|release holder token at
// expires" with times in Unix nanoseconds: acquire after the store granted
// it, release before asking the store to release it, lost when a renewal
// found the lease expired (expires is then the last expiry it was given).
func leaseContender(ctx context.Context, s store.Store, holder string) error {
	say := func(ev string, l store.Lease) {
		fmt.Printf("%s %s %d %d %d\n", ev, holder, l.Token, time.Now().UnixNano(), l.ExpiresAt.UnixNano())
	}
	for ctx.Err() == nil {
		l, err := s.AcquireLease(ctx, leaseName, holder, leaseTTL)
		if errors.Is(err, store.ErrLeaseHeld) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		say("acquire", l)
		lost := false
		for end := time.Now().Add(leaseHold); time.Now().Before(end); {
			time.Sleep(leaseRenew)
			nl, err := s.RenewLease(ctx, l, leaseTTL)
			if errors.Is(err, store.ErrLeaseLost) {
				say("lost", l)
				lost = true
				break
			}
			if err != nil {
				return err
			}
			l = nl
			say("renew", l)
		}
		if lost {
			continue
		}
		say("release", l)
		if err := s.ReleaseLease(ctx, l); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ctx.Err()
}

// leaseEvent is one line of a contender.
type leaseEvent struct {
	kind, holder string
	token        int64
	at, expires  time.Time
}

func parseLeaseEvent(line string) (leaseEvent, bool) {
	f := strings.Fields(line)
	if len(f) != 5 {
		return leaseEvent{}, false
	}
	tok, err1 := strconv.ParseInt(f[2], 10, 64)
	at, err2 := strconv.ParseInt(f[3], 10, 64)
	exp, err3 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return leaseEvent{}, false
	}
	return leaseEvent{kind: f[0], holder: f[1], token: tok, at: time.Unix(0, at), expires: time.Unix(0, exp)}, true
}

// Leases runs two contender processes on one lease. Once each has held it
// and it changed hands a few times, it kills the holder with SIGKILL and waits for the other to take the
// lease over, no sooner than the killed holder's lease expired. Throughout,
// it checks that the holding intervals the two report never overlap and
// that tokens grow with every new holder.
func Leases(t *testing.T, target string, open Open) {
	kids := map[string]*child{"a": startChild(t, "lease", target, "a"), "b": startChild(t, "lease", target, "b")}
	events := make(chan leaseEvent, 1024)
	var wg sync.WaitGroup
	for _, c := range kids {
		wg.Go(func() {
			for line := range c.lines {
				if ev, ok := parseLeaseEvent(line); ok {
					events <- ev
				}
			}
		})
	}
	go func() { wg.Wait(); close(events) }()

	var (
		log      []leaseEvent
		acquired = map[string]int{}
		killed   string
		lastExp  time.Time // the killed holder's last reported expiry
	)
	deadline := time.After(40 * time.Second)
	for {
		var ev leaseEvent
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("contenders exited: a: %s b: %s", kids["a"].stderr.String(), kids["b"].stderr.String())
			}
			ev = e
		case <-deadline:
			t.Fatalf("lease test timed out; %d events; a: %s b: %s", len(log), kids["a"].stderr.String(), kids["b"].stderr.String())
		}
		if ev.holder == killed {
			// Written before the kill landed.
			if ev.kind != "release" {
				lastExp = ev.expires
			}
			log = append(log, ev)
			continue
		}
		log = append(log, ev)
		if ev.kind != "acquire" {
			continue
		}
		acquired[ev.holder]++
		if killed != "" {
			if ev.at.Before(lastExp) {
				t.Errorf("%s took the lease over at %v, before the killed holder's lease expired at %v", ev.holder, ev.at, lastExp)
			}
			t.Logf("%s took the lease over %v after the killed holder's expiry", ev.holder, ev.at.Sub(lastExp))
			break
		}
		if acquired["a"] > 0 && acquired["b"] > 0 && acquired["a"]+acquired["b"] >= 4 {
			killed, lastExp = ev.holder, ev.expires
			kids[killed].kill()
			t.Logf("killed %s while it held token %d", killed, ev.token)
		}
	}
	for _, c := range kids {
		c.kill()
	}
	checkLeaseLog(t, log, killed)
}

// checkLeaseLog checks that holding intervals never overlap and that tokens
// grow from one holding to the next.
func checkLeaseLog(t *testing.T, log []leaseEvent, killed string) {
	type holding struct {
		holder     string
		token      int64
		start, end time.Time
	}
	var hs []holding
	lost := 0
	open := map[string]int{} // holder -> index in hs
	for _, ev := range log {
		switch ev.kind {
		case "acquire":
			open[ev.holder] = len(hs)
			hs = append(hs, holding{holder: ev.holder, token: ev.token, start: ev.at, end: ev.expires})
		case "renew":
			if i, ok := open[ev.holder]; ok {
				hs[i].end = ev.expires
			}
		case "release":
			if i, ok := open[ev.holder]; ok {
				hs[i].end = ev.at
				delete(open, ev.holder)
			}
		case "lost":
			// The holding ended at its last expiry, already recorded.
			if _, ok := open[ev.holder]; ok {
				lost++
				delete(open, ev.holder)
			}
		}
	}
	// A holding still open ends at its last reported expiry (the killed
	// holder) or now (the survivor, killed by the test afterwards).
	for h, i := range open {
		if h != killed {
			hs[i].end = time.Now()
		}
	}
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			a, b := hs[i], hs[j]
			if a.holder != b.holder && a.start.Before(b.end) && b.start.Before(a.end) {
				t.Errorf("overlap: %s held token %d %v..%v, %s held token %d %v..%v",
					a.holder, a.token, a.start, a.end, b.holder, b.token, b.start, b.end)
			}
		}
	}
	slices.SortFunc(hs, func(a, b holding) int { return a.start.Compare(b.start) })
	for i := 1; i < len(hs); i++ {
		if hs[i].token <= hs[i-1].token {
			t.Errorf("token did not grow: %s got %d after %s had %d", hs[i].holder, hs[i].token, hs[i-1].holder, hs[i-1].token)
		}
	}
	t.Logf("%d holdings checked; %d ended by expiry before release", len(hs), lost)
}
