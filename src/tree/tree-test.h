/* Helpers for the tree/ unit tests: temporary host trees. Header-only, test binaries only. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/xalloc.h"

static inline char *tt_mkdtemp(void)
{
	char *p = xstrdup("/tmp/tree_test.XXXXXX");

	if (!mkdtemp(p))
		abort();
	return p;
}

/* printf-style path */
__attribute__((format(printf, 1, 2))) static inline char *tt_path(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static inline int tt_write(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(data);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	if (n != (ssize_t)len) {
		int r = n < 0 ? -errno : -EIO;

		close(fd);
		return r;
	}
	if (fchmod(fd, mode) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return close(fd) < 0 ? -errno : 0;
}

static inline void tt_rm_rf(char *dir)
{
	pid_t pid;
	int status;

	if (!dir)
		return;
	(void)system(NULL);
	pid = fork();
	if (pid == 0) {
		execlp("chmod", "chmod", "-R", "u+rwx", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		(void)waitpid(pid, &status, 0);
	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		(void)waitpid(pid, &status, 0);
	free(dir);
}

static inline void tt_rm_rfp(char **p)
{
	tt_rm_rf(*p);
}

#define _cleanup_tmpdir_ __attribute__((cleanup(tt_rm_rfp)))
