/* FAT as a filesystem handler (fs/fs.h), "vfat": the request mapped onto fat_params as the
 * build has always made the ESP and XBOOTLDR (volume id "fat-volume-id:<role>", hidden
 * sectors = the partition's first LBA), so they keep their bytes. */
#include "fs/fs-internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fat/fat.h"
#include "fs/fat/probe.h"
#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

struct fat_fs_plan {
	struct fat_plan *p;
	char label[12];
	uint32_t volume_id;
};

static int fat_fs_params(const struct fs_request *rq, struct diag *d, struct fat_params *ret)
{
	struct fat_params p = {
		.size_bytes = rq->size_bytes,
		.hidden_sect = (uint32_t)(rq->offset / 512),
		.fs_time = rq->fs_time,
		.what = rq->what,
	};
	char purpose[96];
	const char *label, *why;
	int r;

	assert(rq->tree);
	r = fs_request_label(rq, "vfat", "", sizeof(p.label) - 1, d, &label);
	if (r < 0)
		return r;
	/* BPB_HiddSec is 32 bits: a FAT filesystem starts in the first 2 TiB of its disk */
	if (rq->offset / 512 > UINT32_MAX)
		return diag_fail(d, -EOVERFLOW,
				 "%s: starts at byte %llu; FAT's hidden-sectors field needs a "
				 "start below 2 TiB: place it earlier on the disk",
				 rq->what, (unsigned long long)rq->offset);
	if (fat_label_make(label, p.label, &why) < 0)
		return diag_fail(d, -EINVAL, "%s: the label %s; give a FAT label such as DATA",
				 rq->what, why);
	p.plain = rq->fat_data;
	p.extra_bytes = rq->extra_bytes;
	snprintf(purpose, sizeof(purpose), "fat-volume-id:%s", rq->role);
	uuid_derive_bytes(rq->seed, purpose, &p.volume_id, sizeof(p.volume_id));
	*ret = p;
	return 0;
}

static int fat_fs_min_size(const struct fs_request *rq, struct diag *d, uint64_t *ret)
{
	struct fat_params p;
	int r;

	r = fat_fs_params(rq, d, &p);
	if (r < 0)
		return r;
	return fat_min_size(&p, rq->tree, d, ret);
}

static struct fs_plan *fat_fs_free(struct fs_plan *plan)
{
	struct fat_fs_plan *p = (struct fat_fs_plan *)plan;

	if (!p)
		return NULL;
	fat_plan_free(p->p);
	free(p);
	return NULL;
}

static int fat_fs_plan(const struct fs_request *rq, struct diag *d, struct fs_plan **ret)
{
	struct fat_fs_plan *p;
	struct fat_params fp;
	int r;

	r = fat_fs_params(rq, d, &fp);
	if (r < 0)
		return r;
	p = xcalloc(1, sizeof(*p));
	memcpy(p->label, fp.label, sizeof(p->label));
	p->volume_id = fp.volume_id;
	r = fat_plan(&fp, rq->tree, d, &p->p);
	if (r < 0) {
		fat_fs_free((struct fs_plan *)p);
		return r;
	}
	*ret = (struct fs_plan *)p;
	return 0;
}

static void fat_fs_ranges(const struct fs_plan *plan, uint64_t base, struct image_plan *ip)
{
	fat_plan_ranges(((const struct fat_fs_plan *)plan)->p, base, ip);
}

static void fat_fs_stats(const struct fs_plan *plan, struct fs_stats *ret)
{
	const struct fat_fs_plan *p = (const struct fat_fs_plan *)plan;
	const struct fat_geom *g = fat_plan_geom(p->p);

	*ret = (struct fs_stats){
		.type = "vfat",
		.volume_id = p->volume_id,
		.size_bytes = (uint64_t)g->n_sect * 512,
		.fat_bits = (uint32_t)g->type,
		.cluster_bytes = g->sect_per_clus * 512,
		.n_clusters = g->n_clus,
		.free_clusters = fat_plan_free_clusters(p->p),
	};
	snprintf(ret->label, sizeof(ret->label), "%s", p->label);
}

static int fat_fs_probe(fs_read_fn read, void *ctx, uint64_t size, struct diag *d,
			struct fs_probe *ret)
{
	struct fat_probe_info f;
	int r;

	r = fat_probe(read, ctx, size, d, &f);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*ret = (struct fs_probe){
		.ops = &fat_fs_ops,
		.stats = {
			.type = "vfat",
			.volume_id = f.volume_id,
			.size_bytes = f.size_bytes,
			.fat_bits = (uint32_t)f.type,
			.cluster_bytes = f.cluster_bytes,
			.n_clusters = f.n_clus,
			.free_clusters = f.free_clus,
		},
	};
	snprintf(ret->stats.label, sizeof(ret->stats.label), "%s", f.label);
	return 1;
}

const struct fs_ops fat_fs_ops = {
	.name = "vfat",
	.needs_tree = true,
	.min_size = fat_fs_min_size,
	.plan = fat_fs_plan,
	.ranges = fat_fs_ranges,
	.stats = fat_fs_stats,
	.probe = fat_fs_probe,
	.free = fat_fs_free,
};
