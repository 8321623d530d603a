package wug

import (
	"context"
	"strings"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Replace changes a device's attributes by name in one request and reads
// nothing (PATCH /api/v1/devices/{deviceId}/attributes/-): it deletes the
// attributes named in remove and in set, then adds set. WUG runs a batch's
// deletes before its additions and matches names case-insensitively, so a
// name in set ends with exactly its new value whatever the device held, and
// attributes named in neither list are untouched. Sending the same Replace
// again gives the same attributes, so it is retried like a batch delete.
// An empty name, a name twice in set, a value over the limits, or nothing
// to do is an *InputError and sends nothing.
func (s *AttributesService) Replace(ctx context.Context, deviceID string, remove []string, set []NameValue) (*CountedResult, error) {
	const op = "Attributes.Replace"
	if len(remove) == 0 && len(set) == 0 {
		return nil, opErr(op, inputErr("attributes", "nothing to remove or set"))
	}
	if err := checkAttributes("set", set); err != nil {
		return nil, opErr(op, err)
	}
	b := AttributeBatch{AttributesToAdd: set}
	seen := make(map[string]bool, len(remove)+len(set))
	for _, n := range remove {
		if strings.TrimSpace(n) == "" {
			return nil, opErr(op, inputErr("remove", "empty attribute name"))
		}
		if key := strings.ToLower(n); !seen[key] {
			seen[key] = true
			b.AttributeNamesToDelete = append(b.AttributeNamesToDelete, n)
		}
	}
	for _, nv := range set {
		if key := strings.ToLower(nv.Name); !seen[key] {
			seen[key] = true
			b.AttributeNamesToDelete = append(b.AttributeNamesToDelete, nv.Name)
		}
	}
	return s.batch(ctx, op, deviceID, b, httpx.RepeatSafe)
}
