// gpio-check: proves that the gpio-sim chip in the test guest works through
// the GPIO character device (uAPI v2) and that what a line request does
// shows in gpio-sim's sysfs, and that a sysfs pull change comes back as an
// edge event (which goes through irq_sim, the part patched for the
// out-of-tree build).
//
// Usage: gpio-check CHIPDEV SIMSYSFSDIR [LABEL [NLINES]]
//   e.g. gpio-check /dev/gpiochip0 /sys/devices/platform/gpio-sim.0/gpiochip0 fgacd-sim 8
//
// Prints one "ok"/"FAIL" line per check and exits 0 only when all passed.
// Built statically on the host (gcc -static) and run inside the guest.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int failures;
static int checks;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

// read_attr reads a small sysfs attribute into buf without its newline.
static int read_attr(const char *dir, const char *rel, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int write_attr(const char *dir, const char *rel, const char *val)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static void expect_sysfs_value(const char *sim, unsigned int line, const char *want)
{
	char rel[64], got[64] = "";
	int err;

	snprintf(rel, sizeof(rel), "sim_gpio%u/value", line);
	err = read_attr(sim, rel, got, sizeof(got));
	check(err == 0 && strcmp(got, want) == 0, "sysfs %s = %s (want %s)%s%s", rel,
	      err ? "?" : got, want, err ? ": " : "", err ? strerror(-err) : "");
}

static int request_line(int chip, unsigned int line, __u64 flags)
{
	struct gpio_v2_line_request req;

	memset(&req, 0, sizeof(req));
	req.offsets[0] = line;
	req.num_lines = 1;
	req.config.flags = flags;
	snprintf(req.consumer, sizeof(req.consumer), "fgacd-gpio-check");
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
		return -errno;
	return req.fd;
}

// wait_edge waits up to 2 s for one edge event on a line request fd.
static int wait_edge(int fd, __u32 want_id, const char *what)
{
	struct gpio_v2_line_event ev;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n = poll(&p, 1, 2000);

	if (n <= 0) {
		check(0, "%s edge event: %s", what, n == 0 ? "none within 2 s" : strerror(errno));
		return -1;
	}
	if (read(fd, &ev, sizeof(ev)) != (ssize_t)sizeof(ev)) {
		check(0, "%s edge event: read: %s", what, strerror(errno));
		return -1;
	}
	check(ev.id == want_id, "%s edge event: id %u (want %u), offset %u, seqno %u", what,
	      ev.id, want_id, ev.offset, ev.seqno);
	return 0;
}

static int line_value(int fd, int *val)
{
	struct gpio_v2_line_values v = {.mask = 1};

	if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
		return -errno;
	*val = (int)(v.bits & 1);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev, *sim, *want_label = "fgacd-sim";
	unsigned int want_lines = 8, i;
	const unsigned int out_line = 3, in_line = 5;
	struct gpiochip_info info;
	struct gpio_v2_line_values vals;
	int chip, fd, err, val;

	if (argc < 3) {
		fprintf(stderr, "usage: %s CHIPDEV SIMSYSFSDIR [LABEL [NLINES]]\n", argv[0]);
		return 2;
	}
	dev = argv[1];
	sim = argv[2];
	if (argc > 3)
		want_label = argv[3];
	if (argc > 4)
		want_lines = (unsigned int)strtoul(argv[4], NULL, 0);

	chip = open(dev, O_RDWR | O_CLOEXEC);
	check(chip >= 0, "open %s%s%s", dev, chip < 0 ? ": " : "", chip < 0 ? strerror(errno) : "");
	if (chip < 0)
		goto out;

	memset(&info, 0, sizeof(info));
	err = ioctl(chip, GPIO_GET_CHIPINFO_IOCTL, &info) < 0 ? errno : 0;
	check(err == 0, "GPIO_GET_CHIPINFO_IOCTL: name=%s label=%s lines=%u%s%s", info.name,
	      info.label, info.lines, err ? ": " : "", err ? strerror(err) : "");
	check(strcmp(info.label, want_label) == 0, "chip label is %s", want_label);
	check(info.lines == want_lines, "chip has %u lines", want_lines);

	for (i = 0; i < info.lines && i < GPIO_V2_LINES_MAX; i++) {
		struct gpio_v2_line_info li;
		char want[32];

		memset(&li, 0, sizeof(li));
		li.offset = i;
		snprintf(want, sizeof(want), "line%u", i);
		err = ioctl(chip, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0 ? errno : 0;
		check(err == 0 && strcmp(li.name, want) == 0, "line %u is named %s (got \"%s\")%s%s",
		      i, want, li.name, err ? ": " : "", err ? strerror(err) : "");
	}

	// Output: the value set through the uAPI must show in gpio-sim's sysfs.
	fd = request_line(chip, out_line, GPIO_V2_LINE_FLAG_OUTPUT);
	check(fd >= 0, "GPIO_V2_GET_LINE_IOCTL line %u as output%s%s", out_line, fd < 0 ? ": " : "",
	      fd < 0 ? strerror(-fd) : "");
	if (fd >= 0) {
		struct gpio_v2_line_info li;

		memset(&li, 0, sizeof(li));
		li.offset = out_line;
		err = ioctl(chip, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0 ? errno : 0;
		check(err == 0 && (li.flags & GPIO_V2_LINE_FLAG_USED) &&
			      (li.flags & GPIO_V2_LINE_FLAG_OUTPUT) &&
			      strcmp(li.consumer, "fgacd-gpio-check") == 0,
		      "line %u info: used, output, consumer \"%s\"", out_line, li.consumer);
		vals.mask = 1;
		vals.bits = 1;
		err = ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals) < 0 ? errno : 0;
		check(err == 0, "GPIO_V2_LINE_SET_VALUES_IOCTL line %u = 1%s%s", out_line,
		      err ? ": " : "", err ? strerror(err) : "");
		expect_sysfs_value(sim, out_line, "1");
		vals.bits = 0;
		err = ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals) < 0 ? errno : 0;
		check(err == 0, "GPIO_V2_LINE_SET_VALUES_IOCTL line %u = 0%s%s", out_line,
		      err ? ": " : "", err ? strerror(err) : "");
		expect_sysfs_value(sim, out_line, "0");
		// A second request of a line in use must be refused with EBUSY.
		err = request_line(chip, out_line, GPIO_V2_LINE_FLAG_OUTPUT);
		check(err == -EBUSY, "second request of line %u: %s (want EBUSY)", out_line,
		      err < 0 ? strerror(-err) : "granted");
		if (err >= 0)
			close(err);
		close(fd);
	}

	// Input with edge detection: pulling the simulated line must come back
	// as a value and as edge events (gpio-sim -> irq_sim -> gpiolib-cdev).
	fd = request_line(chip, in_line,
			  GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING |
				  GPIO_V2_LINE_FLAG_EDGE_FALLING);
	check(fd >= 0, "GPIO_V2_GET_LINE_IOCTL line %u as input with edges%s%s", in_line,
	      fd < 0 ? ": " : "", fd < 0 ? strerror(-fd) : "");
	if (fd >= 0) {
		char rel[64];

		snprintf(rel, sizeof(rel), "sim_gpio%u/pull", in_line);
		err = write_attr(sim, rel, "pull-up");
		check(err == 0, "sysfs %s = pull-up%s%s", rel, err ? ": " : "", err ? strerror(-err) : "");
		wait_edge(fd, GPIO_V2_LINE_EVENT_RISING_EDGE, "rising");
		err = line_value(fd, &val);
		check(err == 0 && val == 1, "GPIO_V2_LINE_GET_VALUES_IOCTL line %u = %d (want 1)",
		      in_line, err ? -1 : val);
		err = write_attr(sim, rel, "pull-down");
		check(err == 0, "sysfs %s = pull-down%s%s", rel, err ? ": " : "", err ? strerror(-err) : "");
		wait_edge(fd, GPIO_V2_LINE_EVENT_FALLING_EDGE, "falling");
		err = line_value(fd, &val);
		check(err == 0 && val == 0, "GPIO_V2_LINE_GET_VALUES_IOCTL line %u = %d (want 0)",
		      in_line, err ? -1 : val);
		close(fd);
	}
	close(chip);
out:
	printf("gpio-check: %d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
