/* mkdiskimage inspect IMAGE [--json]: the image format, the partition table and each
 * partition's filesystem, decoded by our own readers (for users; tests judge images with
 * external tools). Every format works: all reads go through the format's reader. */
#include "cli/cli.h"
#include "cli/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/detect.h"
#include "format/reader.h"
#include "fs/fs.h"
#include "part/part.h"
#include "part/types.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/textesc.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* Reads of one partition, for the filesystem probes. */
struct part_reader {
	struct image_input *in;
	uint64_t base;
};

static int part_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	const struct part_reader *p = ctx;

	return image_input_read(p->in, p->base + off, buf, len, d);
}

static int inspect_read(void *ctx, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return image_input_read(ctx, off, buf, len, d);
}

/* ret->ops NULL: no filesystem we know. */
static int inspect_fs(struct image_input *in, uint64_t off, uint64_t len, struct diag *d,
		      struct fs_probe *ret)
{
	int r;

	*ret = (struct fs_probe){ 0 };
	r = fs_probe_any(part_read, &(struct part_reader){ in, off }, len, d, ret);
	return r < 0 ? r : 0;
}

static void print_fs_text(const struct fs_probe *fs)
{
	const struct fs_stats *s = &fs->stats;
	_cleanup_free_ char *label = NULL;
	char u[UUID_STR_LEN];
	uint64_t avail;

	if (!fs->ops) {
		printf("    filesystem: unknown or empty\n");
		return;
	}
	label = text_escape(s->label);
	uuid_format(s->uuid, u);
	if (strcmp(s->type, "vfat") == 0) {
		printf("    filesystem: vfat (FAT%u), label \"%s\", UUID %04X-%04X\n", s->fat_bits,
		       label, s->volume_id >> 16, s->volume_id & 0xffff);
		printf("    size %llu bytes, free %llu bytes, %u clusters of %u bytes\n",
		       (unsigned long long)s->size_bytes,
		       (unsigned long long)s->free_clusters * s->cluster_bytes, s->n_clusters,
		       s->cluster_bytes);
		return;
	}
	if (strcmp(s->type, "swap") == 0) {
		printf("    filesystem: swap, label \"%s\", UUID %s\n", label,
		       s->has_uuid ? u : "none");
		printf("    size %llu bytes, %llu pages of %llu bytes\n",
		       (unsigned long long)s->size_bytes, (unsigned long long)s->n_blocks,
		       (unsigned long long)s->block_size);
		return;
	}
	avail = s->free_blocks > s->reserved_blocks ? s->free_blocks - s->reserved_blocks : 0;
	printf("    filesystem: %s, label \"%s\", UUID %s\n", s->type, label, u);
	printf("    size %llu bytes, free %llu bytes (%llu available), inodes %llu (%llu free)\n",
	       (unsigned long long)(s->n_blocks * s->block_size),
	       (unsigned long long)(s->free_blocks * s->block_size),
	       (unsigned long long)(avail * s->block_size), (unsigned long long)s->n_inodes,
	       (unsigned long long)s->free_inodes);
}

static void print_fs_json(struct jsonw *w, const struct fs_probe *fs)
{
	const struct fs_stats *s = &fs->stats;
	char u[UUID_STR_LEN];

	if (!fs->ops)
		return;
	jsonw_object_begin(w, "filesystem");
	jsonw_string(w, "type", s->type);
	if (strcmp(s->type, "vfat") == 0) {
		snprintf(u, sizeof(u), "%04X-%04X", s->volume_id >> 16, s->volume_id & 0xffff);
		jsonw_uint(w, "fatBits", s->fat_bits);
		jsonw_string(w, "label", s->label);
		jsonw_string(w, "uuid", u);
		jsonw_uint(w, "size", s->size_bytes);
		jsonw_uint(w, "free", (uint64_t)s->free_clusters * s->cluster_bytes);
		jsonw_object_end(w);
		return;
	}
	uuid_format(s->uuid, u);
	jsonw_string(w, "label", s->label);
	if (s->has_uuid)
		jsonw_string(w, "uuid", u);
	if (strcmp(s->type, "swap") == 0) {
		jsonw_uint(w, "size", s->size_bytes);
		jsonw_uint(w, "pageSize", s->block_size);
		jsonw_object_end(w);
		return;
	}
	jsonw_uint(w, "size", s->n_blocks * s->block_size);
	jsonw_uint(w, "free", s->free_blocks * s->block_size);
	jsonw_uint(w, "reserved", s->reserved_blocks * s->block_size);
	jsonw_uint(w, "inodes", s->n_inodes);
	jsonw_uint(w, "freeInodes", s->free_inodes);
	jsonw_object_end(w);
}

static bool inspect_is_bios_boot(const struct part_probe *l, const struct part_probe_entry *p)
{
	enum part_role role;

	return l->kind == PART_PROBE_GPT && part_type_role(p->type_uuid, &role) == 0 &&
	       role == PART_ROLE_BIOS_BOOT;
}

static int inspect_print(struct image_input *in, const struct part_probe *l, bool json,
			 struct diag *d);

static int detect_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	return image_input_read(ctx, off, buf, len, d);
}

static void print_binary_text(const char *indent, const struct boot_efi_binary *x)
{
	printf("%s%s: %s, %u bytes", indent, x->path, x->what[0] ? x->what : "unknown loader",
	       x->size);
	if (x->prefix[0])
		printf(", prefix %s", x->prefix);
	if (x->root_uuid[0])
		printf(", root by UUID %s", x->root_uuid);
	printf("\n");
}

static void print_boot_text(const struct boot_info *b)
{
	printf("  boot:\n");
	if (!b->mbr_signature || !b->mbr_code)
		printf("    BIOS: nothing to boot (%s)\n",
		       b->mbr_signature ? "no MBR boot code" : "no MBR");
	else if (!b->grub_bios)
		printf("    BIOS: MBR boot code (not GRUB's)\n");
	else if (!b->core_lba)
		printf("    BIOS: GRUB boot.img in the MBR; no core.img where it points\n");
	else {
		printf("    BIOS: GRUB, core.img at sectors %llu..%llu (",
		       (unsigned long long)b->core_lba,
		       (unsigned long long)(b->core_lba + b->core_sectors - 1));
		if (b->core_part)
			printf("BIOS boot partition %u)", b->core_part);
		else
			printf("MBR gap)");
		if (b->grub_bios_prefix[0])
			printf(", prefix %s", b->grub_bios_prefix);
		if (b->grub_bios_root_uuid[0])
			printf(", root by UUID %s", b->grub_bios_root_uuid);
		printf("\n");
	}
	if (!b->esp_part)
		printf("    UEFI: no ESP (no FAT partition with an EFI directory)\n");
	else {
		printf("    UEFI: ESP partition %u, removable path %s\n", b->esp_part,
		       b->n_removable ? "present" : "absent");
		for (size_t i = 0; i < b->n_removable; i++)
			print_binary_text("      ", &b->removable[i]);
		if (b->sdboot.path[0])
			print_binary_text("      ", &b->sdboot);
	}
	if (b->xbootldr_part)
		printf("    XBOOTLDR: partition %u\n", b->xbootldr_part);
	if (b->has_loader_conf) {
		_cleanup_free_ char *def = text_escape(b->loader_default);

		printf("    loader.conf: default %s, timeout %s\n", def[0] ? def : "(none)",
		       b->loader_timeout[0] ? b->loader_timeout : "(none)");
	}
	for (size_t i = 0; i < b->n_entries; i++) {
		const struct boot_loader_entry *x = &b->entries[i];

		printf("    entry %s (partition %u): title \"%s\", linux %s%s\n", x->file, x->part,
		       x->title, x->kernel[0] ? x->kernel : "(none)",
		       boot_entry_is_default(b, i) ? " [default]" : "");
	}
	if (b->problem[0])
		printf("    could not read: %s\n", b->problem);
}

static void print_binary_json(struct jsonw *w, const char *key, const struct boot_efi_binary *x)
{
	jsonw_object_begin(w, key);
	jsonw_string(w, "path", x->path);
	jsonw_uint(w, "size", x->size);
	if (x->what[0])
		jsonw_string(w, "loader", x->what);
	if (x->prefix[0])
		jsonw_string(w, "prefix", x->prefix);
	if (x->root_uuid[0])
		jsonw_string(w, "rootUuid", x->root_uuid);
	jsonw_object_end(w);
}

static void print_boot_json(struct jsonw *w, const struct boot_info *b)
{
	jsonw_object_begin(w, "boot");
	jsonw_object_begin(w, "bios");
	jsonw_bool(w, "mbrSignature", b->mbr_signature);
	jsonw_bool(w, "mbrBootCode", b->mbr_code);
	if (b->grub_bios) {
		jsonw_string(w, "loader", "grub");
		if (b->core_lba) {
			jsonw_object_begin(w, "coreImg");
			jsonw_uint(w, "firstSector", b->core_lba);
			jsonw_uint(w, "sectors", b->core_sectors);
			jsonw_string(w, "place", b->core_part ? "bios-boot-partition" : "mbr-gap");
			if (b->core_part)
				jsonw_uint(w, "partition", b->core_part);
			if (b->grub_bios_prefix[0])
				jsonw_string(w, "prefix", b->grub_bios_prefix);
			if (b->grub_bios_root_uuid[0])
				jsonw_string(w, "rootUuid", b->grub_bios_root_uuid);
			jsonw_object_end(w);
		}
	}
	jsonw_object_end(w);
	jsonw_object_begin(w, "uefi");
	if (b->esp_part)
		jsonw_uint(w, "esp", b->esp_part);
	if (b->xbootldr_part)
		jsonw_uint(w, "xbootldr", b->xbootldr_part);
	jsonw_bool(w, "removablePath", b->n_removable > 0);
	jsonw_array_begin(w, "removable");
	for (size_t i = 0; i < b->n_removable; i++)
		print_binary_json(w, NULL, &b->removable[i]);
	jsonw_array_end(w);
	if (b->sdboot.path[0])
		print_binary_json(w, "systemdBoot", &b->sdboot);
	if (b->has_loader_conf) {
		jsonw_object_begin(w, "loaderConf");
		if (b->loader_default[0])
			jsonw_string(w, "default", b->loader_default);
		if (b->loader_timeout[0])
			jsonw_string(w, "timeout", b->loader_timeout);
		jsonw_object_end(w);
	}
	jsonw_array_begin(w, "entries");
	for (size_t i = 0; i < b->n_entries; i++) {
		const struct boot_loader_entry *x = &b->entries[i];

		jsonw_object_begin(w, NULL);
		jsonw_string(w, "file", x->file);
		jsonw_uint(w, "partition", x->part);
		jsonw_string(w, "title", x->title);
		if (x->version[0])
			jsonw_string(w, "version", x->version);
		jsonw_string(w, "linux", x->kernel);
		jsonw_bool(w, "default", boot_entry_is_default(b, i));
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_object_end(w);
	if (b->problem[0])
		jsonw_string(w, "problem", b->problem);
	jsonw_object_end(w);
}

/* 1 when the image is none we know: a raw file without a partition table or a filesystem
 * (a text file, say); 0 when it is one; a negative errno when it cannot be read. */
static int inspect_known(struct image_input *in, const struct part_probe *l, struct diag *d)
{
	struct fs_probe fs;
	int r;

	if (l->kind != PART_PROBE_NONE || strcmp(in->reader->ops->name, "raw") != 0)
		return 0;
	r = inspect_fs(in, 0, in->reader->virtual_size, d, &fs);
	if (r < 0)
		return r;
	return fs.ops ? 0 : 1;
}

static const struct cli_option inspect_options[] = {
	{ .flag = "json", .id = 'j', .help = "print a machine-readable report on stdout" },
	{ .flag = "help", .short_flag = 'h', .id = 'h', .help = "show this help" },
};

void cli_inspect_options(const struct cli_option **ret, size_t *ret_n)
{
	*ret = inspect_options;
	*ret_n = ARRAY_SIZE(inspect_options);
}

int cli_inspect(int argc, char **argv)
{
	_cleanup_(cli_getopt_free) struct cli_getopt g = { 0 };
	_cleanup_(image_input_freep) struct image_input *in = NULL;
	struct diag d = { 0 };
	struct part_probe *l = NULL;
	struct part_probe_io io;
	bool json = false;
	const char *path;
	int c, r;

	cli_getopt_init(&g, inspect_options, ARRAY_SIZE(inspect_options));
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'h') {
			_cleanup_free_ char *u = cli_command_usage(cli_command_find("inspect"));

			fputs(u, stdout);
			return CLI_EXIT_OK;
		} else
			return cli_bad_option("inspect", c, argv, inspect_options,
					      ARRAY_SIZE(inspect_options));
	}
	if (optind != argc - 1) {
		log_error("inspect takes exactly one IMAGE argument (see mkdiskimage inspect --help)");
		return CLI_EXIT_USAGE;
	}
	path = argv[optind];
	if (cli_inspect_is_efivars(path))
		return cli_inspect_efivars(path, json);
	r = image_reader_open(path, /* format= */ NULL, &d, &in);
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return 1;
	}
	io = (struct part_probe_io){ inspect_read, in };
	r = part_probe_io(&io, in->reader->virtual_size, &d, &l);
	if (r < 0) {
		/* reader errors already name the file */
		if (strncmp(d.msg, path, strlen(path)) == 0)
			log_error("%s", diag_message(&d, r));
		else
			log_error("%s: %s", path, diag_message(&d, r));
		return 1;
	}
	r = inspect_known(in, l, &d);
	if (r == 0)
		r = inspect_print(in, l, json, &d);
	else if (r > 0) {
		log_error("%s: not a disk image we know (no partition table and no filesystem we "
			  "read; inspect reads raw, qcow2, VDI and VHD images and efi-vars.fd)",
			  path);
		r = CLI_EXIT_FAILURE;
	} else {
		log_error("%s: %s", path, diag_message(&d, r));
		r = CLI_EXIT_FAILURE;
	}
	l = part_probe_free(l);
	return r;
}

static const char *probe_kind_name(const struct part_probe *l)
{
	if (l->layout != PART_TABLE_NONE)
		return part_table_name(l->layout);
	switch (l->kind) {
	case PART_PROBE_MBR:
		return "mbr";
	case PART_PROBE_GPT:
		return "gpt";
	default:
		return "none";
	}
}

/* The type's name, or for a type we do not know its GUID (MBR: its byte). */
static const char *entry_type_name(const struct part_probe *l, const struct part_probe_entry *p,
				   char buf[UUID_STR_LEN + 16])
{
	const char *name;

	if (l->kind == PART_PROBE_GPT) {
		name = part_type_name(p->type_uuid);
		if (name)
			return name;
		uuid_format(p->type_uuid, buf);
		return buf;
	}
	snprintf(buf, UUID_STR_LEN + 16, "MBR type 0x%02x", p->mbr_type);
	return buf;
}

static int inspect_print(struct image_input *in, const struct part_probe *l, bool json,
			 struct diag *d)
{
	const char *path = in->path, *format = in->reader->ops->name;
	uint64_t size = in->reader->virtual_size;
	struct boot_info *boot = xcalloc(1, sizeof(*boot));
	struct jsonw w;
	int r;

	(void)boot_detect(detect_read, in, size, l, d, boot);
	if (json) {
		jsonw_init(&w, stdout);
		jsonw_object_begin(&w, NULL);
		jsonw_string(&w, "image", path);
		jsonw_string(&w, "format", format);
		jsonw_uint(&w, "size", size);
		jsonw_uint(&w, "fileSize", in->file_size);
		jsonw_string(&w, "partitionTableType", probe_kind_name(l));
		if (l->kind == PART_PROBE_GPT) {
			jsonw_string(&w, "gptHeader", l->backup_used ? "backup" : "primary");
			if (l->gpt_problem[0])
				jsonw_string(&w, "gptProblem", l->gpt_problem);
		}
		jsonw_array_begin(&w, "partitions");
	} else {
		printf("%s: %llu bytes, partition table: %s\n", path, (unsigned long long)size,
		       probe_kind_name(l));
		printf("  format %s, file %llu bytes\n", format,
		       (unsigned long long)in->file_size);
		if (l->gpt_problem[0]) /* our words and numbers only */
			printf("  GPT damaged: read the %s copy; %s\n",
			       l->backup_used ? "backup" : "primary", l->gpt_problem);
	}

	for (size_t i = 0; i < (l->kind == PART_PROBE_NONE ? 1 : l->n_parts); i++) {
		uint64_t off = 0, len = size;
		const struct part_probe_entry *p = l->kind == PART_PROBE_NONE ? NULL : &l->parts[i];
		struct fs_probe fs;
		char u[UUID_STR_LEN], tbuf[UUID_STR_LEN + 16];

		if (p) {
			off = p->first_lba * PART_SECTOR;
			len = p->n_lba * PART_SECTOR;
		}
		r = inspect_fs(in, off, len, d, &fs);
		if (r < 0) {
			log_error("partition %zu: %s", i + 1, diag_message(d, r));
			free(boot);
			return 1;
		}
		if (json) {
			jsonw_object_begin(&w, NULL);
			if (p) {
				jsonw_uint(&w, "number", p->number);
				jsonw_string(&w, "type", entry_type_name(l, p, tbuf));
				uuid_format(p->uuid, u);
				if (!uuid_is_null(p->uuid))
					jsonw_string(&w, "uuid", u);
				jsonw_string(&w, "name", p->name);
			}
			jsonw_uint(&w, "offset", off);
			jsonw_uint(&w, "size", len);
			print_fs_json(&w, &fs);
			jsonw_object_end(&w);
		} else {
			if (p) {
				uuid_format(p->uuid, u);
				/* below 1 MiB (hybrid's BIOS boot partition) in KiB */
				printf("  partition %u: %s, bytes %llu..%llu (%llu %s)%s%s%s\n",
				       p->number, entry_type_name(l, p, tbuf),
				       (unsigned long long)off, (unsigned long long)(off + len),
				       (unsigned long long)(len >= (1u << 20) ? len >> 20 : len >> 10),
				       len >= (1u << 20) ? "MiB" : "KiB",
				       uuid_is_null(p->uuid) ? "" : ", PARTUUID ",
				       uuid_is_null(p->uuid) ? "" : u, "");
			} else
				printf("  whole disk:\n");
			if (p && !fs.ops && boot->core_lba && boot->core_part == p->number)
				printf("    GRUB core.img, %llu sectors\n",
				       (unsigned long long)boot->core_sectors);
			else if (p && !fs.ops && inspect_is_bios_boot(l, p))
				printf("    no GRUB core.img (GRUB for BIOS is not installed)\n");
			else
				print_fs_text(&fs);
		}
	}
	if (json) {
		jsonw_array_end(&w);
		print_boot_json(&w, boot);
		jsonw_object_end(&w);
	} else
		print_boot_text(boot);
	free(boot);
	return 0;
}
