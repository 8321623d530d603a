// Package wugsync keeps Progress WhatsUp Gold (WUG) monitoring in step with
// NetBox, the network source of truth.
//
// The work is split over importable packages:
//
//   - wug: a typed client for the WUG REST API v1, and wug/wugtest, a fake WUG
//     server for tests.
//   - netbox: device and VM selectors on go-netbox v4, a webhook receiver, and
//     netbox/netboxtest, a fake NetBox for tests.
//   - store: the state store that records every exported IP address, with
//     memory, SQLite and PostgreSQL backends and a conformance suite.
//   - export: validation, transformation, planning and applying, the export
//     and scan-monitor jobs, and a scheduler.
package wugsync
