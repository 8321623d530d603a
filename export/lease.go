package export

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wugsync/wugsync/store"
)

// ErrLeaseLost is the cause of a run's context ending when the run lost
// its connection's store lease (it expired before a renewal, or another
// holder broke it): another writer may be running, so this one stops.
var ErrLeaseLost = errors.New("export: the connection's store lease was lost")

// RunInProgressError is returned when a run is asked for while the
// connection already has one, in this process or in another sharing the
// store (errors.As finds it in a wrapped error). It says who holds the
// connection: the run in progress, its lease holder and when that lease
// ends unless renewed.
type RunInProgressError struct {
	Connection string
	RunID      string    // the run in progress; empty when it is not recorded yet
	Holder     string    // the lease holder; empty for a run of this Scheduler not yet holding it
	Until      time.Time // when the holder's lease ends unless renewed; zero when unknown
}

// Error names the connection, the run and its holder.
func (e *RunInProgressError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "export: connection %s: ", e.Connection)
	if e.RunID != "" {
		fmt.Fprintf(&b, "run %s is already in progress", e.RunID)
	} else {
		b.WriteString("a run is already in progress")
	}
	if e.Holder != "" {
		fmt.Fprintf(&b, " (lease held by %s", e.Holder)
		if !e.Until.IsZero() {
			fmt.Fprintf(&b, " until %s", e.Until.UTC().Format(time.RFC3339))
		}
		b.WriteString(")")
	}
	return b.String()
}

// leaseOptions say how a run takes its connection's store lease, which
// keeps two writers off one connection: runs in one process, and the CLI,
// the service and a user's own program sharing a store.
type leaseOptions struct {
	// Holder names this process in the lease and in the busy error; the
	// default is the host name, process id, PID namespace (Linux) and a
	// random suffix. Each run appends a sequence number, so two runs in
	// one process exclude each other too.
	Holder string
	// TTL is how long the lease lasts without renewal; a run renews it
	// every third of it. A crashed run's connection is free again after
	// at most TTL (at once when its process is known to be gone).
	// Default 2 minutes.
	TTL time.Duration
	// Wait makes a run wait for the lease (until its context ends)
	// instead of failing with a *RunInProgressError.
	Wait bool
}

// defaultLeaseTTL is the lease lifetime when leaseOptions.TTL is zero.
const defaultLeaseTTL = 2 * time.Minute

func leaseName(conn string) string { return "wugsync/export/" + conn }

var (
	processHolderOnce sync.Once
	processHolder     string
	holderSeq         atomic.Int64
)

// defaultHolder names this process: host/pid/pid-namespace/random. The
// first three let a process on the same host tell that the holder is gone
// (see holderGone); the random part tells two processes apart when a PID
// is reused.
func defaultHolder() string {
	processHolderOnce.Do(func() {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = crand.Read(b[:])
		processHolder = fmt.Sprintf("%s/%d/%s/%s", host, os.Getpid(), pidNamespace(), hex.EncodeToString(b[:]))
	})
	return processHolder
}

// runHolder is the holder one run takes the lease as.
func (o leaseOptions) runHolder() string {
	base := o.Holder
	if base == "" {
		base = defaultHolder()
	}
	return base + "#" + strconv.FormatInt(holderSeq.Add(1), 10)
}

func (o leaseOptions) ttl() time.Duration {
	if o.TTL > 0 {
		return o.TTL
	}
	return defaultLeaseTTL
}

// holderGone reports whether holder is a default holder of a process on
// this host, in this PID namespace, that no longer exists. Anything else
// (another host, a name the user chose, a process that may be alive) is
// not known to be gone, and its lease is left to expire.
func holderGone(holder string) bool {
	holder, _, _ = strings.Cut(holder, "#")
	parts := strings.Split(holder, "/")
	if len(parts) != 4 {
		return false
	}
	host, _ := os.Hostname()
	ns := pidNamespace()
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 || parts[0] != host || ns == "-" || parts[2] != ns || pid == os.Getpid() {
		return false
	}
	return processGone(pid)
}

// lease is a held connection lease, renewed in the background until
// released.
type lease struct {
	st   store.Store
	conn string
	log  *slog.Logger

	ttl time.Duration

	mu   sync.Mutex
	cur  store.Lease
	stop func() // stops the renewal; nil before hold
}

type leaseKey struct{}

// withLease returns ctx carrying l, so the jobs a Scheduler runs under l
// write under it instead of taking the lease again.
func withLease(ctx context.Context, l *lease) context.Context {
	return context.WithValue(ctx, leaseKey{}, l)
}

// leaseFrom returns the lease ctx carries for st and conn, or nil.
func leaseFrom(ctx context.Context, st store.Store, conn string) *lease {
	l, _ := ctx.Value(leaseKey{}).(*lease)
	if l == nil || l.st != st || l.conn != conn {
		return nil
	}
	return l
}

// current is the lease as last renewed.
func (l *lease) current() store.Lease {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// takeLease takes conn's lease as opts say: it fails with a
// *RunInProgressError while another holder has it (or waits, with
// opts.Wait), breaks it at once when its holder is a process on this host
// that is gone, and then finishes the connection's orphaned runs as
// interrupted. The caller then calls hold to keep it, and release.
func takeLease(ctx context.Context, st store.Store, conn string, opts leaseOptions, log *slog.Logger) (*lease, error) {
	holder, ttl := opts.runHolder(), opts.ttl()
	poll := min(time.Second, ttl/4)
	broken := map[int64]bool{} // tokens of gone holders already broken
	for {
		cur, err := st.AcquireLease(ctx, leaseName(conn), holder, ttl)
		if err == nil {
			l := &lease{st: st, conn: conn, log: log, cur: cur, ttl: ttl}
			if runs, err := recoverRuns(ctx, st, conn); err != nil {
				log.Warn("export: finishing orphaned runs failed", "err", err)
			} else {
				for _, r := range runs {
					log.Warn("export: a run whose holder is gone was marked interrupted", "run_id", r.ID, "holder", r.Lease.Holder)
				}
			}
			return l, nil
		}
		var held *store.LeaseHeldError
		if !errors.As(err, &held) {
			return nil, fmt.Errorf("taking the lease of connection %s: %w", conn, err)
		}
		if !broken[held.Lease.Token] && holderGone(held.Lease.Holder) {
			// The holder's process is gone: free its lease (only if it
			// still has that token) and try again at once.
			broken[held.Lease.Token] = true
			log.Warn("export: the lease holder's process is gone; taking the lease over", "holder", held.Lease.Holder)
			if err := st.ReleaseLease(ctx, held.Lease); err != nil {
				return nil, fmt.Errorf("freeing the lease of connection %s held by %s, whose process is gone: %w", conn, held.Lease.Holder, err)
			}
			continue
		}
		if !opts.Wait {
			return nil, &RunInProgressError{Connection: conn, RunID: runOf(ctx, st, conn, held.Lease.Holder),
				Holder: held.Lease.Holder, Until: held.Lease.ExpiresAt}
		}
		wait := min(poll, max(time.Until(held.Lease.ExpiresAt), time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lease of connection %s held by %s: %w", conn, held.Lease.Holder, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// hold renews the lease every third of its time to live until release,
// and returns ctx, cancelled with ErrLeaseLost as its cause when the lease
// is lost or cannot be renewed before it expires. The context carries the
// lease, so the jobs run under it write under it.
func (l *lease) hold(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(withLease(ctx, l))
	l.stop = l.renew(ctx, cancel, l.ttl)
	return ctx
}

func (l *lease) renew(ctx context.Context, cancel context.CancelCauseFunc, ttl time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cur := l.current()
			next, err := l.st.RenewLease(ctx, cur, ttl)
			switch {
			case err == nil:
				l.mu.Lock()
				l.cur = next
				l.mu.Unlock()
			case errors.Is(err, store.ErrLeaseLost) || !time.Now().Before(cur.ExpiresAt):
				l.log.Warn("export: lease lost; stopping the run", "holder", cur.Holder, "err", err)
				cancel(fmt.Errorf("%w (holder %s): %v", ErrLeaseLost, cur.Holder, err))
				return
			default:
				l.log.Warn("export: renewing the lease failed; retrying", "err", err)
			}
		}
	})
	return func() { close(done); wg.Wait(); cancel(nil) }
}

// release stops the renewal and gives the lease up.
func (l *lease) release(ctx context.Context) {
	if l.stop != nil {
		l.stop()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.st.ReleaseLease(rctx, l.current()); err != nil {
		l.log.Warn("export: releasing the lease failed", "err", err)
	}
}

// leaseError names the run that could not take its lease, unless err is a
// *RunInProgressError, which names the export and the connection itself.
func leaseError(run string, err error) error {
	if busy(err) {
		return err
	}
	return fmt.Errorf("%s: %w", run, err)
}

// busy reports whether err says another run holds the connection.
func busy(err error) bool {
	_, ok := errors.AsType[*RunInProgressError](err)
	return ok
}

// enterLease returns the context and lease a run of conn writes under: the
// lease ctx carries (a Scheduler's), or one taken here, which done
// releases.
func enterLease(ctx context.Context, st store.Store, conn string, opts leaseOptions, log *slog.Logger) (context.Context, store.Lease, func(), error) {
	if l := leaseFrom(ctx, st, conn); l != nil {
		return ctx, l.current(), func() {}, nil
	}
	l, err := takeLease(ctx, st, conn, opts, log)
	if err != nil {
		return nil, store.Lease{}, nil, err
	}
	return l.hold(ctx), l.current(), func() { l.release(ctx) }, nil
}

// recoverRuns finishes as interrupted the connection's runs whose holder
// is gone, and returns them: runs whose lease expired or was released
// (store.InterruptOrphanedRuns), and runs whose holder is a process on this
// host that no longer exists, whose lease it frees first (only while that
// holder still has it). Status pages call it so a killed run is not shown
// as in progress; runs call it when they take the lease.
func recoverRuns(ctx context.Context, st store.Store, connection string) ([]store.Run, error) {
	running, err := st.Runs(ctx, store.RunQuery{Connection: connection, Status: store.RunRunning, Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("export: recovering runs of %s: %w", connection, err)
	}
	freed := map[store.Lease]bool{}
	for _, r := range running {
		if r.Lease.Name == "" || freed[r.Lease] || !holderGone(r.Lease.Holder) {
			continue
		}
		freed[r.Lease] = true
		if err := st.ReleaseLease(ctx, r.Lease); err != nil {
			return nil, fmt.Errorf("export: freeing the lease of %s, whose process is gone: %w", r.Lease.Holder, err)
		}
	}
	runs, err := st.InterruptOrphanedRuns(ctx, connection)
	if err != nil {
		return nil, fmt.Errorf("export: recovering runs of %s: %w", connection, err)
	}
	return runs, nil
}

// runOf finds the id of the running run of conn that holder writes, or ""
// when it has none recorded.
func runOf(ctx context.Context, st store.Store, conn, holder string) string {
	runs, err := st.Runs(ctx, store.RunQuery{Connection: conn, Status: store.RunRunning, Limit: 50})
	if err != nil {
		return ""
	}
	for _, r := range runs {
		if r.Lease.Holder == holder && r.Kind == store.RunExport {
			return r.ID
		}
	}
	for _, r := range runs {
		if r.Lease.Holder == holder {
			return r.ID
		}
	}
	return ""
}
