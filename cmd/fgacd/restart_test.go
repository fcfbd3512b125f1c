package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
)

func TestMain(m *testing.M) {
	testutil.MaybeRunTracee()
	os.Exit(m.Run())
}

// fdStorePeer is the part of systemd that fgacd's restart relies on: a
// NOTIFY_SOCKET that takes FDSTORE=1 fds by FDNAME and drops them on
// FDSTOREREMOVE=1, and hands them back as LISTEN_FDS to the next process.
type fdStorePeer struct {
	conn *net.UnixConn
	mu   sync.Mutex
	fds  map[string]*os.File
	msgs []string
}

func newFdStorePeer(t *testing.T, path string) *fdStorePeer {
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	p := &fdStorePeer{conn: c, fds: map[string]*os.File{}}
	go func() {
		buf, oob := make([]byte, 4096), make([]byte, 4096)
		for {
			n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			fields := map[string]string{}
			for _, kv := range strings.Split(msg, "\n") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					fields[k] = v
				}
			}
			fds, _ := linux.ParseRights(oob[:oobn])
			p.mu.Lock()
			p.msgs = append(p.msgs, msg)
			switch {
			case fields["FDSTORE"] == "1" && len(fds) == 1:
				p.fds[fields["FDNAME"]] = os.NewFile(uintptr(fds[0]), fields["FDNAME"])
			case fields["FDSTOREREMOVE"] == "1":
				if f := p.fds[fields["FDNAME"]]; f != nil {
					f.Close()
					delete(p.fds, fields["FDNAME"])
				}
			default:
				for _, fd := range fds {
					linux.Close(fd)
				}
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *fdStorePeer) stored() ([]string, []*os.File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var names []string
	var files []*os.File
	for n, f := range p.fds {
		names = append(names, n)
		files = append(files, f)
	}
	return names, files
}

// A restart through the fd-store protocol during steady traffic: the app
// sees no ENOSYS and no hang, and the new process serves the same session
// with the same profile.
func TestRestartKeepsSessionsThroughFdStore(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := testutil.PublicTempDir(t)
	bin := buildFgacd(t, tmp)
	nodes, pdir := fifoPolicy(t, tmp)
	cfg := filepath.Join(tmp, "fgacd.toml")
	os.WriteFile(cfg, []byte("version = 1\n[restart]\nstate_dir = \""+tmp+"/state\"\n[metrics]\nlisten = \"\"\n[admin]\nsocket = \"\"\n"), 0o644)

	peer := newFdStorePeer(t, filepath.Join(tmp, "notify.sock"))
	defer peer.conn.Close()
	intake := filepath.Join(tmp, "fgacd.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: intake, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(intake, 0o666)
	ln.SetUnlinkOnClose(false)
	lf, _ := ln.File()
	ln.Close()
	defer lf.Close()

	start := func(names []string, files []*os.File) (*exec.Cmd, *bytes.Buffer) {
		var stderr bytes.Buffer
		cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ exec "$0" run -config "$1" -policy-dir "$2" -log-format console`, bin, cfg, pdir)
		cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+filepath.Join(tmp, "notify.sock"),
			"LISTEN_FDS="+strconv.Itoa(1+len(files)), "LISTEN_FDNAMES="+strings.Join(append([]string{"fgacd.socket"}, names...), ":"))
		cmd.ExtraFiles = append([]*os.File{lf}, files...)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("fgacd stderr:\n%s", stderr.String())
			}
		})
		return cmd, &stderr
	}
	gen1, _ := start(nil, nil)
	tr := testutil.StartTracee(t, testutil.TraceeOptions{Socket: intake, Dir: nodes})
	if e := tr.Mknod(t, "", filepath.Join(nodes, "before"), linux.S_IFIFO|0o600, 0); e != 0 {
		t.Fatalf("before the restart: %v", e)
	}
	names, files := peer.stored()
	if len(names) != 1 {
		t.Fatalf("fd store holds %d listeners, want 1 (%v)", len(names), peer.msgs)
	}

	// Steady traffic: 20,000 refused calls while the daemon restarts.
	const n = 20000
	tr.Send(t, testutil.Command{Op: "repeat", Path: "/tmp/fgacd-restart-refused", Mode: linux.S_IFIFO | 0o600, N: n})
	time.Sleep(20 * time.Millisecond) // some calls land on the old daemon
	gen1.Process.Signal(syscall.SIGTERM)
	if err := gen1.Wait(); err != nil {
		t.Errorf("old fgacd exit: %v", err)
	}
	start(names, files)
	r := tr.Wait(t) // a hang fails the test at its timeout
	if r.Other != n || r.Errno != 0 || r.OK != 0 {
		t.Errorf("calls across the restart: %d EPERM of %d, other errno %d (ENOSYS is %d)", r.Other, n, r.Errno, int(linux.ENOSYS))
	}
	// The same session, the same profile, in the new process.
	if e := tr.Mknod(t, "", filepath.Join(nodes, "after"), linux.S_IFIFO|0o600, 0); e != 0 {
		t.Errorf("after the restart: %v", e)
	}
	if names2, _ := peer.stored(); len(names2) != 1 || names2[0] != names[0] {
		t.Errorf("fd store after the restart: %v, want the one listener %v", names2, names)
	}
}

// A binary upgrade without systemd (SIGUSR2) during steady traffic: the
// new process takes the session over; the app sees no ENOSYS and no hang.
func TestBinaryUpgradeHandsOverSessions(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := testutil.PublicTempDir(t)
	bin := buildFgacd(t, tmp)
	nodes, pdir := fifoPolicy(t, tmp)
	intake := filepath.Join(tmp, "fgacd.sock")
	cfg := filepath.Join(tmp, "fgacd.toml")
	os.WriteFile(cfg, []byte("version = 1\n[intake]\nsocket = \""+intake+"\"\n[restart]\nstate_dir = \""+tmp+"/state\"\n[metrics]\nlisten = \"\"\n[admin]\nsocket = \"\"\n"), 0o644)

	// A file, not a pipe: the new process inherits the old one's output,
	// and Wait would wait for a pipe it keeps open.
	logf, err := os.Create(filepath.Join(tmp, "fgacd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	readLog := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	old := exec.Command(bin, "run", "-config", cfg, "-policy-dir", pdir, "-log-format", "console")
	old.Stderr = logf
	old.Stdout = logf
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	var newPid int
	t.Cleanup(func() {
		old.Process.Kill()
		if newPid > 0 {
			syscall.Kill(newPid, syscall.SIGKILL)
		}
		killRunning(bin)
		if t.Failed() {
			t.Logf("fgacd output:\n%s", readLog())
		}
	})
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(intake); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr := testutil.StartTracee(t, testutil.TraceeOptions{Socket: intake, Dir: nodes})
	if e := tr.Mknod(t, "", filepath.Join(nodes, "before"), linux.S_IFIFO|0o600, 0); e != 0 {
		t.Fatalf("before the upgrade: %v", e)
	}
	const n = 20000
	tr.Send(t, testutil.Command{Op: "repeat", Path: "/tmp/fgacd-upgrade-refused", Mode: linux.S_IFIFO | 0o600, N: n})
	time.Sleep(20 * time.Millisecond)
	old.Process.Signal(syscall.SIGUSR2)
	// The old process exits 0 once the new one took over; note the new one.
	// (children are listed per thread: look at every thread of the old one)
	for i := 0; i < 3000 && newPid == 0; i++ {
		tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(old.Process.Pid) + "/task/*/children")
		for _, task := range tasks {
			if b, err := os.ReadFile(task); err == nil {
				if f := strings.Fields(string(b)); len(f) > 0 {
					newPid, _ = strconv.Atoi(f[0])
				}
			}
		}
		time.Sleep(time.Millisecond)
	}
	if err := old.Wait(); err != nil {
		t.Errorf("old fgacd exit: %v", err)
	}
	r := tr.Wait(t)
	if r.Other != n || r.Errno != 0 || r.OK != 0 {
		t.Errorf("calls across the upgrade: %d EPERM of %d, other errno %d", r.Other, n, r.Errno)
	}
	if e := tr.Mknod(t, "", filepath.Join(nodes, "after"), linux.S_IFIFO|0o600, 0); e != 0 {
		t.Errorf("after the upgrade: %v", e)
	}
	if !strings.Contains(readLog(), "took over from the previous fgacd") {
		t.Error("the new process did not say it took over")
	}
	if newPid == 0 {
		t.Error("no new fgacd process seen")
	}
}

// killRunning kills every process running the binary at path: the
// upgraded daemon is nobody's child once the old one exits.
func killRunning(path string) {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err != nil || !bytes.HasPrefix(b, []byte(path+"\x00")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(c))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// SIGHUP with traffic running: a changed policy changes decisions with no
// failed or hanging call; a broken one keeps the old decisions and sets
// fgacd_config_last_reload_successful to 0.
func TestSIGHUPReloadUnderTraffic(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := testutil.PublicTempDir(t)
	bin := buildFgacd(t, tmp)
	pdir := filepath.Join(tmp, "policies")
	os.Mkdir(pdir, 0o755)
	pol := func(errno string) []byte {
		return []byte("version = 1\n[[profile]]\nname = \"app\"\ndefault_errno = \"" + errno + "\"\n  [profile.match]\n  uid = [65534]\n  [[profile.rule]]\n  syscall = \"mknod\"\n  action = \"deny\"\n  errno = \"" + errno + "\"\n")
	}
	pfile := filepath.Join(pdir, "app.toml")
	os.WriteFile(pfile, pol("EPERM"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	intake := filepath.Join(tmp, "fgacd.sock")
	logf, _ := os.Create(filepath.Join(tmp, "fgacd.log"))
	defer logf.Close()
	cmd := exec.Command(bin, "run", "-config", "/dev/null", "-socket", intake, "-policy-dir", pdir,
		"-metrics", maddr, "-admin", "off", "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("fgacd log:\n%s", b)
		}
	})
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(intake); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr := testutil.StartTracee(t, testutil.TraceeOptions{Socket: intake, Dir: tmp})
	const n = 20000
	tr.Send(t, testutil.Command{Op: "repeat", Path: "/tmp/fgacd-reload-x", Mode: linux.S_IFIFO | 0o600, N: n})
	time.Sleep(20 * time.Millisecond)
	os.WriteFile(pfile, pol("EACCES"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	r := tr.Wait(t)
	if r.Other+r.Exist != n || r.OK != 0 || r.Exist == 0 || (r.Errno != 0 && linux.Errno(r.Errno) != linux.EACCES) {
		t.Errorf("across the reload: %d EPERM, %d other (last %v), %d ok; want EPERM then EACCES only", r.Other, r.Exist, linux.Errno(r.Errno), r.OK)
	}
	metric := func() string {
		resp, err := http.Get("http://" + maddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "fgacd_config_last_reload_successful ") {
				return strings.TrimPrefix(l, "fgacd_config_last_reload_successful ")
			}
		}
		return ""
	}
	if v := metric(); v != "1" {
		t.Errorf("fgacd_config_last_reload_successful = %q after a good reload", v)
	}
	os.WriteFile(pfile, []byte("version = 1\n[[profile]\nbroken"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	for i := 0; i < 500 && metric() != "0"; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if v := metric(); v != "0" {
		t.Errorf("fgacd_config_last_reload_successful = %q after a broken reload, want 0", v)
	}
	if e := tr.Mknod(t, "", "/tmp/fgacd-reload-x", linux.S_IFIFO|0o600, 0); e != linux.EACCES {
		t.Errorf("after the broken reload: errno %v, want the old policy's EACCES", e)
	}
}

// buildFgacd builds the daemon into dir.
func buildFgacd(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "fgacd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// fifoPolicy writes a policy dir whose profile "kept" lets uid 65534 make
// FIFOs in nodes (mode 1777).
func fifoPolicy(t *testing.T, tmp string) (nodes, pdir string) {
	t.Helper()
	nodes = filepath.Join(tmp, "nodes")
	os.Mkdir(nodes, 0o1777)
	os.Chmod(nodes, 0o1777)
	pdir = filepath.Join(tmp, "policies")
	os.Mkdir(pdir, 0o755)
	err := os.WriteFile(filepath.Join(pdir, "p.toml"), []byte(`version = 1
[[profile]]
name = "kept"
  [profile.match]
  uid = [65534]
  [[profile.rule]]
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["`+nodes+`/*"]
    type = ["fifo"]
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return nodes, pdir
}
