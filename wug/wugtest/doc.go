// Package wugtest is an in-process fake WhatsUp Gold (WUG) REST API v1
// server for testing code that automates WUG.
//
// One line starts it and hands back a wired client:
//
//	srv := wugtest.NewServer(t); c := srv.Client()
//
// The fake follows Progress's 2026.0 contract and the behaviour documented
// for real servers, not the habits of any one client:
//
//   - POST /api/v1/token with the password and refresh_token grants (a form
//     body, whatever the Content-Type); opaque tokens with expires_in;
//     refresh tokens rotate on every use; 400 invalid_grant with
//     error_description for bad credentials; 401 for a missing, unknown or
//     expired bearer token (the scheme is matched case-insensitively).
//   - Device listing and search in a group (returnHierarchy, view, state,
//     case-insensitive substring search over name, host name and address),
//     paged with opaque page ids; limit is clamped to the server maximum
//     ([WithPageLimit]) and nextPageId is omitted on the last page.
//   - Template apply (PATCH /devices/-/config/template) always creates a new
//     device, duplicates included, reporting warnings per template in
//     errors[]; groups are resolved by name and parents, created when
//     missing.
//   - Attributes, device groups and membership with WUG's rules (unique
//     group names under a parent, only empty groups deleted, a device keeps
//     its last static group, case-insensitive attribute names).
//   - Network interfaces (list, default, one, add, update, delete, batch;
//     the default interface is never deleted): a new address on the
//     default interface re-addresses the device, so its listing, search and
//     [Handler.DevicesByAddress] follow; [Handler.Interfaces] reads them back.
//   - Roles: primary role, operating system, brand and sub-roles, per device
//     and for many devices at once (PATCH /devices/-/roles/…); a primary
//     role or sub-role must be in the role library ([Handler.AddRole]).
//   - newDevice and refresh scans run asynchronously ([WithScanDelay]) and are
//     followed through /device-scan/…; only addresses marked with
//     [Handler.SetReachable] are found.
//   - Request JSON keys are matched case-insensitively, as WUG's binder does.
//
// Every request and response is checked against the embedded contract
// (method and path, declared query parameters, body properties and types);
// with [NewServer] each violation fails the test, as does a request to an
// unknown route (404) or with a wrong method (405). See [WithoutContract] and
// [AllowUnknownRoutes]. The same check is available on its own as a
// [Checker], whose [Checker.Transport] wraps any client's transport (for
// tests against httpmock or another stand-in).
//
// Outside tests, [Start] serves the fake on a random loopback port and
// [Listen] on a chosen loopback address; [NewHandler] returns the bare
// http.Handler, to mount anywhere or serve with [Handler.Listen].
//
// Test controls are methods of [Handler] (and so of [Server]): seed devices
// and groups, inject faults ([Handler.FailNext], [Handler.SetFaultRate],
// [Handler.SetLatency], [Handler.DropNext], [Handler.ExpireTokens]) and
// misbehaviors ([Handler.MisbehaveNext], [Handler.SetMisbehaveRate]), count
// and record requests, and read state back. All are safe for concurrent use.
// The inventory is indexed by id and address, so a fake holding 100,000
// devices pages and searches without quadratic work.
//
// # Misbehaving on request
//
// Real servers, and the proxies in front of them, sometimes answer wrongly.
// [Handler.MisbehaveNext] makes the next matching requests misbehave, and
// [Handler.SetMisbehaveRate] makes each matching request misbehave with a
// seeded probability; routes are selected as in [Fault.Route]. The kinds:
//
//   - [ApplyThenDrop]: the request is handled (a template apply creates its
//     devices, a newDevice starts its scan), then the connection is closed
//     without an answer; the client sees EOF or a reset. It is recorded
//     with Status -1. Use it to check that a client looks before it sends
//     a creating request again.
//   - [ApplyThenLate]: the request is handled, then the answer is held for
//     [Misbehave.Delay], or until the client gives up when the delay is
//     zero. Use it to check client timeouts on creating requests.
//   - [ErrorEnvelope]: HTTP 200 with {"error":{"message":"…"}} and no
//     data; state is untouched. A client must report an error, not read
//     an empty value.
//   - [NonJSON]: HTTP 200 with a text/html page, as a proxy or an IIS error
//     page sends; state is untouched.
//   - [NumericIDs]: the request is handled and the id fields of the answer
//     (id, deviceId, resultId, parentGroupId, deviceIds, …) are JSON
//     numbers instead of strings. Ids that are not decimal integers, such
//     as scan GUIDs, and paging ids stay strings.
//   - [CorrectedSpelling]: the request is handled and the answer's
//     "resourcesWithErros" list (the contract's spelling) is spelled
//     "resourcesWithErrors".
//
// These answers are deliberately off the contract and are not reported as
// violations; the fake's own answer is still checked before NumericIDs or
// CorrectedSpelling rewrites it. [Handler.Observe] calls a function after
// the fake has applied the Nth matching request and before it answers, so a
// test can stop or kill the code under test mid-work:
//
//	srv.Observe("PATCH /api/v1/devices/-/config/template", func(n int) {
//		if n == 3 {
//			cancel() // the third batch is in WUG; its answer is not yet sent
//		}
//	})
//
// [Handler.ClearFaults] removes all of these and releases held answers.
package wugtest
