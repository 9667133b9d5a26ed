/* One setter per spec value, named by the option table (options.c) for its JSON key and its
 * flag. Each checks the text and fails with a message naming the input (`what`) and the
 * accepted form. Choices that are well-formed but not implemented yet (fsType "btrfs", a format
 * without a sink) are stored here and refused by spec_validate(), so that a flag can still
 * override them. */
#include "spec/spec-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/utf8.h"
#include "util/uuid.h"
#include "util/xalloc.h"

static void spec_replace_str(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
}

/* Decimal digits only (no sign, blank or base prefix), at most max. */
static int spec_parse_u32(const char *v, uint32_t max, uint32_t *ret)
{
	uint64_t n = 0;

	if (!*v)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(*v - '0');
		if (n > max)
			return -ERANGE;
	}
	*ret = (uint32_t)n;
	return 0;
}

char *spec_path_resolve(const char *base_dir, const char *path)
{
	if (!base_dir || path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", base_dir, path);
}

int spec_set_root(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	if (!*a->text)
		return diag_fail(d, -EINVAL, "%s: empty path (omit it for no root tree)", a->what);
	spec_set_path(&s->root, a->text, a->base_dir);
	return 0;
}

int spec_set_root_tar(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	if (!*a->text)
		return diag_fail(d, -EINVAL, "%s: empty path (\"-\" reads standard input)",
				 a->what);
	if (strcmp(a->text, "-") == 0) {
		free(s->root_tar);
		s->root_tar = xstrdup("-");
	} else
		spec_set_path(&s->root_tar, a->text, a->base_dir);
	return 0;
}

/* "esp", "xbootldr": a host directory for a boot partition (*field replaced). */
static int spec_set_boot_tree(char **field, const struct spec_arg *a, struct diag *d)
{
	if (!*a->text)
		return diag_fail(d, -EINVAL, "%s: empty path (omit it for an empty partition)",
				 a->what);
	spec_set_path(field, a->text, a->base_dir);
	return 0;
}

int spec_set_esp(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	return spec_set_boot_tree(&s->esp, a, d);
}

int spec_set_xbootldr(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	return spec_set_boot_tree(&s->xbootldr, a, d);
}

int spec_set_part_table(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	enum part_table t;

	if (part_table_from_name(v, &t) < 0)
		return diag_fail(d, -EINVAL,
				 "%s: unknown (use none, legacy, legacy+boot, legacy+gpt, efi, "
				 "efixbootldr or hybrid; gpt or mbr with partitions)",
				 what);
	s->partition_table = t;
	return 0;
}

int spec_set_fs_type(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (!*v)
		return diag_fail(d, -EINVAL, "%s: empty (use ext4)", what);
	spec_replace_str(&s->fs_type, v);
	return 0;
}

int spec_set_label(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	size_t n = strlen(v);

	size_t ok = utf8_valid_prefix(v, n);

	/* not `what`: it holds the invalid bytes, which would reach the terminal */
	if (ok < n)
		return diag_fail(d, -EINVAL, "label: not valid UTF-8 (byte %zu is 0x%02x); use "
				 "UTF-8 text", ok, (unsigned)(uint8_t)v[ok]);
	if (n > SPEC_LABEL_MAX)
		return diag_fail(d, -EINVAL, "%s: %zu bytes long; a label holds at most %u bytes",
				 what, n, SPEC_LABEL_MAX);
	spec_replace_str(&s->label, v);
	s->label_set = true;
	return 0;
}

int spec_set_disk_size(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	uint64_t bytes;
	uint32_t mib;
	int r;

	if (strcmp(v, "auto") == 0) {
		s->disk_size_auto = true;
		s->disk_size_bytes = 0;
		return 0;
	}
	/* make-disk-image's diskSize is MiB (as every size without a suffix); "4G" is 4 GiB. */
	r = spec_parse_u32(v, UINT32_MAX, &mib);
	if (r == -EINVAL) {
		r = size_parse_mib(v, &bytes);
		if (r == 0 && bytes % PART_MIB != 0)
			return diag_fail(d, -EINVAL,
					 "%s: not a whole number of MiB (use \"auto\" or MiB, e.g. "
					 "2048)",
					 what);
	} else if (r == 0)
		bytes = (uint64_t)mib * PART_MIB;
	if (r == -ERANGE)
		return diag_fail(d, r, "%s: too large (use \"auto\" or MiB, e.g. 2048)", what);
	if (r < 0)
		return diag_fail(d, r, "%s: not a size (use \"auto\" or MiB, e.g. 2048)", what);
	if (bytes == 0)
		return diag_fail(d, -EINVAL, "%s: must be at least 1 MiB (use \"auto\" or MiB, "
				 "e.g. 2048)", what);
	s->disk_size_auto = false;
	s->disk_size_bytes = bytes;
	return 0;
}

int spec_set_size(uint64_t *field, uint64_t max, const char *limit, const char *v,
		  const char *what, struct diag *d)
{
	uint64_t n;
	int r = size_parse_mib(v, &n);

	if (r == -ERANGE || (r == 0 && n > max))
		return diag_fail(d, -ERANGE, "%s: too large (%s)", what, limit);
	if (r < 0)
		return diag_fail(d, r,
				 "%s: not a size (use a number of MiB, or one with a K, M, G, T, P "
				 "or E suffix, e.g. 512M)",
				 what);
	*field = n;
	return 0;
}

int spec_set_format(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (!format_find(v))
		return diag_fail(d, -EINVAL, "%s: unknown (use %s)", what, format_names_or());
	spec_replace_str(&s->format, v);
	s->format_set = true;
	return 0;
}

int spec_set_base_name(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (!*v || strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return diag_fail(d, -EINVAL, "%s: not a file name (use e.g. nixos)", what);
	spec_replace_str(&s->base_name, v);
	return 0;
}

int spec_set_seed(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (!*v)
		return diag_fail(d, -EINVAL, "%s: empty (omit it for the default seed)", what);
	spec_replace_str(&s->seed, v);
	return 0;
}

int spec_set_uuid(uint8_t field[16], bool *set, const char *v, const char *what, struct diag *d)
{
	uint8_t u[UUID_LEN];

	if (uuid_parse(v, u) < 0)
		return diag_fail(d, -EINVAL, "%s: not a UUID (expected 8-4-4-4-12 hex digits)",
				 what);
	memcpy(field, u, UUID_LEN);
	*set = true;
	return 0;
}

int spec_set_owner(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	const char *colon = strchr(v, ':');
	_cleanup_free_ char *uid = colon ? xstrndup(v, (size_t)(colon - v)) : NULL;
	uint32_t u, g;

	/* (uint32_t)-1 means "no change" to chown(2): not an owner. */
	if (!uid || spec_parse_u32(uid, UINT32_MAX - 1, &u) < 0 ||
	    spec_parse_u32(colon + 1, UINT32_MAX - 1, &g) < 0)
		return diag_fail(d, -EINVAL, "%s: not an owner (use numeric UID:GID, e.g. 0:0)",
				 what);
	s->owner_set = true;
	s->owner_uid = u;
	s->owner_gid = g;
	return 0;
}

int spec_set_arch(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	enum part_arch arch;

	if (part_arch_from_name(v, &arch) < 0)
		return diag_fail(d, -EINVAL,
				 "%s: unknown architecture (use x86-64, x86, aarch64, arm, riscv64, "
				 "riscv32, loongarch64, ppc64le or s390x)",
				 what);
	s->arch = arch;
	return 0;
}

/* A whole number from 0 to max into *field, or a message: what, then expect. */
static int set_u32(const char *v, uint32_t max, uint32_t *field, const char *what,
		   const char *expect, struct diag *d)
{
	uint32_t n;

	if (spec_parse_u32(v, max, &n) < 0)
		return diag_fail(d, -EINVAL, "%s: %s", what, expect);
	*field = n;
	return 0;
}

int spec_set_reserved_percent(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	return set_u32(v, 50, &s->reserved_percent, what,
		       "not a whole percentage from 0 to 50 (mke2fs's -m limit)", d);
}

/* qcow2 allows 512 bytes to 2 MiB, a power of two (qcow2.txt, cluster_bits 9..21). A bare
 * number is MiB as for every size, so only 1 and 2 pass without a suffix. */
int spec_set_cluster_size(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	uint64_t n;

	if (size_parse_mib(v, &n) < 0 || n < 512 || n > (2u << 20) || (n & (n - 1)) != 0)
		return diag_fail(d, -EINVAL,
				 "%s: not a power of two from 0.5K to 2M (use e.g. 64K; a number "
				 "without a suffix is MiB)", what);
	s->cluster_size = (uint32_t)n;
	return 0;
}

int spec_set_compression(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (strcmp(v, "deflate") == 0 || strcmp(v, "zlib") == 0)
		s->compression = FORMAT_COMPRESSION_DEFLATE;
	else if (strcmp(v, "zstd") == 0)
		s->compression = FORMAT_COMPRESSION_ZSTD;
	else if (strcmp(v, "lz4") == 0)
		s->fs_compression = FS_COMPRESSION_LZ4; /* erofs filesystems' */
	else if (strcmp(v, "lz4hc") == 0)
		s->fs_compression = FS_COMPRESSION_LZ4HC;
	else
		return diag_fail(d, -EINVAL, "%s: unknown (use deflate or zstd for "
				 "qcow2-compressed, lz4 or lz4hc for erofs)", what);
	return 0;
}

int spec_set_compression_level(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	/* the range per algorithm is checked with the rest of the spec (validate.c) */
	return set_u32(v, 22, &s->compression_level, what,
		       "not a compression level from 0 to 22 (0: the default)", d);
}

int spec_set_threads(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	return set_u32(v, 1024, &s->threads, what,
		       "not a number of threads from 0 to 1024 (0: one per core)", d);
}

int spec_set_vpc_subformat(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (strcmp(v, "dynamic") == 0)
		s->vpc_subformat = FORMAT_VPC_DYNAMIC;
	else if (strcmp(v, "fixed") == 0)
		s->vpc_subformat = FORMAT_VPC_FIXED;
	else
		return diag_fail(d, -EINVAL, "%s: unknown (use dynamic or fixed)", what);
	return 0;
}

int spec_set_vmdk_subformat(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (strcmp(v, "monolithicSparse") == 0)
		s->vmdk_subformat = FORMAT_VMDK_MONOLITHIC_SPARSE;
	else if (strcmp(v, "streamOptimized") == 0)
		s->vmdk_subformat = FORMAT_VMDK_STREAM_OPTIMIZED;
	else
		return diag_fail(d, -EINVAL, "%s: unknown (use monolithicSparse or streamOptimized)",
				 what);
	return 0;
}

int spec_set_vhdx_block_size(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	uint64_t n;

	/* VHDX allows 1 MiB to 256 MiB, a power of two (MS-VHDX 2.6.2.1) */
	if (size_parse_mib(v, &n) < 0 || n < (1u << 20) || n > (256u << 20) || (n & (n - 1)) != 0)
		return diag_fail(d, -EINVAL,
				 "%s: not a power of two from 1M to 256M (use e.g. 1M or 32M; a "
				 "number without a suffix is MiB)", what);
	s->vhdx_block_size = (uint32_t)n;
	return 0;
}

int spec_set_file_compress(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	if (strcmp(v, "none") == 0)
		s->file_compress = FORMAT_FILE_COMPRESS_NONE;
	else if (strcmp(v, "zstd") == 0)
		s->file_compress = FORMAT_FILE_COMPRESS_ZSTD;
	else if (strcmp(v, "gzip") == 0)
		s->file_compress = FORMAT_FILE_COMPRESS_GZIP;
	else if (strcmp(v, "xz") == 0)
		s->file_compress = FORMAT_FILE_COMPRESS_XZ;
	else
		return diag_fail(d, -EINVAL, "%s: unknown (use zstd, gzip, xz or none)", what);
	s->file_compress_set = true;
	return 0;
}

int spec_set_vm_cpus(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	return set_u32(v, 256, &s->vm_cpus, what, "not a number of CPUs from 1 to 256", d) < 0 ||
			       s->vm_cpus == 0
		       ? diag_fail(d, -EINVAL, "%s: not a number of CPUs from 1 to 256", what)
		       : 0;
}

int spec_set_vm_memory(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	uint64_t n;

	if (size_parse_mib(v, &n) < 0 || n < (4u << 20) || n > (4ull << 40) || n % (1u << 20))
		return diag_fail(d, -EINVAL,
				 "%s: not a memory size from 4M to 4T in whole MiB (use e.g. 2G or "
				 "2048)", what);
	s->vm_memory_bytes = n;
	return 0;
}

void spec_contents_add(struct image_spec *s, const struct contents_entry *e, const char *base_dir)
{
	struct contents_entry *n;

	s->contents = xreallocarray(s->contents, s->n_contents + 1, sizeof(*s->contents));
	n = &s->contents[s->n_contents++];
	n->source = spec_path_resolve(base_dir, e->source);
	n->target = xstrdup(e->target);
	n->mode = e->mode ? xstrdup(e->mode) : NULL;
	n->user = e->user ? xstrdup(e->user) : NULL;
	n->group = e->group ? xstrdup(e->group) : NULL;
}

void spec_contents_clear(struct image_spec *s)
{
	contents_entries_free(s->contents, s->n_contents);
	s->contents = NULL;
	s->n_contents = 0;
}

/* The format table is format/format.c's: these name its entries as the spec does. */
const char *spec_format_extension(const char *format)
{
	const struct format_ops *f = format_find(format);

	return f ? f->extension : NULL;
}

const struct format_ops *spec_format_ops(const char *format)
{
	return format_find(format);
}

void spec_set_path(char **field, const char *v, const char *base_dir)
{
	free(*field);
	*field = spec_path_resolve(base_dir, v);
}

int spec_set_bootloader(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	static const char *const names[] = {
		[SPEC_BOOTLOADER_AUTO] = "auto",
		[SPEC_BOOTLOADER_NONE] = "none",
		[SPEC_BOOTLOADER_SYSTEMD_BOOT] = "systemd-boot",
		[SPEC_BOOTLOADER_GRUB] = "grub",
		[SPEC_BOOTLOADER_EXTLINUX] = "extlinux",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(v, names[i]) == 0) {
			s->bootloader = (enum spec_bootloader)i;
			return 0;
		}
	return diag_fail(d, -EINVAL, "%s: unknown bootloader (use auto, systemd-boot, grub, "
			 "extlinux or none)", what);
}

int spec_set_boot_timeout(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *v = a->text, *what = a->what;
	uint32_t n;

	if (strcmp(v, "none") == 0 || strcmp(v, "-1") == 0) {
		s->boot_timeout = -1;
		return 0;
	}
	if (spec_parse_u32(v, 86400, &n) < 0)
		return diag_fail(d, -EINVAL, "%s: not a timeout in seconds from 0 to 86400, or none "
				 "(boot.loader.timeout = null: wait for a choice)", what);
	s->boot_timeout = (int32_t)n;
	return 0;
}

int spec_set_additional_space(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	return spec_set_size(&s->additional_space_bytes, SPEC_ADDITIONAL_SPACE_MAX,
			     SPEC_ADDITIONAL_SPACE_LIMIT, a->text, a->what, d);
}

int spec_set_boot_size(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	return spec_set_size(&s->boot_size_bytes, SPEC_BOOT_SIZE_MAX, SPEC_BOOT_SIZE_LIMIT,
			     a->text, a->what, d);
}

int spec_set_root_gpuid(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	return spec_set_uuid(s->root_gpuid, &s->root_gpuid_set, a->text, a->what, d);
}

int spec_set_root_fsuid(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	return spec_set_uuid(s->root_fsuid, &s->root_fsuid_set, a->text, a->what, d);
}

/* "channel": root's channel; giving one means copying it. */
int spec_set_channel(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	spec_set_path(&s->channel, a->text, a->base_dir);
	s->copy_channel = true;
	return 0;
}

/* --additional-paths: they are in the closure info already, accepted for make-disk-image's
 * sake (the JSON list is checked by json.c). */
int spec_set_additional_path(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	s->n_additional_paths++;
	return 0;
}

int spec_set_install_bootloader(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	s->install_bootloader = a->on;
	s->install_bootloader_set = true;
	return 0;
}

/* --progress / --no-progress override the tty check. */
int spec_set_progress(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	s->progress_set = true;
	s->progress = a->on;
	return 0;
}

void spec_partition_clear(struct spec_partition *p)
{
	free(p->type);
	free(p->label);
	free(p->fs_label);
	free(p->fs);
	free(p->contents);
	contents_entries_free(p->copies, p->n_copies);
	strings_free(p->mkdirs, p->n_mkdirs);
	memset(p, 0, sizeof(*p));
}

void spec_partitions_clear(struct image_spec *s)
{
	for (size_t i = 0; i < s->n_partitions; i++)
		spec_partition_clear(&s->partitions[i]);
	free(s->partitions);
	s->partitions = NULL;
	s->n_partitions = 0;
}
