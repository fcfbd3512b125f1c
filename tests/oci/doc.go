// Package oci runs fgacd against real OCI runtimes: the daemon binary,
// built from cmd/fgacd and run as a subprocess, receives the seccomp
// listener that runc or crun hand over through the runtime-spec's
// linux.seccomp.listenerPath, and containers without any capability make
// mknod, mount and umount calls from a busybox-static rootfs.
//
// Needs root, runc, crun and busybox-static; `make test` installs them
// (scripts/deps.sh) and sets FGACD_REQUIRE_ROOT=1, under which a missing
// runtime is a failure instead of a skip.
package oci
