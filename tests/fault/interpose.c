/* Fault interposer for integration tests (LD_PRELOAD): makes reads or writes of one file fail
 * or slow down. The test compiles it: cc -shared -fPIC -o interpose.so interpose.c -ldl
 *
 * Environment (nothing set: every call passes through unchanged):
 *   FAULT_PATH      substring of the file's path (/proc/self/fd/N) the faults apply to
 *   FAULT_OP        read (default: read, pread, readv, copy_file_range's source), write (write,
 *                   pwrite, writev, copy_file_range's target, ftruncate), fsync (fsync,
 *                   fdatasync) or all
 *   FAULT_ERRNO     fail with this errno (a number or EIO, ENOSPC, EDQUOT, EROFS)
 *   FAULT_NTH       fail from the N-th matching call on (1-based, default 1); FAULT_COUNT=1
 *                   fails only that one call
 *   FAULT_DELAY_MS  sleep this long before every matching call (a slow source: lets a test
 *                   signal a build while it runs)
 *   FAULT_LOG       append "OP N" for each matching call to this file (to count a run's calls)
 * Every process that loads it counts separately; thread-safe. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { OP_READ = 1, OP_WRITE = 2, OP_FSYNC = 4 };

static atomic_ulong fault_calls;

static int fault_errno(void)
{
	const char *e = getenv("FAULT_ERRNO");

	if (!e || !*e)
		return 0;
	if (!strcmp(e, "EIO"))
		return EIO;
	if (!strcmp(e, "ENOSPC"))
		return ENOSPC;
	if (!strcmp(e, "EDQUOT"))
		return EDQUOT;
	if (!strcmp(e, "EROFS"))
		return EROFS;
	return atoi(e);
}

static int fault_ops(void)
{
	const char *o = getenv("FAULT_OP");

	if (!o || !*o || !strcmp(o, "read"))
		return OP_READ;
	if (!strcmp(o, "write"))
		return OP_WRITE;
	if (!strcmp(o, "fsync"))
		return OP_FSYNC;
	return OP_READ | OP_WRITE | OP_FSYNC;
}

/* 0: pass the call through; else the errno to fail it with (after any delay). */
static int fault_check(int fd, int op)
{
	const char *want = getenv("FAULT_PATH"), *log = getenv("FAULT_LOG"), *s;
	char link[64], path[4096];
	unsigned long n, nth, count;
	ssize_t len;
	int err;

	if (!want || !*want || !(fault_ops() & op))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len < 0)
		return 0;
	path[len] = 0;
	if (!strstr(path, want))
		return 0;
	n = atomic_fetch_add(&fault_calls, 1) + 1;
	if (log && *log) {
		FILE *f = fopen(log, "a");

		if (f) {
			fprintf(f, "%s %lu\n",
				op == OP_READ ? "read" : op == OP_WRITE ? "write" : "fsync", n);
			fclose(f);
		}
	}
	if ((s = getenv("FAULT_DELAY_MS")) && *s) {
		long ms = atol(s);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL); /* a signal cuts it short, as it would a slow read */
	}
	err = fault_errno();
	nth = (s = getenv("FAULT_NTH")) && *s ? strtoul(s, NULL, 10) : 1;
	count = (s = getenv("FAULT_COUNT")) && *s ? strtoul(s, NULL, 10) : 0;
	if (!err || n < nth || (count && n >= nth + count))
		return 0;
	return err;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))
#define FAIL_IF(fd, op)                        \
	do {                                   \
		int e_ = fault_check((fd), (op)); \
		if (e_) {                      \
			errno = e_;            \
			return -1;             \
		}                              \
	} while (0)

ssize_t read(int fd, void *buf, size_t len)
{
	FAIL_IF(fd, OP_READ);
	return NEXT(read)(fd, buf, len);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	FAIL_IF(fd, OP_READ);
	return NEXT(pread)(fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
{
	FAIL_IF(fd, OP_READ);
	return NEXT(pread64)(fd, buf, len, off);
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
	FAIL_IF(fd, OP_READ);
	return NEXT(readv)(fd, iov, n);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	FAIL_IF(fd, OP_WRITE);
	return NEXT(write)(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	FAIL_IF(fd, OP_WRITE);
	return NEXT(pwrite)(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	FAIL_IF(fd, OP_WRITE);
	return NEXT(pwrite64)(fd, buf, len, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	FAIL_IF(fd, OP_WRITE);
	return NEXT(writev)(fd, iov, n);
}

ssize_t copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t len,
			unsigned flags)
{
	FAIL_IF(in, OP_READ);
	FAIL_IF(out, OP_WRITE);
	return NEXT(copy_file_range)(in, in_off, out, out_off, len, flags);
}

int ftruncate(int fd, off_t len)
{
	FAIL_IF(fd, OP_WRITE);
	return NEXT(ftruncate)(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	FAIL_IF(fd, OP_WRITE);
	return NEXT(ftruncate64)(fd, len);
}

int fsync(int fd)
{
	FAIL_IF(fd, OP_FSYNC);
	return NEXT(fsync)(fd);
}

int fdatasync(int fd)
{
	FAIL_IF(fd, OP_FSYNC);
	return NEXT(fdatasync)(fd);
}
