// Package childproc runs the test binary again as a child process that
// serves fakes for a benchmark, so that the benchmark's figures are its own
// process's alone.
package childproc

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Start runs the test binary again with args and the environment plus env,
// and returns the rest of the first line the child prints that starts with
// prefix, and a function that stops the child. The child serves until its
// stdin is closed (see Serve): stop closes it, waits for the child to end,
// failing tb if it ends with an error, and kills it if it has not ended 5
// seconds later. Stop runs when tb ends if not called before; calling it
// again does nothing. Start fails tb if the child cannot start or prints
// no such line.
func Start(tb testing.TB, prefix string, args []string, env ...string) (line string, stop func()) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	stop = sync.OnceFunc(func() { end(tb, cmd, stdin) })
	tb.Cleanup(stop)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return rest, stop
		}
	}
	tb.Fatalf("the child process printed no line starting %q: %v", prefix, sc.Err())
	return "", stop
}

// end closes the child's stdin and waits for it to end, failing tb if it
// ends with an error; a child still running 5 seconds later is killed.
func end(tb testing.TB, cmd *exec.Cmd, stdin io.Closer) {
	_ = stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Errorf("child process: %v", err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Serve blocks until the parent closes the child's stdin: a child calls it
// after printing its line, to serve for as long as the benchmark runs.
func Serve() { _, _ = io.Copy(io.Discard, os.Stdin) }
