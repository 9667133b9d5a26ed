/* Boot: the FAT boot partitions (ESP, XBOOTLDR) and their trees, systemd-boot's files, GRUB for
 * BIOS (boot.img, core.img) and for UEFI (the ESP's removable path), and touchEFIVars' variable
 * store. Everything is made before any output is opened: a missing kernel, EFI binary or GRUB
 * module fails the plan. */
#include "build/build-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/devpath.h"
#include "boot/efiboot.h"
#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

int build_boot_entry(const struct image_spec *s, struct diag *d, struct boot_entry **ret)
{
	if (s->kernel) {
		*ret = boot_entry_new(s->kernel, s->initrd, s->cmdline);
		return 0;
	}
	return bootspec_load(s->system, d, ret);
}

bool build_wants_grub_cfg(const struct image_spec *s)
{
	return s->boot_install == SPEC_BOOTLOADER_GRUB || s->install_grub_bios;
}

int build_sdboot(const struct image_spec *s, const struct build_model *m,
		 const struct build_env *env, const struct tree *t, struct diag *d,
		 struct sdboot **ret)
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
				      .search_root = s->search_root,
				      .arch = s->arch,
				      .xbootldr = build_model_find(m, PART_ROLE_XBOOTLDR) != NULL,
				      .mtime = env->has_epoch ? env->source_date_epoch : 0,
			      },
			      d, ret);
}

char *build_grub_efi_path(const struct image_spec *s)
{
	if (s->grub_efi_id)
		return xasprintf("/EFI/%s/grubx64.efi", s->grub_efi_id);
	return xstrdup(GRUB_EFI_PATH);
}

int build_grub_efi(const struct image_spec *s, const struct build_env *env,
		   const uint8_t fs_uuid[16], struct diag *d, struct build_plan_state *st)
{
	char u[UUID_STR_LEN];

	if (s->boot_install != SPEC_BOOTLOADER_GRUB || !s->grub_efi_dir)
		return 0;
	uuid_format(fs_uuid, u);
	return grub_efi_make(&(struct grub_efi_params){ .grub_dir = s->grub_efi_dir,
						       .tmp_dir = env->tmp_dir,
						       .fs_uuid = u },
			     d, &st->grub_efi, &st->grub_efi_len);
}

/* GRUB for BIOS where there is room for its core: bootloader grub with grubDir on a layout
 * with a BIOS boot partition or MBR gap (validation allows grubDir only there, or grubEfiDir on
 * its own), or hybrid's auto next to systemd-boot. */
int build_grub_bios(const struct image_spec *s, const struct build_env *env,
		    const struct part_layout *l, const uint8_t fs_uuid[16], struct diag *d,
		    struct grub_bios **ret)
{
	char u[UUID_STR_LEN];
	uint64_t lba, n_sect;
	int r;

	*ret = NULL;
	if (!s->install_grub_bios &&
	    (s->boot_install != SPEC_BOOTLOADER_GRUB || !s->grub_dir ||
	     (!part_table_is_mbr(l->table) && !part_layout_find(l, PART_ROLE_BIOS_BOOT))))
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

/* The boot partition's tree: the host tree src (or empty, as make-disk-image's mkfs.vfat
 * leaves it), systemd-boot's files, GRUB for UEFI; finalized. */
int build_boot_tree(const struct build_env *env, const struct build_plan_state *st,
		    const struct build_volume *v, struct diag *d, struct tree **ret)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	bool esp = v->role == PART_ROLE_ESP;
	bool first_esp = esp && build_model_find(st->model, PART_ROLE_ESP) == v;
	struct tree_finalize_opts fo = {
		.clamp_mtime = env->has_epoch,
		.source_date_epoch = env->source_date_epoch,
	};
	int r;

	if (v->contents) {
		r = tree_add_host_dir(t, v->contents, "/", NULL, d);
		if (r < 0)
			return diag_prepend(d, r, "%s tree", v->what);
	}
	r = build_volume_copies(st->s, v, t, d);
	if (r < 0)
		return r;
	if (st->sdboot && (first_esp || v->role == PART_ROLE_XBOOTLDR)) {
		r = sdboot_populate(st->sdboot, esp, t, d);
		if (r < 0)
			return r;
	}
	if (st->grub_efi && first_esp) {
		_cleanup_free_ char *path = build_grub_efi_path(st->s);

		r = tree_add_data(t, path, st->grub_efi, st->grub_efi_len, 0644, 0, 0,
				  st->ep.fs_time, d);
		if (r == -EEXIST)
			return diag_fail(d, r, "ESP tree has %s already: GRUB for UEFI goes there",
					 path);
		if (r < 0)
			return r;
	}
	r = tree_mkdir_p(t, "/", 0755, 0, 0, env->has_epoch ? env->source_date_epoch : 0, NULL);
	if (r < 0 && r != -EEXIST)
		return diag_fail(d, r, "%s: cannot create the root directory", v->what);
	r = tree_finalize(t, &fo, d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(t);
	return 0;
}

int build_boot_too_small(const struct image_spec *s, const struct build_vol *bv,
			 uint64_t need, struct diag *d)
{
	uint64_t start_mib = bv->off / PART_MIB;

	if (bv->v->role == PART_ROLE_ESP && s->partition_table == PART_TABLE_EFIXBOOTLDR)
		return diag_fail(d, -ENOSPC,
				 "ESP needs %llu MiB, but the efixbootldr ESP is 92 MiB "
				 "(8..100 MiB); put kernels and initrds on --xbootldr",
				 (unsigned long long)(need >> 20));
	return diag_fail(d, -ENOSPC, "%s needs %llu MiB; set bootSize to at least %lluM",
			 bv->v->what, (unsigned long long)(need >> 20),
			 (unsigned long long)(start_mib + (need >> 20)));
}

/* touchEFIVars: the template with Boot0000 for the loader on the ESP and BootOrder, as bootctl
 * (systemd-boot) or grub-install --bootloader-id (GRUB at grubEfiBootloaderId) set them. The
 * loader must be in the ESP's tree: a Boot0000 pointing at nothing would make the firmware fall
 * through to the next entry. No entry, the template alone, where nixpkgs adds none: legacy+gpt
 * (no ESP), GRUB on the removable path, grubEfiNoNvram. */
int build_efi_vars(const struct image_spec *s, const struct part_layout *l,
		   const struct tree *esp, struct diag *d, struct efivars **ret,
		   const char **ret_note)
{
	_cleanup_(efivars_freep) struct efivars *v = NULL;
	_cleanup_free_ char *grub = NULL;
	const struct part_entry *pe = part_layout_find(l, PART_ROLE_ESP);
	bool is_grub = s->boot_install == SPEC_BOOTLOADER_GRUB;
	const char *file = s->arch == PART_ARCH_AARCH64 ? "/EFI/systemd/systemd-bootaa64.efi"
							 : "/EFI/systemd/systemd-bootx64.efi";
	const char *none = NULL;
	struct devpath_hd hd;
	int r;

	*ret_note = NULL;
	if (!s->touch_efi_vars)
		return 0;
	if (!pe && s->partition_table == PART_TABLE_LEGACY_GPT)
		none = "touchEFIVars: legacy+gpt has no ESP: efi-vars.fd is the template, no boot "
		       "entry added";
	else if (!pe || !esp)
		return diag_fail(d, -EINVAL, "touchEFIVars: the layout has no ESP");
	else if (is_grub && s->grub_efi_dir && !s->grub_efi_id)
		none = "touchEFIVars: GRUB is on the removable path " GRUB_EFI_PATH
		       ": efi-vars.fd is the template, no boot entry added";
	else if (is_grub && s->grub_efi_id && s->grub_efi_no_nvram)
		none = "touchEFIVars: grubEfiNoNvram: efi-vars.fd is the template, no boot entry "
		       "added";
	else if (is_grub && s->grub_efi_id)
		file = grub = build_grub_efi_path(s);
	if (!none && !tree_lookup(esp, file))
		return diag_fail(d, -ENOENT,
				 "touchEFIVars: the ESP has no %s for the boot entry to start "
				 "(install systemd-boot, or put it in the --esp tree)",
				 file + 1);
	r = efivars_load(s->efi_vars_template, d, &v);
	if (r < 0)
		return diag_prepend(d, r, "efiVariables");
	if (none) {
		*ret_note = none;
		*ret = TAKE_PTR(v);
		return 0;
	}
	hd = (struct devpath_hd){
		.part_number = pe->number,
		.start_lba = pe->first_lba,
		.n_lba = pe->n_lba,
	};
	memcpy(hd.part_uuid, pe->uuid, sizeof(hd.part_uuid));
	r = grub ? efiboot_add_titled(v, &hd, file, s->grub_efi_id, d, NULL)
		 : efiboot_add(v, &hd, file, d, /* ret_number= */ NULL);
	if (r < 0)
		return diag_prepend(d, r, "touchEFIVars: %s", s->efi_vars_template);
	*ret = TAKE_PTR(v);
	return 0;
}
