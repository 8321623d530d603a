package export

import (
	"strings"

	"github.com/wugsync/wugsync/store"
)

// candidateBlocked reports whether validation found the address not
// exportable, and why.
func candidateBlocked(c *candidate) (bool, string) {
	if c == nil || (c.Exportable() && c.Key.Address.IsValid()) {
		return false, ""
	}
	msgs := make([]string, 0, len(c.Verdict.Errors))
	for _, f := range c.Verdict.Errors {
		msgs = append(msgs, f.String())
	}
	if len(msgs) == 0 {
		msgs = append(msgs, "the address is missing")
	}
	return true, strings.Join(msgs, "; ")
}

// candidateFindings returns the verdict's findings, errors (marked) first.
func candidateFindings(c *candidate) []Finding {
	v := &c.Verdict
	if len(v.Errors)+len(v.Warnings) == 0 {
		return nil
	}
	out := make([]Finding, 0, len(v.Errors)+len(v.Warnings))
	for _, f := range v.Errors {
		f.Error = true
		out = append(out, f)
	}
	return append(out, v.Warnings...)
}

// candidateObject names the NetBox object a candidate comes from.
func candidateObject(c *candidate) (store.ObjectKind, int64, string) {
	if c.Device == nil {
		return c.ObjectKind(), 0, ""
	}
	return c.ObjectKind(), c.Device.ID, c.Device.Name
}
