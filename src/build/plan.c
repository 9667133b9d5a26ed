/* build_plan(): the steps from a validated spec to a sealed disk plan, in the order their
 * inputs allow: identifiers, the root tree, systemd-boot (resolved against the root), the
 * disk size, the boot partitions, EFI variables, GRUB, the root filesystem, then the ranges. */
#include "build/build-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/diag.h"
#include "util/progress.h"
#include "util/xalloc.h"

static void build_plan_warn(struct build_plan *p, const char *msg)
{
	if (p->n_warnings < BUILD_MAX_WARNINGS)
		p->warnings[p->n_warnings++] = msg;
}

/* The FAT filesystems' figures for --json's "bootFilesystems", in partition order. */
static void build_fat_stats(struct build_plan *p)
{
	struct build_plan_state *st = p->state;

	for (size_t i = 0; i < st->n_vols && p->n_boot_fs < BUILD_MAX_BOOT_FS; i++) {
		const struct build_vol *bv = &st->vols[i];
		const struct fs_stats *fs = &bv->stats;

		if (!bv->plan || strcmp(bv->ops->name, "vfat") != 0)
			continue;
		p->boot_fs[p->n_boot_fs++] = (struct build_fat_stats){
			.present = true,
			.label = fs->label, /* as the filesystem holds it (FAT: upper case) */
			.fat_bits = fs->fat_bits,
			.offset = bv->off,
			.size_bytes = fs->size_bytes,
			.cluster_bytes = fs->cluster_bytes,
			.n_clusters = fs->n_clusters,
			.free_clusters = fs->free_clusters,
		};
	}
}

/* EFI variables and GRUB for BIOS, once the layout is known. */
static int build_plan_boot(struct build_plan *p, const struct build_env *env, struct diag *d)
{
	struct build_plan_state *st = p->state;
	const struct image_spec *s = st->s;
	const struct build_vol *esp = build_vol_find(st, PART_ROLE_ESP);
	const char *note;
	int r;

	r = build_efi_vars(s, &p->layout, esp ? esp->t : NULL, d, &st->vars, &note);
	if (r < 0)
		return r;
	if (note)
		build_plan_warn(p, note);
	return build_grub_bios(s, env, &p->layout, st->ep.uuid, d, &st->grub);
}

/* Every range of the disk: table, boot code, filesystems. */
static int build_plan_ranges(struct build_plan *p, struct diag *d)
{
	struct build_plan_state *st = p->state;
	int r;

	st->ip = image_plan_new(p->layout.disk_bytes);
	part_plan_ranges(&p->layout, st->ip);
	if (st->grub)
		grub_bios_plan_ranges(st->grub, st->ip);
	for (size_t i = 0; i < st->n_vols; i++)
		if (st->vols[i].plan)
			st->vols[i].ops->ranges(st->vols[i].plan, st->vols[i].off, st->ip);
	r = image_plan_seal(st->ip, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < st->ip->n_ranges; i++)
		p->emit_bytes += st->ip->ranges[i].len;
	p->emit_files = st->t->n_inodes;
	for (size_t i = 0; i < st->n_vols; i++)
		if (st->vols[i].t)
			p->emit_files += st->vols[i].t->n_inodes;
	return 0;
}

static struct build_plan *build_plan_new(const struct image_spec *s)
{
	struct build_plan *p = xcalloc(1, sizeof(*p));
	struct build_plan_state *st = xcalloc(1, sizeof(*st));

	p->state = st;
	p->start = progress_now();
	p->output = s->output;
	p->format = s->format;
	p->output_device = s->output_device;
	p->efi_vars_out = s->touch_efi_vars ? s->efi_vars_out : NULL;
	p->root_label = s->label;
	st->s = s;
	st->ep = (struct ext4_params){
		.reserved_percent = s->reserved_percent,
		.inode_ratio = 16384,
		.journal = true,
	};
	snprintf(st->ep.label, sizeof(st->ep.label), "%s", s->label);
	st->ep.fs_time = s->deterministic ? 0 : (int64_t)time(NULL);
	st->pp = (struct part_params){
		.table = s->partition_table,
		.arch = s->arch,
		.generic_root_type = s->generic_root_type,
		.boot_bytes = s->boot_size_bytes,
		.root_attributes = s->grow_on_boot ? PART_ATTR_GROWFS : 0,
		.disk_uuid_set = s->disk_uuid_set,
		.first_usable_lba = s->gpt_first_usable_lba,
	};
	memcpy(st->pp.disk_uuid, s->disk_uuid, sizeof(st->pp.disk_uuid));
	return p;
}

static void build_plan_auto_size(struct build_plan *p, const struct build_vol *root,
				 uint64_t root_min)
{
	const struct image_spec *s = p->state->s;
	uint64_t disk = p->layout.disk_bytes;

	p->auto_sized = s->disk_size_auto;
	if (!p->auto_sized)
		return;
	p->auto_size = (struct build_auto_size){
		.contents_bytes = p->state->t->total_bytes,
		.root_bytes = root_min,
		.additional_bytes = root ? root->v->additional_space : 0,
		.other_bytes = disk > root_min ? disk - root_min : 0,
		.disk_bytes = disk,
	};
}

/* The image tree: needed unless a "partitions" list has no root partition for it. */
static int build_plan_tree(struct build_plan *p, const struct build_env *env,
			   const struct build_vol *root, struct diag *d)
{
	struct build_plan_state *st = p->state;
	const struct image_spec *s = st->s;
	const char *dir = root && root->v->contents ? root->v->contents : s->root;

	if (root && root->v->contents && s->root_tar)
		return diag_fail(d, -EINVAL, "rootTar: the root partition has contents already; "
				 "give one of them");
	if (!root && (s->root || s->root_tar || s->n_contents || s->closure_info || s->system))
		return diag_fail(d, -EINVAL, "partitions: no root partition for the image's files "
				 "(root, contents, closure); add {\"type\": \"root\"}");
	return build_root_tree(s, dir, env, st->ep.uuid, d, &st->t);
}

int build_plan(const struct image_spec *s, const struct build_env *env, struct diag *d,
	       struct build_plan **ret)
{
	_cleanup_(build_plan_freep) struct build_plan *p = NULL;
	struct build_plan_state *st;
	struct build_vol *root;
	uint64_t root_min = 0;
	double t1;
	int r;

	if (!spec_format_ops(s->format))
		return diag_fail(d, -EINVAL, "format \"%s\": unknown (use %s)", s->format,
				 format_names());
	p = build_plan_new(s);
	st = p->state;
	st->fmt = spec_format_ops(s->format);
	r = build_model_from_spec(s, d, &st->model);
	if (r < 0)
		return r;
	if (st->model->n_reqs) {
		st->reqs = xmemdup(st->model->reqs, st->model->n_reqs * sizeof(*st->reqs));
		st->pp.parts = st->reqs;
		st->pp.n_parts = st->model->n_reqs;
	}
	r = build_volumes_init(st, d);
	if (r < 0)
		return r;
	r = build_ids(s, &st->seed, &st->ep, st->pp.root_uuid, d);
	if (r < 0)
		return r;
	st->pp.seed = st->seed;
	memcpy(p->root_fs_uuid, st->ep.uuid, sizeof(p->root_fs_uuid));
	for (size_t i = 0; i < st->model->n_reqs; i++) {
		if (st->reqs[i].role != PART_ROLE_ROOT)
			continue;
		st->reqs[i].attributes |= st->pp.root_attributes;
		if (!st->reqs[i].uuid_set) {
			/* as the presets' root: rootGPUID (or build_ids()' random one) */
			st->reqs[i].uuid_set = true;
			memcpy(st->reqs[i].uuid, st->pp.root_uuid, sizeof(st->reqs[i].uuid));
		}
	}

	root = build_vol_find(st, PART_ROLE_ROOT);
	r = build_plan_tree(p, env, root, d);
	if (r < 0)
		return r;
	t1 = progress_now();
	p->scan_seconds = t1 - p->start;

	r = build_sdboot(s, st->model, env, st->t, d, &st->sdboot);
	if (r < 0)
		return r;
	r = build_grub_efi(s, env, st->ep.uuid, d, st);
	if (r < 0)
		return r;
	r = build_volume_trees(st, env, d);
	if (r < 0)
		return r;
	r = build_volume_needs(st, d);
	if (r < 0)
		return r;
	r = build_layout(st, root, d, &p->layout, &root_min);
	if (r < 0)
		return r;
	r = build_volumes_plan(st, &p->layout, d);
	if (r < 0)
		return r;
	build_volumes_mbr_types(st, &p->layout);
	r = build_plan_boot(p, env, d);
	if (r < 0)
		return r;
	if (root)
		p->root_stats = root->stats;
	p->has_root = root != NULL;
	r = build_plan_ranges(p, d);
	if (r < 0)
		return r;

	build_fat_stats(p);
	build_plan_auto_size(p, root, root_min);
	p->systemd_boot = st->sdboot != NULL;
	p->grub_bios = st->grub != NULL;
	p->grub_efi = st->grub_efi != NULL;
	/* hybrid's auto boots both ways when it can: say when it cannot */
	if (s->partition_table == PART_TABLE_HYBRID && s->bootloader == SPEC_BOOTLOADER_AUTO &&
	    p->systemd_boot && !p->grub_bios &&
	    (s->arch == PART_ARCH_X86_64 || s->arch == PART_ARCH_X86))
		build_plan_warn(p, "the image will not boot under BIOS: no GRUB i386-pc modules "
				   "(give --grub-dir)");
	build_format_params(s, env, st->seed, p->layout.disk_bytes, &st->fp);
	p->plan_seconds = progress_now() - t1;
	*ret = TAKE_PTR(p);
	return 0;
}

struct build_plan *build_plan_free(struct build_plan *p)
{
	struct build_plan_state *st;

	if (!p)
		return NULL;
	st = p->state;
	if (st) {
		/* the image plan points into the filesystem plans and trees: it goes first */
		image_plan_free(st->ip);
		build_volumes_free(st);
		efivars_free(st->vars);
		free(st->grub_efi);
		grub_bios_free(st->grub);
		sdboot_free(st->sdboot);
		tree_free(st->t);
		free(st->reqs);
		build_model_free(st->model);
		free(st->seed);
		free(st);
	}
	free(p);
	return NULL;
}
