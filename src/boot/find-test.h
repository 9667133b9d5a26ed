/* A fake filesystem for boot/find.c's places in unit tests: a temp directory used as
 * boot_find_where.root (image_spec.search_root), with files made on demand. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

/* An empty fake root (malloc'd path), NULL when mkdtemp fails. */
static inline char *fake_root_new(void)
{
	char *dir = xstrdup("/tmp/mkdiskimage-find-XXXXXX");

	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* root/rel as a file (its directories made), with mode (0755: grub-mkimage). 0 or -errno. */
static inline int fake_file(const char *root, const char *rel, mode_t mode)
{
	char *p = xasprintf("%s%s", root, rel);
	int fd, r = 0;

	for (char *s = strchr(p + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, "x", 1) != 1)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(p);
	return r;
}

static inline int fake_rm(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* Remove the fake root and free its path. */
static inline void fake_root_free(char *root)
{
	if (root)
		nftw(root, fake_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}
