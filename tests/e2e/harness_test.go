package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/fgacd/fgacd/internal/metrics"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/dispatch"
	"github.com/fgacd/fgacd/pkg/handlers"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

func TestMain(m *testing.M) {
	testutil.MaybeRunTracee()
	os.Exit(m.Run())
}

// daemon is fgacd's pipeline in this process.
type daemon struct {
	srv    *notify.Server
	disp   *dispatch.Dispatcher
	reg    *prometheus.Registry
	socket string
	dir    string // scratch directory the policy grants nodes in (mode 1777)
	done   chan error
	logs   *syncBuffer // the daemon's log as JSON lines
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Lines() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Split(bytes.Clone(s.b.Bytes()), []byte("\n"))
}

// policyFor grants uid 65534 char 1:3 and FIFOs under dir, nothing else.
func policyFor(dir string) string {
	return strings.ReplaceAll(`version = 1

[[profile]]
name = "e2e"
  [profile.match]
  uid = [65534]

  [[profile.rule]]
  name = "null-twin"
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["DIR/*", "DIR/*/*"]
    type = ["char"]
    major = [1]
    minor = [3]

  [[profile.rule]]
  name = "fifo"
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["DIR/*", "DIR/*/*"]
    type = ["fifo"]
`, "DIR", dir)
}

func startDaemon(t *testing.T, cfg notify.ServerConfig) *daemon {
	t.Helper()
	return startDaemonPolicy(t, cfg, policyFor)
}

// startDaemonPolicy runs the pipeline with the policy policyOf(dir), where
// dir is the scratch directory (mode 1777) the daemon returns in d.dir.
func startDaemonPolicy(t *testing.T, cfg notify.ServerConfig, policyOf func(dir string) string) *daemon {
	t.Helper()
	return startDaemonLevel(t, cfg, policyOf, zapcore.DebugLevel)
}

// startDaemonLevel is startDaemonPolicy logging from level up: cost
// reports use InfoLevel, as the daemon does by default, so that debug
// records (every CONTINUE) do not weigh on what they measure.
func startDaemonLevel(t *testing.T, cfg notify.ServerConfig, policyOf func(dir string) string, level zapcore.Level) *daemon {
	t.Helper()
	testutil.RequireRoot(t)
	base := testutil.PublicTempDir(t)
	dir := filepath.Join(base, "nodes")
	if err := os.Mkdir(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o1777)
	spec, err := policy.Parse("e2e.toml", []byte(policyOf(dir)))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	// The test's log, and the same records as JSON lines (what the daemon
	// writes), for tests that read decision records back.
	logs := &syncBuffer{}
	jsonCore := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), level)
	console := level
	if level > zapcore.DebugLevel || os.Getenv("FGACD_GPIO_GUEST") == "1" {
		// Cost reports, and every test in the GPIO guest: records still
		// go to the JSON buffer, as the daemon writes them, but not to the
		// test's output, which in the guest is an emulated serial port
		// (milliseconds per line).
		console = zapcore.WarnLevel
	}
	log := zap.New(zapcore.NewTee(zaptest.NewLogger(t, zaptest.Level(console)).Core(), jsonCore))
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	cfg.Path = filepath.Join(base, "fgacd.sock")
	h := handlers.New(nil)
	d := dispatch.New(set, h, log, m)
	srv, err := notify.Listen(cfg, d, log, m)
	if err != nil {
		t.Fatal(err)
	}
	dd := &daemon{srv: srv, disp: d, reg: reg, socket: cfg.Path, dir: dir, done: make(chan error, 1), logs: logs}
	go func() { dd.done <- srv.Serve() }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-dd.done; err != nil {
			t.Errorf("serve: %v", err)
		}
		h.Close()
	})
	return dd
}

// tracee starts an unprivileged tracee registered with d, working in d.dir.
func (d *daemon) tracee(t *testing.T, o testutil.TraceeOptions) *testutil.Tracee {
	t.Helper()
	o.Socket = d.socket
	if o.Dir == "" {
		o.Dir = d.dir
	}
	return testutil.StartTracee(t, o)
}

// waitFor polls cond until it holds or the test's patience runs out; it
// never asserts a duration.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// counter reads a counter or gauge from the registry by name and labels.
func (d *daemon) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := d.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}

func goroutines() int { return runtime.NumGoroutine() }
