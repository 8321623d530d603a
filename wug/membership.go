package wug

import (
	"context"
	"errors"
	"slices"
)

// MoveDevices moves devices from static group from to static group to with
// two requests: they join to first
// (POST /api/v1/device-groups/{groupId}/devices/-), then only those that
// joined leave from (DELETE /api/v1/device-groups/{groupId}/devices/-), so
// no device is ever left without a static group and other groups are not
// touched. It returns the ids of the devices that are now in to and no
// longer in from; devices WUG refused in either step are named in a
// *ResultError. When the join request itself fails, nothing leaves.
func (s *GroupsService) MoveDevices(ctx context.Context, from, to string, deviceIDs []string) ([]string, error) {
	const op = "Groups.MoveDevices"
	if from == to {
		return nil, opErr(op, inputErr("groups", "source and target are both %s", from))
	}
	join, err := s.AddDevices(ctx, to, deviceIDs)
	if join == nil {
		return nil, opErr(op, err)
	}
	moved := withoutFailed(deviceIDs, join)
	if len(moved) == 0 {
		return nil, opErr(op, err)
	}
	leave, lerr := s.RemoveDevices(ctx, from, moved)
	if leave == nil {
		return nil, opErr(op, errors.Join(err, lerr))
	}
	return withoutFailed(moved, leave), opErr(op, errors.Join(err, lerr))
}

// withoutFailed returns ids less those res names as failed or not allowed.
func withoutFailed(ids []string, res *CountedResult) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
		return slices.Contains(res.ResourcesWithErrors, id) || slices.Contains(res.ResourcesNotAllowed, id)
	})
}
