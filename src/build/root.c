/* The root filesystem's tree (the staging root, contents, the Nix closure, GRUB's grub.cfg) and
 * the disk size it needs: exact for diskSize "auto", checked for a fixed diskSize. */
#include "build/build-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "boot/extlinux.h"

#include "nix/nix.h"
#include "tree/contents.h"
#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* GRUB's grub.cfg (and host kernel/initrd copies) go into the root tree before it is final. */
static int build_grub_files(const struct image_spec *s, const struct build_env *env,
			    const uint8_t fs_uuid[16], struct tree *t, struct diag *d)
{
	_cleanup_(boot_entry_freep) struct boot_entry *e = NULL;
	char u[UUID_STR_LEN];
	int r;

	if (!build_wants_grub_cfg(s))
		return 0;
	r = build_boot_entry(s, d, &e);
	if (r < 0)
		return r;
	uuid_format(fs_uuid, u);
	return grub_install_files(t, e, u, env->has_epoch ? env->source_date_epoch : 0, d);
}

/* bootloader extlinux: extlinux.conf (and host kernel/initrd/dtbs copies) into the root tree. */
static int build_extlinux_files(const struct image_spec *s, const struct build_env *env,
				struct tree *t, struct diag *d)
{
	_cleanup_(boot_entry_freep) struct boot_entry *e = NULL;
	_cleanup_free_ char *dtbs = NULL;
	int r;

	if (s->boot_install != SPEC_BOOTLOADER_EXTLINUX)
		return 0;
	r = build_boot_entry(s, d, &e);
	if (r < 0)
		return r;
	if (e->toplevel) {
		/* the builder's readlink -m "$path/dtbs": the kernel's device trees, if any */
		_cleanup_free_ char *p = xasprintf("%s/dtbs", e->toplevel);
		struct stat st;

		dtbs = realpath(p, NULL);
		if (dtbs && (stat(dtbs, &st) < 0 || !S_ISDIR(st.st_mode))) {
			free(dtbs);
			dtbs = NULL;
		}
	}
	return extlinux_install_files(t,
				      &(struct extlinux_opts){
					      .entry = e,
					      .timeout = s->boot_timeout,
					      .dtb_name = s->device_tree_name,
					      .no_device_tree = !s->use_generation_device_tree,
					      .copy_kernels = s->copy_kernels,
					      .dtbs = dtbs,
					      .mtime = env->has_epoch ? env->source_date_epoch : 0,
				      },
				      d);
}

int build_root_tree(const struct image_spec *s, const char *root_dir,
		    const struct build_env *env, const uint8_t fs_uuid[16], struct diag *d,
		    struct tree **ret)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct tree_finalize_opts fo = {
		.map_owner = s->owner_set,
		.owner_uid = s->owner_uid,
		.owner_gid = s->owner_gid,
		.clamp_mtime = env->has_epoch,
		.source_date_epoch = env->source_date_epoch,
	};
	int r;

	if (root_dir) {
		r = tree_add_host_dir(t, root_dir, "/", NULL, d);
		if (r < 0)
			return r;
	}
	if (s->root_tar) {
		r = tree_add_tar(t, s->root_tar, "/", NULL, env->tmp_dir, d);
		if (r < 0)
			return r;
	}
	r = contents_apply_ids(t, s->contents, s->n_contents,
			       &(struct contents_ids){ .passwd = s->passwd_file,
						       .group = s->group_file },
			       d);
	if (r < 0)
		return r;
	r = nix_image_apply(t,
			    &(struct nix_image_opts){
				    .closure_info = s->closure_info,
				    .system = s->system,
				    .config_file = s->config_file,
				    .channel = s->channel,
				    .only_nix_store = s->only_nix_store,
				    .mtime = env->has_epoch ? env->source_date_epoch : 0,
			    },
			    d);
	if (r < 0)
		return r;
	r = build_grub_files(s, env, fs_uuid, t, d);
	if (r < 0)
		return r;
	r = build_extlinux_files(s, env, t, d);
	if (r < 0)
		return r;
	/* an empty image still needs its root directory */
	r = tree_mkdir_p(t, "/", 0755, 0, 0, env->has_epoch ? env->source_date_epoch : 0, NULL);
	if (r < 0 && r != -EEXIST)
		return diag_fail(d, r, "cannot create the root directory");
	r = tree_finalize(t, &fo, d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(t);
	return 0;
}

/* The root partition of the smallest whole-MiB disk that holds a root of min_bytes. */
struct root_fit {
	struct part_params pp;
	struct diag *d;
	bool failed; /* the layout refused a size: its message stands */
};

static int root_fit_fn(void *ctx, uint64_t min_bytes, uint64_t *ret)
{
	struct root_fit *f = ctx;
	struct part_layout l;
	uint64_t off;
	int r;

	f->pp.disk_bytes = 0;
	f->pp.root_min_bytes = min_bytes;
	r = part_layout_plan(&f->pp, f->d, &l);
	if (r < 0) {
		f->failed = true;
		return r;
	}
	part_layout_root(&l, &off, ret);
	return 0;
}

/* A fixed diskSize whose root is smaller than root_min: -ENOSPC naming the size that fits. */
static int build_layout_too_small(const struct image_spec *s, const struct part_params *pp,
				  uint64_t root_min, struct diag *d)
{
	struct part_layout need;
	struct part_params np = *pp;
	int r;

	np.disk_bytes = 0;
	np.root_min_bytes = root_min;
	r = part_layout_plan(&np, d, &need);
	if (r < 0)
		return r;
	return diag_fail(d, -ENOSPC,
			 "diskSize %llu MiB is too small: the contents need at least %llu MiB; "
			 "set diskSize to %llu or \"auto\"",
			 (unsigned long long)(s->disk_size_bytes >> 20),
			 (unsigned long long)(need.disk_bytes >> 20),
			 (unsigned long long)(need.disk_bytes >> 20));
}

int build_layout(struct build_plan_state *st, const struct build_vol *root, struct diag *d,
		 struct part_layout *ret, uint64_t *ret_root_min)
{
	const struct image_spec *s = st->s;
	struct part_params *pp = &st->pp;
	struct root_fit rf = { .pp = *pp, .d = d };
	struct fs_fit fit = { root_fit_fn, &rf };
	struct fs_request rq;
	uint64_t root_min = 0, off, len;
	int r;

	if (root && root->v->sized_by_contents) {
		build_volume_request(st, root, &rq);
		rq.fit = &fit;
		/* with the fit also for a fixed diskSize: the minimum it names must build */
		r = root->ops->min_size(&rq, d, &root_min);
		if (r == -EOVERFLOW && s->disk_size_auto && rq.extra_bytes && !rf.failed)
			return diag_fail(d, r, "additionalSpace of %llu bytes with the contents "
					 "needs a root filesystem over ext4's 16 TiB limit; ask "
					 "for less",
					 (unsigned long long)rq.extra_bytes);
		if (r < 0)
			return r;
	}
	if (s->disk_size_auto) {
		pp->root_min_bytes = root_min;
		r = part_layout_plan(pp, d, ret);
		if (r < 0)
			return r;
		*ret_root_min = root_min;
		return 0;
	}
	pp->disk_bytes = s->disk_size_bytes;
	/* a list places its partitions by their needs, the root's too (a "rest" one before it
	 * must leave the root its room); a preset's root takes the rest, checked below */
	if (pp->table == PART_TABLE_GPT || pp->table == PART_TABLE_MBR)
		pp->root_min_bytes = root_min;
	r = part_layout_plan(pp, d, ret);
	if (r < 0)
		return r;
	part_layout_root(ret, &off, &len);
	if (root && root->v->sized_by_contents && len < root_min)
		return build_layout_too_small(s, pp, root_min, d);
	return 0;
}
