// seccomp-probe: reports which seccomp user-notification features the
// running kernel has, by trying each one (no version guessing). Used in the
// Linux 6.1 test guest, where fgacd's older-kernel paths run; it runs on any
// kernel >= 5.0.
//
// Output: one line per feature, "feature <name> (since X.Y): <result>", and
// a last line "seccomp-probe: N passed, N failed" where a failure means the
// probe itself could not run (not that a feature is missing). With
// --expect-6.1 a feature result that differs from Linux 6.1 is a failure.
//
// Built statically on the host (gcc -static).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Newer than some libc headers: the values are the kernel's ABI.
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

static int failures, passes, expect61;

// feature prints one result; has is 1/0 for present/absent, -1 when the
// probe itself failed. want61 is what Linux 6.1 has (checked with --expect-6.1).
static void feature(const char *name, const char *since, int has, int want61, const char *detail)
{
	const char *res = has < 0 ? "PROBE FAILED" : has ? "yes" : "no";
	int bad = has < 0 || (expect61 && has != want61);

	if (bad)
		failures++;
	else
		passes++;
	printf("feature %-52s (since %-4s): %-3s%s%s%s\n", name, since, res,
	       detail && *detail ? " - " : "", detail ? detail : "",
	       bad && has >= 0 ? " [UNEXPECTED for 6.1]" : "");
	fflush(stdout);
}

static int sys_seccomp(unsigned int op, unsigned int flags, void *args)
{
	return (int)syscall(__NR_seccomp, op, flags, args);
}

// allow_all is a filter that allows everything; used to get a listener fd.
static struct sock_filter allow_all_insns[] = {
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog allow_all = {.len = 1, .filter = allow_all_insns};

// notify_mknodat sends mknodat to the listener and allows the rest.
static struct sock_filter notify_insns[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknodat, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog notify_mknodat = {
	.len = sizeof(notify_insns) / sizeof(notify_insns[0]),
	.filter = notify_insns,
};

// in_child runs fn in a fresh child (a filter installed there stays there)
// and returns its exit status, or -1.
static int in_child(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fflush(stdout);
		_exit(fn());
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

// install sets no_new_privs and loads prog; returns the listener fd (with
// NEW_LISTENER), 0, or -1.
static int install(unsigned int flags, struct sock_fprog *prog)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, prog);
}

// Child exit codes below: 0 = present, 1 = absent (EINVAL), 2 = probe error.

static int child_set_flags(void)
{
	int fd = install(SECCOMP_FILTER_FLAG_NEW_LISTENER, &allow_all);

	if (fd < 0)
		return 2;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) == 0)
		return 0;
	return errno == EINVAL ? 1 : 2;
}

static int child_flags(unsigned int flags)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 2;
	if (sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &allow_all) >= 0)
		return 0;
	return errno == EINVAL ? 1 : 2;
}

static int child_wait_killable(void)
{
	return child_flags(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
}

static int child_tsync_plain(void)
{
	// TSYNC with NEW_LISTENER is refused unless TSYNC_ESRCH is given:
	// "present" here means the kernel refused the pair (EINVAL).
	int r = child_flags(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC);

	return r == 1 ? 0 : r == 0 ? 1 : 2;
}

static int child_tsync_esrch(void)
{
	return child_flags(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC |
			   SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
}

static int result_of(int code)
{
	return code == 0 ? 1 : code == 1 ? 0 : -1;
}

static int send_fd(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c2 = CMSG_FIRSTHDR(&msg);

	memset(u.buf, 0, sizeof(u.buf));
	c2->cmsg_level = SOL_SOCKET;
	c2->cmsg_type = SCM_RIGHTS;
	c2->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c2), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c2;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c2 = CMSG_FIRSTHDR(&msg);
	if (!c2 || c2->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c2), sizeof(int));
	return fd;
}

static void on_alarm(int sig)
{
	(void)sig;
}

// roundtrip: a child installs a filter that sends mknodat to a listener and
// passes the listener to us (SCM_RIGHTS, as apps pass it to fgacd). We answer
// the first mknodat by injecting an fd (ADDFD + ADDFD_FLAG_SEND) and the
// second with FLAG_CONTINUE; then check POLLHUP and what RECV does once the
// child is gone.
static void roundtrip(void)
{
	struct seccomp_notif_sizes sz;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int sv[2], lfd, st, n;
	pid_t pid;
	char detail[160];

	if (sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		feature("SECCOMP_GET_NOTIF_SIZES", "5.0", -1, 1, strerror(errno));
		return;
	}
	snprintf(detail, sizeof(detail), "seccomp_notif %u, seccomp_notif_resp %u, seccomp_data %u",
		 sz.seccomp_notif, sz.seccomp_notif_resp, sz.seccomp_data);
	feature("SECCOMP_GET_NOTIF_SIZES", "5.0", 1, 1, detail);

	req = calloc(1, sz.seccomp_notif > sizeof(*req) ? sz.seccomp_notif : sizeof(*req));
	resp = calloc(1, sz.seccomp_notif_resp > sizeof(*resp) ? sz.seccomp_notif_resp
								: sizeof(*resp));
	if (!req || !resp || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		feature("SECCOMP_RET_USER_NOTIF round trip", "5.0", -1, 1, "setup");
		return;
	}
	pid = fork();
	if (pid < 0) {
		feature("SECCOMP_RET_USER_NOTIF round trip", "5.0", -1, 1, "fork");
		return;
	}
	if (pid == 0) {
		long r1, r2;
		int e2, fd;
		struct stat st1;

		close(sv[0]);
		fd = install(SECCOMP_FILTER_FLAG_NEW_LISTENER, &notify_mknodat);
		if (fd < 0 || send_fd(sv[1], fd) < 0)
			_exit(11);
		close(fd);
		// 1st: the supervisor injects an fd as the return value.
		r1 = syscall(__NR_mknodat, AT_FDCWD, "/nonexistent-dir/fifo", S_IFIFO | 0600, 0);
		if (r1 < 0 || fstat((int)r1, &st1) < 0 || !S_ISCHR(st1.st_mode))
			_exit(12);
		// 2nd: the supervisor says CONTINUE: the real call runs (ENOENT).
		r2 = syscall(__NR_mknodat, AT_FDCWD, "/nonexistent-dir/fifo", S_IFIFO | 0600, 0);
		e2 = errno;
		if (r2 != -1 || e2 != ENOENT)
			_exit(13);
		_exit(0);
	}
	close(sv[1]);
	lfd = recv_fd(sv[0]);
	close(sv[0]);
	if (lfd < 0) {
		feature("SECCOMP_RET_USER_NOTIF round trip", "5.0", -1, 1, "no listener fd received");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}

	for (n = 0; n < 2; n++) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		const char *what = n == 0 ? "ADDFD + ADDFD_FLAG_SEND" : "USER_NOTIF_FLAG_CONTINUE";
		const char *since = n == 0 ? "5.14" : "5.5";

		if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLIN)) {
			feature(what, since, -1, 1, "no notification within 5 s");
			goto reap;
		}
		memset(req, 0, sz.seccomp_notif);
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			feature(what, since, -1, 1, "RECV failed");
			goto reap;
		}
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
			feature("SECCOMP_IOCTL_NOTIF_ID_VALID", "5.0", -1, 1, strerror(errno));
			goto reap;
		}
		if (n == 0) {
			struct seccomp_notif_addfd add;
			int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC), r;

			snprintf(detail, sizeof(detail), "notified nr %d (mknodat %d), pid %u", req->data.nr,
				 __NR_mknodat, req->pid);
			feature("SECCOMP_RET_USER_NOTIF round trip", "5.0", req->data.nr == __NR_mknodat,
				1, detail);
			memset(&add, 0, sizeof(add));
			add.id = req->id;
			add.flags = SECCOMP_ADDFD_FLAG_SEND;
			add.srcfd = (__u32)nullfd;
			r = ioctl(lfd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
			snprintf(detail, sizeof(detail), "injected fd %d", r);
			feature(what, since, r >= 0, 1, r >= 0 ? detail : strerror(errno));
			close(nullfd);
			if (r < 0) {
				memset(resp, 0, sz.seccomp_notif_resp);
				resp->id = req->id;
				resp->error = -EPERM;
				ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
			}
		} else {
			int r;

			memset(resp, 0, sz.seccomp_notif_resp);
			resp->id = req->id;
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			r = ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
			feature(what, since, r == 0, 1, r == 0 ? "" : strerror(errno));
		}
	}
reap:
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(detail, sizeof(detail), "tracee child ended with status 0x%x", st);
		feature("round trip: tracee saw the injected fd and ENOENT", "5.14", -1, 1, detail);
	} else {
		feature("round trip: tracee saw the injected fd and ENOENT", "5.14", 1, 1, "");
	}

	// All users of the filter are gone now.
	{
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		int r = poll(&p, 1, 1000);

		snprintf(detail, sizeof(detail), "poll -> %d, revents 0x%x", r, r > 0 ? p.revents : 0);
		feature("POLLHUP on listener once no task uses the filter", "5.8",
			r == 1 && (p.revents & POLLHUP) ? 1 : 0, 1, detail);
	}
	{
		struct sigaction sa;
		int r, e;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm; // no SA_RESTART: the blocked RECV returns EINTR
		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		memset(req, 0, sz.seccomp_notif);
		r = ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, req);
		e = errno;
		alarm(0);
		if (r < 0 && e == ENOENT)
			feature("RECV returns ENOENT once all targets exited", "6.11", 1, 0, "ENOENT");
		else if (r < 0 && e == EINTR)
			feature("RECV returns ENOENT once all targets exited", "6.11", 0, 0,
				"RECV blocked until a signal (EINTR): wait for readiness first");
		else
			feature("RECV returns ENOENT once all targets exited", "6.11", -1, 0,
				r < 0 ? strerror(e) : "RECV succeeded?");
	}
	close(lfd);
	free(req);
	free(resp);
}

static void pidfds(void)
{
	int pfd = (int)syscall(__NR_pidfd_open, getpid(), 0), fd, e;

	feature("pidfd_open", "5.3", pfd >= 0, 1, pfd >= 0 ? "" : strerror(errno));
	if (pfd >= 0) {
		fd = (int)syscall(__NR_pidfd_getfd, pfd, 1, 0);
		feature("pidfd_getfd", "5.6", fd >= 0, 1, fd >= 0 ? "" : strerror(errno));
		if (fd >= 0)
			close(fd);
		close(pfd);
	}
	fd = (int)syscall(__NR_pidfd_open, gettid(), PIDFD_THREAD);
	e = errno;
	feature("PIDFD_THREAD", "6.9", fd >= 0 ? 1 : e == EINVAL ? 0 : -1, 0,
		fd >= 0 ? "" : strerror(e));
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	char rel[256] = "?";
	FILE *f = fopen("/proc/sys/kernel/osrelease", "r");

	expect61 = argc > 1 && strcmp(argv[1], "--expect-6.1") == 0;
	if (f) {
		if (fgets(rel, sizeof(rel), f))
			rel[strcspn(rel, "\n")] = 0;
		fclose(f);
	}
	printf("seccomp-probe: kernel %s%s\n", rel, expect61 ? " (expecting Linux 6.1 results)" : "");

	roundtrip();
	feature("TSYNC with NEW_LISTENER refused without TSYNC_ESRCH", "5.7",
		result_of(in_child(child_tsync_plain)), 1, "");
	feature("FILTER_FLAG_TSYNC_ESRCH with NEW_LISTENER", "5.7",
		result_of(in_child(child_tsync_esrch)), 1, "");
	feature("FILTER_FLAG_WAIT_KILLABLE_RECV", "5.19", result_of(in_child(child_wait_killable)),
		1, "");
	feature("IOCTL_NOTIF_SET_FLAGS FD_SYNC_WAKE_UP", "6.6", result_of(in_child(child_set_flags)),
		0, "absent = ioctl EINVAL");
	pidfds();

	printf("seccomp-probe: %d passed, %d failed\n", passes, failures);
	return failures ? 1 : 0;
}
