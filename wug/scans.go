package wug

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ScansService starts and follows WUG scans. WUG has no range or subnet
// discovery endpoint: ScanRange expands a range into single addresses for
// the bulk newDevice call.
type ScansService struct{ c *Client }

// ScanIP asks WUG to scan one IP address or host name and add what it finds
// to static group groupID (PUT /api/v1/device-groups/{groupId}/newDevice?ipOrName=
// with NewDeviceOptions; {} when opts is nil). The device appears once the
// returned scan has run.
func (s *ScansService) ScanIP(ctx context.Context, groupID, ipOrName string, opts *ScanOptions) (*ScanStarted, error) {
	const op = "Scans.ScanIP"
	target, err := checkTarget("ipOrName", ipOrName)
	if err != nil {
		return nil, opErr(op, err)
	}
	if opts == nil {
		opts = &ScanOptions{}
	}
	q := url.Values{"ipOrName": {target}}
	return s.c.scanStarted(ctx, op, request{method: "PUT", path: "/device-groups/" + escape(groupID) + "/newDevice", query: q, body: opts})
}

// ScanIPs asks WUG to scan several addresses or host names in one scan
// (PATCH /api/v1/device-groups/{groupId}/newDevice with BulkNewDeviceOptions).
func (s *ScansService) ScanIPs(ctx context.Context, groupID string, ipOrNames []string, opts *ScanOptions) (*ScanStarted, error) {
	const op = "Scans.ScanIPs"
	if len(ipOrNames) == 0 {
		return nil, opErr(op, inputErr("ipOrNames", "empty list"))
	}
	targets := make([]string, len(ipOrNames))
	for i, t := range ipOrNames {
		v, err := checkTarget(fmt.Sprintf("ipOrNames[%d]", i), t)
		if err != nil {
			return nil, opErr(op, err)
		}
		targets[i] = v
	}
	body := bulkScanOptions{IPOrNames: targets}
	if opts != nil {
		body.ScanOptions = *opts
	}
	return s.c.scanStarted(ctx, op, request{method: "PATCH", path: "/device-groups/" + escape(groupID) + "/newDevice", body: body})
}

// ScanRange scans every address of rng, given as "start-end"
// ("10.0.0.1-10.0.0.20") or CIDR ("10.0.0.0/28", network and broadcast
// addresses left out for IPv4 prefixes up to /30), with one bulk newDevice
// call (PATCH /api/v1/device-groups/{groupId}/newDevice). Ranges above the
// client's bound (default 1024 addresses, see WithMaxScanRange) are refused
// before any request.
func (s *ScansService) ScanRange(ctx context.Context, groupID, rng string, opts *ScanOptions) (*ScanStarted, error) {
	const op = "Scans.ScanRange"
	addrs, err := expandRange(rng, s.c.maxScanRange)
	if err != nil {
		return nil, opErr(op, err)
	}
	return s.ScanIPs(ctx, groupID, addrs, opts)
}

// ExpandRange expands "start-end" or a CIDR prefix into addresses, refusing
// more than limit of them. See ScansService.ScanRange.
func ExpandRange(rng string, limit int) ([]string, error) {
	addrs, err := expandRange(rng, limit)
	return addrs, opErr("ExpandRange", err)
}

// expandRange is ExpandRange with an error that names no operation.
func expandRange(rng string, limit int) ([]string, error) {
	rng = strings.TrimSpace(rng)
	var first, last netip.Addr
	if strings.Contains(rng, "/") {
		p, err := netip.ParsePrefix(rng)
		if err != nil {
			return nil, inputErr("range", "%q is not a CIDR prefix: %v", rng, err)
		}
		p = p.Masked()
		hostBits := p.Addr().BitLen() - p.Bits()
		if hostBits > 30 || 1<<hostBits > limit+2 {
			return nil, inputErr("range", "%s holds %s addresses, more than the limit of %d", rng, sizeText(hostBits), limit)
		}
		first = p.Addr()
		last = lastAddr(p)
		if p.Addr().Is4() && hostBits >= 2 {
			first, last = first.Next(), last.Prev()
		}
	} else {
		a, b, ok := strings.Cut(rng, "-")
		if !ok {
			return nil, inputErr("range", "%q is neither start-end nor CIDR", rng)
		}
		var err error
		if first, err = netip.ParseAddr(strings.TrimSpace(a)); err != nil {
			return nil, inputErr("range", "start %q is not an IP address", a)
		}
		if last, err = netip.ParseAddr(strings.TrimSpace(b)); err != nil {
			return nil, inputErr("range", "end %q is not an IP address", b)
		}
		if first.Is4() != last.Is4() {
			return nil, inputErr("range", "%q mixes IPv4 and IPv6", rng)
		}
		if last.Less(first) {
			return nil, inputErr("range", "%q ends before it starts", rng)
		}
	}
	var out []string
	for a := first; a.IsValid(); a = a.Next() {
		if len(out) == limit {
			return nil, inputErr("range", "%q holds more than the limit of %d addresses", rng, limit)
		}
		out = append(out, a.String())
		if a == last {
			break
		}
	}
	return out, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func sizeText(bits int) string {
	if bits >= 63 {
		return "2^" + strconv.Itoa(bits)
	}
	return strconv.FormatUint(1<<bits, 10)
}

// checkTarget accepts an IP address or a DNS host name. Something that
// looks like an address (only digits and dots, or a colon) must parse as one.
func checkTarget(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", inputErr(field, "empty address or host name")
	}
	if strings.Contains(v, ":") || strings.Trim(v, "0123456789.") == "" {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", inputErr(field, "%q is not an IP address", v)
		}
		return a.String(), nil
	}
	if len(v) > 253 {
		return "", inputErr(field, "host name longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(v, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", inputErr(field, "%q is not a valid host name", v)
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return "", inputErr(field, "%q is not a valid host name", v)
			}
		}
	}
	return v, nil
}

// Status returns a scan's progress (GET /api/v1/device-scan/{scanId}/status).
func (s *ScansService) Status(ctx context.Context, scanID string) (*Scan, error) {
	var sc Scan
	if err := s.c.do(ctx, request{method: "GET", path: "/device-scan/" + escape(scanID) + "/status"}, &sc, nil); err != nil {
		return nil, opErr("Scans.Status", err)
	}
	return &sc, nil
}

// Results returns the devices a scan added or updated
// (GET /api/v1/device-scan/{scanId}/devices), following pages. WUG ages
// this list out some time after the scan.
func (s *ScansService) Results(ctx context.Context, scanID string) iter.Seq2[Device, error] {
	return pager(ctx, s.c, "Scans.Results", "/device-scan/"+escape(scanID)+"/devices", nil, fieldItems[Device]("devices"))
}

// ActiveOptions filter Scans.Active.
type ActiveOptions struct {
	// Model filters by scan model; empty means all.
	Model ScanModel
	// IncludeFinished also lists scans that are no longer running
	// (activeOnly=false).
	IncludeFinished bool
	// Search filters by name.
	Search string
}

// Active lists running scans, or all tracked scans with IncludeFinished
// (GET /api/v1/device-scan/-/status), following pages.
func (s *ScansService) Active(ctx context.Context, opts *ActiveOptions) iter.Seq2[Scan, error] {
	q := url.Values{}
	if opts != nil {
		if opts.Model != "" {
			q.Set("model", string(opts.Model))
		}
		if opts.IncludeFinished {
			q.Set("activeOnly", "false")
		}
		if opts.Search != "" {
			q.Set("search", opts.Search)
		}
	}
	return pager(ctx, s.c, "Scans.Active", "/device-scan/-/status", q, arrayItems[Scan])
}

// Cancel stops a scan (PUT /api/v1/device-scan/{scanId}/cancel).
func (s *ScansService) Cancel(ctx context.Context, scanID string) error {
	return s.c.checked(ctx, "Scans.Cancel", request{method: "PUT", path: "/device-scan/" + escape(scanID) + "/cancel"}, new(SuccessResult))
}

// Done reports whether the scan looks finished. WUG does not signal
// completion explicitly: a scan counts as done when its phase says so
// (complete, completed, finished, done, cancelled, canceled, failed, error,
// stopped) or its progress reached 100.
func (s *Scan) Done() bool {
	switch strings.ToLower(strings.TrimSpace(s.Phase)) {
	case "complete", "completed", "finished", "done", "cancelled", "canceled", "failed", "error", "stopped":
		return true
	}
	return s.Progress >= 100
}

// Wait polls a scan's status (GET /api/v1/device-scan/{scanId}/status) every
// interval (2s when 0 or less) until Scan.Done or ctx ends. A scan WUG no
// longer knows (404) after it was seen is taken as finished and its last
// status returned.
func (s *ScansService) Wait(ctx context.Context, scanID string, interval time.Duration) (*Scan, error) {
	const op = "Scans.Wait"
	if interval <= 0 {
		interval = 2 * time.Second
	}
	var last *Scan
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sc, err := s.Status(ctx, scanID)
		switch {
		case err == nil:
			last = sc
			if sc.Done() {
				return sc, nil
			}
		case last != nil && errors.Is(err, ErrNotFound):
			return last, nil
		default:
			return last, opErr(op, err)
		}
		select {
		case <-ctx.Done():
			return last, opErr(op, ctx.Err())
		case <-t.C:
		}
	}
}
