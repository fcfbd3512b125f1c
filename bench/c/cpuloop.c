// fgacd-bench-cpuloop: what a seccomp filter costs a program on what fgacd
// does NOT broker. Run it bare and under fgac-run; compare the lines.
//
//   fgacd-bench-cpuloop syscall N   N getppid() calls (never trapped)
//   fgacd-bench-cpuloop cpu N       N iterations of a store-then-load loop,
//                                   the pattern speculative store bypass
//                                   mitigations (SSBD) slow down
//
// Prints: ns_per_op median=<ns*1000, i.e. picoseconds> over 20 batches.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCHES 20

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static volatile uint64_t sink;

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "syscall") && strcmp(argv[1], "cpu"))) {
		fprintf(stderr, "usage: fgacd-bench-cpuloop syscall|cpu N\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (n < BATCHES) {
		fprintf(stderr, "fgacd-bench-cpuloop: N must be at least %d\n", BATCHES);
		return 2;
	}
	int cpu = strcmp(argv[1], "cpu") == 0;
	long per = n / BATCHES;
	static uint64_t buf[4096];
	int64_t ps[BATCHES];
	for (int b = 0; b < BATCHES; b++) {
		int64_t t0 = now_ns();
		uint64_t acc = 0;
		for (long i = 0; i < per; i++) {
			if (cpu) {
				// A store, then a load that may alias it: what SSBD
				// keeps the CPU from speculating past.
				buf[(i * 7) & 4095] = acc + (uint64_t)i;
				acc += buf[(i * 13) & 4095];
			} else {
				acc += (uint64_t)syscall(SYS_getppid);
			}
		}
		sink = acc;
		ps[b] = (now_ns() - t0) * 1000 / per;
	}
	qsort(ps, BATCHES, sizeof(ps[0]), cmp);
	printf("ps_per_op median=%lld min=%lld\n", (long long)ps[BATCHES / 2], (long long)ps[0]);
	return 0;
}
