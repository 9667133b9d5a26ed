/* Helpers for the filesystem handler tests (test binaries only): plan through a handler and
 * emit the result with the real emit loop into a raw image file, as the build does. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "fs/fs.h"
#include "image/emit.h"
#include "image/plan.h"
#include "util/diag.h"
#include "util/outfile.h"

/* A fresh directory under /tmp (static storage: one per test binary call). */
static inline char *fs_test_tmpdir(const char *name)
{
	static char dir[96];

	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", name);
	return mkdtemp(dir);
}

/* Write a disk of disk_size bytes holding plan's filesystem at base to path (raw). */
static inline int fs_test_emit(const struct fs_ops *ops, const struct fs_plan *plan,
			       uint64_t disk_size, uint64_t base, const char *path,
			       struct diag *d)
{
	struct image_plan *ip = image_plan_new(disk_size);
	struct format_params fp = { .virtual_size = disk_size };
	struct outfile *o = NULL;
	struct sink *s = NULL;
	int r;

	ops->ranges(plan, base, ip);
	r = image_plan_seal(ip, d);
	if (r >= 0)
		r = outfile_open(path, d, &o);
	if (r >= 0) {
		r = sink_open(format_find("raw"), &fp, o, d, &s);
		if (r < 0)
			outfile_abort(o);
	}
	if (r >= 0) {
		r = image_emit(ip, s, NULL, d);
		if (r < 0)
			sink_abort(s);
		else
			r = sink_finish(s, d);
	}
	image_plan_free(ip);
	return r;
}
