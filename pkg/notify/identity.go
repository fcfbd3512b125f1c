package notify

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fgacd/fgacd/internal/linux"
)

// procInfo is what fgacd reads about a process from /proc.
type procInfo struct {
	UID, GID uint32 // effective ids, like SO_PEERCRED
	Exe      string
	Cgroup   string // the cgroup v2 ("0::") path
}

// readProc reads pid's ids, executable and cgroup. The caller must then
// check that pidfd (opened before) still refers to a live process, or the
// pid may have been reused while we read.
func readProc(procRoot string, pid int) (procInfo, error) {
	var pi procInfo
	dir := procRoot + "/" + strconv.Itoa(pid)
	st, err := os.ReadFile(dir + "/status")
	if err != nil {
		return pi, fmt.Errorf("read identity: %w", err)
	}
	if pi.UID, err = statusID(st, "Uid:"); err != nil {
		return pi, err
	}
	if pi.GID, err = statusID(st, "Gid:"); err != nil {
		return pi, err
	}
	// exe is unreadable for kernel threads and gone for zombies: not fatal,
	// the profile simply cannot match on it.
	pi.Exe, _ = os.Readlink(dir + "/exe")
	if cg, err := os.ReadFile(dir + "/cgroup"); err == nil {
		pi.Cgroup = cgroupV2Path(cg)
	}
	return pi, nil
}

// statusID returns the effective id (second field) of a Uid:/Gid: line.
func statusID(status []byte, key string) (uint32, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, key) {
			continue
		}
		f := strings.Fields(line[len(key):])
		if len(f) < 2 {
			break
		}
		v, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			break
		}
		return uint32(v), nil
	}
	return 0, fmt.Errorf("read identity: no %s line in status", key)
}

// cgroupV2Path picks the unified hierarchy's line ("0::/path") of
// /proc/PID/cgroup; on hybrid layouts there are v1 lines too.
func cgroupV2Path(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	return ""
}

// processIdentity pins pid with a pidfd, reads it, and checks the pidfd
// still names a live process, so the data cannot belong to a recycled pid.
func processIdentity(procRoot string, pid int) (procInfo, error) {
	pidfd, err := linux.PidfdOpen(pid, false)
	if err != nil {
		return procInfo{}, fmt.Errorf("identity of pid %d: %w", pid, err)
	}
	defer linux.Close(pidfd)
	return pinnedIdentity(procRoot, pid, pidfd)
}

func pinnedIdentity(procRoot string, pid, pidfd int) (procInfo, error) {
	pi, err := readProc(procRoot, pid)
	if err != nil {
		return pi, err
	}
	if !linux.PidfdAlive(pidfd) {
		return procInfo{}, fmt.Errorf("identity of pid %d: process exited while being read", pid)
	}
	return pi, nil
}
