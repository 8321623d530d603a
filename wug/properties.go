package wug

import (
	"context"

	"github.com/wugsync/wugsync/internal/httpx"
)

// UpdatePropertiesMany changes the properties set in u on every listed
// device in one request (PATCH /api/v1/devices/-/properties), e.g. the same
// note or action policy on many devices. WUG does not change display names
// this way, so a u with DisplayName is an *InputError and sends nothing;
// use UpdateProperties per device for those.
func (s *DevicesService) UpdatePropertiesMany(ctx context.Context, deviceIDs []string, u PropertiesUpdate) (*CountedResult, error) {
	const op = "Devices.UpdatePropertiesMany"
	if u.DisplayName != nil {
		return nil, opErr(op, inputErr("displayName", "WUG changes display names only one device at a time (UpdateProperties)"))
	}
	body := struct {
		Devices []string `json:"devices"`
		PropertiesUpdate
	}{deviceIDs, u}
	return s.c.counted(ctx, op, request{method: "PATCH", path: "/devices/-/properties", body: body, repeat: httpx.RepeatSafe}, len(deviceIDs))
}
