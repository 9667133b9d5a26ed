/* The filesystem handler table: every filesystem a partition can hold, in the order inspect
 * probes them (ext4 first, as inspect always did; swap last: its signature sits at the end of
 * the first page, where another filesystem's data could hold anything). */
#include "fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs/fs-internal.h"
#include "util/diag.h"

static const struct fs_ops *const fs_table[] = {
	&ext4_fs_ops, &fat_fs_ops, &erofs_fs_ops, &swap_fs_ops, &raw_fs_ops, &none_fs_ops,
};

#define FS_N (sizeof(fs_table) / sizeof(fs_table[0]))

const struct fs_ops *fs_ops_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < FS_N; i++)
		if (strcmp(fs_table[i]->name, name) == 0)
			return fs_table[i];
	return NULL;
}

const char *fs_names(void)
{
	static char names[128];
	size_t n = 0;

	if (names[0])
		return names;
	/* "a, b, c or d", from the table (a few short names: the buffer holds them) */
	for (size_t i = 0; i < FS_N; i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
				      i == 0 ? "" : i + 1 == FS_N ? " or " : ", ", fs_table[i]->name);
	return names;
}

int fs_probe_any(fs_read_fn read, void *ctx, uint64_t size, struct diag *d,
		 struct fs_probe *ret)
{
	for (size_t i = 0; i < FS_N; i++) {
		int r;

		if (!fs_table[i]->probe)
			continue;
		r = fs_table[i]->probe(read, ctx, size, d, ret);
		if (r != 0)
			return r;
	}
	return 0;
}

int fs_request_label(const struct fs_request *rq, const char *fs, const char *def, size_t max,
		     struct diag *d, const char **ret)
{
	const char *l = rq->label ? rq->label : def;

	/* the label itself is not printed: it may hold anything (one-line messages) */
	if (strlen(l) > max)
		return diag_fail(d, -EINVAL, "%s: the label is %zu bytes long; %s labels hold "
				 "at most %zu bytes", rq->what, strlen(l), fs, max);
	*ret = l;
	return 0;
}
