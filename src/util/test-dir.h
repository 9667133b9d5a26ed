/* Directory checks the unit tests share: what a test leaves behind in a temporary directory. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <string.h>

/* Entries in dir other than . and ..; -errno when it cannot be read. */
static inline int test_count_entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!dp)
		return -errno;
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}
