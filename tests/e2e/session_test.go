package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fgacd/fgacd/internal/linux"
	tu "github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// Tracees killed at random points while their calls are in flight disturb
// no other session, and every session of a killed tracee ends and frees
// its fd and goroutine.
func TestKilledTraceesDisturbNoOne(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	steady := d.tracee(t, tu.TraceeOptions{})
	// The steady session keeps its latest emulation's parent fd (to
	// recognise a restarted call): have it hold one before counting.
	if e := steady.Mknod(t, "", filepath.Join(d.dir, "warm"), linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != 0 {
		t.Fatal(e)
	}
	waitFor(t, "steady session", func() bool { return len(d.srv.Sessions()) == 1 })
	before := len(tu.OpenFds(t))
	g0 := goroutines()

	for i := 0; i < 20; i++ {
		victim := d.tracee(t, tu.TraceeOptions{})
		victim.Send(t, tu.Command{Op: "hammer", Path: filepath.Join(d.dir, fmt.Sprintf("v%d", i)),
			Mode: linux.S_IFCHR | 0o666, Dev: linux.Mkdev(1, 3), N: 1 << 30})
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		victim.Kill()
		p := filepath.Join(d.dir, fmt.Sprintf("s%d", i))
		if e := steady.Mknod(t, "", p, linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != 0 {
			t.Fatalf("steady tracee, round %d: errno %v", i, e)
		}
	}
	waitFor(t, "killed tracees' sessions to end", func() bool { return len(d.srv.Sessions()) == 1 })
	waitFor(t, "fds to return to the baseline", func() bool { return len(tu.OpenFds(t)) <= before })
	waitFor(t, "goroutines to return to the baseline", func() bool { return goroutines() <= g0 })
	if n := d.counter(t, "fgacd_sessions", nil); n != 1 {
		t.Errorf("fgacd_sessions = %v, want 1", n)
	}
}

// Without WAIT_KILLABLE_RECV (runc 1.1 does not set it), a signal with
// SA_RESTART that lands after RECV withdraws the notification and the call
// restarts; fgacd must undo the node it made, or the restarted call sees a
// spurious EEXIST.
func TestSignalRestartSeesNoSpuriousEEXIST(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := d.tracee(t, tu.TraceeOptions{WaitKillable: false})
	n := tu.Scaled(3000)
	r := tr.Do(t, tu.Command{Op: "hammer", Path: filepath.Join(d.dir, "restart"),
		Mode: linux.S_IFCHR | 0o666, Dev: linux.Mkdev(1, 3), N: n})
	t.Logf("%d calls: %d ok, %d EEXIST, %d other; %d signals; %v cancelled notifications, %v undone",
		n, r.OK, r.Exist, r.Other, r.Sigs,
		d.counter(t, "fgacd_notifications_cancelled_total", nil), d.counter(t, "fgacd_emulations_undone_total", nil))
	if r.Exist != 0 || r.Other != 0 || r.OK != n {
		t.Fatalf("spurious failures: %+v", r)
	}
	if r.Sigs == 0 {
		t.Fatal("no signal was sent; the test proved nothing")
	}
}

func TestMetricsMoveAndLint(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := d.tracee(t, tu.TraceeOptions{})
	emul := func() float64 {
		return d.counter(t, "fgacd_notifications_total", map[string]string{"syscall": "mknod", "decision": "emulate"})
	}
	deny := func() float64 {
		return d.counter(t, "fgacd_notifications_total", map[string]string{"syscall": "mknod", "decision": "deny"})
	}
	e0, d0 := emul(), deny()
	tr.Mknod(t, "", filepath.Join(d.dir, "m1"), linux.S_IFCHR|0o666, linux.Mkdev(1, 3))
	tr.Mknod(t, "", filepath.Join(d.dir, "m2"), linux.S_IFBLK|0o666, linux.Mkdev(8, 0))
	if emul() != e0+1 || deny() != d0+1 {
		t.Errorf("emulate %v→%v, deny %v→%v; want each +1", e0, emul(), d0, deny())
	}
	if n := d.counter(t, "fgacd_sessions", nil); n != 1 {
		t.Errorf("fgacd_sessions = %v, want 1", n)
	}
	problems, err := testutil.GatherAndLint(d.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
	n, err := testutil.GatherAndCount(d.reg, "fgacd_handler_duration_seconds")
	if err != nil || n == 0 {
		t.Errorf("fgacd_handler_duration_seconds not exported: %d %v", n, err)
	}
	var sb strings.Builder
	mfs, _ := d.reg.Gather()
	for _, mf := range mfs {
		sb.WriteString(mf.GetName() + " ")
	}
	t.Logf("exported: %s", sb.String())
}

// A running session picks its profile up by name from a reloaded policy:
// the same tracee's next call is decided by the new rules.
func TestReloadReachesRunningSessions(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := d.tracee(t, tu.TraceeOptions{})
	fifo := filepath.Join(d.dir, "sub", "fifo")
	os.MkdirAll(filepath.Dir(fifo), 0o777)
	os.Chmod(filepath.Dir(fifo), 0o777)
	if e := tr.Mknod(t, "", fifo, linux.S_IFIFO|0o600, 0); e != 0 {
		t.Fatalf("before reload: %v", e)
	}
	os.Remove(fifo)
	// The same profile name, now without the FIFO rule.
	src := strings.Replace(policyFor(d.dir), "name = \"fifo\"", "name = \"fifo\"\n  errno = \"EACCES\"", 1)
	src = strings.Replace(src, "name = \"fifo\"\n  errno = \"EACCES\"\n  syscall = \"mknod\"\n  action = \"emulate\"", "name = \"fifo\"\n  syscall = \"mknod\"\n  action = \"deny\"\n  errno = \"EACCES\"", 1)
	spec, err := policy.Parse("reloaded.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	d.disp.SetPolicy(set)
	if e := tr.Mknod(t, "", fifo, linux.S_IFIFO|0o600, 0); e != linux.EACCES {
		t.Errorf("after reload: errno %v, want EACCES from the new rule", e)
	}
	absent(t, fifo)
}

// A listener adopted without its identity record (after a restart) is
// served deny-only, whoever is behind it.
func TestAdoptedListenerWithoutRecordIsDenyOnly(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := tu.StartTracee(t, tu.TraceeOptions{Dir: d.dir}) // hands us its listener
	fd := tr.Listener
	tr.Listener = -1
	if err := d.srv.Adopt(fd, notify.Identity{Unknown: true, UID: 65534}, "session-test"); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d.dir, "null")
	if e := tr.Mknod(t, "", p, linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != linux.EPERM {
		t.Errorf("unknown identity: errno %v, want EPERM though uid 65534 is granted", e)
	}
	absent(t, p)
	if got := d.srv.Sessions(); len(got) != 1 || got[0].Profile != "" {
		t.Errorf("sessions: %+v, want one with no profile", got)
	}
}
