package export

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/wugsync/wugsync/wug"
)

// fingerprintVersion starts every fingerprint; it changes when what the
// fingerprint covers changes, so old records read as changed once.
const fingerprintVersion = "v1:"

// fingerprint returns a stable hash of what a template sends to WUG plus
// its group path, for change detection: equal inputs give equal strings
// across runs and processes. It ignores TemplateID (a per-request label) and
// the order of attributes. It does not modify tpl.
func fingerprint(tpl *wug.DeviceTemplate, groupPath string) string {
	t := *tpl
	t.TemplateID = ""
	if !slices.IsSortedFunc(t.Attributes, compareAttr) {
		t.Attributes = slices.Clone(t.Attributes)
		slices.SortStableFunc(t.Attributes, compareAttr)
	}
	h := sha256.New()
	h.Write([]byte(groupPath))
	h.Write([]byte{0})
	// Marshalling a struct of strings, slices and bools cannot fail.
	_ = json.NewEncoder(h).Encode(&t)
	var sum [sha256.Size]byte
	return fingerprintVersion + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

func compareAttr(a, b wug.NameValue) int {
	return cmp.Or(
		compareFold(a.Name, b.Name),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Value, b.Value),
	)
}
