// Package testutil holds what fgacd's tests share: skips that explain
// themselves (RequireRoot, RequireKernel), fd leak checks, and a tracee — a
// child process of the test binary that runs unprivileged under a real
// seccomp notify filter and makes syscalls on command.
//
// Imported from _test.go files only.
//
// Root tests: when FGACD_REQUIRE_ROOT=1 (set by `make test`), a missing
// privilege is a failure, not a skip, so the lane meant to run them cannot
// pass silently without them.
package testutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// RequireRoot skips t unless the test runs as root; under
// FGACD_REQUIRE_ROOT=1 it fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("FGACD_REQUIRE_ROOT") == "1" {
		t.Fatal("this test needs root and FGACD_REQUIRE_ROOT=1 says it must run")
	}
	t.Skip("needs root (mknod, mount, setuid tracees, other processes' memory); run `make test` as root")
}

// KernelVersion returns the running kernel's major and minor version.
func KernelVersion() (int, int) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return 0, 0
	}
	var maj, min int
	fmt.Sscanf(strings.TrimSpace(string(b)), "%d.%d", &maj, &min)
	return maj, min
}

// KernelAtLeast reports whether the running kernel is at least version v
// ("5.19").
func KernelAtLeast(v string) bool {
	var wm, wn int
	fmt.Sscanf(v, "%d.%d", &wm, &wn)
	m, n := KernelVersion()
	return m > wm || (m == wm && n >= wn)
}

// RequireKernel skips t on kernels older than v, naming the feature. On a
// kernel that should have it, it does nothing: a missing feature there must
// show up as the test's failure, not a skip.
func RequireKernel(t testing.TB, v, feature string) {
	t.Helper()
	if !KernelAtLeast(v) {
		m, n := KernelVersion()
		t.Skipf("%s needs Linux %s; this kernel is %d.%d", feature, v, m, n)
	}
}

// OpenFds lists the process's open fds.
func OpenFds(t testing.TB) map[int]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the fd of ReadDir itself, closed already
		}
		out[n] = target
	}
	return out
}

// FdLeaks returns the fds open now that were not open in before.
func FdLeaks(t testing.TB, before map[int]string) []string {
	t.Helper()
	var leaks []string
	for fd, target := range OpenFds(t) {
		if _, ok := before[fd]; !ok {
			leaks = append(leaks, fmt.Sprintf("fd %d -> %s", fd, target))
		}
	}
	return leaks
}

// PublicTempDir is a t.TempDir that unprivileged tracees can reach
// (t.TempDir's parent is 0700). Removed at the end of the test.
func PublicTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "fgacd-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
