/* mkdiskimage build: spec → tree → filesystem and partition plans → disk plan → one sink. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/grub.h"
#include "boot/efiboot.h"
#include "boot/efivars.h"
#include "format/format.h"
#include "fs/ext4/ext4.h"
#include "fs/fat/fat.h"
#include "image/emit.h"
#include "image/plan.h"
#include "nix/nix.h"
#include "part/part.h"
#include "spec/spec.h"
#include "tree/contents.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/outfile.h"
#include "util/progress.h"
#include "util/uuid.h"
#include "util/xalloc.h"

DEFINE_CLEANUP_FUNC(struct image_spec, image_spec_free)
DEFINE_CLEANUP_FUNC(struct tree, tree_free)
DEFINE_CLEANUP_FUNC(struct ext4_plan, ext4_plan_free)
DEFINE_CLEANUP_FUNC(struct image_plan, image_plan_free)
DEFINE_CLEANUP_FUNC(struct fat_plan, fat_plan_free)
DEFINE_CLEANUP_FUNC(struct efivars, efivars_free)
DEFINE_CLEANUP_FUNC(struct boot_entry, boot_entry_free)
DEFINE_CLEANUP_FUNC(struct sdboot, sdboot_free)
DEFINE_CLEANUP_FUNC(struct grub_bios, grub_bios_free)

/* Everything the environment contributes, read once here and passed down. */
struct build_env {
	bool has_epoch;
	int64_t source_date_epoch;
	bool stderr_is_tty;
	const char *tmp_dir; /* $TMPDIR or /tmp: grub-mkimage's files */
};

struct build_timings {
	double scan, plan, emit, total;
};

static int read_env(struct build_env *env, struct diag *d)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;

	*env = (struct build_env){ .stderr_is_tty = isatty(STDERR_FILENO) };
	env->tmp_dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (s && *s) {
		errno = 0;
		long long v = strtoll(s, &end, 10);

		if (errno || *end || v < 0)
			return diag_fail(d, -EINVAL,
					 "SOURCE_DATE_EPOCH=%s: not a number of seconds since 1970", s);
		env->has_epoch = true;
		env->source_date_epoch = v;
	}
	return 0;
}

/* GRUB's grub.cfg (and host kernel/initrd copies) go into the root tree before it is final. */
/* What the bootloader boots: --kernel/--initrd/--cmdline, or the toplevel's bootspec. */
static int build_boot_entry(const struct image_spec *s, struct diag *d, struct boot_entry **ret)
{
	if (s->kernel) {
		*ret = boot_entry_new(s->kernel, s->initrd, s->cmdline);
		return 0;
	}
	return bootspec_load(s->system, d, ret);
}

static int build_grub_files(const struct image_spec *s, const struct build_env *env,
			    const uint8_t fs_uuid[16], struct tree *t, struct diag *d)
{
	_cleanup_(boot_entry_freep) struct boot_entry *e = NULL;
	char u[UUID_STR_LEN];
	int r;

	if (s->boot_install != SPEC_BOOTLOADER_GRUB)
		return 0;
	r = build_boot_entry(s, d, &e);
	if (r < 0)
		return r;
	uuid_format(fs_uuid, u);
	return grub_install_files(t, e, u, env->has_epoch ? env->source_date_epoch : 0, d);
}

/* GRUB's boot.img and core.img for the layout (grub-mkimage runs here, before any output). */
static int build_grub(const struct image_spec *s, const struct build_env *env,
		      const struct part_layout *l, const uint8_t fs_uuid[16], struct diag *d,
		      struct grub_bios **ret)
{
	char u[UUID_STR_LEN];
	uint64_t lba, n_sect;
	int r;

	*ret = NULL;
	/* BIOS GRUB where there is room for its core (validation allows grubDir only there, or
	 * grubEfiDir on its own) */
	if (s->boot_install != SPEC_BOOTLOADER_GRUB || !s->grub_dir ||
	    l->table == PART_TABLE_EFI || l->table == PART_TABLE_EFIXBOOTLDR)
		return 0;
	r = grub_bios_location(l, d, &lba, &n_sect);
	if (r < 0)
		return r;
	uuid_format(fs_uuid, u);
	return grub_bios_make(&(struct grub_bios_params){
				      .grub_dir = s->grub_dir,
				      .tmp_dir = env->tmp_dir,
				      .fs_uuid = u,
				      .core_lba = lba,
				      .max_sect = n_sect,
			      },
			      d, ret);
}

static int build_tree(const struct image_spec *s, const struct build_env *env,
		      const uint8_t fs_uuid[16], struct diag *d, struct tree **ret)
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

	if (s->root) {
		r = tree_add_host_dir(t, s->root, "/", NULL, d);
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

/* Identifiers: from the seed when deterministic, random otherwise (rootGPUID/rootFSUID given
 * explicitly always win). */
static int build_ids(const struct image_spec *s, char **ret_seed, struct ext4_params *ep,
		     uint8_t root_gpuid[16], struct diag *d)
{
	_cleanup_free_ char *seed = NULL;
	int r;

	if (s->deterministic)
		seed = xstrdup(s->seed);
	else {
		uint8_t rnd[16];
		char hex[UUID_STR_LEN];

		r = uuid_random(rnd);
		if (r < 0)
			return diag_fail(d, r, "cannot get random bytes: %s", strerror(-r));
		uuid_format(rnd, hex);
		seed = xasprintf("random:%s", hex);
	}
	if (s->deterministic || s->root_gpuid_set)
		memcpy(root_gpuid, s->root_gpuid, 16);
	else
		uuid_derive(seed, "gpt-partition:root", root_gpuid);
	if (s->deterministic || s->root_fsuid_set)
		memcpy(ep->uuid, s->root_fsuid_set ? s->root_fsuid : root_gpuid, 16);
	else
		uuid_derive(seed, "ext4-uuid", ep->uuid);
	uuid_derive_bytes(seed, "ext4-hash-seed", ep->hash_seed, sizeof(ep->hash_seed));
	*ret_seed = TAKE_PTR(seed);
	return 0;
}

static void print_auto_size(uint64_t tree_bytes, uint64_t root_bytes, uint64_t extra,
			    const struct part_layout *l)
{
	log_info("Automatic disk size...");
	log_info("  Contents: %llu bytes", (unsigned long long)tree_bytes);
	log_info("  Root filesystem (contents, metadata, journal, reserved): %llu bytes",
		 (unsigned long long)root_bytes);
	log_info("  Additional space (included above): %llu bytes", (unsigned long long)extra);
	log_info("  Partition table and other partitions: %llu bytes",
		 (unsigned long long)(l->disk_bytes > root_bytes ? l->disk_bytes - root_bytes : 0));
	log_info("  Disk image size: %llu bytes (%llu MiB)", (unsigned long long)l->disk_bytes,
		 (unsigned long long)(l->disk_bytes >> 20));
}

/* A FAT boot partition (ESP, XBOOTLDR): its tree and plan, alive until emission ends. */
struct build_boot {
	struct tree *t;
	struct fat_plan *fs;
	uint64_t off;
	uint8_t *grub_efi; /* GRUB for UEFI, for the ESP's removable path (or NULL) */
	size_t grub_efi_len;
};

/* "bootFilesystems": the FAT ESP and XBOOTLDR, in partition order. */
static void print_json_boot(struct jsonw *w, const struct build_boot *const boots[2])
{
	jsonw_array_begin(w, "bootFilesystems");
	for (size_t i = 0; i < 2; i++) {
		const struct fat_geom *g;

		if (!boots[i]->fs)
			continue;
		g = fat_plan_geom(boots[i]->fs);
		jsonw_object_begin(w, NULL);
		jsonw_string(w, "label", i == 0 ? "ESP" : "BOOT");
		jsonw_uint(w, "fatBits", (uint64_t)g->type);
		jsonw_uint(w, "offset", boots[i]->off);
		jsonw_uint(w, "size", (uint64_t)g->n_sect * 512);
		jsonw_uint(w, "clusterSize", (uint64_t)g->sect_per_clus * 512);
		jsonw_uint(w, "clusters", g->n_clus);
		jsonw_uint(w, "freeClusters", fat_plan_free_clusters(boots[i]->fs));
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void print_json(const struct image_spec *s, const struct part_layout *l,
		       const struct ext4_stats *st, const uint8_t fs_uuid[16],
		       const struct build_boot *const boots[2], const struct build_timings *tm)
{
	struct jsonw w;
	char u[UUID_STR_LEN];

	jsonw_init(&w, stdout);
	jsonw_object_begin(&w, NULL);
	jsonw_string(&w, "output", s->output);
	jsonw_string(&w, "format", s->format);
	jsonw_string(&w, "partitionTableType", part_table_name(l->table));
	jsonw_uint(&w, "diskSize", l->disk_bytes);
	if (l->table != PART_TABLE_NONE && l->table != PART_TABLE_LEGACY) {
		uuid_format(l->disk_uuid, u);
		jsonw_string(&w, "diskGUID", u);
	}
	jsonw_array_begin(&w, "partitions");
	for (size_t i = 0; i < l->n_parts; i++) {
		const struct part_entry *p = &l->parts[i];
		static const char *const roles[] = { "root", "esp", "xbootldr", "bios-boot" };

		jsonw_object_begin(&w, NULL);
		jsonw_uint(&w, "number", p->number);
		jsonw_string(&w, "role", roles[p->role]);
		jsonw_uint(&w, "offset", p->first_lba * PART_SECTOR);
		jsonw_uint(&w, "size", p->n_lba * PART_SECTOR);
		if (l->table != PART_TABLE_LEGACY) {
			uuid_format(p->type_uuid, u);
			jsonw_string(&w, "type", u);
			uuid_format(p->uuid, u);
			jsonw_string(&w, "uuid", u);
		}
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	jsonw_object_begin(&w, "rootFilesystem");
	jsonw_string(&w, "type", "ext4");
	jsonw_string(&w, "label", s->label);
	uuid_format(fs_uuid, u);
	jsonw_string(&w, "uuid", u);
	jsonw_uint(&w, "size", st->size_bytes);
	jsonw_uint(&w, "blocks", st->n_blocks);
	jsonw_uint(&w, "freeBlocks", st->free_blocks);
	jsonw_uint(&w, "reservedBlocks", st->reserved_blocks);
	jsonw_uint(&w, "inodes", st->n_inodes);
	jsonw_uint(&w, "freeInodes", st->free_inodes);
	jsonw_uint(&w, "groups", st->n_groups);
	jsonw_uint(&w, "journalBlocks", st->journal_blocks);
	jsonw_object_end(&w);
	print_json_boot(&w, boots);
	jsonw_object_begin(&w, "timings");
	jsonw_double(&w, "scan", tm->scan);
	jsonw_double(&w, "plan", tm->plan);
	jsonw_double(&w, "emit", tm->emit);
	jsonw_double(&w, "total", tm->total);
	jsonw_object_end(&w);
	jsonw_object_end(&w);
}

/* The sink's parameters. A fixed VHD keeps the disk's size here: the sink rounds it up. */
static void build_format_params(const struct image_spec *s, const struct build_env *env,
				const char *seed, uint64_t disk_bytes, struct format_params *ret)
{
	bool compressed = strcmp(s->format, "qcow2-compressed") == 0;

	*ret = (struct format_params){
		.virtual_size = disk_bytes,
		.cluster_size = s->cluster_size,
		.compression = !compressed ? FORMAT_COMPRESSION_NONE
			       : s->compression == FORMAT_COMPRESSION_ZSTD ? FORMAT_COMPRESSION_ZSTD
									    : FORMAT_COMPRESSION_DEFLATE,
		.n_threads = s->threads,
		.compression_level = (int)s->compression_level,
		.vpc_subformat = s->vpc_subformat,
		.seed = seed,
		.timestamp = env->has_epoch      ? env->source_date_epoch
			     : s->deterministic ? 0
						: (int64_t)time(NULL),
	};
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

/* Size the disk: exact for "auto" (the smallest whole MiB whose root leaves additionalSpace
 * available), checked against the contents for a fixed diskSize. */
static int build_layout(const struct image_spec *s, const struct tree *t,
			const struct ext4_params *ep, struct part_params *pp, struct diag *d,
			struct part_layout *ret, uint64_t *ret_root_min)
{
	struct ext4_params min_ep = *ep;
	struct root_fit rf = { .pp = *pp, .d = d };
	struct ext4_size_fit fit = { root_fit_fn, &rf };
	uint64_t root_min = 0;
	int r;

	min_ep.extra_bytes = s->disk_size_auto ? s->additional_space_bytes : 0;
	/* with the fit also for a fixed diskSize: the minimum it names must build */
	r = ext4_min_size(&min_ep, t, &fit, d, &root_min);
	if (r == -EOVERFLOW && s->disk_size_auto && s->additional_space_bytes && !rf.failed)
		return diag_fail(d, r, "additionalSpace of %llu bytes with the contents needs a root "
				 "filesystem over ext4's 16 TiB limit; ask for less",
				 (unsigned long long)s->additional_space_bytes);
	if (r < 0)
		return r;
	if (s->disk_size_auto) {
		pp->root_min_bytes = root_min;
		r = part_layout_plan(pp, d, ret);
		if (r < 0)
			return r;
		*ret_root_min = root_min;
		return 0;
	}
	pp->disk_bytes = s->disk_size_bytes;
	r = part_layout_plan(pp, d, ret);
	if (r < 0)
		return r;
	{
		uint64_t off, len;

		part_layout_root(ret, &off, &len);
		if (len < root_min) {
			struct part_layout need;
			struct part_params np = *pp;

			np.disk_bytes = 0;
			np.root_min_bytes = root_min;
			r = part_layout_plan(&np, d, &need);
			if (r < 0)
				return r;
			return diag_fail(d, -ENOSPC,
					 "diskSize %llu MiB is too small: the contents need at least "
					 "%llu MiB; set diskSize to %llu or \"auto\"",
					 (unsigned long long)(s->disk_size_bytes >> 20),
					 (unsigned long long)(need.disk_bytes >> 20),
					 (unsigned long long)(need.disk_bytes >> 20));
		}
	}
	return 0;
}

static void build_boot_done(struct build_boot *b)
{
	free(b->grub_efi);
	b->fs = fat_plan_free(b->fs);
	b->t = tree_free(b->t);
}

/* Format the layout's partition for `role` (none: nothing to do) with the host tree src, or
 * empty without one, as make-disk-image's mkfs.vfat does. */
static int build_boot_plan(const struct build_env *env, const struct part_layout *l,
			   enum part_role role, const char *src, const struct sdboot *sdboot,
			   const char *seed, int64_t fs_time, struct diag *d, struct build_boot *ret)
{
	const struct part_entry *pe = part_layout_find(l, role);
	bool esp = role == PART_ROLE_ESP;
	const char *what = esp ? "ESP" : "XBOOTLDR";
	struct tree_finalize_opts fo = {
		.clamp_mtime = env->has_epoch,
		.source_date_epoch = env->source_date_epoch,
	};
	struct fat_params fp = {
		.fs_time = fs_time,
		.what = what,
	};
	uint64_t need, start_mib;
	int r;

	if (!pe)
		return 0;
	fp.size_bytes = pe->n_lba * PART_SECTOR;
	fp.hidden_sect = (uint32_t)pe->first_lba;
	snprintf(fp.label, sizeof(fp.label), "%s", esp ? "ESP" : "BOOT");
	uuid_derive_bytes(seed, esp ? "fat-volume-id:esp" : "fat-volume-id:xbootldr",
			  &fp.volume_id, sizeof(fp.volume_id));
	ret->off = pe->first_lba * PART_SECTOR;
	ret->t = tree_new();
	if (src) {
		r = tree_add_host_dir(ret->t, src, "/", NULL, d);
		if (r < 0)
			return diag_prepend(d, r, "%s tree", what);
	}
	if (sdboot) {
		r = sdboot_populate(sdboot, esp, ret->t, d);
		if (r < 0)
			return r;
	}
	if (ret->grub_efi) {
		r = tree_add_data(ret->t, GRUB_EFI_PATH, ret->grub_efi, ret->grub_efi_len, 0644, 0, 0,
				  fs_time, d);
		if (r == -EEXIST)
			return diag_fail(d, r, "ESP tree has %s already: GRUB for UEFI goes there",
					 GRUB_EFI_PATH);
		if (r < 0)
			return r;
	}
	r = tree_mkdir_p(ret->t, "/", 0755, 0, 0, env->has_epoch ? env->source_date_epoch : 0,
			 NULL);
	if (r < 0 && r != -EEXIST)
		return diag_fail(d, r, "%s: cannot create the root directory", what);
	r = tree_finalize(ret->t, &fo, d);
	if (r < 0)
		return r;
	r = fat_plan(&fp, ret->t, d, &ret->fs);
	if (r != -ENOSPC || fat_min_size(&fp, ret->t, d, &need) < 0)
		return r;
	start_mib = pe->first_lba * PART_SECTOR / PART_MIB;
	if (esp && l->table == PART_TABLE_EFIXBOOTLDR)
		return diag_fail(d, -ENOSPC,
				 "ESP needs %llu MiB, but the efixbootldr ESP is 92 MiB "
				 "(8..100 MiB); put kernels and initrds on --xbootldr",
				 (unsigned long long)(need >> 20));
	return diag_fail(d, -ENOSPC, "%s needs %llu MiB; set bootSize to at least %lluM", what,
			 (unsigned long long)(need >> 20),
			 (unsigned long long)(start_mib + (need >> 20)));
}

/* The bootloader's files, resolved against the image's root tree before anything is planned:
 * a missing kernel or EFI binary fails before the output is opened. */
static int build_bootloader(const struct image_spec *s, const struct build_env *env,
			    const struct tree *t, struct diag *d, struct sdboot **ret)
{
	_cleanup_(boot_entry_freep) struct boot_entry *e = NULL;
	int r;

	*ret = NULL;
	if (s->boot_install != SPEC_BOOTLOADER_SYSTEMD_BOOT)
		return 0;
	r = build_boot_entry(s, d, &e);
	if (r < 0)
		return r;
	return sdboot_prepare(&(struct sdboot_opts){
				      .entry = e,
				      .root = t,
				      .efi = s->systemd_boot_efi,
				      .arch = s->arch,
				      .xbootldr = s->partition_table == PART_TABLE_EFIXBOOTLDR,
				      .mtime = env->has_epoch ? env->source_date_epoch : 0,
			      },
			      d, ret);
}

/* touchEFIVars: the template with Boot0000 for systemd-boot on the ESP and BootOrder, made
 * before any output is opened. The loader must be in the ESP's tree: a Boot0000 pointing at
 * nothing would make the firmware fall through to the next entry. */
static int build_efi_vars(const struct image_spec *s, const struct part_layout *l,
			  const struct tree *esp, struct diag *d, struct efivars **ret)
{
	_cleanup_(efivars_freep) struct efivars *v = NULL;
	const struct part_entry *pe = part_layout_find(l, PART_ROLE_ESP);
	const char *file = s->arch == PART_ARCH_AARCH64 ? "/EFI/systemd/systemd-bootaa64.efi"
							 : "/EFI/systemd/systemd-bootx64.efi";
	struct devpath_hd hd;
	int r;

	if (!s->touch_efi_vars)
		return 0;
	if (!pe || !esp)
		return diag_fail(d, -EINVAL, "touchEFIVars: the layout has no ESP");
	if (!tree_lookup(esp, file))
		return diag_fail(d, -ENOENT,
				 "touchEFIVars: the ESP has no %s for the boot entry to start "
				 "(install systemd-boot, or put it in the --esp tree)",
				 file + 1);
	r = efivars_load(s->efi_vars_template, d, &v);
	if (r < 0)
		return diag_prepend(d, r, "efiVariables");
	hd = (struct devpath_hd){
		.part_number = pe->number,
		.start_lba = pe->first_lba,
		.n_lba = pe->n_lba,
	};
	memcpy(hd.part_uuid, pe->uuid, sizeof(hd.part_uuid));
	r = efiboot_add(v, &hd, file, d, /* ret_number= */ NULL);
	if (r < 0)
		return diag_prepend(d, r, "touchEFIVars: %s", s->efi_vars_template);
	*ret = TAKE_PTR(v);
	return 0;
}

/* efi-vars.fd under its temporary name: committed right after the image. */
static int build_efi_vars_write(const struct image_spec *s, const struct efivars *v,
				struct diag *d, struct outfile **ret)
{
	struct outfile *o = NULL;
	int r;

	*ret = NULL;
	if (!v)
		return 0;
	r = outfile_open(s->efi_vars_out, d, &o);
	if (r < 0)
		return r;
	r = pwrite_full(o->fd, v->buf, v->len, 0);
	if (r < 0) {
		outfile_abort(o);
		return diag_fail(d, r, "%s: cannot write: %s", s->efi_vars_out, strerror(-r));
	}
	*ret = o;
	return 0;
}

/* *ret_committed: the image is in place (whatever happened after). */
static int build_run(struct image_spec *s, const struct build_env *env, struct diag *d,
		     bool *ret_committed)
{
	_cleanup_(efivars_freep) struct efivars *vars = NULL;
	struct outfile *vars_out = NULL;
	_cleanup_(sdboot_freep) struct sdboot *sdboot = NULL;
	_cleanup_(grub_bios_freep) struct grub_bios *grub = NULL;
	_cleanup_(build_boot_done) struct build_boot esp = { 0 }, xbootldr = { 0 };
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_(ext4_plan_freep) struct ext4_plan *fs = NULL;
	_cleanup_(image_plan_freep) struct image_plan *ip = NULL;
	_cleanup_free_ char *seed = NULL;
	struct ext4_params ep = {
		.reserved_percent = s->reserved_percent,
		.inode_ratio = 16384,
		.journal = true,
	};
	struct part_params pp = {
		.table = s->partition_table,
		.arch = s->arch,
		.generic_root_type = s->generic_root_type,
		.boot_bytes = s->boot_size_bytes,
	};
	struct part_layout layout;
	struct ext4_stats st;
	struct build_timings tm = { 0 };
	struct progress prog;
	struct image_emit_progress ep_prog = { progress_update, &prog };
	const struct format_ops *fmt;
	struct format_params fp;
	struct outfile *out = NULL;
	struct sink *sink = NULL;
	double t0 = progress_now(), t1;
	uint64_t root_off, root_len, root_min = 0, total = 0;
	int r;

	fmt = spec_format_ops(s->format);
	if (!fmt)
		return diag_fail(d, -EINVAL, "format \"%s\": unknown (use %s)", s->format,
				 format_names());
	snprintf(ep.label, sizeof(ep.label), "%s", s->label);
	ep.fs_time = s->deterministic ? 0 : (int64_t)time(NULL);

	r = build_ids(s, &seed, &ep, pp.root_uuid, d);
	if (r < 0)
		return r;
	pp.seed = seed;

	r = build_tree(s, env, ep.uuid, d, &t);
	if (r < 0)
		return r;
	t1 = progress_now();
	tm.scan = t1 - t0;

	r = build_bootloader(s, env, t, d, &sdboot);
	if (r < 0)
		return r;
	r = build_layout(s, t, &ep, &pp, d, &layout, &root_min);
	if (r < 0)
		return r;
	/* the free inodes auto sizing promised (a fixed diskSize adds none) */
	ep.extra_bytes = s->disk_size_auto ? s->additional_space_bytes : 0;
	part_layout_root(&layout, &root_off, &root_len);
	if (s->boot_install == SPEC_BOOTLOADER_GRUB && s->grub_efi_dir) {
		char u[UUID_STR_LEN];

		uuid_format(ep.uuid, u);
		r = grub_efi_make(&(struct grub_efi_params){ .grub_dir = s->grub_efi_dir,
							     .tmp_dir = env->tmp_dir,
							     .fs_uuid = u },
				  d, &esp.grub_efi, &esp.grub_efi_len);
		if (r < 0)
			return r;
	}
	r = build_boot_plan(env, &layout, PART_ROLE_ESP, s->esp, sdboot, seed, ep.fs_time, d,
			    &esp);
	if (r < 0)
		return r;
	r = build_boot_plan(env, &layout, PART_ROLE_XBOOTLDR, s->xbootldr, sdboot, seed,
			    ep.fs_time, d, &xbootldr);
	if (r < 0)
		return r;
	r = build_efi_vars(s, &layout, esp.t, d, &vars);
	if (r < 0)
		return r;
	r = build_grub(s, env, &layout, ep.uuid, d, &grub);
	if (r < 0)
		return r;
	ep.size_bytes = root_len;
	r = ext4_plan(&ep, t, d, &fs);
	if (r < 0)
		return r;
	ext4_plan_stats(fs, &st);

	ip = image_plan_new(layout.disk_bytes);
	part_plan_ranges(&layout, ip);
	if (grub)
		grub_bios_plan_ranges(grub, ip);
	ext4_plan_ranges(fs, root_off, ip);
	if (esp.fs)
		fat_plan_ranges(esp.fs, esp.off, ip);
	if (xbootldr.fs)
		fat_plan_ranges(xbootldr.fs, xbootldr.off, ip);
	r = image_plan_seal(ip, d);
	if (r < 0)
		return r;
	tm.plan = progress_now() - t1;
	t1 = progress_now();

	for (size_t i = 0; i < ip->n_ranges; i++)
		total += ip->ranges[i].len;
	progress_init(&prog, s->progress_set ? s->progress : env->stderr_is_tty, total,
		      t->n_inodes);

	/* from here until the output is committed, SIGINT & co stop the build cleanly */
	interrupt_arm();
	r = s->output_device ? outfile_open_device(s->output, layout.disk_bytes, d, &out)
			     : outfile_open(s->output, d, &out);
	if (r < 0)
		return r;
	build_format_params(s, env, seed, layout.disk_bytes, &fp);
	r = sink_open(fmt, &fp, out, d, &sink);
	if (r < 0) {
		outfile_abort(out);
		return r;
	}
	r = image_emit(ip, sink, &ep_prog, d);
	progress_done(&prog);
	if (r < 0) {
		sink_abort(sink);
		return r;
	}
	r = build_efi_vars_write(s, vars, d, &vars_out);
	if (r < 0) {
		sink_abort(sink);
		return r;
	}
	r = sink_finish(sink, d);
	if (r < 0) {
		outfile_abort(vars_out);
		return r;
	}
	*ret_committed = true;
	if (vars_out) {
		r = outfile_commit(vars_out, d);
		if (r < 0)
			return r;
	}
	tm.emit = progress_now() - t1;
	tm.total = progress_now() - t0;
	/* after success only: a failed build prints its one error line and nothing else */
	if (s->disk_size_auto)
		print_auto_size(t->total_bytes, root_min, s->additional_space_bytes, &layout);
	if (s->json)
		print_json(s, &layout, &st, ep.uuid,
			   (const struct build_boot *const[2]){ &esp, &xbootldr }, &tm);
	return 0;
}

int cli_build(int argc, char **argv)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct build_env env;
	struct diag d = { 0 };
	bool committed = false;
	int r;

	r = spec_parse_args(s, argc, argv, &d);
	if (r >= 0 && s->help) {
		fputs(spec_usage(), stdout);
		return 0;
	}
	if (r >= 0)
		r = spec_validate(s, &d);
	if (r >= 0)
		r = read_env(&env, &d);
	if (r >= 0)
		r = build_run(s, &env, &d, &committed);
	interrupt_disarm();
	if (interrupt_pending() && !committed) {
		/* whatever failed on the way out, the signal is what happened */
		if (r < 0)
			log_error("%s: interrupted by %s; %s", s->output,
				  interrupt_name(interrupt_pending()),
				  s->output_device ? "the device holds a partial image"
						   : "not written (an existing file is unchanged)");
		interrupt_reraise();
	}
	if (r < 0)
		log_error("%s", diag_message(&d, r)); /* e.g. efi-vars.fd after the image */
	interrupt_reraise(); /* the image is complete: still die of the signal, as asked */
	return r < 0 ? 1 : 0;
}
