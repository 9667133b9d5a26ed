/* erofs as a filesystem handler (fs/fs.h): read-only and sized by its contents, so min_size is
 * the filesystem's exact size and a larger partition keeps the rest zero. Identifiers: the
 * given UUID, else "erofs-uuid" ("erofs-uuid:<role>" for a role other than root) from the
 * seed; the build time is the request's fs_time (inodes whose mtime differs get the extended
 * format). extra_bytes (additionalSpace) is refused by the spec: nothing can be written. */
#include "fs/fs-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/erofs/erofs.h"
#include "fs/erofs/probe.h"
#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

static int erofs_fs_params(const struct fs_request *rq, struct diag *d, struct erofs_params *ret)
{
	struct erofs_params p = {
		.what = rq->what,
		.build_time = rq->fs_time,
		.compression = rq->compression == FS_COMPRESSION_LZ4     ? EROFS_Z_LZ4
			       : rq->compression == FS_COMPRESSION_LZ4HC ? EROFS_Z_LZ4HC
									 : EROFS_Z_NONE,
		.level = rq->compression_level,
	};
	char purpose[96];
	const char *label;
	int r;

	r = fs_request_label(rq, "erofs", "", EROFS_LABEL_MAX, d, &label);
	if (r < 0)
		return r;
	snprintf(p.label, sizeof(p.label), "%s", label);
	if (rq->uuid_set)
		memcpy(p.uuid, rq->uuid, sizeof(p.uuid));
	else {
		snprintf(purpose, sizeof(purpose),
			 strcmp(rq->role, "root") == 0 ? "erofs-uuid" : "erofs-uuid:%s", rq->role);
		uuid_derive(rq->seed, purpose, p.uuid);
	}
	*ret = p;
	return 0;
}

static int erofs_fs_min_size(const struct fs_request *rq, struct diag *d, uint64_t *ret)
{
	struct erofs_params p;
	struct erofs_plan *pl;
	int r = erofs_fs_params(rq, d, &p);

	if (r < 0)
		return r;
	r = erofs_plan_new(&p, rq->tree, d, &pl);
	if (r < 0)
		return r;
	*ret = (uint64_t)pl->blocks * EROFS_BS;
	erofs_plan_free(pl);
	return 0;
}

static int erofs_fs_plan(const struct fs_request *rq, struct diag *d, struct fs_plan **ret)
{
	struct erofs_params p;
	struct erofs_plan *pl;
	int r = erofs_fs_params(rq, d, &p);

	if (r < 0)
		return r;
	r = erofs_plan_new(&p, rq->tree, d, &pl);
	if (r < 0)
		return r;
	if ((uint64_t)pl->blocks * EROFS_BS > rq->size_bytes) {
		uint64_t need = (uint64_t)pl->blocks * EROFS_BS;

		erofs_plan_free(pl);
		return diag_fail(d, -ENOSPC, "%s: erofs needs %llu bytes (%llu KiB); the partition "
				 "has %llu", rq->what, (unsigned long long)need,
				 (unsigned long long)(need / 1024),
				 (unsigned long long)rq->size_bytes);
	}
	*ret = (struct fs_plan *)pl;
	return 0;
}

static void erofs_fs_ranges(const struct fs_plan *plan, uint64_t base, struct image_plan *ip)
{
	erofs_plan_ranges((const struct erofs_plan *)plan, base, ip);
}

static void erofs_stats_fill(struct fs_stats *ret, uint64_t blocks, uint64_t bs, uint64_t inos,
			     const uint8_t uuid[16], const char *label)
{
	*ret = (struct fs_stats){
		.type = "erofs",
		.has_uuid = !uuid_is_null(uuid),
		.size_bytes = blocks * bs,
		.block_size = bs,
		.n_blocks = blocks,
		.n_inodes = inos,
	};
	memcpy(ret->uuid, uuid, 16);
	snprintf(ret->label, sizeof(ret->label), "%s", label);
}

static void erofs_fs_stats(const struct fs_plan *plan, struct fs_stats *ret)
{
	const struct erofs_plan *pl = (const struct erofs_plan *)plan;

	erofs_stats_fill(ret, pl->blocks, EROFS_BS, pl->n_order, pl->p.uuid, pl->p.label);
}

static int erofs_fs_probe(fs_read_fn read, void *ctx, uint64_t size, struct diag *d,
			  struct fs_probe *ret)
{
	struct erofs_super s;
	int r = erofs_probe(read, ctx, size, d, &s);

	if (r <= 0)
		return r;
	ret->ops = &erofs_fs_ops;
	erofs_stats_fill(&ret->stats, s.blocks, 1ull << s.blkszbits, s.inos, s.uuid,
			 s.volume_name);
	return 1;
}

static struct fs_plan *erofs_fs_free(struct fs_plan *plan)
{
	return (struct fs_plan *)erofs_plan_free((struct erofs_plan *)plan);
}

const struct fs_ops erofs_fs_ops = {
	.name = "erofs",
	.needs_tree = true,
	.min_size = erofs_fs_min_size,
	.plan = erofs_fs_plan,
	.ranges = erofs_fs_ranges,
	.stats = erofs_fs_stats,
	.probe = erofs_fs_probe,
	.free = erofs_fs_free,
};
