// fgacd-mknod-app: an unprivileged app that has fgacd broker its mknod calls.
//
// It follows the seven steps of seccomp user notification with libseccomp:
// steps 1-5 happen here, steps 6-7 (receive the fd, serve notifications)
// happen in fgacd. See README.md.
//
// Build:
//   cc -O2 -Wall -Wextra -o fgacd-mknod-app app.c $(pkg-config --cflags --libs libseccomp)

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define PROG "fgacd-mknod-app"
#define DEFAULT_SOCKET "/run/fgacd/fgacd.sock"
#define EXIT_SETUP 2

struct node {
	const char *path;
	mode_t mode; // S_IFCHR/S_IFBLK/S_IFIFO | permission bits
	dev_t dev;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-s SOCKET] [-m METADATA] [-l] PATH:TYPE:MAJOR:MINOR:MODE ...\n"
		"  TYPE   c (char device), b (block device) or p (FIFO)\n"
		"  MODE   octal permission bits, e.g. 0666\n"
		"  -s     fgacd socket (default: $FGACD_SOCKET, else " DEFAULT_SOCKET ")\n"
		"  -m     metadata string sent to fgacd with the listener fd\n"
		"  -l     use the legacy mknod(2) syscall instead of mknodat(AT_FDCWD, ...)\n"
		"example: " PROG " /tmp/fgacd-demo/null:c:1:3:0666\n");
}

static void die_setup(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_setup(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_SETUP);
}

static int parse_uint(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s == '\0' || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

// parse_node parses PATH:TYPE:MAJOR:MINOR:MODE. The four fields are taken
// from the right so that PATH may itself contain ':'. arg is modified.
static int parse_node(char *arg, struct node *n)
{
	char *f[4];
	unsigned long major, minor, perm;

	for (int i = 3; i >= 0; i--) {
		char *c = strrchr(arg, ':');
		if (c == NULL)
			return -1;
		*c = '\0';
		f[i] = c + 1;
	}
	if (arg[0] == '\0')
		return -1;
	n->path = arg;

	if (strcmp(f[0], "c") == 0)
		n->mode = S_IFCHR;
	else if (strcmp(f[0], "b") == 0)
		n->mode = S_IFBLK;
	else if (strcmp(f[0], "p") == 0)
		n->mode = S_IFIFO;
	else
		return -1;
	if (parse_uint(f[1], 10, 0xfffff, &major) < 0 ||   // 12 bits in old ABI, 20 max
	    parse_uint(f[2], 10, 0xffffffffUL, &minor) < 0 ||
	    parse_uint(f[3], 8, 07777, &perm) < 0)
		return -1;
	n->mode |= (mode_t)perm;
	n->dev = makedev((unsigned int)major, (unsigned int)minor);
	return 0;
}

// json_escape returns a malloc'd JSON string body (without quotes) for s.
static char *json_escape(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len * 6 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '"':  *p++ = '\\'; *p++ = '"'; break;
		case '\\': *p++ = '\\'; *p++ = '\\'; break;
		case '\b': *p++ = '\\'; *p++ = 'b'; break;
		case '\f': *p++ = '\\'; *p++ = 'f'; break;
		case '\n': *p++ = '\\'; *p++ = 'n'; break;
		case '\r': *p++ = '\\'; *p++ = 'r'; break;
		case '\t': *p++ = '\\'; *p++ = 't'; break;
		default:
			if (*c < 0x20)
				p += sprintf(p, "\\u%04x", *c);
			else
				*p++ = (char)*c; // UTF-8 passes through unchanged
		}
	}
	*p = '\0';
	return out;
}

// send_state sends the OCI ContainerProcessState JSON with fd attached
// (SCM_RIGHTS) on the first sendmsg; a short write is completed with send.
static int send_state(int sock, const char *msg, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
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

int main(int argc, char **argv)
{
	const char *sock_path = getenv("FGACD_SOCKET");
	const char *metadata = "";
	int legacy = 0, opt, rc;

	if (sock_path == NULL || sock_path[0] == '\0')
		sock_path = DEFAULT_SOCKET;
	while ((opt = getopt(argc, argv, "+s:m:lh")) != -1) {
		switch (opt) {
		case 's': sock_path = optarg; break;
		case 'm': metadata = optarg; break;
		case 'l': legacy = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_SETUP;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no PATH:TYPE:MAJOR:MINOR:MODE given\n");
		usage(stderr);
		return EXIT_SETUP;
	}
#ifndef SYS_mknod
	if (legacy)
		die_setup("-l: this architecture has no legacy mknod syscall");
#endif

	// Validate every argument before touching seccomp or the socket.
	int nnodes = argc - optind;
	struct node *nodes = calloc((size_t)nnodes, sizeof(*nodes));
	if (nodes == NULL)
		die_setup("out of memory");
	for (int i = 0; i < nnodes; i++) {
		char *copy = strdup(argv[optind + i]);
		if (copy == NULL)
			die_setup("out of memory");
		if (parse_node(copy, &nodes[i]) < 0) {
			fprintf(stderr, PROG ": bad argument %s: want PATH:TYPE:MAJOR:MINOR:MODE "
				"(TYPE c|b|p, MAJOR/MINOR decimal, MODE octal <= 07777)\n",
				argv[optind + i]);
			return EXIT_SETUP;
		}
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		die_setup("socket path too long (max %zu bytes): %s",
			  sizeof(sa.sun_path) - 1, sock_path);
	strcpy(sa.sun_path, sock_path);

	char *meta_esc = json_escape(metadata);
	if (meta_esc == NULL)
		die_setup("out of memory");

	// User notification needs libseccomp API level 5 or later (kernel 5.0+,
	// libseccomp 2.5+).
	int api = (int)seccomp_api_get();
	if (api < 5)
		die_setup("seccomp user notification unavailable (libseccomp API level %d < 5; "
			  "need Linux 5.0+ and libseccomp 2.5+)", api);

	// Step 1: a filter whose default action lets every syscall through.
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		die_setup("seccomp_init failed");

	// Step 2: mknod and mknodat notify the listener (fgacd) instead of running.
	// The legacy mknod syscall only exists on some architectures (x86_64 yes,
	// arm64 no); libc's mknod() uses mknodat on x86_64 anyway.
#ifdef SYS_mknod
	rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mknod), 0);
	if (rc < 0)
		die_setup("seccomp_rule_add mknod: %s", strerror(-rc));
#endif
	rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mknodat), 0);
	if (rc < 0)
		die_setup("seccomp_rule_add mknodat: %s", strerror(-rc));

	// Step 3: load the filter. libseccomp sets NO_NEW_PRIVS first (its
	// default), which is what lets an unprivileged process install it.
	rc = seccomp_load(ctx);
	if (rc < 0)
		die_setup("seccomp_load: %s", strerror(-rc));

	// Step 4: the listener ("notify") fd of the filter just loaded.
	int notify_fd = seccomp_notify_fd(ctx);
	if (notify_fd < 0)
		die_setup("seccomp_notify_fd: %s", strerror(-notify_fd));

	// Step 5: connect to fgacd and send one message, the OCI runtime-spec
	// ContainerProcessState, with the listener fd attached (SCM_RIGHTS).
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die_setup("socket: %s", strerror(errno));
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		die_setup("connect %s: %s%s", sock_path, strerror(e),
			  (e == ENOENT || e == ECONNREFUSED) ? " (is fgacd running?)" : "");
	}

	pid_t pid = getpid();
	size_t cap = strlen(meta_esc) + 256;
	char *msg = malloc(cap);
	if (msg == NULL)
		die_setup("out of memory");
	int len = snprintf(msg, cap,
			   "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":%d,"
			   "\"metadata\":\"%s\",\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"\","
			   "\"status\":\"running\",\"pid\":%d,\"bundle\":\"\"}}",
			   (int)pid, meta_esc, (int)pid);
	if (len < 0 || (size_t)len >= cap)
		die_setup("internal error: state message does not fit");
	if (send_state(sock, msg, (size_t)len, notify_fd) < 0)
		die_setup("send to %s: %s", sock_path, strerror(errno));

	// fgacd now holds the listener. Close our copy: if fgacd goes away, the
	// listener dies with it and trapped calls fail with ENOSYS instead of
	// hanging. The connection itself stays open: fgacd must not wait for EOF.
	close(notify_fd);
	free(msg);
	free(meta_esc);

	// Steps 6 and 7 happen in fgacd: it receives the fd and answers each
	// notification. Each call below blocks until fgacd has answered it.
	const char *sysname = legacy ? "mknod" : "mknodat";
	for (int i = 0; i < nnodes; i++) {
		long r;
#ifdef SYS_mknod
		if (legacy)
			r = syscall(SYS_mknod, nodes[i].path, nodes[i].mode, nodes[i].dev);
		else
#endif
			r = mknodat(AT_FDCWD, nodes[i].path, nodes[i].mode, nodes[i].dev);
		if (r == 0)
			printf("%s %s: ok\n", sysname, nodes[i].path);
		else {
			int e = errno;
			printf("%s %s: %s (errno %d)\n", sysname, nodes[i].path, strerror(e), e);
		}
		fflush(stdout);
	}

	close(sock);
	return 0;
}
