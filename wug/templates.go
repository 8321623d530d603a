package wug

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Contract limits of DeviceTemplate fields (characters).
const (
	maxDisplayName    = 150
	maxSNMPOID        = 256
	maxBrand          = 256
	maxAddress        = 100
	maxNetworkName    = 256
	maxAttrName       = 150
	maxAttrValue      = 3000
	maxLinkName       = 150
	maxLinkValue      = 1024
	maxMonitorArgText = 150
)

// Validate checks t against the 2026.0 contract before it is sent: a display
// name of at most 150 characters, at least one interface each with a valid
// IP address, at most one default interface, the documented length limits,
// unique attribute names, a poll interval of 10–84600 seconds and an
// autoRefresh of "true" or "false". Its error holds an *InputError.
func (t *DeviceTemplate) Validate() error { return opErr("DeviceTemplate.Validate", t.validate()) }

// validate is Validate with an *InputError that names no operation.
func (t *DeviceTemplate) validate() error {
	if err := checkDisplayName("displayName", t.DisplayName); err != nil {
		return err
	}
	if err := checkLens(lenLimit{"snmpOid", t.SNMPOID, maxSNMPOID}, lenLimit{"brand", t.Brand, maxBrand}); err != nil {
		return err
	}
	if t.PollInterval != "" {
		n, err := strconv.Atoi(strings.TrimSpace(t.PollInterval))
		if err != nil || n < 10 || n > 84600 {
			return inputErr("pollInterval", "%q is not a number of seconds between 10 and 84600", t.PollInterval)
		}
	}
	if t.AutoRefresh != "" && !strings.EqualFold(t.AutoRefresh, "true") && !strings.EqualFold(t.AutoRefresh, "false") {
		return inputErr("autoRefresh", "%q is neither true nor false", t.AutoRefresh)
	}
	if len(t.Interfaces) == 0 {
		return inputErr("interfaces", "at least one interface is required")
	}
	defaults := 0
	for i, in := range t.Interfaces {
		f := fmt.Sprintf("interfaces[%d]", i)
		if err := checkLen(f+".networkAddress", in.NetworkAddress, maxAddress); err != nil {
			return err
		}
		if _, err := netip.ParseAddr(in.NetworkAddress); err != nil {
			return inputErr(f+".networkAddress", "%q is not an IP address", in.NetworkAddress)
		}
		if err := checkLen(f+".networkName", in.NetworkName, maxNetworkName); err != nil {
			return err
		}
		if in.DefaultInterface {
			defaults++
		}
	}
	if defaults > 1 {
		return inputErr("interfaces", "%d default interfaces, at most one allowed", defaults)
	}
	if err := checkAttributes("attributes", t.Attributes); err != nil {
		return err
	}
	for i, l := range t.CustomLinks {
		f := fmt.Sprintf("customLinks[%d]", i)
		if err := checkLens(lenLimit{f + ".name", l.Name, maxLinkName}, lenLimit{f + ".value", l.Value, maxLinkValue}); err != nil {
			return err
		}
	}
	for i, m := range t.ActiveMonitors {
		f := fmt.Sprintf("activeMonitors[%d]", i)
		if err := checkLens(lenLimit{f + ".argument", m.Argument, maxMonitorArgText}, lenLimit{f + ".comment", m.Comment, maxMonitorArgText}); err != nil {
			return err
		}
	}
	for i, g := range t.Groups {
		if strings.TrimSpace(g.Name) == "" {
			return inputErr(fmt.Sprintf("groups[%d].name", i), "empty group name")
		}
	}
	return nil
}

// checkAttributes checks attribute names (non-empty, ≤150, unique ignoring
// case) and values (≤3000).
func checkAttributes(field string, attrs []NameValue) error {
	seen := make(map[string]bool, len(attrs))
	for i, a := range attrs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(a.Name) == "" {
			return inputErr(f+".name", "empty attribute name")
		}
		if err := checkLens(lenLimit{f + ".name", a.Name, maxAttrName}, lenLimit{f + ".value", a.Value, maxAttrValue}); err != nil {
			return err
		}
		key := strings.ToLower(a.Name)
		if seen[key] {
			return inputErr(f+".name", "duplicate attribute name %q", a.Name)
		}
		seen[key] = true
	}
	return nil
}

// BulkAdd creates one device per template with
// PATCH /api/v1/devices/-/config/template, in batches of the client's batch
// size (DefaultBatchSize unless WithBatchSize), and returns one outcome per template in input order.
// WUG always creates a new device, so look before adding.
//
// Every template is validated before the first request; any invalid template
// (or an empty list, or duplicate template ids) fails the whole call with an
// *InputError and nothing is sent. Templates without a TemplateID get
// "t<index>". A failed batch call marks that batch's outcomes with its error
// and the following batches are still sent; the returned error is then the
// first batch error (outcomes are returned either way). A template the
// answer names neither in idMap nor in errors gets an error matching
// ErrOutcomeUnknown. A batch is never
// sent again once it may have reached WUG: when its answer is lost, late or
// unreadable, or WUG answers 500, 502 or 504, its error matches
// ErrOutcomeUnknown, and the addresses must be looked up before they are
// added again.
func (s *DevicesService) BulkAdd(ctx context.Context, templates []DeviceTemplate) ([]TemplateOutcome, error) {
	return s.bulkAdd(ctx, "Devices.BulkAdd", templates)
}

// bulkAdd is BulkAdd with errors, the outcomes' included, naming op.
func (s *DevicesService) bulkAdd(ctx context.Context, op string, templates []DeviceTemplate) ([]TemplateOutcome, error) {
	if len(templates) == 0 {
		return nil, opErr(op, inputErr("templates", "empty list"))
	}
	ts := make([]DeviceTemplate, len(templates))
	copy(ts, templates)
	index := make(map[string]int, len(ts))
	for i := range ts {
		if err := ts[i].validate(); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				err = &InputError{Field: fmt.Sprintf("templates[%d].%s", i, ie.Field), Reason: ie.Reason}
			}
			return nil, opErr(op, err)
		}
		if ts[i].TemplateID == "" {
			ts[i].TemplateID = "t" + strconv.Itoa(i)
		}
		if j, dup := index[ts[i].TemplateID]; dup {
			return nil, opErr(op, inputErr(fmt.Sprintf("templates[%d].templateId", i), "%q repeats templates[%d]", ts[i].TemplateID, j))
		}
		index[ts[i].TemplateID] = i
	}
	out := make([]TemplateOutcome, len(ts))
	for i := range ts {
		out[i] = TemplateOutcome{TemplateID: ts[i].TemplateID, Index: i}
	}
	var firstErr error
	size := s.c.batchSize
	for start := 0; start < len(ts); start += size {
		end := min(start+size, len(ts))
		var res ApplyTemplateResults
		err := s.c.do(ctx, request{method: "PATCH", path: "/devices/-/config/template", body: templateBatch{Options: []string{"all"}, Templates: ts[start:end]}, repeat: httpx.RepeatNever}, &res, nil)
		if err != nil {
			err = opErr(op, err)
			for i := start; i < end; i++ {
				out[i].Err = err
			}
			if firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		applyResults(op, out, index, start, end, &res)
	}
	return out, firstErr
}

// applyResults spreads one batch's idMap and errors over the outcomes; the
// outcomes' errors name op.
func applyResults(op string, out []TemplateOutcome, index map[string]int, start, end int, res *ApplyTemplateResults) {
	in := func(id string) (int, bool) {
		i, ok := index[id]
		return i, ok && i >= start && i < end
	}
	for _, m := range res.IDMap {
		if i, ok := in(m.TemplateID); ok {
			out[i].DeviceID = m.ResultID
		}
	}
	for _, e := range res.Errors {
		if i, ok := in(e.TemplateID); ok {
			out[i].Warnings = append(out[i].Warnings, e.Messages...)
		}
	}
	for i := start; i < end; i++ {
		switch {
		case out[i].DeviceID != "":
		case len(out[i].Warnings) > 0:
			out[i].Err = opErr(op, &TemplateError{TemplateID: out[i].TemplateID, Message: strings.Join(out[i].Warnings, "; ")})
			out[i].Warnings = nil
		default:
			// The contract reports a failed template in errors; an answer
			// that names it nowhere may have lost its device's id.
			out[i].Err = opErr(op, outcomeUnknown(fmt.Errorf("template %q: WUG's answer neither maps it to a device nor says why it failed", out[i].TemplateID)))
		}
	}
}

// TemplateError is a template that created no device. It matches
// ErrOperationFailed.
type TemplateError struct {
	TemplateID string
	// Message is WUG's messages for the template, joined.
	Message string
}

// Error names the template and WUG's reason.
func (e *TemplateError) Error() string {
	return fmt.Sprintf("template %q created no device: %s", e.TemplateID, e.Message)
}

// Is matches ErrOperationFailed.
func (e *TemplateError) Is(target error) bool { return target == ErrOperationFailed }

// AddDeviceByIP creates one device for ip without scanning it
// (PATCH /api/v1/devices/-/config/template). t may be nil; its display name
// defaults to ip and, without interfaces, ip becomes its default interface.
// The returned error is the outcome's error.
func (s *DevicesService) AddDeviceByIP(ctx context.Context, ip string, t *DeviceTemplate) (*TemplateOutcome, error) {
	const op = "Devices.AddDeviceByIP"
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return nil, opErr(op, inputErr("ip", "%q is not an IP address", ip))
	}
	var tmpl DeviceTemplate
	if t != nil {
		tmpl = *t
	}
	if tmpl.DisplayName == "" {
		tmpl.DisplayName = addr.String()
	}
	if len(tmpl.Interfaces) == 0 {
		tmpl.Interfaces = []TemplateInterface{{DefaultInterface: true, NetworkAddress: addr.String()}}
	}
	outs, err := s.bulkAdd(ctx, op, []DeviceTemplate{tmpl})
	if len(outs) == 0 {
		return nil, err
	}
	return &outs[0], outs[0].Err
}
