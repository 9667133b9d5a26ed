/* The disk's filesystems, all through the fs/ handler table: the root (the image tree), the
 * boot partitions, and whatever a "partitions" list asks for (swap, raw, data partitions). */
#include "build/build-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/diag.h"
#include "util/xalloc.h"

int build_volumes_init(struct build_plan_state *st, struct diag *d)
{
	const struct build_model *m = st->model;

	st->vols = xcalloc(m->n_vols ? m->n_vols : 1, sizeof(*st->vols));
	st->n_vols = m->n_vols;
	for (size_t i = 0; i < m->n_vols; i++) {
		struct build_vol *bv = &st->vols[i];

		bv->v = &m->vols[i];
		bv->ops = fs_ops_find(bv->v->fs);
		if (!bv->ops)
			return diag_fail(d, -EINVAL, "%s: filesystem \"%s\" unknown (use %s)",
					 bv->v->what, bv->v->fs, fs_names());
		/* the root's handler sizes with the layout's fit and keeps additionalSpace: ext4;
		 * or erofs, read-only (no additionalSpace: build/model.c) */
		if (bv->v->image_tree && strcmp(bv->ops->name, "ext4") != 0 &&
		    strcmp(bv->ops->name, "erofs") != 0)
			return diag_fail(d, -EINVAL, "%s: filesystem %s cannot hold the image's "
					 "files; use ext4 or erofs", bv->v->what, bv->v->fs);
	}
	return 0;
}

int build_volume_trees(struct build_plan_state *st, const struct build_env *env,
		       struct diag *d)
{
	for (size_t i = 0; i < st->n_vols; i++) {
		struct build_vol *bv = &st->vols[i];
		int r;

		if (bv->v->image_tree || !bv->ops->needs_tree)
			continue;
		r = build_boot_tree(env, st, bv->v, d, &bv->t);
		if (r < 0)
			return r;
	}
	return 0;
}

void build_volume_request(const struct build_plan_state *st, const struct build_vol *bv,
			  struct fs_request *ret)
{
	const struct image_spec *s = st->s;
	const struct build_volume *v = bv->v;

	*ret = (struct fs_request){
		.what = v->what,
		.role = v->key,
		.seed = st->seed,
		.label = v->label,
		.uuid_set = v->uuid_set,
		.size_bytes = bv->len,
		.offset = bv->off,
		.extra_bytes = v->additional_space,
		.fs_time = st->ep.fs_time,
		.tree = v->image_tree ? st->t : bv->t,
		.source = bv->ops->needs_tree ? NULL : v->contents,
		.reserved_percent = v->image_tree ? s->reserved_percent : 0,
		.compression = s->fs_compression,
		.compression_level = s->fs_compression == FS_COMPRESSION_LZ4HC ? s->compression_level
									       : 0,
		.fat_data = v->role != PART_ROLE_ESP && v->role != PART_ROLE_XBOOTLDR &&
			    v->role != PART_ROLE_BOOT,
	};
	memcpy(ret->uuid, v->uuid, sizeof(ret->uuid));
	if (v->image_tree) {
		/* build_ids(): rootFSUID, the root's GPT UUID, or random */
		ret->uuid_set = true;
		memcpy(ret->uuid, st->ep.uuid, sizeof(ret->uuid));
		/* the free space auto sizing promised (a fixed diskSize adds none, unless the
		 * list's root partition asks for it itself) */
		ret->extra_bytes = s->disk_size_auto || v->additional_space_given
					   ? v->additional_space
					   : 0;
	}
	if (!bv->ops->needs_tree)
		ret->tree = NULL;
}

int build_volume_needs(struct build_plan_state *st, struct diag *d)
{
	for (size_t i = 0; i < st->n_vols; i++) {
		struct build_vol *bv = &st->vols[i];
		struct fs_request rq;
		uint64_t need;
		int r;

		if (!st->reqs || bv->v->image_tree || !bv->v->sized_by_contents)
			continue;
		build_volume_request(st, bv, &rq);
		r = bv->ops->min_size(&rq, d, &need);
		if (r < 0)
			return r;
		/* ext4's and FAT's minimum keep extra_bytes available themselves; the others'
		 * do not */
		if (strcmp(bv->ops->name, "ext4") != 0 && strcmp(bv->ops->name, "vfat") != 0)
			need += bv->v->additional_space;
		if (need > st->reqs[bv->v->part].min_bytes)
			st->reqs[bv->v->part].min_bytes = need;
	}
	return 0;
}

/* Plan one volume; a preset's boot partition that is too small names the bootSize to set. */
static int build_volume_plan(struct build_plan_state *st, struct build_vol *bv, struct diag *d)
{
	struct fs_request rq;
	uint64_t need;
	int r;

	build_volume_request(st, bv, &rq);
	r = bv->ops->plan(&rq, d, &bv->plan);
	if (r != -ENOSPC || bv->v->image_tree || st->reqs)
		goto done;
	rq.size_bytes = 0;
	if (bv->ops->min_size(&rq, d, &need) < 0)
		return r;
	return build_boot_too_small(st->s, bv, need, d);
done:
	if (r < 0)
		return r;
	bv->ops->stats(bv->plan, &bv->stats);
	return 0;
}

int build_volumes_plan(struct build_plan_state *st, const struct part_layout *l,
		       struct diag *d)
{
	for (size_t i = 0; i < st->n_vols; i++) {
		struct build_vol *bv = &st->vols[i];
		int r;

		if (l->table == PART_TABLE_NONE) {
			bv->off = 0;
			bv->len = l->disk_bytes;
		} else {
			bv->off = l->parts[bv->v->part].first_lba * PART_SECTOR;
			bv->len = l->parts[bv->v->part].n_lba * PART_SECTOR;
		}
		r = build_volume_plan(st, bv, d);
		if (r < 0)
			return r;
	}
	return 0;
}

void build_volumes_mbr_types(const struct build_plan_state *st, struct part_layout *l)
{
	if (!st->reqs || !part_table_is_mbr(l->table))
		return;
	for (size_t i = 0; i < st->n_vols; i++) {
		const struct build_vol *bv = &st->vols[i];

		if (st->reqs[bv->v->part].mbr_type_by_fs)
			l->parts[bv->v->part].mbr_type =
				part_mbr_type_basic_data(bv->plan ? bv->stats.fat_bits : 0);
	}
}

struct build_vol *build_vol_find(struct build_plan_state *st, enum part_role role)
{
	for (size_t i = 0; i < st->n_vols; i++)
		if (st->vols[i].v->role == role)
			return &st->vols[i];
	return NULL;
}

void build_volumes_free(struct build_plan_state *st)
{
	for (size_t i = 0; i < st->n_vols; i++) {
		struct build_vol *bv = &st->vols[i];

		if (bv->plan)
			bv->ops->free(bv->plan);
		tree_free(bv->t);
	}
	free(st->vols);
	st->vols = NULL;
	st->n_vols = 0;
}

int build_volume_copies(const struct image_spec *s, const struct build_volume *v,
			struct tree *t, struct diag *d)
{
	for (size_t i = 0; i < v->n_copies; i++) {
		const struct contents_entry *e = &v->copies[i];
		_cleanup_free_ char *src = s->copy_source
						   ? xasprintf("%s/%s", s->copy_source, e->source)
						   : xstrdup(e->source);
		_cleanup_free_ char *parent = xstrdup(e->target);
		char *slash = strrchr(parent, '/');
		struct stat st;
		int r;

		if (lstat(src, &st) < 0)
			return diag_fail(d, -errno, "%s: CopyFiles=%s:%s: cannot read %s: %s",
					 v->what, e->source, e->target, src, strerror(errno));
		if (S_ISDIR(st.st_mode)) {
			r = tree_add_host_dir(t, src, e->target, NULL, d);
		} else {
			if (slash && slash != parent) {
				*slash = '\0';
				r = tree_mkdir_p(t, parent, 0755, 0, 0, 0, NULL);
				if (r < 0 && r != -EEXIST)
					return diag_fail(d, r, "%s: cannot create %s", v->what,
							 parent);
			}
			r = tree_add_host_node(t, src, e->target, NULL, d);
		}
		if (r < 0)
			return diag_prepend(d, r, "%s: CopyFiles=%s:%s", v->what, e->source,
					    e->target);
	}
	for (size_t i = 0; i < v->n_mkdirs; i++) {
		int r = tree_mkdir_p(t, v->mkdirs[i], 0755, 0, 0, 0, NULL);

		if (r < 0 && r != -EEXIST)
			return diag_fail(d, r, "%s: MakeDirectories=%s: cannot create it", v->what,
					 v->mkdirs[i]);
	}
	return 0;
}
