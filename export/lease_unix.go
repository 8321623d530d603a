//go:build unix

package export

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// pidNamespace names this process's PID namespace ("-" when it cannot be
// read), so a holder's process id is only judged within the namespace
// that gave it.
func pidNamespace() string {
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return "-"
	}
	// "pid:[4026531836]"
	return strings.TrimSuffix(strings.TrimPrefix(link, "pid:["), "]")
}

// processGone reports whether no process has id pid.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
