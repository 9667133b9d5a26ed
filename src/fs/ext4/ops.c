/* ext4 as a filesystem handler (fs/fs.h): the request mapped onto ext4_params exactly as the
 * build has always made the root (16 KiB per inode, a journal, the spec's reserved blocks), so
 * a root planned through here has the same bytes. */
#include "fs/fs-internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ext4/ext4.h"
#include "fs/ext4/probe.h"
#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* What stats needs besides the ext4 plan (which does not keep its identifiers' origin). */
struct ext4_fs_plan {
	struct ext4_plan *p;
	char label[17];
	uint8_t uuid[16];
};

/* Identifiers as build_ids() derives them: the given UUID (rootFSUID, or in deterministic
 * builds the root's GPT partition UUID, which the caller passes as set), else "ext4-uuid";
 * the hash seed "ext4-hash-seed" for the root, "ext4-hash-seed:<role>" for another role. */
static int ext4_fs_params(const struct fs_request *rq, struct diag *d, struct ext4_params *ret)
{
	struct ext4_params p = {
		.size_bytes = rq->size_bytes,
		.extra_bytes = rq->extra_bytes,
		.reserved_percent = rq->reserved_percent,
		.inode_ratio = 16384,
		.fs_time = rq->fs_time,
		.journal = true,
	};
	bool root = strcmp(rq->role, "root") == 0;
	char purpose[96];
	const char *label;
	int r;

	assert(rq->tree);
	r = fs_request_label(rq, "ext4", "", sizeof(p.label) - 1, d, &label);
	if (r < 0)
		return r;
	snprintf(p.label, sizeof(p.label), "%s", label);
	if (rq->uuid_set)
		memcpy(p.uuid, rq->uuid, sizeof(p.uuid));
	else {
		snprintf(purpose, sizeof(purpose), root ? "ext4-uuid" : "ext4-uuid:%s", rq->role);
		uuid_derive(rq->seed, purpose, p.uuid);
	}
	snprintf(purpose, sizeof(purpose), root ? "ext4-hash-seed" : "ext4-hash-seed:%s",
		 rq->role);
	uuid_derive_bytes(rq->seed, purpose, p.hash_seed, sizeof(p.hash_seed));
	*ret = p;
	return 0;
}

static int ext4_fs_min_size(const struct fs_request *rq, struct diag *d, uint64_t *ret)
{
	struct ext4_params p;
	struct ext4_size_fit fit;
	int r;

	r = ext4_fs_params(rq, d, &p);
	if (r < 0)
		return r;
	if (rq->fit)
		fit = (struct ext4_size_fit){ rq->fit->fn, rq->fit->ctx };
	return ext4_min_size(&p, rq->tree, rq->fit ? &fit : NULL, d, ret);
}

static struct fs_plan *ext4_fs_free(struct fs_plan *plan)
{
	struct ext4_fs_plan *p = (struct ext4_fs_plan *)plan;

	if (!p)
		return NULL;
	ext4_plan_free(p->p);
	free(p);
	return NULL;
}

static int ext4_fs_plan(const struct fs_request *rq, struct diag *d, struct fs_plan **ret)
{
	struct ext4_fs_plan *p;
	struct ext4_params ep;
	int r;

	r = ext4_fs_params(rq, d, &ep);
	if (r < 0)
		return r;
	p = xcalloc(1, sizeof(*p));
	memcpy(p->label, ep.label, sizeof(p->label));
	memcpy(p->uuid, ep.uuid, sizeof(p->uuid));
	r = ext4_plan(&ep, rq->tree, d, &p->p);
	if (r < 0) {
		ext4_fs_free((struct fs_plan *)p);
		return r;
	}
	*ret = (struct fs_plan *)p;
	return 0;
}

static void ext4_fs_ranges(const struct fs_plan *plan, uint64_t base, struct image_plan *ip)
{
	ext4_plan_ranges(((const struct ext4_fs_plan *)plan)->p, base, ip);
}

static void ext4_fs_stats(const struct fs_plan *plan, struct fs_stats *ret)
{
	const struct ext4_fs_plan *p = (const struct ext4_fs_plan *)plan;
	struct ext4_stats st;

	ext4_plan_stats(p->p, &st);
	*ret = (struct fs_stats){
		.type = "ext4",
		.has_uuid = true,
		.size_bytes = st.size_bytes,
		.block_size = st.n_blocks ? st.size_bytes / st.n_blocks : 0,
		.n_blocks = st.n_blocks,
		.free_blocks = st.free_blocks,
		.reserved_blocks = st.reserved_blocks,
		.n_inodes = st.n_inodes,
		.free_inodes = st.free_inodes,
		.n_groups = st.n_groups,
		.journal_blocks = st.journal_blocks,
	};
	snprintf(ret->label, sizeof(ret->label), "%s", p->label);
	memcpy(ret->uuid, p->uuid, sizeof(ret->uuid));
}

static int ext4_fs_probe(fs_read_fn read, void *ctx, uint64_t size, struct diag *d,
			 struct fs_probe *ret)
{
	uint8_t sb[EXT4_PROBE_SB_SIZE];
	struct ext4_probe_info e;
	int r;

	if (size < EXT4_PROBE_SB_OFFSET + EXT4_PROBE_SB_SIZE)
		return 0;
	r = read(ctx, EXT4_PROBE_SB_OFFSET, sb, sizeof(sb), d);
	if (r < 0)
		return diag_prepend(d, r, "cannot read the superblock at byte %u of the partition",
				    EXT4_PROBE_SB_OFFSET);
	r = ext4_probe(sb, d, &e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*ret = (struct fs_probe){
		.ops = &ext4_fs_ops,
		.stats = {
			.type = "ext4",
			.has_uuid = true,
			.size_bytes = e.n_blocks * e.block_size,
			.block_size = e.block_size,
			.n_blocks = e.n_blocks,
			.free_blocks = e.free_blocks,
			.reserved_blocks = e.reserved_blocks,
			.n_inodes = e.n_inodes,
			.free_inodes = e.free_inodes,
		},
	};
	snprintf(ret->stats.label, sizeof(ret->stats.label), "%s", e.label);
	memcpy(ret->stats.uuid, e.uuid, sizeof(e.uuid));
	return 1;
}

const struct fs_ops ext4_fs_ops = {
	.name = "ext4",
	.needs_tree = true,
	.min_size = ext4_fs_min_size,
	.plan = ext4_fs_plan,
	.ranges = ext4_fs_ranges,
	.stats = ext4_fs_stats,
	.probe = ext4_fs_probe,
	.free = ext4_fs_free,
};
