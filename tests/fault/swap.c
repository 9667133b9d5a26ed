/* A source-swapping interposer for tests (LD_PRELOAD), not part of the tool: changes a source
 * file at a chosen moment (tests/fault/interpose.c injects errors and delays instead). Build it with
 *	cc -shared -fPIC -O1 -o swap.so tests/fault/swap.c -ldl
 * and configure it through the environment:
 *	FAULT_PATH    the host file to act on: an absolute path as the tool reaches it, or a bare
 *	              name matching any file of that name (for paths longer than PATH_MAX)
 *	FAULT_ACTION  what to do:
 *	   swap-symlink  before the N-th open of FAULT_PATH: replace it by a symlink to
 *	                 FAULT_TARGET
 *	   swap-fifo     before the N-th open: replace it by a FIFO
 *	   remove        before the N-th open: unlink it
 *	   modify        after the N-th data read from it (read, pread, copy_file_range, sendfile,
 *	                 splice): overwrite its first byte in place (same size, new mtime/ctime)
 *	   append        after the N-th data read: append FAULT_TARGET bytes (default 4096)
 *	   truncate      after the N-th data read: truncate it to FAULT_TARGET bytes (default 0)
 *	   eio           the N-th data read fails with EIO (and every later one)
 *	FAULT_AT      N (default 1)
 *	FAULT_LOG     where "fault: ACTION PATH" is appended when the action runs (default: stderr)
 * The action runs once. Opens are matched by
 * the resolved path of (dirfd, name); reads by the fd an open of FAULT_PATH returned. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FDS 4096

static const char *fpath, *faction, *ftarget;
static long fat = 1;
static atomic_int n_opens, n_reads, done;
static atomic_bool tracked[MAX_FDS];

__attribute__((constructor)) static void fault_init(void)
{
	fpath = getenv("FAULT_PATH");
	faction = getenv("FAULT_ACTION");
	ftarget = getenv("FAULT_TARGET");
	if (getenv("FAULT_AT"))
		fat = strtol(getenv("FAULT_AT"), NULL, 10);
}

static bool is_action(const char *a)
{
	return faction && strcmp(faction, a) == 0;
}

static bool on_open(void)
{
	return is_action("swap-symlink") || is_action("swap-fifo") || is_action("remove");
}

/* Does (dirfd, name) name FAULT_PATH? */
static bool matches(int dirfd, const char *name)
{
	char dir[PATH_MAX], link[64], full[2 * PATH_MAX];
	ssize_t n;

	if (!fpath || !faction || !name)
		return false;
	if (fpath[0] != '/') {
		const char *b = strrchr(name, '/');

		return strcmp(b ? b + 1 : name, fpath) == 0;
	}
	if (name[0] == '/')
		return strcmp(name, fpath) == 0;
	if (dirfd == AT_FDCWD) {
		if (!getcwd(dir, sizeof(dir)))
			return false;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, dir, sizeof(dir) - 1);
		if (n < 0)
			return false;
		dir[n] = '\0';
	}
	snprintf(full, sizeof(full), "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
	return strcmp(full, fpath) == 0;
}

static void say(const char *what)
{
	const char *log = getenv("FAULT_LOG");
	int fd = log ? (int)syscall(SYS_openat, AT_FDCWD, log,
				    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
		     : 2;

	if (fd < 0)
		return;
	dprintf(fd, "fault: %s %s\n", what, fpath);
	if (fd != 2)
		(void)syscall(SYS_close, fd);
}

static void act_before_open(int dirfd, const char *name)
{
	int saved = errno;
	char aside[PATH_MAX + 16];

	if (atomic_fetch_add(&n_opens, 1) + 1 != fat || atomic_exchange(&done, 1))
		return;
	snprintf(aside, sizeof(aside), "%s.fault-orig", name);
	if (renameat(dirfd, name, dirfd, aside) < 0)
		say("cannot move aside");
	if (is_action("swap-symlink") &&
	    symlinkat(ftarget ? ftarget : "/etc/shadow", dirfd, name) < 0)
		say("cannot symlink");
	if (is_action("swap-fifo") && mkfifoat(dirfd, name, 0644) < 0)
		say("cannot mkfifo");
	say(faction);
	errno = saved;
}

static void act_after_read(int src)
{
	char self[64];
	int saved = errno, fd;

	if (is_action("eio") || atomic_load(&done))
		return;
	if (atomic_fetch_add(&n_reads, 1) + 1 != fat || atomic_exchange(&done, 1))
		return;
	/* the real syscalls: our own wrappers would count these */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", src);
	fd = (int)syscall(SYS_openat, AT_FDCWD, self, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		say("cannot open for writing");
		errno = saved;
		return;
	}
	if (is_action("modify")) {
		char c;

		if (syscall(SYS_pread64, fd, &c, 1, 0) != 1)
			c = 0;
		c = (char)~c;
		(void)syscall(SYS_pwrite64, fd, &c, 1, 0);
	} else if (is_action("append")) {
		long n = ftarget ? strtol(ftarget, NULL, 10) : 4096;
		struct stat st;
		char buf[4096];

		memset(buf, 'G', sizeof(buf));
		if (fstat(fd, &st) == 0)
			for (long off = 0; off < n; off += (long)sizeof(buf))
				(void)syscall(SYS_pwrite64, fd, buf,
					      n - off < (long)sizeof(buf) ? n - off : (long)sizeof(buf),
					      st.st_size + off);
	} else if (is_action("truncate"))
		(void)ftruncate(fd, ftarget ? strtol(ftarget, NULL, 10) : 0);
	close(fd);
	say(faction);
	errno = saved;
}

/* The N-th read of a tracked fd under "eio": fail it (and later ones). */
static bool read_fails(int fd)
{
	if (!is_action("eio") || fd < 0 || fd >= MAX_FDS || !atomic_load(&tracked[fd]))
		return false;
	if (atomic_load(&done))
		return true;
	if (atomic_fetch_add(&n_reads, 1) + 1 < fat)
		return false;
	if (!atomic_exchange(&done, 1))
		say(faction);
	return true;
}

static bool is_tracked(int fd)
{
	return fd >= 0 && fd < MAX_FDS && atomic_load(&tracked[fd]);
}

static int track(int fd, bool match)
{
	if (fd >= 0 && fd < MAX_FDS)
		atomic_store(&tracked[fd], match);
	return fd;
}


static int do_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	bool match = matches(dirfd, name);

	if (match && on_open())
		act_before_open(dirfd, name);
	return track((int)syscall(SYS_openat, dirfd, name, flags, mode), match);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *name, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, name, flags, m);
}

int open64(const char *name, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *name, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(dirfd, name, flags, m);
}

int openat64(int dirfd, const char *name, int flags, ...) __attribute__((alias("openat")));

int close(int fd)
{
	track(fd, false);
	return (int)syscall(SYS_close, fd);
}

#define READ_WRAPPER(call, fd)                       \
	do {                                         \
		ssize_t r_;                          \
		if (read_fails(fd)) {                \
			errno = EIO;                 \
			return -1;                   \
		}                                    \
		r_ = call;                           \
		if (r_ > 0 && is_tracked(fd))        \
			act_after_read(fd);          \
		return r_;                           \
	} while (0)

ssize_t read(int fd, void *buf, size_t n)
{
	READ_WRAPPER(syscall(SYS_read, fd, buf, n), fd);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	READ_WRAPPER(syscall(SYS_pread64, fd, buf, n, off), fd);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off) __attribute__((alias("pread")));

ssize_t copy_file_range(int in, loff_t *in_off, int out, loff_t *out_off, size_t n,
			unsigned int flags)
{
	READ_WRAPPER(syscall(SYS_copy_file_range, in, in_off, out, out_off, n, flags), in);
}

ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	READ_WRAPPER(syscall(SYS_sendfile, out, in, off, n), in);
}

ssize_t sendfile64(int out, int in, off_t *off, size_t n) __attribute__((alias("sendfile")));
