// fgacd-bench-tracee: the benchmark tracee. It installs a seccomp filter that
// sends mknodat, mount and umount2 to a user-space listener, hands the
// listener fd to a supervisor (fgacd or fgacd-bench-csuper) over a UNIX
// socket, then times batches of mknodat calls that the supervisor is
// expected to deny (EPERM).
//
// With -O PATH the filter sends openat (and open, where the architecture has
// it) instead, and the timed call is openat(PATH) + close, which the
// supervisor is expected to let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE):
// what an open the supervisor does not care about costs a program whose
// filter traps every open.
//
// With -G CHIP the filter sends opens and the GPIO line-request ioctls (on
// the low 32 bits of the command), the chip is opened once, and the timed
// call is a GPIO_V2_GET_LINE_IOCTL for lines 1 and 2 as outputs + close of
// the line fd: what a brokered line request costs (fgacd makes the request
// and installs the line fd in the caller).
//
// Build: cc -O2 -Wall -Wextra -o fgacd-bench-tracee tracee.c
// (static for the GPIO test guest, which has no libc: add -static)
//
// Output, one line on stdout:
//   ns_per_call median=N min=N calls=N errno=N unexpected=N
// Exit: 0 on a clean run, 1 if any call gave something other than what the
// supervisor should answer (-1/EPERM for mknodat, success for mount, umount2
// and openat, success with a line fd for the line request; the line is
// still printed), 2 on usage or setup errors.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/gpio.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROG "fgacd-bench-tracee"
#define PATH_PREFIX "/tmp/fgacd-bench/"
#define GPIO_CONSUMER "fgacd-bench"

#if defined(__x86_64__)
#define BENCH_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define BENCH_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "unsupported architecture: add its AUDIT_ARCH_* value"
#endif

// The low 32 bits of seccomp_data.args[1] (the ioctl command, an unsigned
// int to the kernel): where they sit in the 64-bit argument.
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG1_LO (offsetof(struct seccomp_data, args[1]))
#else
#define ARG1_LO (offsetof(struct seccomp_data, args[1]) + 4)
#endif

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " [-s SOCKET | -N] (-n CALLS | -I) [-M TARGET | -O PATH | -G CHIP]\n"
		"       [-b BATCHES] [-w WARMUP] [-u UID[:GID]] [-m METADATA] [-p PATHLEN]\n"
		"  -I  register, print \"idle\" and wait until killed (an idle listener)\n"
		"  -M  time a tmpfs mount (nosuid,nodev,size=1m) and umount2 of TARGET instead\n"
		"  -O  trap openat (and open) instead of mknodat, mount and umount2, and time\n"
		"      openat(AT_FDCWD, PATH, O_RDONLY|O_CLOEXEC) + close instead; every open\n"
		"      must succeed\n"
		"  -G  trap openat (and open) and the GPIO line-request ioctls instead, open\n"
		"      CHIP (O_RDWR|O_CLOEXEC) once, and time GPIO_V2_GET_LINE_IOCTL for\n"
		"      lines 1 and 2 as outputs + close of the line fd; every request must\n"
		"      succeed\n"
		"  -N  native: no filter, no supervisor (needs root for -M, and for -G on a\n"
		"      root-only chip)\n"
		"  -s  supervisor socket to send the listener fd to\n"
		"  -u  switch to UID (and GID, default UID; no supplementary groups) first,\n"
		"      before the filter is installed (needs root)\n"
		"  -n  number of timed calls (split into BATCHES batches)\n"
		"  -b  number of batches (default 20); the median is over batches\n"
		"  -w  number of untimed warm-up calls (default 1000)\n"
		"  -m  metadata string for the OCI state message (default empty)\n"
		"  -p  length in bytes of the mknodat path (default 255, %zu..4095)\n",
		sizeof(PATH_PREFIX));
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(2);
}

static long parse_long(const char *s, long min, long max, const char *flag)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, PROG ": %s: want an integer in %ld..%ld, got \"%s\"\n",
			flag, min, max, s);
		exit(2);
	}
	return v;
}

static char *json_escape(const char *s)
{
	char *out = malloc(strlen(s) * 6 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*p++ = '\\';
			*p++ = (char)*c;
		} else if (*c < 0x20) {
			p += sprintf(p, "\\u%04x", *c);
		} else {
			*p++ = (char)*c;
		}
	}
	*p = '\0';
	return out;
}

// The system calls the filter sends to the listener: the default set, and
// the -O and -G set (open exists on x86_64, not on arm64).
static const unsigned int brokered_nrs[] = { __NR_mknodat, __NR_mount, __NR_umount2 };
static const unsigned int open_nrs[] = {
#ifdef __NR_open
	__NR_open,
#endif
	__NR_openat,
};
// -G also sends ioctl(2) with these commands (compared on the low 32 bits:
// the kernel takes the command as an unsigned int, so high bits must not
// get a request past the filter). fgacd's filter (fgac-run --gpio) traps
// the same three.
static const unsigned int gpio_line_cmds[] = {
	GPIO_V2_GET_LINE_IOCTL, GPIO_GET_LINEHANDLE_IOCTL, GPIO_GET_LINEEVENT_IOCTL,
};
#define MAX_TRAPPED 4
#define MAX_CMDS 3
#define MAX_INSNS (3 + MAX_TRAPPED + 2 + MAX_CMDS + 2)

// jump_to: the BPF jump offset from the instruction at index k to the one
// at index target (later in the program).
static unsigned char jump_to(size_t k, size_t target)
{
	return (unsigned char)(target - k - 1);
}

// install_filter: arch != native -> ALLOW; nr in nrs -> USER_NOTIF; with
// ncmds > 0, ioctl with a command (low 32 bits) in cmds -> USER_NOTIF;
// else ALLOW. Returns the listener fd.
static int install_filter(const unsigned int *nrs, size_t n,
			  const unsigned int *cmds, size_t ncmds)
{
	struct sock_filter insns[MAX_INSNS];
	size_t k = 0;

	if (n > MAX_TRAPPED || ncmds > MAX_CMDS) {
		fprintf(stderr, PROG ": internal error: %zu trapped calls, %zu commands\n", n, ncmds);
		exit(2);
	}
	// The program's length, hence where its two returns are.
	size_t len = 3 + n + (ncmds ? 2 + ncmds : 0) + 2;
	size_t allow = len - 2, notif = len - 1;

	insns[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						  offsetof(struct seccomp_data, arch));
	insns[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BENCH_AUDIT_ARCH,
						0, jump_to(k, allow));
	k++;
	insns[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						  offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < n; i++, k++)
		insns[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[i],
							jump_to(k, notif), 0);
	if (ncmds) {
		insns[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl,
							0, jump_to(k, allow));
		k++;
		insns[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG1_LO);
		for (size_t i = 0; i < ncmds; i++, k++)
			insns[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, cmds[i],
								jump_to(k, notif), 0);
	}
	insns[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	insns[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	if (k != len) {
		fprintf(stderr, PROG ": internal error: filter of %zu instructions, want %zu\n", k, len);
		exit(2);
	}
	struct sock_fprog prog = {
		.len = (unsigned short)k,
		.filter = insns,
	};
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)");
	fd = (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		die("seccomp(SET_MODE_FILTER, NEW_LISTENER)");
	return fd;
}

static int send_state(int sock, const char *msg, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (size_t off = (size_t)n; off < len; off += (size_t)n) {
		n = send(sock, msg + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			return -1;
	}
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static const char *mount_target; // -M: the timed call is a tmpfs mount+umount
static const char *open_path;    // -O: the timed call is openat+close
static const char *gpio_chip;    // -G: the timed call is a line request+close
static int chip_fd = -1;         // -G: CHIP, opened once before the calls
static struct gpio_v2_line_request line_req;
static const char *bench_path;

// gpio_setup opens the chip (under a filter, that open is itself brokered:
// fgacd may hand back a handle rather than the chip) and fills in the
// request: lines 1 and 2, outputs.
static void gpio_setup(void)
{
	chip_fd = open(gpio_chip, O_RDWR | O_CLOEXEC);
	if (chip_fd < 0) {
		fprintf(stderr, PROG ": open %s: %s\n", gpio_chip, strerror(errno));
		exit(2);
	}
	memset(&line_req, 0, sizeof(line_req));
	line_req.offsets[0] = 1;
	line_req.offsets[1] = 2;
	line_req.num_lines = 2;
	line_req.config.flags = GPIO_V2_LINE_FLAG_OUTPUT;
	memcpy(line_req.consumer, GPIO_CONSUMER, sizeof(GPIO_CONSUMER));
}

// drop_to switches to uid and gid with no supplementary groups.
static void drop_to(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0)
		die("setgroups");
	if (setgid(gid) < 0)
		die("setgid");
	if (setuid(uid) < 0)
		die("setuid");
}

static void parse_ids(const char *s, uid_t *uid, gid_t *gid)
{
	char buf[32];
	const char *colon = strchr(s, ':');

	if (colon == NULL) {
		*uid = (uid_t)parse_long(s, 0, 0x7fffffffL, "-u");
		*gid = (gid_t)*uid;
		return;
	}
	if ((size_t)(colon - s) >= sizeof(buf))
		usage();
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	*uid = (uid_t)parse_long(buf, 0, 0x7fffffffL, "-u");
	*gid = (gid_t)parse_long(colon + 1, 0, 0x7fffffffL, "-u");
}

// one_call makes one timed call and reports whether it gave what the
// supervisors answer: EPERM for mknodat, success for mount, umount, openat
// and the line request (any errno is unexpected). close is not trapped.
static int one_call(void)
{
	if (gpio_chip != NULL) {
		line_req.fd = -1;
		if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &line_req) != 0)
			return 0;
		if (line_req.fd < 0)
			return 0;
		return close(line_req.fd) == 0;
	}
	if (open_path != NULL) {
		long fd = syscall(__NR_openat, AT_FDCWD, open_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 0;
		return close((int)fd) == 0;
	}
	if (mount_target != NULL) {
		if (mount("tmpfs", mount_target, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0)
			return 0;
		return umount2(mount_target, 0) == 0;
	}
	long r = syscall(__NR_mknodat, AT_FDCWD, bench_path, S_IFCHR | 0600, makedev(1, 3));
	return r == -1 && errno == EPERM;
}

int main(int argc, char **argv)
{
	const char *sock_path = NULL, *metadata = "";
	long calls = -1, batches = 20, pathlen = 255, warmup = 1000;
	int opt, idle = 0, native = 0, modes = 0;
	const char *ids = NULL;

	while ((opt = getopt(argc, argv, "s:n:b:w:m:p:u:IM:O:G:Nh")) != -1) {
		switch (opt) {
		case 'M': mount_target = optarg; modes++; break;
		case 'O': open_path = optarg; modes++; break;
		case 'G': gpio_chip = optarg; modes++; break;
		case 'u': ids = optarg; break;
		case 'w': warmup = parse_long(optarg, 0, 1000000000L, "-w"); break;
		case 'N': native = 1; break;
		case 'I': idle = 1; calls = batches; break;
		case 's': sock_path = optarg; break;
		case 'n': calls = parse_long(optarg, 1, 1000000000L, "-n"); break;
		case 'b': batches = parse_long(optarg, 1, 1000000L, "-b"); break;
		case 'm': metadata = optarg; break;
		case 'p': pathlen = parse_long(optarg, (long)sizeof(PATH_PREFIX), 4095, "-p"); break;
		default: usage();
		}
	}
	if ((sock_path == NULL && !native) || calls < 0 || optind != argc || modes > 1)
		usage();
	if (calls < batches) {
		fprintf(stderr, PROG ": -n %ld must be at least -b %ld\n", calls, batches);
		exit(2);
	}
	long per_batch = calls / batches;

	// The path: PATH_PREFIX then 'x' up to pathlen bytes, with a '/' every
	// 200 bytes so that no component exceeds NAME_MAX.
	char *path = malloc((size_t)pathlen + 1);
	if (path == NULL)
		die("malloc");
	size_t plen = strlen(PATH_PREFIX);
	memcpy(path, PATH_PREFIX, plen);
	for (long i = (long)plen; i < pathlen; i++)
		path[i] = ((i - (long)plen) % 200 == 199 && i != pathlen - 1) ? '/' : 'x';
	path[pathlen] = '\0';

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!native) {
		if (strlen(sock_path) >= sizeof(sa.sun_path)) {
			fprintf(stderr, PROG ": socket path too long: %s\n", sock_path);
			exit(2);
		}
		strcpy(sa.sun_path, sock_path);
	}
	char *meta_esc = json_escape(metadata);
	if (meta_esc == NULL)
		die("malloc");

	if (ids != NULL) {
		uid_t uid;
		gid_t gid;

		parse_ids(ids, &uid, &gid);
		drop_to(uid, gid);
	}

	int sock = -1;
	if (!native) {
		size_t nopen = sizeof(open_nrs) / sizeof(open_nrs[0]);
		int listener = gpio_chip != NULL
			? install_filter(open_nrs, nopen, gpio_line_cmds,
					 sizeof(gpio_line_cmds) / sizeof(gpio_line_cmds[0]))
			: open_path != NULL
			? install_filter(open_nrs, nopen, NULL, 0)
			: install_filter(brokered_nrs, sizeof(brokered_nrs) / sizeof(brokered_nrs[0]),
					 NULL, 0);

		sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (sock < 0)
			die("socket");
		if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, PROG ": connect %s: %s\n", sock_path, strerror(errno));
			exit(2);
		}
		int pid = (int)getpid();
		size_t cap = strlen(meta_esc) + 256;
		char *msg = malloc(cap);
		if (msg == NULL)
			die("malloc");
		int len = snprintf(msg, cap,
				   "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":%d,"
				   "\"metadata\":\"%s\",\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"\","
				   "\"status\":\"running\",\"pid\":%d,\"bundle\":\"\"}}",
				   pid, meta_esc, pid);
		if (len < 0 || (size_t)len >= cap) {
			fprintf(stderr, PROG ": internal error: message too long\n");
			exit(2);
		}
		if (send_state(sock, msg, (size_t)len, listener) < 0)
			die("send state");
		// The supervisor holds the listener now; keep the connection open.
		close(listener);
		if (idle) {
			// -I: an idle listener, for measuring what one costs the
			// supervisor. Waits until killed.
			puts("idle");
			fflush(stdout);
			for (;;)
				pause();
		}
	}

	if (gpio_chip != NULL)
		gpio_setup();
	bench_path = path;
	long unexpected = 0;
	int last_errno = 0;

	for (long i = 0; i < warmup; i++)
		if (!one_call())
			unexpected++;

	int64_t *ns = calloc((size_t)batches, sizeof(*ns));
	if (ns == NULL)
		die("calloc");
	for (long b = 0; b < batches; b++) {
		int64_t t0 = now_ns();
		for (long i = 0; i < per_batch; i++)
			if (!one_call())
				unexpected++;
		int64_t t1 = now_ns();
		last_errno = errno;
		ns[b] = (t1 - t0) / per_batch;
	}

	qsort(ns, (size_t)batches, sizeof(*ns), cmp_i64);
	int64_t median = batches % 2 ? ns[batches / 2]
				     : (ns[batches / 2 - 1] + ns[batches / 2]) / 2;
	printf("ns_per_call median=%lld min=%lld calls=%ld errno=%d unexpected=%ld\n",
	       (long long)median, (long long)ns[0], per_batch * batches, last_errno,
	       unexpected);
	fflush(stdout);
	if (sock >= 0)
		close(sock);
	return unexpected ? 1 : 0;
}
