/* "raw": a partition filled with a host file's bytes (a prebuilt filesystem image, a firmware
 * blob), the rest of the partition left zero. The file goes through the tree's scan and the
 * emit loop as any file in a filesystem does: recorded once (type, size, identity; its holes
 * stay holes), opened without following a symlink or waiting on a FIFO, and refused with
 * -ESTALE when it changed between plan and emit. */
#include "fs/fs-internal.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/plan.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

struct raw_plan {
	struct tree *t; /* one node, the file */
	const struct tree_node *n;
};

static const char *raw_type_name(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device"
	       : S_ISBLK(m) ? "a block device" : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* The file's path with symlinks resolved (a Nix result link, say) and its size; a regular
 * file or -EINVAL naming what it is. */
static int raw_source(const struct fs_request *rq, struct diag *d, char **ret_path,
		      uint64_t *ret_size)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;

	assert(!rq->tree);
	if (!rq->source)
		return diag_fail(d, -EINVAL, "%s: filesystem raw needs a source file", rq->what);
	path = realpath(rq->source, NULL);
	if (!path)
		return diag_fail(d, -errno, "%s: cannot open: %s", rq->source, strerror(errno));
	if (lstat(path, &st) < 0)
		return diag_fail(d, -errno, "%s: cannot open: %s", rq->source, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return diag_fail(d, -EINVAL, "%s: %s; %s is filled from a regular file", rq->source,
				 raw_type_name(st.st_mode), rq->what);
	*ret_path = TAKE_PTR(path);
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

static int raw_fs_min_size(const struct fs_request *rq, struct diag *d, uint64_t *ret)
{
	_cleanup_free_ char *path = NULL;
	uint64_t size;
	int r;

	r = raw_source(rq, d, &path, &size);
	if (r < 0)
		return r;
	*ret = ROUND_UP(size, 512);
	return 0;
}

static struct fs_plan *raw_fs_free(struct fs_plan *plan)
{
	struct raw_plan *p = (struct raw_plan *)plan;

	if (!p)
		return NULL;
	tree_free(p->t);
	free(p);
	return NULL;
}

static int raw_fs_plan(const struct fs_request *rq, struct diag *d, struct fs_plan **ret)
{
	_cleanup_free_ char *path = NULL;
	struct raw_plan *p;
	uint64_t size;
	int r;

	r = raw_source(rq, d, &path, &size);
	if (r < 0)
		return r;
	p = xcalloc(1, sizeof(*p));
	p->t = tree_new();
	r = tree_add_host_node(p->t, path, "/raw", NULL, d);
	if (r >= 0) {
		p->n = tree_lookup(p->t, "/raw");
		/* replaced since raw_source looked (its scan does not follow a symlink) */
		if (!p->n || p->n->type != TREE_REG)
			r = diag_fail(d, -ESTALE, "%s: changed while read: no longer a regular "
				      "file", rq->source);
	}
	if (r >= 0 && p->n->size > rq->size_bytes)
		r = diag_fail(d, -ENOSPC,
			      "%s: %llu bytes do not fit in %s of %llu bytes; it needs at least "
			      "%llu MiB",
			      rq->source, (unsigned long long)p->n->size, rq->what,
			      (unsigned long long)rq->size_bytes,
			      (unsigned long long)DIV_ROUND_UP(p->n->size, 1u << 20));
	if (r < 0) {
		raw_fs_free((struct fs_plan *)p);
		return r;
	}
	*ret = (struct fs_plan *)p;
	return 0;
}

static void raw_fs_ranges(const struct fs_plan *plan, uint64_t base, struct image_plan *ip)
{
	const struct raw_plan *p = (const struct raw_plan *)plan;
	const struct tree_extent *e;
	size_t n;

	if (!p->n->sparse) {
		if (p->n->size)
			image_plan_add_file(ip, base, p->n->size, p->n, 0);
		return;
	}
	e = tree_node_sparse_data(p->n, &n);
	for (size_t i = 0; i < n; i++)
		image_plan_add_file(ip, base + e[i].off, e[i].len, p->n, e[i].off);
}

static void raw_fs_stats(const struct fs_plan *plan, struct fs_stats *ret)
{
	const struct raw_plan *p = (const struct raw_plan *)plan;

	*ret = (struct fs_stats){ .type = "raw", .size_bytes = p->n->size };
}

const struct fs_ops raw_fs_ops = {
	.name = "raw",
	.min_size = raw_fs_min_size,
	.plan = raw_fs_plan,
	.ranges = raw_fs_ranges,
	.stats = raw_fs_stats,
	.free = raw_fs_free,
};
