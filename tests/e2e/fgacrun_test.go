package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/notify"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// built builds fgac-run and the Go example into a directory unprivileged
// users can reach.
func built(t *testing.T) string {
	t.Helper()
	if os.Getenv("FGACD_GPIO_GUEST") == "1" {
		t.Skip("builds fgac-run with the go tool and cgo, which the Linux 6.1 test guest has neither of; runs on the host")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "fgacd-bin-")
		if buildErr != nil {
			return
		}
		os.Chmod(binDir, 0o755)
		for _, pkg := range []string{"../../cmd/fgac-run", "../../examples/go-app"} {
			out, err := exec.Command("go", "build", "-o", binDir+"/", pkg).CombinedOutput()
			if err != nil {
				buildErr = err
				binDir = string(out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, binDir)
	}
	return binDir
}

func TestFgacRunBrokersAnUnmodifiedProgram(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	bin := built(t)
	ok, no := filepath.Join(d.dir, "ok"), filepath.Join(d.dir, "no")
	script := "mknod " + ok + " c 1 3; echo rc=$?; mknod " + no + " b 8 0; echo rc=$?"
	out, err := exec.Command(bin+"/fgac-run", "--socket", d.socket, "--user", "65534", "--", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("fgac-run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "rc=0\n") || !strings.Contains(string(out), "Operation not permitted") {
		t.Errorf("output:\n%s", out)
	}
	st := lstat(t, ok)
	if st.Mode&syscall.S_IFMT != syscall.S_IFCHR || st.Uid != 65534 {
		t.Errorf("granted node: mode %#o uid %d", st.Mode, st.Uid)
	}
	absent(t, no)
}

func TestFgacRunRefusesToRunWithoutFgacd(t *testing.T) {
	testutil.RequireRoot(t)
	bin := built(t)
	dir := testutil.PublicTempDir(t)
	marker := filepath.Join(dir, "ran")
	cmd := exec.Command(bin+"/fgac-run", "--socket", filepath.Join(dir, "nobody-listens.sock"), "--user", "65534",
		"--", "sh", "-c", "touch "+marker)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err == nil || !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("fgac-run without fgacd: %v (want exit 1)\n%s", err, out)
	}
	if !strings.Contains(string(out), "not running sh without fgacd") {
		t.Errorf("message does not say why:\n%s", out)
	}
	absent(t, marker)
}

func TestGoClientAttachesItself(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	bin := built(t)
	p := filepath.Join(d.dir, "from-go")
	cmd := exec.Command(bin+"/go-app", "-socket", d.socket, p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "mknod "+p+": ok") {
		t.Fatalf("go-app: %v\n%s", err, out)
	}
	if st := lstat(t, p); st.Uid != 65534 {
		t.Errorf("owner %d, want 65534", st.Uid)
	}
}

// With --gpio every open asks fgacd; an unmodified shell still reads what
// it may read and is refused what it may not, by the kernel (here there
// is no GPIO chip; the guest suite covers chips).
func TestFgacRunGPIOLeavesOtherOpensToTheKernel(t *testing.T) {
	d := startDaemonPolicy(t, notify.ServerConfig{}, gpioPolicy("fgacd-sim"))
	bin := built(t)
	secret := filepath.Join(d.dir, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := "cat /etc/passwd >/dev/null; echo rc=$?; cat " + secret + "; echo rc=$?"
	out, err := exec.Command(bin+"/fgac-run", "--socket", d.socket, "--user", "65534", "--gpio", "--", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("fgac-run --gpio: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "rc=0\n") || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("output:\n%s", out)
	}
	if n := d.counter(t, "fgacd_notifications_total", map[string]string{"syscall": "gpio_open", "decision": "continue"}); n == 0 {
		t.Error("no open reached fgacd: the filter does not trap opens")
	}
}
