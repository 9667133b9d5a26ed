/* Cross-checks and derived defaults, run once every spec file and flag has been applied, so
 * messages use the spec key names (each key has a flag of the same meaning). */
#include "spec/spec-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/find.h"
#include "boot/grub.h"
#include "format/compress-stream.h"
#include "fs/fs.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/outfile.h"
#include "util/xalloc.h"

/* -o names a directory: an existing one, or DIR/ (spec_resolve_output() creates it). */
static bool spec_output_is_dir(const struct image_spec *s)
{
	struct stat st;
	size_t n = strlen(s->output);

	return s->output[n - 1] == '/' || (stat(s->output, &st) == 0 && S_ISDIR(st.st_mode));
}


#define SPEC_ESP_START (8ull * PART_MIB)       /* efi, hybrid, efixbootldr */
#define SPEC_XBOOTLDR_START (100ull * PART_MIB) /* efixbootldr */

/* A format option given for a format that does not accept it (format/format.c says which
 * accept what). compression and compressionLevel are refused; clusterSize, threads and
 * vpcSubformat are left for the formats that take them, so that a spec file written for qcow2
 * still builds when a flag switches the format to raw. */
static int spec_check_format_options(const struct image_spec *s, const struct format_ops *f,
				     struct diag *d)
{
	const struct {
		enum format_option o;
		const char *key;
		const char *remove; /* what the message says to remove */
		bool given;
	} opts[] = {
		{ FORMAT_OPT_COMPRESSION, "compression", "compression",
		  s->compression != FORMAT_COMPRESSION_NONE },
		/* with lz4/lz4hc the level is erofs's, whatever the format */
		{ FORMAT_OPT_COMPRESSION_LEVEL, "compressionLevel", "it",
		  s->compression_level && !s->fs_compression },
		{ FORMAT_OPT_FILE_COMPRESS, "compress", "compress",
		  s->file_compress != FORMAT_FILE_COMPRESS_NONE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		size_t n;
		const struct format_ops *const *all = format_list(&n), *first = NULL;

		if (!opts[i].given || format_accepts(f, opts[i].o))
			continue;
		/* the suggestion: a format the option alone serves (raw's level needs compress) */
		for (size_t j = 0; j < n && !first; j++)
			if (format_accepts(all[j], opts[i].o) &&
			    (opts[i].o == FORMAT_OPT_FILE_COMPRESS ||
			     !format_accepts(all[j], FORMAT_OPT_FILE_COMPRESS)))
				first = all[j];
		for (size_t j = 0; j < n && !first; j++)
			if (format_accepts(all[j], opts[i].o))
				first = all[j];
		return diag_fail(d, -EINVAL,
				 "%s applies to format %s, not %s (remove %s or set format = %s)",
				 opts[i].key, format_names_accepting(opts[i].o), s->format,
				 opts[i].remove, first->name);
	}
	if (format_accepts(f, FORMAT_OPT_FILE_COMPRESS) && s->compression_level &&
	    !s->fs_compression) {
		enum format_file_compress c = s->file_compress;

		if (c == FORMAT_FILE_COMPRESS_NONE)
			return diag_fail(d, -EINVAL, "compressionLevel applies to a compressed %s "
					 "image; set compress = zstd, gzip or xz (or remove it)",
					 s->format);
		if (s->compression_level > (uint32_t)compress_stream_max_level(c))
			return diag_fail(d, -EINVAL, "compressionLevel %u: %s levels go from 1 to %d",
					 s->compression_level, compress_stream_name(c),
					 compress_stream_max_level(c));
		return 0;
	}
	if (format_accepts(f, FORMAT_OPT_FILE_COMPRESS) || !format_accepts(f, FORMAT_OPT_COMPRESSION))
		return 0;
	if (s->compression_level > 12 && s->compression != FORMAT_COMPRESSION_ZSTD)
		return diag_fail(d, -EINVAL,
				 "compressionLevel %u: deflate levels go from 1 to 12 (22 is zstd's "
				 "highest: set compression = zstd)",
				 s->compression_level);
	return 0;
}

int spec_validate_format(const struct image_spec *s, struct diag *d)
{
	const struct format_ops *f = spec_format_ops(s->format);

	if (!f)
		return diag_fail(d, -ENOTSUP,
				 "format %s is not supported by this build (use one of %s)",
				 s->format, format_names());
	return spec_check_format_options(s, f, d);
}

/* Choices make-disk-image offers that are valid but not implemented yet: -ENOTSUP. */
static int spec_check_supported(const struct image_spec *s, struct diag *d)
{
	const struct format_ops *f = spec_format_ops(s->format);

	const struct fs_ops *fs = fs_ops_find(s->fs_type);

	/* the root holds the image's tree: of the handlers, ext4 and (read-only) erofs */
	if (!fs || (strcmp(fs->name, "ext4") != 0 && strcmp(fs->name, "erofs") != 0))
		return diag_fail(d, -ENOTSUP, "fsType \"%s\" is not supported (use ext4, or "
				 "erofs for a read-only root)", s->fs_type);
	if (!f)
		return diag_fail(d, -ENOTSUP,
				 "format %s is not supported by this build (use one of %s)",
				 s->format, format_names());
	return spec_check_format_options(s, f, d);
}

/* "compression" lz4/lz4hc: an erofs filesystem's, so the image must have one. */
static int spec_check_fs_compression(const struct image_spec *s, struct diag *d)
{
	const char *name = s->fs_compression == FS_COMPRESSION_LZ4 ? "lz4" : "lz4hc";
	bool erofs = false;

	if (!s->fs_compression)
		return 0;
	if (s->n_partitions) {
		for (size_t i = 0; i < s->n_partitions; i++)
			erofs |= s->partitions[i].fs && strcmp(s->partitions[i].fs, "erofs") == 0;
		/* a list's root without "fs" takes fsType */
		for (size_t i = 0; i < s->n_partitions && !erofs; i++)
			erofs = !s->partitions[i].fs && strcmp(s->partitions[i].type, "root") == 0 &&
				strcmp(s->fs_type, "erofs") == 0;
	} else
		erofs = strcmp(s->fs_type, "erofs") == 0;
	if (!erofs)
		return diag_fail(d, -EINVAL, "compression %s: compresses erofs filesystems and the "
				 "image has none (set fsType or a partition's fs to erofs, or use "
				 "deflate or zstd with format qcow2-compressed)", name);
	if (s->fs_compression == FS_COMPRESSION_LZ4 && s->compression_level)
		return diag_fail(d, -EINVAL, "compressionLevel: lz4 has no levels (use "
				 "compression = lz4hc for levels 1 to 12)");
	if (s->compression_level > 12)
		return diag_fail(d, -EINVAL, "compressionLevel %u: lz4hc levels go from 1 to 12",
				 s->compression_level);
	return 0;
}

/* The Nix store keys (issue #5): what needs a closure, what onlyNixStore excludes. */
static int spec_check_nix(struct image_spec *s, struct diag *d)
{
	if (s->root && s->root_tar)
		return diag_fail(d, -EINVAL, "root and rootTar are two root trees; give one "
				 "(--root DIR or --root-tar FILE)");
	if (s->copy_channel && !s->channel)
		return diag_fail(d, -EINVAL, "copyChannel: needs channel, the channel's store path "
				 "(--channel PATH)");
	if ((s->system || s->channel) && !s->closure_info)
		return diag_fail(d, -EINVAL, "%s needs closureInfo (--closure-info DIR) with its "
				 "closure", s->system ? "system" : "channel");
	if (!s->only_nix_store)
		return 0;
	if (!s->closure_info)
		return diag_fail(d, -EINVAL,
				 "onlyNixStore: needs closureInfo (--closure-info DIR)");
	if (s->n_contents || s->root || s->root_tar || s->config_file || s->system ||
	    s->channel) {
		const char *what = s->n_contents    ? "contents"
				   : s->root        ? "root"
				   : s->root_tar    ? "rootTar"
				   : s->config_file ? "configFile"
				   : s->system      ? "system"
						    : "channel";

		return diag_fail(d, -EINVAL,
				 "onlyNixStore: the image holds the store only; remove %s", what);
	}
	if (!s->label_set) {
		free(s->label);
		s->label = xstrdup("nix-store");
	}
	return 0;
}

/* Where boot/find.c looks: the test's root, and the toplevel's own systemd first. */
static struct boot_find_where spec_where(const struct image_spec *s)
{
	return (struct boot_find_where){ .root = s->search_root, .system = s->system };
}

/* A loader key's default (boot/find.c's places) when it is not given; -ENOENT naming every
 * path tried when none has it. */
static int spec_find_default(struct image_spec *s, char **field, enum boot_find_kind k,
			     struct diag *d)
{
	struct boot_find_where w = spec_where(s);

	return *field ? 0 : boot_find(k, s->arch, &w, d, field);
}

static bool spec_found(const struct image_spec *s, enum boot_find_kind k)
{
	struct boot_find_where w = spec_where(s);

	return boot_find_present(k, s->arch, &w);
}

/* What the disk has, whether a preset or a "partitions" list describes it. */
struct spec_disk {
	bool esp, xbootldr, boot, bios; /* bios: an MBR gap or BIOS boot partition for GRUB */
};

static void spec_disk(const struct image_spec *s, struct spec_disk *ret)
{
	struct part_params pp = { .table = s->partition_table, .boot_bytes = s->boot_size_bytes };
	bool gpt = s->partition_table == PART_TABLE_GPT;

	*ret = (struct spec_disk){ .bios = part_table_is_mbr(s->partition_table) };
	if (s->partition_table == PART_TABLE_GPT || s->partition_table == PART_TABLE_MBR) {
		for (size_t i = 0; i < s->n_partitions; i++) {
			struct part_request r = { 0 };

			if (!s->partitions[i].type ||
			    part_request_set_type(&r, s->partitions[i].type, gpt, s->arch) < 0)
				continue; /* the build names the bad type */
			ret->esp |= r.role == PART_ROLE_ESP;
			ret->xbootldr |= r.role == PART_ROLE_XBOOTLDR;
			ret->bios |= r.role == PART_ROLE_BIOS_BOOT;
		}
		return;
	}
	ret->esp = part_params_has_role(&pp, PART_ROLE_ESP);
	ret->xbootldr = part_params_has_role(&pp, PART_ROLE_XBOOTLDR);
	ret->boot = part_params_has_role(&pp, PART_ROLE_BOOT);
	ret->bios = part_params_bios_place(&pp);
}

/* GRUB for BIOS (i386-pc, grubDir) needs a place for core.img (the MBR gap or a BIOS boot
 * partition); GRUB for UEFI (x86_64-efi, grubEfiDir) an ESP. hybrid takes either or both. */
static int spec_check_grub(const struct image_spec *s, struct diag *d)
{
	enum part_table t = s->partition_table;
	struct spec_disk disk;
	bool bios, efi;

	spec_disk(s, &disk);
	bios = disk.bios;
	efi = disk.esp;
	if (t == PART_TABLE_GPT || t == PART_TABLE_MBR) {
		/* a list: name the partition to add */
		if (s->grub_efi_dir && !efi)
			return diag_fail(d, -EINVAL, "grubEfiDir: the partitions have no ESP; add "
					 "{\"type\": \"esp\", \"size\": \"512M\"}");
		if (!bios && !s->grub_efi_dir)
			return diag_fail(d, -EINVAL, "bootloader grub: GRUB for BIOS needs a BIOS "
					 "boot partition; add {\"type\": \"bios-boot\", \"size\": "
					 "\"1M\"} (or grubEfiDir for GRUB on UEFI)");
	}
	if (s->grub_efi_dir && !efi)
		return diag_fail(d, -EINVAL, "grubEfiDir: partitionTableType %s has no ESP (use "
				 "efi, efixbootldr or hybrid, or grubDir for GRUB on BIOS)",
				 part_table_name(t));
	if (!bios && !s->grub_efi_dir)
		return diag_fail(d, -EINVAL, "bootloader grub: partitionTableType %s: GRUB for "
				 "BIOS needs a BIOS boot partition: use legacy, legacy+gpt or "
				 "hybrid (or grubEfiDir for GRUB on UEFI)", part_table_name(t));
	if (s->arch != PART_ARCH_X86_64 && (s->grub_efi_dir || s->arch != PART_ARCH_X86))
		return diag_fail(d, -ENOTSUP, "bootloader grub: GRUB needs arch x86-64 (or x86 "
				 "for BIOS only)");
	if (bios && !s->grub_dir && !(efi && s->grub_efi_dir))
		return diag_fail(d, -EINVAL, "bootloader grub: no GRUB modules; set grubDir "
				 "(--grub-dir DIR, e.g. Debian's /usr/lib/grub/i386-pc)");
	return 0;
}

/* grubEfiBootloaderId: one directory name under EFI/ (grub-install --bootloader-id), also the
 * Boot entry's title; only for GRUB for UEFI. */
static int spec_check_grub_efi_id(const struct image_spec *s, struct diag *d)
{
	const char *id = s->grub_efi_id;
	size_t n = id ? strlen(id) : 0;

	if (!id) {
		if (s->grub_efi_no_nvram)
			return diag_fail(d, -EINVAL, "grubEfiNoNvram: needs grubEfiBootloaderId "
					 "(the removable path has no Boot entry anyway)");
		return 0;
	}
	if (n == 0 || n > 64 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					   "0123456789._-") != n || id[0] == '.')
		return diag_fail(d, -EINVAL, "grubEfiBootloaderId \"%s\": give 1 to 64 letters, "
				 "digits, '.', '_' or '-', not starting with '.' (e.g. NixOS-boot)",
				 id);
	if (s->boot_install != SPEC_BOOTLOADER_GRUB || !s->grub_efi_dir)
		return diag_fail(d, -EINVAL, "grubEfiBootloaderId: needs bootloader grub with "
				 "grubEfiDir (GRUB for UEFI)");
	return 0;
}

/* hybrid's auto boots both ways: GRUB for BIOS next to systemd-boot when GRUB's i386-pc modules
 * are there (grubDir, else boot/find.c's places, with grub-mkimage beside them). Without them
 * the build warns that the image will not boot under BIOS. */
static void spec_resolve_grub_bios(struct image_spec *s)
{
	if (s->partition_table != PART_TABLE_HYBRID || s->bootloader != SPEC_BOOTLOADER_AUTO ||
	    s->boot_install != SPEC_BOOTLOADER_SYSTEMD_BOOT ||
	    (s->arch != PART_ARCH_X86_64 && s->arch != PART_ARCH_X86))
		return;
	if (spec_find_default(s, &s->grub_dir, BOOT_FIND_GRUB_BIOS, NULL) < 0)
		return;
	s->install_grub_bios = true;
}

/* bootloader grub with neither grubDir nor grubEfiDir: GRUB for BIOS where the disk has a place
 * for its core, GRUB for UEFI where it has an ESP (x86-64), each from boot/find.c's places;
 * the modules found are installed. Given either key, the other is not looked up (one GRUB
 * package, not two). None found: the error names the paths tried. */
static int spec_find_grub(struct image_spec *s, const struct spec_disk *disk, struct diag *d)
{
	bool bios = disk->bios && (s->arch == PART_ARCH_X86_64 || s->arch == PART_ARCH_X86);
	bool efi = disk->esp && s->arch == PART_ARCH_X86_64;

	if (s->grub_dir || s->grub_efi_dir || (!bios && !efi))
		return 0; /* spec_check_grub() says what is wrong */
	if (bios)
		(void)spec_find_default(s, &s->grub_dir, BOOT_FIND_GRUB_BIOS, NULL);
	if (efi)
		(void)spec_find_default(s, &s->grub_efi_dir, BOOT_FIND_GRUB_EFI, NULL);
	if (s->grub_dir || s->grub_efi_dir)
		return 0;
	return spec_find_default(s, bios ? &s->grub_dir : &s->grub_efi_dir,
				 bios ? BOOT_FIND_GRUB_BIOS : BOOT_FIND_GRUB_EFI, d);
}

/* installBootLoader and bootloader: resolve auto to what is installed (or none), and fill the
 * loader's files from boot/find.c's places when their keys are not given. Without an explicit
 * request, auto installs systemd-boot on the EFI layouts when a kernel is known (--kernel, or a
 * toplevel with a boot.json or kernel) and a systemd-boot binary is there; on hybrid also GRUB
 * for BIOS (spec_resolve_grub_bios()); on the layouts with only a BIOS place (legacy,
 * legacy+gpt, a list with a BIOS boot partition) GRUB for BIOS when a kernel is known and
 * GRUB's i386-pc modules are there. */
static int spec_check_bootloader(struct image_spec *s, struct diag *d)
{
	enum part_table t = s->partition_table;
	struct spec_disk disk;
	bool efi = (spec_disk(s, &disk), disk.esp);
	bool explicit = s->install_bootloader || s->bootloader != SPEC_BOOTLOADER_AUTO;
	bool kernel = s->kernel || (s->system && bootspec_present(s->system));
	enum spec_bootloader *b = &s->boot_install;

	s->install_grub_bios = false;
	if ((s->device_tree_name || s->copy_kernels || !s->use_generation_device_tree) &&
	    s->bootloader != SPEC_BOOTLOADER_EXTLINUX)
		return diag_fail(d, -EINVAL, "%s: needs bootloader extlinux (--bootloader extlinux)",
				 s->device_tree_name ? "deviceTreeName"
				 : s->copy_kernels   ? "copyKernels"
						     : "useGenerationDeviceTree");
	if ((s->initrd || s->cmdline) && !s->kernel)
		return diag_fail(d, -EINVAL, "%s: needs kernel (--kernel F)",
				 s->initrd ? "initrd" : "cmdline");
	if ((s->install_bootloader_set && !s->install_bootloader) ||
	    s->bootloader == SPEC_BOOTLOADER_NONE) {
		*b = SPEC_BOOTLOADER_NONE;
		return 0;
	}
	*b = s->bootloader;
	if (*b == SPEC_BOOTLOADER_AUTO) {
		*b = efi ? SPEC_BOOTLOADER_SYSTEMD_BOOT : SPEC_BOOTLOADER_GRUB;
		if (!explicit && (!kernel || t == PART_TABLE_NONE ||
				  (*b == SPEC_BOOTLOADER_GRUB && !s->grub_dir &&
				   (!disk.bios || !spec_found(s, BOOT_FIND_GRUB_BIOS))) ||
				  (*b == SPEC_BOOTLOADER_SYSTEMD_BOOT && !s->kernel &&
				   !s->systemd_boot_efi && !spec_found(s, BOOT_FIND_SDBOOT)))) {
			*b = SPEC_BOOTLOADER_NONE;
			return 0;
		}
	}
	if (!kernel)
		return diag_fail(d, -EINVAL, "installBootLoader: no kernel to boot%s%s%s: give "
				 "--kernel F (with --initrd F, --cmdline S), or a system with a "
				 "boot.json or kernel", s->system ? " (system " : "",
				 s->system ? s->system : "", s->system ? " has neither)" : "");
	if (*b == SPEC_BOOTLOADER_EXTLINUX) {
		if (s->only_nix_store)
			return diag_fail(d, -EINVAL, "bootloader extlinux: onlyNixStore has no /boot "
					 "for extlinux/extlinux.conf (drop onlyNixStore)");
		return 0;
	}
	if (*b == SPEC_BOOTLOADER_GRUB) {
		int r = spec_find_grub(s, &disk, d);

		return r < 0 ? r : spec_check_grub(s, d);
	}
	if (!efi && (t == PART_TABLE_GPT || t == PART_TABLE_MBR))
		return diag_fail(d, -EINVAL, "bootloader systemd-boot: the partitions have no ESP; "
				 "add {\"type\": \"esp\", \"size\": \"512M\"}");
	if (!efi)
		return diag_fail(d, -EINVAL, "bootloader systemd-boot: partitionTableType %s has "
				 "no ESP (use efi, efixbootldr or hybrid)", part_table_name(t));
	if (!sdboot_arch_suffix(s->arch))
		return diag_fail(d, -ENOTSUP, "bootloader systemd-boot: only arch x86-64 and "
				 "aarch64 are supported");
	if (!s->systemd_boot_efi) {
		int r = spec_find_default(s, &s->systemd_boot_efi, BOOT_FIND_SDBOOT, d);

		if (r < 0)
			return r;
	}
	spec_resolve_grub_bios(s);
	return 0;
}

/* touchEFIVars: an ESP for Boot0000 to point at, a template, and where efi-vars.fd goes (in
 * the -o directory unless efiVarsOut says otherwise). Run before -o is resolved to a file. */
static int spec_check_efi_vars(struct image_spec *s, struct diag *d)
{
	enum part_table t = s->partition_table;
	struct spec_disk disk;
	int r;

	spec_disk(s, &disk);
	if (!s->touch_efi_vars) {
		if (s->efi_vars_out)
			return diag_fail(d, -EINVAL, "efiVarsOut: needs touchEFIVars "
					 "(--touch-efi-vars)");
		return 0;
	}
	/* make-disk-image's own example: legacy+gpt copies the template, with no entry */
	if (!disk.esp && t != PART_TABLE_LEGACY_GPT)
		return diag_fail(d, -EINVAL,
				 "touchEFIVars: partitionTableType %s has no ESP for Boot0000 to "
				 "boot from (use efi, efixbootldr, hybrid, or legacy+gpt for the "
				 "template alone)",
				 part_table_name(t));
	if (disk.esp && s->arch != PART_ARCH_X86_64 && s->arch != PART_ARCH_AARCH64)
		return diag_fail(d, -ENOTSUP, "touchEFIVars: only arch x86-64 and aarch64 have a "
				 "systemd-boot for Boot0000");
	r = spec_find_default(s, &s->efi_vars_template, BOOT_FIND_EFI_VARS, d);
	if (r < 0)
		return diag_prepend(d, r, "touchEFIVars");
	if (s->efi_vars_out)
		return 0;
	if (!s->output || !*s->output || !spec_output_is_dir(s))
		return diag_fail(d, -EINVAL,
				 "touchEFIVars: -o names a file; give efiVarsOut (--efi-vars-out "
				 "F), or -o DIR/ for DIR/efi-vars.fd");
	s->efi_vars_out = xasprintf("%s%sefi-vars.fd", s->output,
				    s->output[strlen(s->output) - 1] == '/' ? "" : "/");
	return 0;
}

/* "755", "0644": what contents.c turns into permission bits (at most 07777). */
static bool spec_mode_valid(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		if (m[i] < '0' || m[i] > '7')
			return false;
	return strtoul(m, NULL, 8) <= 07777;
}

static int spec_check_contents(const struct image_spec *s, struct diag *d)
{
	for (size_t i = 0; i < s->n_contents; i++) {
		const struct contents_entry *e = &s->contents[i];

		if (!e->source || !*e->source)
			return diag_fail(d, -EINVAL, "contents[%zu]: source missing or empty", i);
		if (!e->target || !*e->target)
			return diag_fail(d, -EINVAL, "contents[%zu]: target missing or empty", i);
		if (e->user && !e->group)
			return diag_fail(d, -EINVAL, "contents[%zu]: user set without group", i);
		if (e->group && !e->user)
			return diag_fail(d, -EINVAL, "contents[%zu]: group set without user", i);
		if (e->mode && !spec_mode_valid(e->mode))
			return diag_fail(d, -EINVAL,
					 "contents[%zu]: mode \"%s\" is not an octal mode (use e.g. "
					 "0644 or 755)",
					 i, e->mode);
	}
	return 0;
}

/* The filesystems a partition may hold. fs/fs.c's handler table will own this list
 * (fs_ops_find()); until it is on this branch the spec knows the five names itself. */

/* A role at most one partition may have ("root", "esp"): the index of a second one, or -1. */
static int spec_partition_dup(const struct image_spec *s, const char *type, size_t *ret_first)
{
	bool seen = false;

	for (size_t i = 0; i < s->n_partitions; i++) {
		if (strcmp(s->partitions[i].type, type) != 0)
			continue;
		if (seen)
			return (int)i;
		seen = true;
		*ret_first = i;
	}
	return -1;
}

/* What a partition asks for that its size or filesystem would silently drop (GPT-only keys
 * on MBR and maxSize off "rest": build/model.c). */
static int spec_check_partition_keys(const struct image_spec *s, size_t i, struct diag *d)
{
	const struct spec_partition *p = &s->partitions[i];

	if (p->size_kind == SPEC_PART_SIZE_FIXED && p->min_bytes)
		return diag_fail(d, -EINVAL, "partitions[%zu].minSize: bounds a size \"auto\" or "
				 "\"rest\"; this partition's size is fixed (drop it, or use "
				 "\"auto\")", i);
	if (p->contents && p->fs && (strcmp(p->fs, "none") == 0 || strcmp(p->fs, "swap") == 0))
		return diag_fail(d, -EINVAL, "partitions[%zu].contents: fs %s takes no contents "
				 "(use fs raw for a file, ext4, vfat or erofs for a directory)", i, p->fs);
	for (size_t j = 0; p->uuid_set && j < i; j++)
		if (s->partitions[j].uuid_set && memcmp(s->partitions[j].uuid, p->uuid, 16) == 0)
			return diag_fail(d, -EINVAL, "partitions[%zu].uuid: the same as "
					 "partitions[%zu]'s (PARTUUIDs must differ)", i, j);
	return 0;
}

/* "partitions" (what can be checked without the disk; part/ places and sizes them): it goes
 * with partitionTableType gpt or mbr and they with it, fits the table, one "rest", one root,
 * one ESP, known filesystems. */
static int spec_check_partitions(const struct image_spec *s, struct diag *d)
{
	enum part_table t = s->partition_table;
	bool own = t == PART_TABLE_GPT || t == PART_TABLE_MBR;
	size_t rest = SIZE_MAX, first;
	static const char *const unique[] = { "root", "esp" };
	int r;

	if (s->n_partitions && !own)
		return diag_fail(d, -EINVAL, "partitions: needs partitionTableType gpt or mbr, "
				 "not partitionTableType %s (a preset has its own partitions)",
				 part_table_name(t));
	if (!own)
		return 0;
	if (!s->n_partitions)
		return diag_fail(d, -EINVAL, "partitionTableType %s: needs a \"partitions\" list",
				 part_table_name(t));
	if (t == PART_TABLE_GPT && s->n_partitions > 128)
		return diag_fail(d, -EINVAL, "partitions: %zu partitions; a GPT holds at most 128",
				 s->n_partitions);
	if (t == PART_TABLE_MBR && s->n_partitions > 4)
		return diag_fail(d, -EINVAL, "partitions: %zu partitions; an MBR holds at most 4 "
				 "(extended partitions are not supported: use partitionTableType "
				 "gpt)", s->n_partitions);
	for (size_t i = 0; i < s->n_partitions; i++) {
		const struct spec_partition *p = &s->partitions[i];

		if (p->fs && !fs_ops_find(p->fs))
			return diag_fail(d, -EINVAL, "partitions[%zu].fs \"%s\": unknown (use %s)", i,
					 p->fs, fs_names());
		if (p->min_bytes && p->max_bytes && p->min_bytes > p->max_bytes)
			return diag_fail(d, -EINVAL, "partitions[%zu]: minSize is larger than "
					 "maxSize", i);
		r = spec_check_partition_keys(s, i, d);
		if (r < 0)
			return r;
		if (p->size_kind != SPEC_PART_SIZE_REST)
			continue;
		if (rest != SIZE_MAX)
			return diag_fail(d, -EINVAL, "partitions[%zu].size \"rest\": only one "
					 "partition may take the rest (partitions[%zu] does)", i,
					 rest);
		rest = i;
	}
	for (size_t i = 0; i < ARRAY_SIZE(unique); i++) {
		int dup = spec_partition_dup(s, unique[i], &first);

		if (dup >= 0)
			return diag_fail(d, -EINVAL, "partitions[%d]: a second %s partition "
					 "(partitions[%zu] is one; at most one)", dup, unique[i],
					 first);
	}
	return 0;
}

static int spec_check_boot_size(const struct image_spec *s, struct diag *d)
{
	uint64_t min;

	switch (s->partition_table) {
	case PART_TABLE_LEGACY_BOOT:
		min = 2 * PART_MIB; /* BOOT starts at 1 MiB */
		break;
	case PART_TABLE_EFI:
	case PART_TABLE_HYBRID:
		min = SPEC_ESP_START + PART_MIB;
		break;
	case PART_TABLE_EFIXBOOTLDR:
		min = SPEC_XBOOTLDR_START + PART_MIB;
		break;
	default:
		return 0; /* no boot partition: bootSize is unused */
	}
	if (s->boot_size_bytes % PART_MIB != 0)
		return diag_fail(d, -EINVAL,
				 "bootSize %llu bytes: not a whole number of MiB (partitions are "
				 "1 MiB aligned; use e.g. 256M)",
				 (unsigned long long)s->boot_size_bytes);
	if (s->boot_size_bytes < min)
		return diag_fail(d, -EINVAL,
				 "bootSize %lluM is too small for partitionTableType %s (use at "
				 "least %lluM)",
				 (unsigned long long)(s->boot_size_bytes / PART_MIB),
				 part_table_name(s->partition_table),
				 (unsigned long long)(min / PART_MIB));
	if (!s->disk_size_auto && s->disk_size_bytes <= s->boot_size_bytes)
		return diag_fail(d, -EINVAL,
				 "diskSize %lluM leaves no room for the root partition after "
				 "bootSize %lluM (use a larger diskSize or \"auto\")",
				 (unsigned long long)(s->disk_size_bytes / PART_MIB),
				 (unsigned long long)(s->boot_size_bytes / PART_MIB));
	return 0;
}

/* --esp / --xbootldr need a layout with that partition. */
static int spec_check_boot_trees(const struct image_spec *s, struct diag *d)
{
	enum part_table t = s->partition_table;
	struct spec_disk disk;

	spec_disk(s, &disk);
	if ((s->esp || s->xbootldr) && (t == PART_TABLE_GPT || t == PART_TABLE_MBR))
		return diag_fail(d, -EINVAL, "%s: with a \"partitions\" list, give each "
				 "partition's \"contents\" instead", s->esp ? "esp" : "xbootldr");
	if (s->esp && !disk.esp)
		return diag_fail(d, -EINVAL,
				 "esp: partitionTableType %s has no ESP (use efi, efixbootldr or "
				 "hybrid)",
				 part_table_name(t));
	if (s->xbootldr && !disk.xbootldr && !disk.boot)
		return diag_fail(d, -EINVAL,
				 "xbootldr: partitionTableType %s has no XBOOTLDR partition (use "
				 "efixbootldr)",
				 part_table_name(t));
	return 0;
}

/* A warning for the CLI (at most SPEC_MAX_WARNINGS; more are dropped). */
static void spec_warn(struct image_spec *s, char *msg)
{
	if (s->n_warnings < SPEC_MAX_WARNINGS)
		s->warnings[s->n_warnings++] = msg;
	else
		free(msg);
}

/* Without "format", -o's extension names it (.qcow2, .vdi, .vhd, .img, .raw: the format table's
 * names and extensions, as convert reads them); with both, a disagreement is a warning. */
static void spec_infer_format(struct image_spec *s)
{
	const struct format_ops *f;

	if (!s->output || !*s->output || s->output_device || spec_output_is_dir(s))
		return;
	f = format_from_file_name(s->output);
	if (!f)
		return;
	/* nixos.img.zst: raw, compressed with zstd (unless compress says otherwise) */
	if (!s->file_compress_set && (!s->format_set || format_find(s->format) == f) &&
	    format_file_compress_from_name(s->output) != FORMAT_FILE_COMPRESS_NONE)
		s->file_compress = format_file_compress_from_name(s->output);
	if (!s->format_set) {
		free(s->format);
		s->format = xstrdup(f->name);
		return;
	}
	if (strcmp(f->extension, spec_format_extension(s->format)) != 0)
		spec_warn(s, xasprintf("-o %s: the extension says format %s, but format is %s (the "
				       "image is %s; rename it or remove format)",
				       s->output, f->name, s->format, s->format));
}

/* Something to put in the image, or allowEmpty: an empty 1 GiB image is rarely what was
 * meant. */
static int spec_check_not_empty(const struct image_spec *s, struct diag *d)
{
	if (s->allow_empty || s->root || s->root_tar || s->closure_info || s->system ||
	    s->n_contents || s->esp || s->xbootldr || s->kernel)
		return 0;
	for (size_t i = 0; i < s->n_partitions; i++)
		if (s->partitions[i].contents)
			return 0;
	return diag_fail(d, -EINVAL, "nothing to put in the image: give --root DIR, "
			 "--root-tar FILE, --closure-info DIR, --system TOPLEVEL or --contents (an empty image on "
			 "purpose: --allow-empty)");
}

/* -o names the image file, or a directory to put <baseName>.<ext> in (as make-disk-image's
 * $out/nixos.img): an existing one, or DIR/ (created, one level, when missing); or with
 * --output-device a block device. Devices, FIFOs and sockets are refused here, before any
 * work (util/outfile.h). */
static int spec_resolve_output(struct image_spec *s, struct diag *d)
{
	struct stat st;
	size_t n;
	int r;

	if (!s->output || !*s->output)
		return diag_fail(d, -EINVAL, "no output: use -o FILE, or -o DIR/ for DIR/%s.%s",
				 s->base_name, spec_format_extension(s->format));
	if (s->efi_vars_out) {
		r = outfile_check(s->efi_vars_out, /* device= */ false, d);
		if (r < 0)
			return diag_prepend(d, r, "efiVarsOut");
	}
	if (s->output_device) {
		if (strcmp(s->format, "raw") != 0)
			return diag_fail(d, -EINVAL, "%s: --output-device writes raw images only, "
					 "not format %s", s->output, s->format);
		return outfile_check(s->output, /* device= */ true, d);
	}
	n = strlen(s->output);
	if (s->output[n - 1] == '/' && stat(s->output, &st) < 0) {
		if (errno != ENOENT)
			return diag_fail(d, -errno, "-o %s: %s", s->output, strerror(errno));
		if (mkdir(s->output, 0755) < 0)
			return diag_fail(d, -errno, "-o %s: cannot create the directory: %s%s",
					 s->output, strerror(errno),
					 errno == ENOENT ? " (its parent must exist)" : "");
	}
	if (stat(s->output, &st) == 0 && S_ISDIR(st.st_mode)) {
		const char *z = format_file_compress_ext(s->file_compress);
		char *f = xasprintf("%s%s%s.%s%s%s", s->output, s->output[n - 1] == '/' ? "" : "/",
				    s->base_name, spec_format_extension(s->format), z ? "." : "",
				    z ? z : "");

		free(s->output);
		s->output = f;
	} else if (s->output[n - 1] == '/')
		return diag_fail(d, -ENOTDIR, "-o %s: not a directory", s->output);
	return outfile_check(s->output, /* device= */ false, d);
}

/* growOnBoot is a GPT attribute of the root partition: there must be both. */
static int spec_check_grow_on_boot(const struct image_spec *s, struct diag *d)
{
	if (!s->grow_on_boot)
		return 0;
	if (!part_table_is_gpt(s->partition_table))
		return diag_fail(d, -EINVAL, "growOnBoot: partitionTableType %s has no GPT for the "
				 "grow-file-system attribute; use efi, hybrid, legacy+gpt, efixbootldr "
				 "or gpt", part_table_name(s->partition_table));
	return 0;
}

int spec_validate(struct image_spec *s, struct diag *d)
{
	int r;

	spec_infer_format(s);
	r = spec_check_supported(s, d);
	if (r < 0)
		return r;
	r = spec_check_nix(s, d);
	if (r < 0)
		return r;
	r = spec_check_contents(s, d);
	if (r < 0)
		return r;
	if (s->definitions && s->disko)
		return diag_fail(d, -EINVAL, "definitions and disko: both describe the disk; "
				 "give one");
	if (s->definitions) {
		r = spec_load_definitions(s, d);
		if (r < 0)
			return r;
	}
	if (s->disko) {
		r = spec_load_disko(s, d);
		if (r < 0)
			return r;
	}
	r = spec_check_partitions(s, d);
	if (r < 0)
		return r;
	r = spec_check_fs_compression(s, d);
	if (r < 0)
		return r;
	r = spec_check_grow_on_boot(s, d);
	if (r < 0)
		return r;
	r = spec_check_boot_size(s, d);
	if (r < 0)
		return r;
	r = spec_check_boot_trees(s, d);
	if (r < 0)
		return r;
	r = spec_check_bootloader(s, d);
	if (r < 0)
		return r;
	r = spec_check_grub_efi_id(s, d);
	if (r < 0)
		return r;
	r = spec_check_efi_vars(s, d);
	if (r < 0)
		return r;
	r = spec_check_not_empty(s, d);
	if (r < 0)
		return r;
	r = spec_resolve_output(s, d);
	if (r < 0)
		return r;

	/* Only the label feeds the default seed, never a path: the same inputs give the same
	 * identifiers wherever they are built. */
	if (!s->seed)
		s->seed = xasprintf("%s%s", SPEC_SEED_PREFIX, s->label);
	if (!s->root_fsuid_set)
		memcpy(s->root_fsuid, s->root_gpuid, sizeof(s->root_fsuid));
	return 0;
}
