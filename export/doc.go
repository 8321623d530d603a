// Package export turns a NetBox selection into the right WhatsUp Gold (WUG)
// devices with the right metadata, in as few requests as the APIs allow,
// safe to re-run and safe to kill.
//
// # The front door
//
// New builds a Connection from a *netbox.Client, a
// *wug.Client and a store.Store, with options: WithName, WithSelector,
// WithMapping (compiled and checked here, once), WithSettings and
// WithLogger. Its Run exports, Plan is the dry run and FollowScans follows
// the discovery scans a run started. NewScheduler runs Connections on an
// interval and on NetBox webhooks.
//
// # Data flow
//
//	NetBox ──Devices(selector)──▶ netbox.Device ──validate, map──▶ one candidate per address
//	                                                        │
//	       store.Record (what we did) ──────────────────────┼──▶ planner ──▶ Decision
//	       WUG inventory (one paged listing, by address) ───┘                   │
//	                                                        executor (batched, bounded)
//	                                                                            │
//	                                   store updated per item ◀── WUG answers ──┘
//
// Each selected address is validated (bad, special-purpose and duplicate
// addresses get findings, never a crash) and turned into a WUG device
// template by the Mapping. The planner is pure: from the candidates, the
// connection's records and the WUG devices it decides, per address, to add,
// adopt (WUG already has a device with the address: link it, never duplicate
// it), update metadata, re-add, scan, skip or remove, each with a reason.
// A dry run returns these decisions as a Plan; a run streams NetBox through
// the planner so memory stays flat however large the fleet.
//
// # Applying
//
// Adds are batched template applies (Settings.BatchSize, default
// wug.DefaultBatchSize per request), a changed device's metadata costs one
// request, group paths are ensured once per run, and scans are
// bulk newDevice requests. At most Settings.Concurrency WUG requests are
// in flight (default 2), under the wug client's own rate limit.
//
// Before each request that changes WUG, the items it covers are recorded as
// pending; after it, each item's outcome. A template apply or newDevice
// scan that WUG may have acted on without saying so (its answer lost, late
// or unreadable, or a 500) is resolved by looking each address up in WUG,
// and a newDevice scan by finding the scan WUG started, before anything is
// sent again, at most once. A refusal is recorded on its items at once:
// the executor retries nothing else, the wug client's retry policy being
// the one retry layer. A run stopped or killed at any point leaves the
// batches it had not sent untouched and the request in flight pending; the
// next run finishes them, adopting what the stopped run created instead of
// adding it twice. One item's failure is recorded on that item and the run
// goes on; with Settings.ScanFallback a failed add becomes a scan.
//
// Two guards keep a run whose view of WUG looks wrong from harming it. The
// removal cap (Settings.MaxRemoveShare, lifted by RunOptions.ForceRemove)
// holds back removals of more than a share of our devices. The add guard
// (Settings.MaxMissingShare, default 10% and at least 5 devices, lifted
// by RunOptions.AcceptMissingDevices) stops a run before any write when
// WUG's listing lacks that many of the devices the store links, as when an
// answer was misread or WUG was restored from an old backup: adding would
// duplicate them.
//
// # Runs
//
// Connection.Run runs one export (manual, scheduled, webhook-targeted or a
// bulk export of given addresses) and records it as a store.Run;
// Connection.Plan returns the Plan and touches nothing. Connection.FollowScans
// follows the scans an export started and links what they found. The
// Scheduler runs both per connection on an interval with jitter, coalesces
// webhook events into targeted exports, and lets an HTTP adapter trigger a
// run now (Scheduler.Trigger, with ErrNotRunning, ErrStopping and
// *RunInProgressError for the caller to branch on).
//
// # One writer per connection
//
// Every run that writes (Connection.Run, Connection.FollowScans and the
// Scheduler's runs) holds the connection's store lease, renewed
// while the run lasts and released at its end, so the CLI, the service and
// a user's own program sharing a store never export one connection at
// once. A second run fails fast with a *RunInProgressError naming the
// holder and its run (find it with errors.As), or waits with
// RunOptions.Wait. A run that loses its lease stops, interrupted, with
// ErrLeaseLost. A crashed holder's run is marked interrupted
// (store.InterruptOrphanedRuns) by the next run to take the lease: at once
// when the holder was a process on this host that is gone, otherwise when
// its lease expires; a Scheduler that finds such leftovers exports the
// connection right away.
//
// # Servers behind interfaces
//
// Inside, the engine talks to servers through two small interfaces that New
// fills from the two clients, so it is tested with in-memory fakes and, end
// to end, with netbox/netboxtest and wug/wugtest.
package export
