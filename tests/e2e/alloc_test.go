package e2e

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/metrics"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/dispatch"
	"github.com/fgacd/fgacd/pkg/handlers"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// Steady state allocates nothing per notification, for a refusal that
// needs no arguments and for one that reads and checks the path. Counted
// with the Go runtime's malloc counter around a run of calls from a
// tracee (another process, so only the daemon side is counted), with
// decision records below the logger's level as in `make bench`.
func TestSteadyStateAllocations(t *testing.T) {
	testutil.RequireRoot(t)
	for _, c := range []struct {
		name, rule string
	}{
		{"deny without arguments", "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"deny\"\n"},
		{"path-checked refusal", "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"emulate\"\n" +
			"[profile.rule.mknod]\npath = [\"/tmp/fgacd-demo/null\"]\ntype = [\"char\"]\nmajor = [1]\nminor = [3]\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "version = 1\n[[profile]]\nname = \"bench\"\n[profile.match]\nuid = [65534]\n" + c.rule
			spec, err := policy.Parse("bench.toml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			set, err := policy.Compile(spec)
			if err != nil {
				t.Fatal(err)
			}
			dir := testutil.PublicTempDir(t)
			sock := filepath.Join(dir, "s.sock")
			m := metrics.New(prometheus.NewRegistry())
			log := zap.NewNop()
			srv, err := notify.Listen(notify.ServerConfig{Path: sock}, dispatch.New(set, handlers.New(nil), log, m), log, m)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve() }()
			defer func() { srv.Close(); <-done }()

			tr := testutil.StartTracee(t, testutil.TraceeOptions{Socket: sock, Dir: dir})
			path := "/tmp/fgacd-bench/" + strings.Repeat("x", 200)
			cmd := testutil.Command{Op: "repeat", Path: path, Mode: linux.S_IFCHR | 0o600, Dev: linux.Mkdev(1, 3), N: testutil.Scaled(2000)}
			tr.Do(t, cmd) // warm up: session setup, pools, lazily built state
			n := testutil.Scaled(20000)
			cmd.N = n
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := tr.Do(t, cmd)
			runtime.ReadMemStats(&after)
			if r.Other != n {
				t.Fatalf("tracee: %+v, want %d EPERM", r, n)
			}
			per := float64(after.Mallocs-before.Mallocs) / float64(n)
			t.Logf("%s: %.4f allocations per notification (%d over %d calls)", c.name, per, after.Mallocs-before.Mallocs, n)
			// The test's own exchange with the tracee (one JSON line each
			// way) allocates a few dozen times; anything per call shows.
			if per > 0.05 {
				t.Errorf("%.4f allocations per notification; want 0 in steady state", per)
			}
		})
	}
	_ = os.Getpid
}
