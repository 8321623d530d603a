package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/wugsync/wugsync/export"
)

// driftPath serves a connection's drift report.
const driftPath = apiPrefix + "connections/{id}/drift/"

// driftMaxAge is how long the status page shows a drift report before it
// asks for a new one: each report reads the NetBox selection and WUG's
// device listing, too much for every page view.
const driftMaxAge = 5 * time.Minute

// WriteBackConfig turns write-back to NetBox on for a connection (see
// export.WriteBack): after each export the NetBox objects get their WUG
// device id, link (the connection's wug.device_link), sync state and last
// sync time. Off by default: it writes to NetBox. The custom fields must
// exist; start the service once with -setup-write-back to create them.
type WriteBackConfig struct {
	Enabled bool `yaml:"enabled"`
	Journal bool `yaml:"journal"` // a journal entry on objects added to or removed from WUG
	State   bool `yaml:"state"`   // also WUG's up/down state of each device (wug_state)
	// PageSize is objects per bulk write; default netbox.DefaultWritePageSize.
	PageSize int `yaml:"page_size"`
}

// writeBackOptions returns the exporter option of the connection's
// write-back, if it is on.
func (cc *ConnectionConfig) writeBackOptions() []export.Option {
	if !cc.WriteBack.Enabled {
		return nil
	}
	return []export.Option{export.WithWriteBack(export.WriteBack{DeviceLink: cc.WUG.DeviceLink,
		Journal: cc.WriteBack.Journal, State: cc.WriteBack.State, PageSize: cc.WriteBack.PageSize})}
}

// setupWriteBack creates the NetBox custom fields write-back needs, once,
// if any connection writes back: the service's -setup-write-back start
// option.
func (s *service) setupWriteBack(ctx context.Context) error {
	for _, c := range s.conns {
		if c.ex == nil || !c.cfg.WriteBack.Enabled {
			continue
		}
		res, err := c.ex.SetupWriteBack(ctx)
		if err != nil {
			return err
		}
		s.log.Info("NetBox custom fields for write-back", "created", res.Created, "existing", res.Existing)
		return nil // the fields are NetBox's, shared by every connection
	}
	s.log.Warn("-setup-write-back: no connection has write_back enabled; nothing created")
	return nil
}

// handleDrift answers a connection's drift report (export.DriftReport).
func (s *service) handleDrift(w http.ResponseWriter, r *http.Request) {
	c, ok := s.connection(w, r.PathValue("id"))
	if !ok {
		return
	}
	rep, err := s.drift.report(r.Context(), c, 0)
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// driftCache keeps each connection's last drift report.
type driftCache struct {
	mu   sync.Mutex
	last map[string]*export.DriftReport
}

// report returns c's drift report, a kept one when it is younger than
// maxAge (0: always a new one).
func (d *driftCache) report(ctx context.Context, c *conn, maxAge time.Duration) (*export.DriftReport, error) {
	if c.ex == nil {
		return nil, errDisabled(c)
	}
	d.mu.Lock()
	rep := d.last[c.cfg.Name]
	d.mu.Unlock()
	if rep != nil && maxAge > 0 && time.Since(rep.CheckedAt) < maxAge {
		return rep, nil
	}
	rep, err := c.ex.Drift(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.last == nil {
		d.last = map[string]*export.DriftReport{}
	}
	d.last[c.cfg.Name] = rep
	d.mu.Unlock()
	return rep, nil
}

type disabledError struct{ name string }

func (e disabledError) Error() string {
	return "connection " + e.name + " does not export, so it has no drift report"
}

func errDisabled(c *conn) error { return disabledError{c.cfg.Name} }

// pageDrift feeds the status page's drift section from the cache.
type pageDrift struct{ s *service }

// DriftReport adapts the connection's export.DriftReport to the page's.
func (p pageDrift) DriftReport(ctx context.Context, connection string) (driftReport, error) {
	c, ok := p.s.byID[connection]
	if !ok {
		return driftReport{}, disabledError{connection}
	}
	rep, err := p.s.drift.report(ctx, c, driftMaxAge)
	if err != nil {
		return driftReport{}, err
	}
	out := driftReport{CheckedAt: rep.CheckedAt}
	for _, it := range rep.Items {
		out.Items = append(out.Items, driftItem{Kind: driftKind(it.Kind), Address: it.Address, ObjectKind: it.ObjectKind,
			ObjectID: it.ObjectID, ObjectName: it.ObjectName, WUGDeviceID: it.WUGDeviceID, WUGDeviceName: it.WUGDeviceName,
			Reason: it.Reason})
	}
	return out, nil
}
