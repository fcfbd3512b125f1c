// blink: a plain GPIO program with no seccomp code of its own. It drives
// output lines through the GPIO character device, uAPI v2 (<linux/gpio.h>,
// Linux >= 5.10), with no library. Run it under `fgac-run --gpio` and fgacd
// decides its line requests; see README.md.
//
// Build:
//   cc -O2 -Wall -Wextra -o blink blink.c
//
// Usage: blink [-n TOGGLES] [-period MS] [-hold SECONDS] CHIP LINE...
//
// It opens CHIP, requests the LINEs (offsets) as outputs, all low, with the
// consumer label "fgacd-blink", toggles them TOGGLES times (adjacent lines in
// opposite states), reading the values back after every change, then sets
// them all high and, with -hold, keeps holding them for SECONDS (SIGINT or
// SIGTERM end the wait early). Closing the line fd releases the lines.
// One line of output per step. Exit 0 when every step worked, 1 when a call
// failed or a value read back differs from the one set, 2 for usage.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/gpio.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PROG "blink"
#define CONSUMER "fgacd-blink"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-n TOGGLES] [-period MS] [-hold SECONDS] CHIP LINE...\n"
		"  CHIP        the chip's device node, e.g. /dev/gpiochip0\n"
		"  LINE        line offsets on the chip (at most %d)\n"
		"  -n          how many times to toggle the lines (default 4)\n"
		"  -period     milliseconds between changes (default 250)\n"
		"  -hold       keep holding the lines, all high, for SECONDS before exiting\n"
		"example: " PROG " /dev/gpiochip0 17 27\n",
		GPIO_V2_LINES_MAX);
}

// errno_name returns the symbolic name of the errnos a GPIO request can
// plausibly end with, so the output says "EPERM" and not only the message.
static const char *errno_name(int e)
{
	switch (e) {
	case EPERM:  return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR:  return "EINTR";
	case EIO:    return "EIO";
	case ENXIO:  return "ENXIO";
	case EBADF:  return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY:  return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default:     return NULL;
	}
}

// fail prints "blink: WHAT: message (ENAME)" for errno e and exits 1.
static void fail(const char *what, int e) __attribute__((noreturn));
static void fail(const char *what, int e)
{
	const char *name = errno_name(e);

	fflush(stdout);
	if (name != NULL)
		fprintf(stderr, PROG ": %s: %s (%s)\n", what, strerror(e), name);
	else
		fprintf(stderr, PROG ": %s: %s (errno %d)\n", what, strerror(e), e);
	exit(1);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

// pause_ms sleeps ms milliseconds, or less once SIGINT or SIGTERM came.
static void pause_ms(unsigned long ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};

	while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

// format_values writes the values of the n lines in bits as "1 0 1".
static void format_values(char *buf, size_t size, uint64_t bits, unsigned int n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%u", i ? " " : "",
					(unsigned int)((bits >> i) & 1));
}

// set_and_check sets the lines to bits, reads them back and prints both.
// Bit i is the line at index i of the request, not offset i.
static void set_and_check(int lfd, const char *step, const char *lines, uint64_t bits,
			  unsigned int n)
{
	uint64_t mask = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
	struct gpio_v2_line_values v = {.bits = bits, .mask = mask};
	char set[3 * GPIO_V2_LINES_MAX], got[3 * GPIO_V2_LINES_MAX];

	if (ioctl(lfd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0)
		fail("set values", errno);
	memset(&v, 0, sizeof(v));
	v.mask = mask;
	if (ioctl(lfd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
		fail("get values", errno);
	format_values(set, sizeof(set), bits, n);
	format_values(got, sizeof(got), v.bits & mask, n);
	printf(PROG ": %s: set lines %s = %s, read back %s\n", step, lines, set, got);
	if ((v.bits & mask) != bits) {
		fprintf(stderr, PROG ": %s: read back %s, want %s\n", step, got, set);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	unsigned long toggles = 4, period = 250, hold = 0, v;
	struct gpio_v2_line_request req;
	char lines[12 * GPIO_V2_LINES_MAX] = "", what[64 + sizeof(lines)];
	char fdpath[64], target[PATH_MAX];
	const char *chip;
	unsigned int n;
	ssize_t tlen;
	uint64_t all;
	int i, cfd, lfd;

	// One line per step, as it happens, also into a pipe or a file.
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		const char *opt = argv[i];
		unsigned long *dst, max = 1000000;

		if (strcmp(opt, "-h") == 0 || strcmp(opt, "-help") == 0 || strcmp(opt, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(opt, "-n") == 0)
			dst = &toggles;
		else if (strcmp(opt, "-period") == 0)
			dst = &period;
		else if (strcmp(opt, "-hold") == 0)
			dst = &hold;
		else {
			fprintf(stderr, PROG ": unknown option %s\n", opt);
			usage(stderr);
			return 2;
		}
		if (i + 1 >= argc || parse_uint(argv[i + 1], max, dst) < 0) {
			fprintf(stderr, PROG ": %s needs a number up to %lu\n", opt, max);
			usage(stderr);
			return 2;
		}
	}
	if (argc - i < 2 || argc - i - 1 > GPIO_V2_LINES_MAX) {
		usage(stderr);
		return 2;
	}
	chip = argv[i++];

	memset(&req, 0, sizeof(req));
	for (n = 0; i < argc; i++, n++) {
		size_t len = strlen(lines);

		if (parse_uint(argv[i], UINT32_MAX, &v) < 0) {
			fprintf(stderr, PROG ": line %s: not an offset\n", argv[i]);
			return 2;
		}
		req.offsets[n] = (uint32_t)v;
		snprintf(lines + len, sizeof(lines) - len, "%s%lu", n ? " " : "", v);
	}
	all = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;

	// SIGINT and SIGTERM end a pause; the lines are then released by
	// closing the line fd, as at the end of a normal run.
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	// Under fgacd with lines granted but no gpio_open rule, this fd is a
	// handle (an empty sealed memfd naming the chip), not the chip: line
	// requests on it work, chip ioctls fail with ENOTTY. What it is shows
	// in /proc/self/fd, which is printed for that reason.
	cfd = open(chip, O_RDWR | O_CLOEXEC);
	if (cfd < 0) {
		snprintf(what, sizeof(what), "open %s", chip);
		fail(what, errno);
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", cfd);
	tlen = readlink(fdpath, target, sizeof(target) - 1);
	if (tlen < 0)
		tlen = snprintf(target, sizeof(target), "?");
	target[tlen] = '\0';
	printf(PROG ": opened %s: fd %d is %s\n", chip, cfd, target);

	// All lines as outputs, starting low: the initial value is part of the
	// request (an output-values attribute), so no line glitches high.
	snprintf(req.consumer, sizeof(req.consumer), "%s", CONSUMER);
	req.num_lines = n;
	req.config.flags = GPIO_V2_LINE_FLAG_OUTPUT;
	req.config.num_attrs = 1;
	req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
	req.config.attrs[0].attr.values = 0;
	req.config.attrs[0].mask = all;
	if (ioctl(cfd, GPIO_V2_GET_LINE_IOCTL, &req) < 0) {
		snprintf(what, sizeof(what), "request lines %s", lines);
		fail(what, errno);
	}
	lfd = req.fd;
	// The chip fd (or handle) is no longer needed: the line fd alone holds
	// the lines.
	close(cfd);
	printf(PROG ": requested lines %s as outputs (consumer \"" CONSUMER "\"): line fd %d\n",
	       lines, lfd);

	for (unsigned long t = 0; t < toggles && !stop; t++) {
		// Even indexes high on odd steps, odd indexes high on even ones.
		uint64_t bits = (t % 2 ? 0x5555555555555555ULL : 0xaaaaaaaaaaaaaaaaULL) & all;

		snprintf(what, sizeof(what), "toggle %lu", t + 1);
		set_and_check(lfd, what, lines, bits, n);
		pause_ms(period);
	}
	set_and_check(lfd, "final", lines, all, n);
	if (hold > 0) {
		printf(PROG ": holding lines %s for %lu s\n", lines, hold);
		pause_ms(hold * 1000);
	}
	close(lfd);
	printf(PROG ": released lines %s\n", lines);
	return 0;
}
