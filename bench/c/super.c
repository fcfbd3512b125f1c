// fgacd-bench-csuper: a minimal C seccomp user-notification supervisor, the
// baseline fgacd is compared with. It accepts one connection on a UNIX
// socket, takes the listener fd from the OCI state message (SCM_RIGHTS),
// and answers every notification with EPERM, or with CONTINUE.
//
// Build: cc -O2 -Wall -Wextra -o fgacd-bench-csuper super.c
//
// Modes:
//   deny  RECV -> SEND(-EPERM)
//   path  RECV -> process_vm_readv 256 B of args[1] -> ID_VALID -> path
//         check (NUL present, prefix) -> SEND(-EPERM)
//   continue  RECV -> SEND(SECCOMP_USER_NOTIF_FLAG_CONTINUE): the bare
//         round trip of a call the supervisor lets through, reading nothing
//   mount  mount(2) and umount2(2) emulated the way fgacd does for a caller
//         in its own mount namespace and root, with every safety step and
//         no policy (the target must resolve to MOUNT_TARGET, -t): read the
//         strings in one process_vm_readv; readlink /proc/PID/ns/mnt and
//         statx /proc/PID/root against its own; resolve the target (mount)
//         or its parent and then, unfollowed, its last component (umount2)
//         with openat2 and name it by readlink of /proc/self/fd/N;
//         ID_VALID; mount(2) through /proc/self/fd/N, or umount2 of
//         /proc/self/fd/N/NAME; close; SEND. What fgacd costs
//         beyond this is its own, not the design's.
// Prints "ready" on stdout once listening; nothing per call. Exits 0 when
// the listener hangs up (no task uses the filter any more).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define PROG "fgacd-bench-csuper"
#define ALLOWED_PREFIX "/tmp/fgacd-demo/"
#define READ_LEN 256
#define MSG_MAX (64 * 1024)
#define MAX_FDS 16

#ifndef SECCOMP_IOCTL_NOTIF_ID_VALID
#define SECCOMP_IOCTL_NOTIF_ID_VALID _IOW('!', 2, __u64)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

enum mode { MODE_DENY, MODE_PATH, MODE_CONTINUE, MODE_MOUNT };

static const char *sock_path;
static struct stat sock_st;

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " -s SOCKET -m deny|path|continue|mount [-t MOUNT_TARGET] [-1] [-W]\n"
		"  -s  UNIX socket to listen on (unlinked first)\n"
		"  -m  deny: answer EPERM at once; path: read the path argument\n"
		"      (process_vm_readv 256 B), ID_VALID, check it, answer EPERM;\n"
		"      continue: answer SECCOMP_USER_NOTIF_FLAG_CONTINUE at once;\n"
		"      mount: emulate mount(2)/umount2(2) on MOUNT_TARGET as fgacd does\n"
		"  -1  exit after the first session (the default anyway)\n"
		"  -W  do not set SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP\n");
	exit(2);
}

// cleanup removes the socket file if it is still the one we bound.
static void cleanup(void)
{
	struct stat st;

	if (sock_path != NULL && stat(sock_path, &st) == 0 &&
	    st.st_dev == sock_st.st_dev && st.st_ino == sock_st.st_ino)
		unlink(sock_path);
}

static void die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	cleanup();
	exit(1);
}

static void die_msg(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	cleanup();
	exit(1);
}

// json_scan feeds bytes to a brace counter that ignores braces inside
// strings. Returns 1 once a complete top-level object has been seen, 0 if
// more is needed, -1 on input that cannot start a JSON object.
struct json_scan {
	int depth, in_str, esc, started;
};

static int json_feed(struct json_scan *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!s->started) {
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
				continue;
			if (c != '{')
				return -1;
			s->started = 1;
			s->depth = 1;
			continue;
		}
		if (s->in_str) {
			if (s->esc)
				s->esc = 0;
			else if (c == '\\')
				s->esc = 1;
			else if (c == '"')
				s->in_str = 0;
			continue;
		}
		if (c == '"')
			s->in_str = 1;
		else if (c == '{' || c == '[')
			s->depth++;
		else if (c == '}' || c == ']') {
			if (--s->depth == 0)
				return 1;
		}
	}
	return 0;
}

// receive_listener reads the state message from conn until a whole JSON
// object has arrived (no EOF needed) and returns the first fd it carried.
static int receive_listener(int conn)
{
	static char buf[MSG_MAX];
	size_t used = 0;
	struct json_scan scan = { 0 };
	int fd = -1;

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = buf + used, .iov_len = sizeof(buf) - used };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
		};
		ssize_t n;

		if (iov.iov_len == 0)
			die_msg("state message larger than 64 KiB");
		n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recvmsg");
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < nfds; i++) {
				int f;
				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (fd < 0)
					fd = f;
				else
					close(f); // only one listener fd is expected
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			fprintf(stderr, PROG ": warning: control data truncated\n");
		if (n == 0)
			die_msg("peer closed the connection before a complete state message");
		int r = json_feed(&scan, buf + used, (size_t)n);
		used += (size_t)n;
		if (r < 0)
			die_msg("state message is not a JSON object");
		if (r == 1)
			break;
	}
	if (fd < 0)
		die_msg("state message carried no fd (SCM_RIGHTS)");
	return fd;
}

// The supervisor's own view, to compare a caller's with.
static char self_ns[64];
static struct statx self_root;
static const char *mount_target;

static int same_view(pid_t pid)
{
	char p[64], ns[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
	ssize_t n = readlink(p, ns, sizeof(ns) - 1);
	if (n < 0)
		return 0;
	ns[n] = '\0';
	if (strcmp(ns, self_ns) != 0)
		return 0;
	struct statx st;
	snprintf(p, sizeof(p), "/proc/%d/root", pid);
	return statx(AT_FDCWD, p, 0, STATX_INO | STATX_MNT_ID, &st) == 0 &&
	       st.stx_mnt_id == self_root.stx_mnt_id && st.stx_ino == self_root.stx_ino;
}

static int open_path(const char *path, int dir)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (dir ? O_DIRECTORY : 0),
		.resolve = RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
}

static int fd_name(int fd, char *buf, size_t len)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

// emulate answers one mount or umount2 notification: 0 or -errno in resp.
static void emulate(int lfd, struct seccomp_notif *n, struct seccomp_notif_resp *resp)
{
	char strs[4][READ_LEN], name[PATH_MAX], p[PATH_MAX + 64];
	int is_mount = n->data.nr == SYS_mount;
	// mount(source, target, fstype, flags, data); umount2(target, flags)
	int idx[4] = { 1, 0, 2, 4 }, nstr = is_mount ? 4 : 1; // target, source, fstype, data
	if (!is_mount)
		idx[0] = 0;
	struct iovec local = { .iov_base = strs, .iov_len = (size_t)nstr * READ_LEN }, remote[4];
	for (int i = 0; i < nstr; i++)
		remote[i] = (struct iovec){ (void *)(uintptr_t)n->data.args[idx[i]], READ_LEN };
	resp->error = -EPERM;
	if (process_vm_readv((pid_t)n->pid, &local, 1, remote, (unsigned long)nstr, 0) < nstr * READ_LEN)
		return;
	for (int i = 0; i < nstr; i++)
		if (memchr(strs[i], '\0', READ_LEN) == NULL)
			return;
	if (!same_view((pid_t)n->pid))
		return; // fgacd would enter the caller's view; not measured here
	int fd;
	const char *leaf = NULL;
	if (is_mount) {
		fd = open_path(strs[0], 0);
	} else {
		char *slash = strrchr(strs[0], '/');
		if (slash == NULL || slash == strs[0] || slash[1] == '\0')
			return;
		*slash = '\0';
		leaf = slash + 1;
		fd = open_path(strs[0], 1);
	}
	if (fd < 0) {
		resp->error = -errno;
		return;
	}
	int ok;
	if (is_mount) {
		ok = fd_name(fd, name, sizeof(name)) == 0;
	} else { // name the last component as the kernel has it, then let go of it
		struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
		int lfd = (int)syscall(SYS_openat2, fd, leaf, &how, sizeof(how));
		if (lfd < 0) {
			resp->error = -errno;
			close(fd);
			return;
		}
		ok = fd_name(lfd, name, sizeof(name)) == 0;
		close(lfd);
	}
	if (!ok || strcmp(name, mount_target) != 0 ||
	    ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) < 0) {
		close(fd);
		return;
	}
	int r;
	if (is_mount) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		r = mount(strs[1], p, strs[2], (unsigned long)n->data.args[3] | MS_NOSUID | MS_NODEV, strs[3]);
	} else {
		snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", fd, leaf);
		r = umount2(p, (int)n->data.args[1] | UMOUNT_NOFOLLOW);
	}
	resp->error = r < 0 ? -errno : 0;
	close(fd);
}

int main(int argc, char **argv)
{
	enum mode mode = MODE_DENY;
	const char *mode_s = NULL;
	int sync_wake = 1, opt;

	while ((opt = getopt(argc, argv, "s:m:t:1Wh")) != -1) {
		switch (opt) {
		case 's': sock_path = optarg; break;
		case 't': mount_target = optarg; break;
		case 'm': mode_s = optarg; break;
		case '1': break; // one session is all this supervisor ever serves
		case 'W': sync_wake = 0; break;
		default: usage();
		}
	}
	if (sock_path == NULL || mode_s == NULL || optind != argc)
		usage();
	if (strcmp(mode_s, "deny") == 0)
		mode = MODE_DENY;
	else if (strcmp(mode_s, "path") == 0)
		mode = MODE_PATH;
	else if (strcmp(mode_s, "continue") == 0)
		mode = MODE_CONTINUE;
	else if (strcmp(mode_s, "mount") == 0 && mount_target != NULL)
		mode = MODE_MOUNT;
	else
		usage();
	if (mode == MODE_MOUNT) {
		ssize_t n = readlink("/proc/self/ns/mnt", self_ns, sizeof(self_ns) - 1);
		if (n < 0)
			die("readlink /proc/self/ns/mnt");
		self_ns[n] = '\0';
		if (statx(AT_FDCWD, "/", 0, STATX_INO | STATX_MNT_ID, &self_root) < 0)
			die("statx /");
	}
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, PROG ": socket path too long: %s\n", sock_path);
		exit(2);
	}
	strcpy(sa.sun_path, sock_path);

	int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0)
		die("socket");
	if (unlink(sock_path) < 0 && errno != ENOENT)
		die("unlink socket path");
	if (bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (stat(sock_path, &sock_st) < 0)
		die("stat socket");
	if (listen(lsock, 16) < 0)
		die("listen");
	printf("ready\n");
	fflush(stdout);

	int conn;
	do
		conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	if (conn < 0)
		die("accept");
	int fd = receive_listener(conn);
	// conn stays open, as a daemon would keep it; it is never read again.

	if (sync_wake &&
	    ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0) {
		if (errno == EINVAL)
			fprintf(stderr, PROG ": note: SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP "
					"unsupported (kernel < 6.6), continuing without it\n");
		else
			die("ioctl(SECCOMP_IOCTL_NOTIF_SET_FLAGS)");
	}

	struct seccomp_notif notif;
	struct seccomp_notif_resp resp;
	char pathbuf[READ_LEN];
	unsigned long handled = 0, allowed_prefix = 0;
	const size_t prefix_len = strlen(ALLOWED_PREFIX);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (!(pfd.revents & POLLIN)) {
			if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
				break; // no task uses the filter any more
			continue;
		}

		memset(&notif, 0, sizeof(notif));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &notif) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue; // interrupted, or the caller went away
			die("ioctl(SECCOMP_IOCTL_NOTIF_RECV)");
		}

		if (mode == MODE_PATH) {
			struct iovec local = { .iov_base = pathbuf, .iov_len = sizeof(pathbuf) };
			struct iovec remote = {
				.iov_base = (void *)(uintptr_t)notif.data.args[1],
				.iov_len = sizeof(pathbuf),
			};
			ssize_t got = process_vm_readv((pid_t)notif.pid, &local, 1, &remote, 1, 0);
			// The read is only trusted if the caller is still the same
			// waiting task (pid not recycled).
			if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &notif.id) < 0) {
				if (errno == ENOENT)
					continue;
				die("ioctl(SECCOMP_IOCTL_NOTIF_ID_VALID)");
			}
			if (got > 0 && memchr(pathbuf, '\0', (size_t)got) != NULL &&
			    strncmp(pathbuf, ALLOWED_PREFIX, prefix_len) == 0)
				allowed_prefix++; // would be served; the benchmark denies all
		}

		resp.id = notif.id;
		resp.val = 0;
		resp.error = -EPERM;
		resp.flags = 0;
		if (mode == MODE_CONTINUE) {
			// The kernel runs the call as the caller made it; error and
			// val must be 0.
			resp.error = 0;
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		if (mode == MODE_MOUNT)
			emulate(fd, &notif, &resp);
		int sr;
		do
			sr = ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		while (sr < 0 && errno == EINTR);
		if (sr < 0 && errno != ENOENT) // ENOENT: caller gone or interrupted
			die("ioctl(SECCOMP_IOCTL_NOTIF_SEND)");
		handled++;
	}

	fprintf(stderr, PROG ": session ended after %lu notifications (%lu with allowed prefix)\n",
		handled, allowed_prefix);
	close(fd);
	close(conn);
	close(lsock);
	cleanup();
	return 0;
}
