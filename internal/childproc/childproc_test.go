package childproc_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/wugsync/wugsync/internal/childproc"
)

// childEnv, when set, makes the test binary a child that prints a banner
// line after some noise and serves until its stdin closes.
const childEnv = "CHILDPROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		fmt.Println("noise before the banner")
		fmt.Println("READY " + v)
		fmt.Println("noise after the banner")
		childproc.Serve()
		return
	}
	os.Exit(m.Run())
}

// TestStart reads the child's banner past other output; one child, still
// serving, is stopped by the test's cleanup, the other by stop, twice; each
// stop fails the test if its child does not end cleanly.
func TestStart(t *testing.T) {
	t.Parallel()
	for _, early := range []bool{false, true} {
		got, stop := childproc.Start(t, "READY ", nil, childEnv+"=http://127.0.0.1:1")
		if got != "http://127.0.0.1:1" {
			t.Errorf("Start = %q, want the banner's rest %q", got, "http://127.0.0.1:1")
		}
		if early {
			stop()
			stop()
		}
	}
}
