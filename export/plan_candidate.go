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

// candidateWarnings returns validation warnings as "code: message".
func candidateWarnings(c *candidate) []string {
	if len(c.Verdict.Warnings) == 0 {
		return nil
	}
	out := make([]string, 0, len(c.Verdict.Warnings))
	for _, f := range c.Verdict.Warnings {
		out = append(out, f.String())
	}
	return out
}

// candidateObject names the NetBox object a candidate comes from.
func candidateObject(c *candidate) (store.ObjectKind, int64, string) {
	if c.Device == nil {
		return c.ObjectKind(), 0, ""
	}
	return c.ObjectKind(), c.Device.ID, c.Device.Name
}
