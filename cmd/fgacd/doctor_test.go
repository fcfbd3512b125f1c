package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/internal/testutil"
)

// fgacd doctor in a child (its probes load filters on the process that
// runs them). On a kernel new enough for every probe, every line must say
// yes: a NO there is a regression in the probe or the kernel, not a skip.
func TestDoctor(t *testing.T) {
	testutil.RequireRoot(t)
	out, err := exec.Command("go", "run", ".", "doctor").CombinedOutput()
	if err != nil {
		t.Fatalf("fgacd doctor: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
	for _, want := range []string{"seccomp user notification", "SECCOMP_ADDFD_FLAG_SEND", "PIDFD_THREAD", "Yama ptrace_scope"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if testutil.KernelAtLeast("6.9") {
		for _, l := range strings.Split(string(out), "\n") {
			// GPIO is a kernel config choice, not a version: this host's
			// kernel has none (the 6.1 guest checks that line).
			if strings.Contains(l, " NO ") && !strings.HasPrefix(l, "GPIO character device") {
				t.Errorf("a feature this kernel has is reported missing: %s", l)
			}
		}
	}
}
