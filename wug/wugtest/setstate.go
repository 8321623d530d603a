package wugtest

import "fmt"

// SetState gives a device the best and worst state WUG's polling would
// report: "Up", "Down" or "Unknown", so a test can have a device go down
// and come back; it ends the device's maintenance, if any. It fails for
// an unknown device or state.
func (h *Handler) SetState(id, state string) error {
	switch state {
	case "Up", "Down", "Unknown":
	default:
		return fmt.Errorf("wugtest: SetState: state %q is not Up, Down or Unknown", state)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.st.device(id)
	if d == nil {
		return fmt.Errorf("wugtest: SetState: no device %q", id)
	}
	d.maint = maintenance{}
	d.best, d.worst = state, state
	d.lastChange = h.st.now().UTC()
	return nil
}
