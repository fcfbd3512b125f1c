package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/fgacd/fgacd/internal/linux"
)

// feature is one kernel capability fgacd uses, probed on the running
// kernel (not inferred from its version).
type feature struct {
	name, since string
	have        bool
	without     string // what degrades without it
	required    bool
}

// cmdDoctor probes the kernel's seccomp and related features and says what
// degrades without each. Exit 1 when something fgacd cannot run without
// is missing.
func cmdDoctor(stdout, stderr io.Writer) int {
	var fs []feature
	add := func(name, since string, have bool, without string, required bool) {
		fs = append(fs, feature{name, since, have, without, required})
	}
	l, err := linux.ProbeListener(0)
	add("seccomp user notification", "5.0", err == nil, "fgacd cannot run at all", true)
	if err == nil {
		add("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", "6.6",
			linux.NotifSetFlags(l, linux.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == nil,
			"each hand-off wakes the other CPU (1.9x the round trip measured)", false)
		add("SECCOMP_IOCTL_NOTIF_ADDFD", "5.9", linux.ProbeAddfd(l, false),
			"no fd can be injected into a caller (GPIO chip and line fds)", false)
		add("SECCOMP_ADDFD_FLAG_SEND", "5.14", linux.ProbeAddfd(l, true),
			"fd injection and the answer take two steps", false)
		linux.Close(l)
	}
	if l, err := linux.ProbeListener(linux.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV); err == nil {
		linux.Close(l)
		add("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "5.19", true, "", false)
	} else {
		add("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "5.19", false,
			"signals withdraw calls in flight (fgacd undoes and recognises restarts; fgac-run cannot ask for it)", false)
	}
	if l, err := linux.ProbeListener(linux.SECCOMP_FILTER_FLAG_TSYNC | linux.SECCOMP_FILTER_FLAG_TSYNC_ESRCH); err == nil {
		linux.Close(l)
		add("TSYNC with a listener (TSYNC_ESRCH)", "5.7", true, "", false)
	} else {
		add("TSYNC with a listener (TSYNC_ESRCH)", "5.7", false,
			"multi-threaded programs (Go) cannot attach themselves; use fgac-run", false)
	}
	add("PIDFD_THREAD", "6.9", linux.ProbePidfdThread(),
		"nothing: fgacd reaches a caller thread's fds through /proc/TID/fd, on any kernel", false)
	add("SO_PEERPIDFD", "6.5", linux.ProbePeerPidfd(),
		"a peer is pinned by pidfd_open after SO_PEERCRED (a short pid-reuse window)", false)
	add("openat2", "5.6", linux.ProbeOpenat2(), "paths cannot be resolved safely: mknod and mount are refused", true)
	add("process_vm_readv", "3.2", linux.ProbeProcessVMReadv(), "arguments are read through /proc/PID/mem (slower)", false)
	add("statx mount id", "5.8", linux.ProbeStatxMountID(), "umount cannot check the mount it unmounts: refused", false)
	add("mount_setattr", "5.12", linux.ProbeMountSetattr(), "forced flags on bind mounts and remounts fail", false)
	major, _ := linux.GPIOChipMajor()
	add("GPIO character device (gpiochip)", "4.8", major != 0,
		"no GPIO brokering: every open is left to the kernel, line requests get ENOTTY", false)

	fmt.Fprintf(stdout, "fgacd %s doctor: kernel %s\n\n", version, linux.Uname())
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tSINCE\tHERE\tWITHOUT IT")
	missingRequired := false
	for _, f := range fs {
		have := "yes"
		without := ""
		if !f.have {
			have, without = "NO", f.without
			missingRequired = missingRequired || f.required
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.name, f.since, have, without)
	}
	tw.Flush()
	yama := "absent"
	if b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil {
		yama = strings.TrimSpace(string(b))
	}
	for _, c := range presentChips() {
		fmt.Fprintf(stdout, "\nGPIO chip %s: label %q, %d lines", c.name, c.label, c.lines)
	}
	fmt.Fprintf(stdout, "\nYama ptrace_scope: %s", yama)
	if yama == "3" {
		fmt.Fprint(stdout, " (no process may read another's memory: fgacd cannot read arguments)")
		missingRequired = true
	}
	fmt.Fprintln(stdout)
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "fgacd doctor: not root: some probes (process_vm_readv of others, GPIO chips) say less than the daemon would see")
	}
	if missingRequired {
		return 1
	}
	return 0
}
