/* Helpers for the filesystem handler tests (test binaries only): plan through a handler and
 * emit the result with the real emit loop into a raw image file, as the build does. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "fs/fs.h"
#include "image/emit.h"
#include "image/plan.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"

/* A partition in memory, read through fs_read_fn (the probes' input). */
struct fs_test_buf {
	const uint8_t *p;
	size_t len;
};

static inline int fs_test_buf_read(void *ctx, uint64_t off, void *out, size_t len,
				   struct diag *d)
{
	const struct fs_test_buf *b = ctx;

	if (off > b->len || len > b->len - off)
		return diag_fail(d, -EIO, "read past the end");
	memcpy(out, b->p + off, len);
	return 0;
}

/* A fresh directory under /tmp (static storage: one per test binary call). */
static inline char *fs_test_tmpdir(const char *name)
{
	static char dir[96];

	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", name);
	return mkdtemp(dir);
}

/* Write the sealed-to-be disk plan ip (freed here) to path as a raw image. */
static inline int fs_test_emit_plan(struct image_plan *ip, const char *path, struct diag *d)
{
	struct format_params fp = { .virtual_size = ip->size };
	struct outfile *o = NULL;
	struct sink *s = NULL;
	int r;

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

/* Write a disk of disk_size bytes holding plan's filesystem at base to path (raw). */
static inline int fs_test_emit(const struct fs_ops *ops, const struct fs_plan *plan,
			       uint64_t disk_size, uint64_t base, const char *path,
			       struct diag *d)
{
	struct image_plan *ip = image_plan_new(disk_size);

	ops->ranges(plan, base, ip);
	return fs_test_emit_plan(ip, path, d);
}

/* Whether two files have the same bytes (and length). */
static inline bool fs_test_same_file(const char *a, const char *b)
{
	uint8_t *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	bool same;

	same = read_file(a, 256u << 20, &x, &xl) == 0 && read_file(b, 256u << 20, &y, &yl) == 0 &&
	       xl == yl && memcmp(x, y, xl) == 0;
	free(x);
	free(y);
	return same;
}
