/* What an image boots with (see detect.h). Sources: GRUB's boot.img and diskboot.img layouts
 * (boot/grub.h, docs/formats/grub-embed.md), GRUB's module area (include/grub/kernel.h:
 * struct grub_module_info32/64, struct grub_module_header, OBJ_TYPE_PREFIX = 3), the UEFI
 * removable media path (UEFI 2.10, 3.5.1.1), systemd-boot's loader.conf(5) and the Boot Loader
 * Specification's type #1 entries, and its ".sdmagic" "#### LoaderInfo: ... ####" string. */
#include "boot/detect.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "boot/efivars.h"
#include "boot/grub.h"
#include "fs/fat/read.h"
#include "part/part.h"
#include "part/types.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/uuid.h"
#include "util/xz.h"
#include "util/xalloc.h"

#define MBR_CODE_END 440u
#define GRUB_MODULE_MAGIC "mimg"
#define GRUB_OBJ_TYPE_CONFIG 2u
#define GRUB_OBJ_TYPE_PREFIX 3u
#define GRUB_MODULE_CANDIDATES 16 /* 'mimg' occurrences tried (the kernel's code has one) */

static void note_problem(struct boot_info *b, const char *what, struct diag *d, int r)
{
	if (!b->problem[0])
		snprintf(b->problem, sizeof(b->problem), "%s: %s", what, diag_message(d, r));
}

static void copy_str(char *out, size_t size, const char *s, size_t n)
{
	n = n < size - 1 ? n : size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	out[n] = '\0';
}

bool boot_sdboot_version(const uint8_t *buf, size_t len, char *out, size_t size)
{
	static const char mark[] = "#### LoaderInfo: ";
	const uint8_t *p = memmem(buf, len, mark, sizeof(mark) - 1), *e;
	size_t left;

	if (!p)
		return false;
	p += sizeof(mark) - 1;
	left = len - (size_t)(p - buf);
	e = memmem(p, left < 256 ? left : 256, " ####", 5);
	if (!e)
		return false;
	copy_str(out, size, (const char *)p, (size_t)(e - p));
	return true;
}

/* Walk a module list at [start, end) for a module of this type: its payload up to its NUL
 * (*ret_n bytes). */
static bool grub_walk_modules(const uint8_t *buf, uint64_t start, uint64_t end, uint32_t want,
			      const char **ret, size_t *ret_n)
{
	uint64_t o = start;

	while (o + 8 <= end) {
		uint32_t type = le32_get(buf + o), msize = le32_get(buf + o + 4);

		if (msize < 8 || msize > end - o)
			return false;
		if (type == want) {
			const char *s = (const char *)buf + o + 8;
			size_t n = strnlen(s, msize - 8);

			if (n == msize - 8)
				return false; /* not NUL-terminated */
			*ret = s;
			*ret_n = n;
			return true;
		}
		o += msize;
	}
	return false;
}

/* A module of this type in the module area ('mimg' header); false when none. */
static bool grub_find_module(const uint8_t *buf, size_t len, uint32_t type, const char **ret,
			     size_t *ret_n)
{
	const uint8_t *p = buf;
	int tries = 0;

	while (tries++ < GRUB_MODULE_CANDIDATES && p < buf + len) {
		size_t at;
		uint64_t off, total;

		p = memmem(p, len - (size_t)(p - buf), GRUB_MODULE_MAGIC, 4);
		if (!p)
			return false;
		at = (size_t)(p - buf);
		/* struct grub_module_info64: magic, padding, offset (le64), size (le64) */
		if (at + 24 <= len) {
			off = le64_get(p + 8);
			total = le64_get(p + 16);
			if (off == 24 && total >= off && total <= len - at &&
			    grub_walk_modules(buf, at + off, at + total, type, ret, ret_n))
				return true;
		}
		/* struct grub_module_info32: magic, offset (le32), size (le32) */
		if (at + 12 <= len) {
			off = le32_get(p + 4);
			total = le32_get(p + 8);
			if (off == 12 && total >= off && total <= len - at &&
			    grub_walk_modules(buf, at + off, at + total, type, ret, ret_n))
				return true;
		}
		p++;
	}
	return false;
}

bool boot_grub_prefix(const uint8_t *buf, size_t len, char *out, size_t size)
{
	const char *s;
	size_t n;

	if (!grub_find_module(buf, len, GRUB_OBJ_TYPE_PREFIX, &s, &n))
		return false;
	copy_str(out, size, s, n);
	return true;
}

bool boot_grub_root_uuid(const uint8_t *buf, size_t len, char *out, size_t size)
{
	const char *s, *line;
	size_t n, words = 0;

	out[0] = '\0';
	if (!grub_find_module(buf, len, GRUB_OBJ_TYPE_CONFIG, &s, &n))
		return false;
	line = memmem(s, n, "--fs-uuid", 9);
	if (!line)
		return false;
	while (line > s && line[-1] != '\n')
		line--;
	/* the line's last word that is not an option, after the command ("search") */
	for (const char *e = line, *w = NULL; ; e++) {
		bool end = e == s + n || *e == '\n' || *e == ';';

		if (end || *e == ' ' || *e == '\t') {
			if (w && *w != '-' && e > w && (size_t)(e - w) < size && words++ > 0)
				copy_str(out, size, w, (size_t)(e - w));
			else if (w && *w == '-')
				words++;
			w = NULL;
		} else if (!w)
			w = e;
		if (end)
			break;
	}
	return out[0] != '\0';
}

bool boot_conf_value(const char *text, size_t len, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), i = 0;

	while (i < len) {
		size_t e = i, v;

		while (e < len && text[e] != '\n')
			e++;
		while (i < e && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (e - i > klen && memcmp(text + i, key, klen) == 0 &&
		    (text[i + klen] == ' ' || text[i + klen] == '\t')) {
			size_t ve = e;

			v = i + klen;
			while (v < e && (text[v] == ' ' || text[v] == '\t'))
				v++;
			while (ve > v && (text[ve - 1] == ' ' || text[ve - 1] == '\t' ||
					  text[ve - 1] == '\r'))
				ve--;
			copy_str(out, size, text + v, ve - v);
			return true;
		}
		i = e + 1;
	}
	return false;
}

/* The i386-pc decompressor's header, at core.img's second sector (include/grub/offsets.h:
 * GRUB_DECOMPRESSOR_I386_PC_COMPRESSED_SIZE, _UNCOMPRESSED_SIZE) and grub-mkimage's LZMA
 * properties (util/mkimage.c, compress_kernel_lzma). */
enum {
	GRUB_DECOMP_COMPRESSED_SIZE = 0x08,   /* le32 */
	GRUB_DECOMP_UNCOMPRESSED_SIZE = 0x0c, /* le32 */
};
#define GRUB_UNCOMPRESSED_MAX (8u << 20)

int boot_grub_core_prefix(const uint8_t *core, size_t len, char *out, size_t size,
			  char *root_uuid, size_t root_size, struct diag *d)
{
	static const struct xz_lzma1 props = { .dict_size = 1u << 16, .lc = 3, .lp = 0, .pb = 2 };
	_cleanup_free_ uint8_t *buf = NULL;
	const uint8_t *k = core + GRUB_BOOT_SIZE;
	uint32_t rs, cs, us;
	size_t raw_len;
	int r;

	out[0] = '\0';
	if (root_uuid)
		root_uuid[0] = '\0';
	if (len < 2 * GRUB_BOOT_SIZE)
		return diag_fail(d, -EBADMSG, "GRUB core.img: %zu bytes is too short", len);
	rs = le32_get(k + GRUB_KERNEL_RS_REDUNDANCY);
	cs = le32_get(k + GRUB_DECOMP_COMPRESSED_SIZE);
	us = le32_get(k + GRUB_DECOMP_UNCOMPRESSED_SIZE);
	if (rs > len - 2 * GRUB_BOOT_SIZE)
		return diag_fail(d, -EBADMSG, "GRUB core.img: parity length %u exceeds the image",
				 rs);
	raw_len = len - rs;
	if (cs == 0 || cs > raw_len - 2 * GRUB_BOOT_SIZE)
		return diag_fail(d, -EBADMSG, "GRUB core.img: compressed size %u does not fit", cs);
	if (us == 0 || us > GRUB_UNCOMPRESSED_MAX)
		return diag_fail(d, -EBADMSG, "GRUB core.img: uncompressed size %u is out of range",
				 us);
	buf = xmalloc(us);
	r = xz_lzma1_decode(&props, core + raw_len - cs, cs, buf, us, d);
	if (r < 0)
		return diag_prepend(d, r, "GRUB core.img");
	(void)boot_grub_prefix(buf, us, out, size);
	if (root_uuid)
		(void)boot_grub_root_uuid(buf, us, root_uuid, root_size);
	return 0;
}

/* BIOS: the MBR's code and GRUB's core.img. */
static void detect_bios(boot_read_fn read, void *ctx, uint64_t size, const struct part_probe *p,
			struct diag *d, struct boot_info *b)
{
	uint8_t mbr[512], core[512];
	uint64_t lba;
	int r;

	if (size < sizeof(mbr))
		return;
	r = read(ctx, 0, mbr, sizeof(mbr), d);
	if (r < 0) {
		note_problem(b, "MBR", d, r);
		return;
	}
	b->mbr_signature = mbr[510] == 0x55 && mbr[511] == 0xaa;
	for (size_t i = 0; i < MBR_CODE_END; i++)
		b->mbr_code |= mbr[i] != 0;
	if (!b->mbr_code || !memmem(mbr, MBR_CODE_END, "GRUB", 4))
		return;
	b->grub_bios = true;
	lba = le64_get(mbr + GRUB_BOOT_KERNEL_SECTOR);
	if (lba == 0 || lba >= size / 512)
		return;
	r = read(ctx, lba * 512, core, sizeof(core), d);
	if (r < 0) {
		note_problem(b, "GRUB core.img", d, r);
		return;
	}
	/* diskboot.img's first block list entry: the rest of core.img, loaded at 0x820:0 */
	if (le64_get(core + GRUB_BLOCKLIST_FIRST + GRUB_BLOCKLIST_START) != lba + 1 ||
	    le16_get(core + GRUB_BLOCKLIST_FIRST + GRUB_BLOCKLIST_SEGMENT) != GRUB_KERNEL_SEGMENT)
		return;
	b->core_lba = lba;
	b->core_sectors = 1 + (uint64_t)le16_get(core + GRUB_BLOCKLIST_FIRST + GRUB_BLOCKLIST_LEN);
	if (b->core_sectors <= GRUB_CORE_MAX_SECT && lba + b->core_sectors <= size / 512) {
		size_t len = (size_t)b->core_sectors * GRUB_BOOT_SIZE;
		_cleanup_free_ uint8_t *img = xmalloc(len);

		r = read(ctx, lba * 512, img, len, d);
		if (r >= 0)
			r = boot_grub_core_prefix(img, len, b->grub_bios_prefix,
						  sizeof(b->grub_bios_prefix), b->grub_bios_root_uuid,
						  sizeof(b->grub_bios_root_uuid), d);
		if (r < 0)
			note_problem(b, "GRUB core.img", d, r);
	}
	for (size_t i = 0; i < p->n_parts; i++) {
		const struct part_probe_entry *e = &p->parts[i];

		if (lba >= e->first_lba && lba - e->first_lba < e->n_lba)
			b->core_part = e->number;
	}
}

struct part_ctx {
	boot_read_fn read;
	void *ctx;
	uint64_t base;
};

static int part_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	const struct part_ctx *c = ctx;

	return c->read(c->ctx, c->base + off, buf, len, d);
}

/* An EFI binary at path: its size and what it is. 1 when there, 0 when not. */
static int detect_binary(struct fat_vol *v, const char *path, struct diag *d,
			 struct boot_efi_binary *ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct fat_dirent e;
	size_t len;
	int r;

	r = fat_vol_lookup(v, path, d, &e);
	if (r <= 0 || e.is_dir)
		return r < 0 ? r : 0;
	*ret = (struct boot_efi_binary){ .size = e.size };
	snprintf(ret->path, sizeof(ret->path), "%s", path);
	r = fat_vol_read_file(v, &e, BOOT_DETECT_FILE_MAX, d, &buf, &len);
	if (r < 0)
		return r;
	if (boot_sdboot_version(buf, len, ret->what, sizeof(ret->what)))
		return 1;
	(void)boot_grub_root_uuid(buf, len, ret->root_uuid, sizeof(ret->root_uuid));
	if (boot_grub_prefix(buf, len, ret->prefix, sizeof(ret->prefix)) ||
	    memmem(buf, len, "GNU GRUB", 8))
		snprintf(ret->what, sizeof(ret->what), "GRUB");
	return 1;
}

struct entry_list {
	struct fat_vol *v;
	struct diag *d;
	struct boot_info *b;
	uint32_t part;
	size_t first;
};

/* One loader/entries/ *.conf, read as the directory is walked (no second lookup). */
static int collect_entry(void *ctx, const struct fat_dirent *e)
{
	struct entry_list *l = ctx;
	size_t n = strlen(e->name), len;
	struct boot_loader_entry *x;
	_cleanup_free_ char *text = NULL;
	int r;

	if (e->is_dir || n < 6 || strcasecmp(e->name + n - 5, ".conf") != 0)
		return 0;
	if (l->b->n_entries >= BOOT_DETECT_ENTRIES_MAX)
		return 1;
	x = &l->b->entries[l->b->n_entries++];
	*x = (struct boot_loader_entry){ .part = l->part };
	copy_str(x->file, sizeof(x->file), e->name, n);
	r = fat_vol_read_file(l->v, e, BOOT_DETECT_TEXT_MAX, l->d, (uint8_t **)&text, &len);
	if (r < 0)
		return r;
	boot_conf_value(text, len, "title", x->title, sizeof(x->title));
	boot_conf_value(text, len, "version", x->version, sizeof(x->version));
	boot_conf_value(text, len, "linux", x->kernel, sizeof(x->kernel));
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct boot_loader_entry *)a)->file,
		      ((const struct boot_loader_entry *)b)->file);
}

/* A text file's bytes, 0 when absent. */
static int read_text(struct fat_vol *v, const char *path, struct diag *d, char **ret,
		     size_t *ret_len)
{
	struct fat_dirent e;
	int r;

	r = fat_vol_lookup(v, path, d, &e);
	if (r <= 0 || e.is_dir)
		return r < 0 ? r : 0;
	r = fat_vol_read_file(v, &e, BOOT_DETECT_TEXT_MAX, d, (uint8_t **)ret, ret_len);
	return r < 0 ? r : 1;
}

/* loader/entries/ *.conf of one partition, sorted by file name. */
static int detect_entries(struct fat_vol *v, uint32_t part, struct diag *d, struct boot_info *b)
{
	struct entry_list l = { .v = v, .d = d, .b = b, .part = part, .first = b->n_entries };
	struct fat_dirent dir;
	int r;

	r = fat_vol_lookup(v, "loader/entries", d, &dir);
	if (r <= 0 || !dir.is_dir)
		return r < 0 ? r : 0;
	r = fat_vol_list(v, &dir, collect_entry, &l, d);
	qsort(b->entries + l.first, b->n_entries - l.first, sizeof(b->entries[0]), entry_cmp);
	return r < 0 ? r : 0;
}

static int detect_esp(struct fat_vol *v, uint32_t part, struct diag *d, struct boot_info *b)
{
	static const char *const removable[] = { "EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/BOOTAA64.EFI" };
	static const char *const sdboot[] = { "EFI/systemd/systemd-bootx64.efi",
					      "EFI/systemd/systemd-bootaa64.efi" };
	_cleanup_free_ char *conf = NULL;
	size_t len;
	int r;

	b->esp_part = part;
	for (size_t i = 0; i < ARRAY_SIZE(removable); i++) {
		r = detect_binary(v, removable[i], d, &b->removable[b->n_removable]);
		if (r < 0)
			return r;
		b->n_removable += (size_t)r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sdboot) && !b->sdboot.path[0]; i++) {
		r = detect_binary(v, sdboot[i], d, &b->sdboot);
		if (r < 0)
			return r;
	}
	r = read_text(v, "loader/loader.conf", d, &conf, &len);
	if (r < 0)
		return r;
	if (r > 0) {
		b->has_loader_conf = true;
		boot_conf_value(conf, len, "default", b->loader_default,
				sizeof(b->loader_default));
		boot_conf_value(conf, len, "timeout", b->loader_timeout,
				sizeof(b->loader_timeout));
	}
	return detect_entries(v, part, d, b);
}

/* One partition: the ESP (the first FAT one with an EFI directory or the ESP type) or an
 * XBOOTLDR. */
static void detect_part(boot_read_fn read, void *ctx, const struct part_probe *p,
			const struct part_probe_entry *e, struct diag *d, struct boot_info *b)
{
	struct part_ctx pc = { read, ctx, e->first_lba * 512 };
	_cleanup_(fat_vol_freep) struct fat_vol *v = NULL;
	enum part_role role = PART_ROLE_OTHER;
	struct fat_dirent efi;
	char what[32];
	int r;

	if (p->kind == PART_PROBE_GPT)
		(void)part_type_role(e->type_uuid, &role);
	else if (e->mbr_type == 0xef)
		role = PART_ROLE_ESP;
	else if (e->mbr_type == 0xea)
		role = PART_ROLE_XBOOTLDR;
	if (role == PART_ROLE_BIOS_BOOT)
		return;
	snprintf(what, sizeof(what), "partition %u", e->number);
	r = fat_vol_open(part_read, &pc, e->n_lba * 512, d, &v);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		if (role == PART_ROLE_ESP || role == PART_ROLE_XBOOTLDR)
			note_problem(b, what, d, r);
		return;
	}
	if (role == PART_ROLE_XBOOTLDR) {
		if (b->xbootldr_part)
			return;
		b->xbootldr_part = e->number;
		r = detect_entries(v, e->number, d, b);
	} else {
		if (b->esp_part)
			return;
		if (role != PART_ROLE_ESP) {
			r = fat_vol_lookup(v, "EFI", d, &efi);
			if (r <= 0 || !efi.is_dir) {
				if (r < 0)
					note_problem(b, what, d, r);
				return;
			}
		}
		r = detect_esp(v, e->number, d, b);
	}
	if (r < 0)
		note_problem(b, what, d, r);
}

static bool entry_matches(const char *pattern, const char *file)
{
	char id[sizeof(((struct boot_loader_entry *)0)->file)];
	size_t n = strlen(file), stars = 0;

	/* a hostile pattern of many '*' backtracks exponentially: compare those literally */
	for (const char *p = pattern; *p; p++)
		stars += *p == '*';
	if (stars > 4) {
		snprintf(id, sizeof(id), "%.*s", (int)(n > 5 ? n - 5 : n), file);
		return strcmp(pattern, file) == 0 || strcmp(pattern, id) == 0;
	}
	if (fnmatch(pattern, file, 0) == 0)
		return true;
	snprintf(id, sizeof(id), "%.*s", (int)(n > 5 ? n - 5 : n), file);
	return fnmatch(pattern, id, 0) == 0;
}

bool boot_entry_is_default(const struct boot_info *b, size_t i)
{
	if (!b->loader_default[0] || i >= b->n_entries)
		return false;
	for (size_t k = 0; k < b->n_entries; k++)
		if (entry_matches(b->loader_default, b->entries[k].file))
			return k == i;
	return false;
}

int boot_detect(boot_read_fn read, void *ctx, uint64_t size, const struct part_probe *p,
		struct diag *d, struct boot_info *ret)
{
	struct boot_info *b = ret;

	if (!p)
		return diag_fail(d, -EINVAL, "boot_detect: no partition table");
	*b = (struct boot_info){ 0 };
	detect_bios(read, ctx, size, p, d, b);
	for (size_t i = 0; i < p->n_parts; i++) {
		const struct part_probe_entry *e = &p->parts[i];

		if (e->first_lba >= size / 512 || e->n_lba > size / 512 - e->first_lba)
			continue; /* part_probe keeps entries inside the disk; be sure */
		detect_part(read, ctx, p, e, d, b);
	}
	return 0;
}

/* An active Boot#### whose device path names one of p's partitions (HD(n,GPT,<uuid>,...) by
 * its PARTUUID, HD(n,MBR,...) by number). */
static bool vars_boot_image(const struct efivars *vars, const struct part_probe *p,
			    char *desc, size_t size)
{
	struct diag d = { 0 };

	for (size_t i = 0; vars && i < vars->n_vars; i++) {
		const struct efivars_var *x = &vars->vars[i];
		struct efivars_value val;
		bool hit = false;

		if (!x->live || efivars_numbered(x->name, "Boot") < 0 ||
		    memcmp(x->vendor, efivars_global_guid, 16) != 0)
			continue;
		if (efivars_value_decode(vars, x, &d, &val) < 0)
			continue;
		if (val.kind == EFIVARS_VALUE_LOAD_OPTION && (val.attributes & 1) && val.path) {
			for (size_t k = 0; k < p->n_parts && !hit; k++) {
				char u[UUID_STR_LEN], hd[64];

				uuid_format(p->parts[k].uuid, u);
				snprintf(hd, sizeof(hd), "HD(%u,%s", p->parts[k].number,
					 p->kind == PART_PROBE_GPT ? "GPT" : "MBR");
				hit = strstr(val.path, hd) &&
				      (p->kind != PART_PROBE_GPT || strcasestr(val.path, u));
			}
			if (hit)
				snprintf(desc, size, "%s \"%s\"", x->name,
					 val.description ? val.description : "");
		}
		efivars_value_done(&val);
		if (hit)
			return true;
	}
	return false;
}

int boot_detect_check(const struct boot_info *b, const char *image, bool uefi, bool aarch64,
		      const struct efivars *vars, const struct part_probe *p, struct diag *d)
{
	const char *want = aarch64 ? "EFI/BOOT/BOOTAA64.EFI" : "EFI/BOOT/BOOTX64.EFI";
	char desc[160];

	if (!uefi) {
		if (!b->mbr_signature)
			return diag_fail(d, -ENOEXEC, "%s: nothing to boot under BIOS: no MBR "
					 "(no 0x55AA signature); build with --bootloader grub and "
					 "a legacy, legacy+gpt or hybrid table", image);
		if (!b->mbr_code)
			return diag_fail(d, -ENOEXEC, "%s: nothing to boot under BIOS: the MBR has "
					 "no boot code (build with --bootloader grub)", image);
		return 0;
	}
	for (size_t i = 0; i < b->n_removable; i++)
		if (strcmp(b->removable[i].path, want) == 0)
			return 0;
	if (vars_boot_image(vars, p, desc, sizeof(desc)))
		return 0;
	if (!b->esp_part)
		return diag_fail(d, -ENOEXEC, "%s: nothing to boot under UEFI: no FAT partition "
				 "with an EFI directory and no Boot#### entry for one of its "
				 "partitions in the variable store (build with an efi, "
				 "efixbootldr or hybrid table and --bootloader systemd-boot or "
				 "grub)", image);
	return diag_fail(d, -ENOEXEC, "%s: nothing to boot under UEFI: partition %u has no %s "
			 "(the removable path) and the variable store has no Boot#### entry for "
			 "one of the image's partitions (build with --bootloader systemd-boot or "
			 "grub, or give boot-test the --efi-vars the build wrote)", image,
			 b->esp_part, want);
}
