/* A disko.devices JSON (nix eval --json ...config.disko.devices) as the disk's "partitions"
 * (issue #15; docs/disko.md). The JSON is what disko's module system evaluates: every option
 * with its default filled in (lib/types/disk.nix, gpt.nix, table.nix, filesystem.nix,
 * swap.nix of github:nix-community/disko). Keys starting with "_" (disko's internal
 * options: _index, _parent, _meta, _create, ...) are skipped wherever they appear. Supported:
 * one disk, a gpt or table (msdos/gpt) partition table, partitions holding a filesystem
 * (ext4, vfat, and any other fs handler by name), swap or nothing; everything else is refused
 * naming its place in the JSON. json-c is read here directly (as spec/json.c does), after
 * json-check.c's strict syntax check. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "part/part.h"
#include "spec/json-check.h"
#include "spec/spec-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/hash.h"
#include "util/uuid.h"
#include "util/xalloc.h"

#define DISKO_JSON_MAX (16u << 20)
#define DISKO_MIB (1ull << 20)
#define DISKO_LABEL_LIMIT 36 /* gpt.nix: longer default labels become a sha256 prefix */

struct disko_ctx {
	struct image_spec *s;
	struct diag *d;
	const char *file;
	bool gpt;                  /* the table is GPT (else MBR) */
	uint64_t disk_bytes;       /* imageSize or the spec's fixed diskSize, 0: unknown */
	const char *disk_name;     /* the disk's attribute name */
	struct spec_partition *parts;
	size_t n_parts, cap; /* filled, allocated */
};

/* One line naming the file and the JSON path: "disko F: disko.devices.disk.main.x: ...". */
__attribute__((format(printf, 3, 4))) static int disko_fail(struct disko_ctx *c, const char *path,
							      const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_fail(c->d, -EINVAL, "disko %s: disko.devices.%s%s", c->file, path, msg);
}

static bool disko_internal(const char *key)
{
	return key[0] == '_';
}

/* A member of o (NULL when absent or null). */
static struct json_object *disko_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* A string member: NULL when absent or null; -EINVAL for another type. */
static int disko_str(struct disko_ctx *c, const char *path, struct json_object *o,
		     const char *key, const char **ret)
{
	struct json_object *v = disko_get(o, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return disko_fail(c, path, ".%s: expected a string", key);
	*ret = json_object_get_string(v);
	return 0;
}

/* Non-internal members of an object. */
static size_t disko_count(struct json_object *o)
{
	size_t n = 0;

	json_object_object_foreach(o, k, v) {
		(void)v;
		n += !disko_internal(k);
	}
	return n;
}

/* sgdisk's and parted's sizes: digits and a unit suffix. mult_bare multiplies a number
 * without a suffix; si picks 1000-based K/M/G/T (parted) instead of 1024-based (sgdisk). */
static int disko_number(const char *t, uint64_t *num, const char **suffix)
{
	uint64_t v = 0;

	if (*t < '0' || *t > '9')
		return -EINVAL;
	for (; *t >= '0' && *t <= '9'; t++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*t - '0');
	}
	*num = v;
	*suffix = t;
	return 0;
}

static int disko_mul(uint64_t v, uint64_t m, uint64_t *ret)
{
	if (m && v > UINT64_MAX / m)
		return -ERANGE;
	*ret = v * m;
	return 0;
}

/* sgdisk: K M G T P are powers of 1024, a bare number counts 512-byte sectors. */
static int disko_sgdisk_bytes(const char *t, uint64_t *ret)
{
	static const char units[] = "KMGTP";
	const char *suf, *u;
	uint64_t v, m = 512;

	if (disko_number(t, &v, &suf) < 0)
		return -EINVAL;
	if (*suf) {
		u = strchr(units, *suf);
		if (!u || suf[1])
			return -EINVAL;
		m = 1ull << (10 * (u - units + 1));
	}
	return disko_mul(v, m, ret);
}

/* The default GPT name (gpt.nix): "disk-<disk>-<partition>", or the first 36 hex digits of
 * its sha256 when longer than 36 characters. */
static char *disko_default_label(const char *disk, const char *name)
{
	char *l = xasprintf("disk-%s-%s", disk, name);
	uint8_t h[SHA256_LEN];
	char *hex;

	if (strlen(l) <= DISKO_LABEL_LIMIT)
		return l;
	sha256(l, strlen(l), h);
	hex = xcalloc(DISKO_LABEL_LIMIT + 1, 1);
	for (size_t i = 0; i < DISKO_LABEL_LIMIT / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	free(l);
	return hex;
}

/* sgdisk type codes disko configurations use, with the type they stand for. */
static const struct {
	const char *code;
	const char *type; /* a role name of "partitions", or a GUID */
} disko_codes[] = {
	{ "EF00", "esp" },
	{ "EF02", "bios-boot" },
	{ "EA00", "xbootldr" },
	{ "8200", "swap" },
	{ "8300", "linux" },
	{ "8302", "home" },
	{ "8306", "srv" },
	{ "8310", "var" },
	{ "8304", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" }, /* Linux x86-64 root */
	{ "8305", "B921B045-1DF0-41C3-AF44-4C6F280D3FAE" }, /* Linux ARM64 root */
	{ "0700", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" }, /* Microsoft basic data */
	{ "0C01", "E3C9E316-0B5C-4DB8-817D-F92DF00215AE" }, /* Microsoft reserved */
	{ "8E00", "E6D6D379-F507-44C2-A23C-238F2A3DF928" }, /* Linux LVM */
	{ "FD00", "A19D880F-05FC-4D3B-A006-743F0F84911E" }, /* Linux RAID */
	{ "8309", "CA7D7CCB-63ED-4C53-861C-1742536059CC" }, /* Linux LUKS */
};

/* A gpt partition's "type": an sgdisk code (4 hex digits) or a GUID, as our "type". */
static int disko_gpt_type(struct disko_ctx *c, const char *path, const char *t,
			  const char **ret)
{
	uint8_t u[UUID_LEN];

	if (strlen(t) == 4) {
		for (size_t i = 0; i < sizeof(disko_codes) / sizeof(disko_codes[0]); i++)
			if (strcasecmp(t, disko_codes[i].code) == 0) {
				*ret = disko_codes[i].type;
				return 0;
			}
		return disko_fail(c, path, ".type \"%s\": sgdisk code not known here (known: EF00, "
				  "EF02, EA00, 8200, 8300, 8302, 8304, 8305, 8306, 8310, 0700, "
				  "0C01, 8E00, FD00, 8309; give the type GUID instead)", t);
	}
	if (uuid_parse(t, u) < 0)
		return disko_fail(c, path, ".type \"%s\": expected an sgdisk code such as EF00 or "
				  "a type GUID", t);
	*ret = t;
	return 0;
}

/* extraArgs of mkfs/mkswap: only a label (-L, vfat's -n) and an ext4/swap UUID (-U) matter
 * for the image and are taken; anything else is refused. */
static int disko_extra_args(struct disko_ctx *c, const char *path, struct json_object *content,
			    const char *format, struct spec_partition *p)
{
	struct json_object *a = disko_get(content, "extraArgs");
	bool vfat = strcmp(format, "vfat") == 0;
	size_t n;

	if (!a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return disko_fail(c, path, ".extraArgs: expected a list of strings");
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i += 2) { /* OPTION VALUE pairs */
		struct json_object *v = json_object_array_get_idx(a, i);
		struct json_object *w = i + 1 < n ? json_object_array_get_idx(a, i + 1) : NULL;
		const char *arg, *val;

		if (!json_object_is_type(v, json_type_string))
			return disko_fail(c, path, ".extraArgs[%zu]: expected a string", i);
		arg = json_object_get_string(v);
		bool label = strcmp(arg, vfat ? "-n" : "-L") == 0;
		bool uuid = !vfat && strcmp(arg, "-U") == 0;

		if (!label && !uuid)
			return disko_fail(c, path, ".extraArgs[%zu] \"%s\": not supported (only %s "
					  "LABEL%s are taken: the image's filesystem is written "
					  "natively, not by mkfs)", i, arg, vfat ? "-n" : "-L",
					  vfat ? "" : " and -U UUID");
		if (!w || !json_object_is_type(w, json_type_string) ||
		    strlen(json_object_get_string(w)) != (size_t)json_object_get_string_len(w))
			return disko_fail(c, path, ".extraArgs[%zu] \"%s\": needs a value after it",
					  i, arg);
		val = json_object_get_string(w);
		if (label) {
			free(p->fs_label);
			p->fs_label = xstrdup(val);
		}
		else if (uuid_parse(val, p->fs_uuid) == 0)
			p->fs_uuid_set = true;
		else
			return disko_fail(c, path, ".extraArgs[%zu] \"%s\": not a UUID", i + 1, val);
	}
	return 0;
}

/* A partition's "content": filesystem, swap or null; fills fs, the role (via *type) and the
 * filesystem's label. esp is true when the partition's type is the ESP's. */
static int disko_content(struct disko_ctx *c, const char *path, struct json_object *content,
			 struct spec_partition *p, const char **type)
{
	const char *ctype, *format, *mnt;
	int r;

	if (!content) {
		p->fs = xstrdup("none");
		return 0;
	}
	if (!json_object_is_type(content, json_type_object))
		return disko_fail(c, path, ".content: expected an object");
	r = disko_str(c, path, content, "type", &ctype);
	if (r < 0)
		return r;
	if (!ctype)
		return disko_fail(c, path, ".content.type: missing");
	if (strcmp(ctype, "swap") == 0) {
		struct json_object *enc = disko_get(content, "randomEncryption");

		if (enc && !json_object_is_type(enc, json_type_boolean))
			return disko_fail(c, path, ".content.randomEncryption: expected true or "
					  "false");
		if (enc && json_object_get_boolean(enc)) {
			/* NixOS formats it at every boot (swapDevices.randomEncryption, a plain
			 * dm-crypt mapping): nothing to write */
			p->fs = xstrdup("none");
			return 0;
		}
		p->fs = xstrdup("swap");
		r = disko_extra_args(c, path, content, "swap", p);
		if (r == 0 && !p->fs_label)
			p->fs_label = xstrdup(""); /* mkswap's default: no label */
		return r;
	}
	if (strcmp(ctype, "filesystem") != 0)
		return disko_fail(c, path, ".content.type \"%s\": not supported (supported: "
				  "filesystem, swap, or no content; LUKS, LVM, mdadm, ZFS, btrfs "
				  "and bcachefs are not)", ctype);
	r = disko_str(c, path, content, "format", &format);
	if (r < 0)
		return r;
	if (!format)
		return disko_fail(c, path, ".content.format: missing");
	if (strcmp(format, "ext4") != 0 && strcmp(format, "vfat") != 0 &&
	    (strcmp(format, "swap") == 0 || strcmp(format, "raw") == 0 ||
	     strcmp(format, "none") == 0 || !fs_ops_find(format)))
		return disko_fail(c, path, ".content.format \"%s\": not supported (use %s)",
				  format, fs_names());
	p->fs = xstrdup(format);
	r = disko_str(c, path, content, "mountpoint", &mnt);
	if (r < 0)
		return r;
	if (mnt && (strcmp(mnt, "/nix") == 0 || strcmp(mnt, "/nix/store") == 0))
		return disko_fail(c, path, ".content.mountpoint \"%s\": not supported (the Nix "
				  "closure goes on the filesystem mounted at /)", mnt);
	if (mnt && strcmp(mnt, "/boot") == 0 && strcmp(*type, "esp") != 0 &&
	    strcmp(*type, "xbootldr") != 0)
		return disko_fail(c, path, ".content.mountpoint \"/boot\": only an ESP (type "
				  "EF00) or XBOOTLDR (EA00) at /boot is supported: the boot files "
				  "go there");
	if (mnt && strcmp(mnt, "/") == 0) {
		if (strcmp(*type, "linux") == 0) {
			*type = "root";
			c->s->generic_root_type = true; /* 8300 stays 8300 */
		}
		else if (strlen(*type) != 36)
			return disko_fail(c, path, ".type: the partition mounted at / needs type "
					  "8300 or a root type (8304, 8305, a GUID), not %s", *type);
		if (!p->fs_label)
			p->fs_label = xstrdup(c->s->label);
	}
	r = disko_extra_args(c, path, content, format, p);
	if (r < 0)
		return r;
	if (p->fs_uuid_set && mnt && strcmp(mnt, "/") == 0) {
		/* the root's filesystem UUID is the spec's rootFSUID (GRUB searches for it) */
		if (c->s->root_fsuid_set && memcmp(c->s->root_fsuid, p->fs_uuid, 16) != 0)
			return disko_fail(c, path, ".content.extraArgs: -U differs from the spec's "
					  "rootFSUID; give one of them");
		memcpy(c->s->root_fsuid, p->fs_uuid, 16);
		c->s->root_fsuid_set = true;
		p->fs_uuid_set = false;
	}
	if (!p->fs_label)
		p->fs_label = xstrdup(strcmp(*type, "esp") == 0 ? "ESP" : "");
	return 0;
}

/* GPT attribute bits as the spec's bools. */
static int disko_attributes(struct disko_ctx *c, const char *path, struct json_object *a,
			    struct spec_partition *p)
{
	if (!a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return disko_fail(c, path, ".attributes: expected a list of bit numbers");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *v = json_object_array_get_idx(a, i);
		int64_t bit = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;

		switch (bit) {
		case 0: p->required = true; break;
		case 2: p->bootable = true; break;
		case 59: p->grow_fs = true; break;
		case 60: p->read_only = true; break;
		case 63: p->no_auto = true; break;
		default:
			return disko_fail(c, path, ".attributes[%zu]: bit not supported (use 0, 2, "
					  "59, 60, 63)", i);
		}
	}
	return 0;
}

/* Where partitions go, as a position in bytes from the disk's start. */
struct disko_pos {
	uint64_t next; /* the next free, 1 MiB aligned byte (the first partition: 1 MiB) */
	bool tail;     /* a partition ended "-N": the ones after fill N */
	uint64_t tail_bytes;
	size_t tail_rest; /* the "-0" partition after it (SIZE_MAX: none yet) */
	size_t rest;      /* the partition that takes the rest (SIZE_MAX: none) */
};

/* A partition's end as sgdisk's "+N", "-N" or an absolute N (gpt), its start "0" or the next
 * free position: fills the size rule. */
static int disko_gpt_extent(struct disko_ctx *c, const char *path, const char *start,
			    const char *end, struct disko_pos *pos, struct spec_partition *p)
{
	uint64_t v;

	if (strcmp(start, "0") != 0) {
		if (disko_sgdisk_bytes(start, &v) < 0)
			return disko_fail(c, path, ".start \"%s\": expected 0 or a size such as 1M",
					  start);
		if (v != pos->next)
			return disko_fail(c, path, ".start \"%s\": not where the partition goes "
					  "(%lluM, after the one before; gaps are not supported: use "
					  "start 0)", start,
					  (unsigned long long)(pos->next / DISKO_MIB));
	}
	if (pos->rest != SIZE_MAX && !pos->tail)
		return disko_fail(c, path, ": after the partition that takes the rest of the "
				  "disk (give it end \"-SIZE\" to leave room)");
	if (end[0] == '-') {
		if (disko_sgdisk_bytes(end + 1, &v) < 0 || v % DISKO_MIB)
			return disko_fail(c, path, ".end \"%s\": expected -0 or -SIZE in whole MiB",
					  end);
		if (pos->rest != SIZE_MAX && !(pos->tail && v == 0 &&
					       pos->tail_rest == SIZE_MAX))
			return disko_fail(c, path, ".end \"%s\": a second partition that takes the "
					  "rest of the disk", end);
		p->size_kind = SPEC_PART_SIZE_REST;
		if (pos->rest == SIZE_MAX) {
			pos->rest = c->n_parts;
			pos->tail = v != 0;
			pos->tail_bytes = v;
		}
		else
			pos->tail_rest = c->n_parts;
		return 0;
	}
	if (end[0] == '+') {
		if (disko_sgdisk_bytes(end + 1, &v) < 0 || v == 0)
			return disko_fail(c, path, ".end \"%s\": expected a size such as +512M", end);
	}
	else {
		if (disko_sgdisk_bytes(end, &v) < 0 || v <= pos->next)
			return disko_fail(c, path, ".end \"%s\": expected +SIZE, -SIZE or a "
					  "position after the start (%lluM)", end,
					  (unsigned long long)(pos->next / DISKO_MIB));
		v -= pos->next;
	}
	if (v % DISKO_MIB)
		return disko_fail(c, path, ".size: %llu bytes, not a whole number of MiB",
				  (unsigned long long)v);
	p->size_kind = SPEC_PART_SIZE_FIXED;
	p->size_bytes = v;
	pos->next += v;
	if (pos->tail) {
		if (v > pos->tail_bytes)
			return disko_fail(c, path, ": does not fit in the room the partition before "
					  "left at the disk's end");
		pos->tail_bytes -= v;
	}
	return 0;
}

/* After the last partition: a "-N" end is followed by a "-0" that gets what the fixed ones
 * leave of N (sgdisk aligns both ends down to 1 MiB, so that is exactly N). */
static int disko_finish_tail(struct disko_ctx *c, const char *path, struct disko_pos *pos)
{
	struct spec_partition *p;

	if (!pos->tail)
		return 0;
	if (pos->tail_rest == SIZE_MAX || !pos->tail_bytes)
		return disko_fail(c, path, ": a partition ends before the disk's end and no "
				  "partition after it takes the room left (free space at the end "
				  "is not supported)");
	p = &c->parts[pos->tail_rest];
	p->size_kind = SPEC_PART_SIZE_FIXED;
	p->size_bytes = pos->tail_bytes;
	return 0;
}

struct disko_gpt_entry {
	const char *name; /* the attribute name */
	struct json_object *o;
	int64_t priority;
};

static int disko_gpt_cmp(const void *a, const void *b)
{
	const struct disko_gpt_entry *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name); /* Nix's attrValues order; lib.sort keeps it */
}

static int disko_gpt_partition(struct disko_ctx *c, const char *ppath,
			       const struct disko_gpt_entry *e, struct disko_pos *pos)
{
	struct spec_partition *p = &c->parts[c->n_parts];
	const char *type_s, *type, *label, *uuid, *size, *start, *end;
	_cleanup_free_ char *path = xasprintf("%s.%s", ppath, e->name);
	_cleanup_free_ char *end_buf = NULL;
	struct json_object *content = disko_get(e->o, "content");
	int r;

	if ((r = disko_str(c, path, e->o, "type", &type_s)) < 0 ||
	    (r = disko_str(c, path, e->o, "label", &label)) < 0 ||
	    (r = disko_str(c, path, e->o, "uuid", &uuid)) < 0 ||
	    (r = disko_str(c, path, e->o, "size", &size)) < 0 ||
	    (r = disko_str(c, path, e->o, "start", &start)) < 0 ||
	    (r = disko_str(c, path, e->o, "end", &end)) < 0)
		return r;
	if (disko_get(e->o, "hybrid"))
		return disko_fail(c, path, ".hybrid: hybrid MBR entries are not supported");
	if (!type_s) {
		const char *ct = NULL;

		if (content && json_object_is_type(content, json_type_object))
			(void)disko_str(c, path, content, "type", &ct);
		type_s = ct && strcmp(ct, "swap") == 0 ? "8200" : "8300";
	}
	r = disko_gpt_type(c, path, type_s, &type);
	if (r < 0)
		return r;
	if (!size)
		size = "0";
	if (strcmp(size, "100%") != 0 && disko_sgdisk_bytes(size, &(uint64_t){ 0 }) < 0)
		return disko_fail(c, path, ".size \"%s\": expected 100%% or digits with K, M, G, T "
				  "or P", size);
	if (strcmp(size, "0") == 0 && (!end || strcmp(end, "+0") == 0))
		return disko_fail(c, path, ".size: missing (give a size such as 512M, or 100%% for "
				  "the rest)");
	if (!end)
		end = end_buf = strcmp(size, "100%") == 0 ? xstrdup("-0") : xasprintf("+%s", size);
	if (!start)
		start = "0";
	r = disko_gpt_extent(c, path, start, end, pos, p);
	if (r < 0)
		return r;
	r = disko_attributes(c, path, disko_get(e->o, "attributes"), p);
	if (r < 0)
		return r;
	if (uuid) {
		if (uuid_parse(uuid, p->uuid) < 0)
			return disko_fail(c, path, ".uuid \"%s\": not a UUID", uuid);
		p->uuid_set = true;
	}
	if (label)
		p->label = xstrdup(label);
	else {
		const char *name = e->name;

		(void)disko_str(c, path, e->o, "name", &name);
		p->label = disko_default_label(c->disk_name, name ? name : e->name);
	}
	r = disko_content(c, path, content, p, &type);
	if (r < 0)
		return r;
	p->type = xstrdup(type);
	c->n_parts++;
	return 0;
}

static int disko_gpt(struct disko_ctx *c, const char *path, struct json_object *t)
{
	_cleanup_free_ char *ppath = xasprintf("%s.partitions", path);
	struct json_object *parts = disko_get(t, "partitions");
	_cleanup_free_ struct disko_gpt_entry *e = NULL;
	struct disko_pos pos = { .next = DISKO_MIB, .tail_rest = SIZE_MAX, .rest = SIZE_MAX };
	size_t n = 0;
	int r;

	if (!parts || !json_object_is_type(parts, json_type_object) || !disko_count(parts))
		return disko_fail(c, path, ".partitions: expected an attribute set of partitions");
	e = xcalloc(disko_count(parts), sizeof(*e));
	json_object_object_foreach(parts, k, v) {
		struct json_object *pr;

		if (disko_internal(k))
			continue;
		if (!json_object_is_type(v, json_type_object))
			return disko_fail(c, ppath, ".%s: expected an object", k);
		e[n] = (struct disko_gpt_entry){ .name = k, .o = v };
		pr = disko_get(v, "priority");
		if (pr && !json_object_is_type(pr, json_type_int))
			return disko_fail(c, ppath, ".%s.priority: expected an integer", k);
		if (pr)
			e[n].priority = json_object_get_int64(pr);
		else { /* gpt.nix's default */
			const char *size = NULL, *type = NULL;

			(void)disko_str(c, ppath, v, "size", &size);
			(void)disko_str(c, ppath, v, "type", &type);
			e[n].priority = size && strcmp(size, "100%") == 0	  ? 9001
					: type && strcasecmp(type, "EF02") == 0 ? 100
										  : 1000;
		}
		n++;
	}
	if (n > PART_MAX)
		return disko_fail(c, ppath, ": %zu partitions; a GPT holds at most %d", n, PART_MAX);
	qsort(e, n, sizeof(*e), disko_gpt_cmp);
	c->parts = xcalloc(n, sizeof(*c->parts));
	c->cap = n;
	for (size_t i = 0; i < n; i++) {
		r = disko_gpt_partition(c, ppath, &e[i], &pos);
		if (r < 0)
			return r;
	}
	return disko_finish_tail(c, ppath, &pos);
}

/* parted's position: N with s, B, kB/K, MB/M, GB/G, TB/T (1000-based), KiB, MiB, GiB, TiB
 * or %; as the 1 MiB boundary parted's optimal alignment picks (for 1000-based units,
 * within half a unit of the value, as parted searches). */
static int disko_parted_pos(struct disko_ctx *c, const char *path, const char *key,
			    const char *t, uint64_t *ret, bool *percent100)
{
	const char *suf;
	uint64_t v, unit = 1000000, b;
	bool si = true;

	*percent100 = false;
	if (disko_number(t, &v, &suf) < 0)
		goto bad;
	if (strcmp(suf, "%") == 0) {
		if (v > 100)
			goto bad;
		if (v == 100) {
			*percent100 = true;
			return 0;
		}
		if (v && !c->disk_bytes)
			return disko_fail(c, path, ".%s \"%s\": a percentage needs the disk's size "
					  "(imageSize or diskSize)", key, t);
		b = c->disk_bytes / 100 * v;
		*ret = (b + DISKO_MIB / 2) / DISKO_MIB * DISKO_MIB;
		return 0;
	}
	if (strcmp(suf, "s") == 0)
		unit = 512, si = false;
	else if (strcasecmp(suf, "B") == 0)
		unit = 1;
	else if (strcasecmp(suf, "kB") == 0 || strcasecmp(suf, "K") == 0)
		unit = 1000;
	else if (strcasecmp(suf, "MB") == 0 || strcasecmp(suf, "M") == 0 || !*suf)
		unit = 1000000;
	else if (strcasecmp(suf, "GB") == 0 || strcasecmp(suf, "G") == 0)
		unit = 1000000000;
	else if (strcasecmp(suf, "TB") == 0 || strcasecmp(suf, "T") == 0)
		unit = 1000000000000ull;
	else if (strcasecmp(suf, "KiB") == 0)
		unit = 1ull << 10, si = false;
	else if (strcasecmp(suf, "MiB") == 0)
		unit = 1ull << 20, si = false;
	else if (strcasecmp(suf, "GiB") == 0)
		unit = 1ull << 30, si = false;
	else if (strcasecmp(suf, "TiB") == 0)
		unit = 1ull << 40, si = false;
	else
		goto bad;
	if (disko_mul(v, unit, &b) < 0 || b > UINT64_MAX - DISKO_MIB)
		goto bad;
	*ret = (b + DISKO_MIB / 2) / DISKO_MIB * DISKO_MIB;
	if ((si && (*ret > b ? *ret - b : b - *ret) > unit / 2) || (!si && *ret != b))
		return disko_fail(c, path, ".%s \"%s\": not on a 1 MiB boundary (partitions here "
				  "are 1 MiB aligned; use e.g. 1MiB, 512MiB)", key, t);
	return 0;
bad:
	return disko_fail(c, path, ".%s \"%s\": expected a position such as 1MiB, 512M or "
			  "100%%", key, t);
}

static int disko_table_partition(struct disko_ctx *c, const char *path, struct json_object *o,
				 uint64_t *next, size_t *rest)
{
	struct spec_partition *p = &c->parts[c->n_parts];
	const char *ptype, *name, *start, *end, *type = "linux";
	struct json_object *flags = disko_get(o, "flags"), *boot = disko_get(o, "bootable");
	uint64_t s = 0, e = 0;
	bool full;
	int r;

	if ((r = disko_str(c, path, o, "part-type", &ptype)) < 0 ||
	    (r = disko_str(c, path, o, "name", &name)) < 0 ||
	    (r = disko_str(c, path, o, "start", &start)) < 0 ||
	    (r = disko_str(c, path, o, "end", &end)) < 0)
		return r;
	if (ptype && strcmp(ptype, "primary") != 0)
		return disko_fail(c, path, ".part-type \"%s\": not supported (primary only: "
				  "at most 4 partitions, no extended ones)", ptype);
	if (*rest != SIZE_MAX)
		return disko_fail(c, path, ": after the partition that ends at 100%%");
	r = disko_parted_pos(c, path, "start", start ? start : "0%", &s, &full);
	if (r < 0)
		return r;
	if (full)
		return disko_fail(c, path, ".start \"%s\": at the disk's end", start);
	if (s < DISKO_MIB && *next == DISKO_MIB)
		s = DISKO_MIB; /* parted aligns 0% to the first 1 MiB */
	if (s != *next)
		return disko_fail(c, path, ".start \"%s\": not where the partition before ends "
				  "(%lluMiB; gaps are not supported)", start ? start : "0%",
				  (unsigned long long)(*next / DISKO_MIB));
	r = disko_parted_pos(c, path, "end", end ? end : "100%", &e, &full);
	if (r < 0)
		return r;
	if (full) {
		p->size_kind = SPEC_PART_SIZE_REST;
		*rest = c->n_parts;
	}
	else {
		if (e <= s)
			return disko_fail(c, path, ".end \"%s\": not after the start", end);
		p->size_kind = SPEC_PART_SIZE_FIXED;
		p->size_bytes = e - s;
		*next = e;
	}
	if (boot && !json_object_is_type(boot, json_type_boolean))
		return disko_fail(c, path, ".bootable: expected true or false");
	/* parted's boot flag: the ESP type on GPT, the active flag on msdos */
	if (boot && json_object_get_boolean(boot)) {
		if (c->gpt)
			type = "esp";
		else
			p->bootable = true;
	}
	if (flags && !json_object_is_type(flags, json_type_array))
		return disko_fail(c, path, ".flags: expected a list of strings");
	for (size_t i = 0; flags && i < json_object_array_length(flags); i++) {
		struct json_object *f = json_object_array_get_idx(flags, i);
		const char *fs = json_object_is_type(f, json_type_string) ?
					 json_object_get_string(f) : "";

		if (strcmp(fs, "esp") == 0 || (strcmp(fs, "boot") == 0 && c->gpt))
			type = "esp";
		else if (strcmp(fs, "bios_grub") == 0 && c->gpt)
			type = "bios-boot";
		else if (strcmp(fs, "boot") == 0)
			p->bootable = true;
		else
			return disko_fail(c, path, ".flags[%zu] \"%s\": not supported (esp, boot, "
					  "bios_grub)", i, fs);
	}
	if (c->gpt && name)
		p->label = xstrdup(name);
	r = disko_content(c, path, disko_get(o, "content"), p, &type);
	if (r < 0)
		return r;
	p->type = xstrdup(type);
	c->n_parts++;
	return 0;
}

static int disko_table(struct disko_ctx *c, const char *path, struct json_object *t)
{
	_cleanup_free_ char *ppath = xasprintf("%s.partitions", path);
	struct json_object *parts = disko_get(t, "partitions");
	const char *format;
	uint64_t next = DISKO_MIB;
	size_t n, rest = SIZE_MAX;
	int r;

	r = disko_str(c, path, t, "format", &format);
	if (r < 0)
		return r;
	if (format && strcmp(format, "msdos") != 0 && strcmp(format, "gpt") != 0)
		return disko_fail(c, path, ".format \"%s\": expected msdos or gpt", format);
	c->gpt = !format || strcmp(format, "gpt") == 0;
	if (!parts || !json_object_is_type(parts, json_type_array) ||
	    !json_object_array_length(parts))
		return disko_fail(c, path, ".partitions: expected a list of partitions");
	n = json_object_array_length(parts);
	if (n > (c->gpt ? PART_MAX : 4))
		return disko_fail(c, ppath, ": %zu partitions; %s", n,
				  c->gpt ? "too many" : "an MBR holds at most 4 primary ones");
	c->parts = xcalloc(n, sizeof(*c->parts));
	c->cap = n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(parts, i);
		_cleanup_free_ char *pp = xasprintf("%s[%zu]", ppath, i);

		if (!json_object_is_type(o, json_type_object))
			return disko_fail(c, pp, ": expected an object");
		r = disko_table_partition(c, pp, o, &next, &rest);
		if (r < 0)
			return r;
	}
	return 0;
}

static int disko_disk(struct disko_ctx *c, const char *name, struct json_object *disk)
{
	_cleanup_free_ char *path = xasprintf("disk.%s", name);
	_cleanup_free_ char *cpath = xasprintf("disk.%s.content", name);
	struct json_object *content;
	const char *type, *size, *ctype;
	uint64_t bytes;
	int r;

	if (!json_object_is_type(disk, json_type_object))
		return disko_fail(c, path, ": expected an object");
	c->disk_name = name;
	if ((r = disko_str(c, path, disk, "type", &type)) < 0 ||
	    (r = disko_str(c, path, disk, "imageSize", &size)) < 0)
		return r;
	if (type && strcmp(type, "disk") != 0)
		return disko_fail(c, path, ".type \"%s\": expected disk", type);
	if (size) {
		if (disko_sgdisk_bytes(size, &bytes) < 0 || bytes % DISKO_MIB || !bytes ||
		    !strpbrk(size, "KMGTP"))
			return disko_fail(c, path, ".imageSize \"%s\": expected a whole number of "
					  "MiB such as 2G", size);
		if (c->s->disk_size_auto) { /* an explicit diskSize wins */
			c->s->disk_size_auto = false;
			c->s->disk_size_bytes = bytes;
		}
	}
	if (!c->s->disk_size_auto)
		c->disk_bytes = c->s->disk_size_bytes;
	content = disko_get(disk, "content");
	if (!content || !json_object_is_type(content, json_type_object))
		return disko_fail(c, path, ".content: expected a partition table (type gpt or "
				  "table)");
	r = disko_str(c, cpath, content, "type", &ctype);
	if (r < 0)
		return r;
	if (ctype && strcmp(ctype, "gpt") == 0) {
		c->gpt = true;
		r = disko_gpt(c, cpath, content);
	}
	else if (ctype && strcmp(ctype, "table") == 0)
		r = disko_table(c, cpath, content);
	else
		return disko_fail(c, cpath, ".type \"%s\": not supported (supported: gpt, or "
				  "table with format msdos or gpt)", ctype ? ctype : "(none)");
	return r;
}

/* The device kinds besides disk: refused when they hold anything. */
static const char *const disko_other_kinds[] = {
	"mdadm", "zpool", "lvm_vg", "nodev", "bcachefs_filesystems",
};

static int disko_devices(struct disko_ctx *c, struct json_object *top)
{
	struct json_object *disks = NULL;
	const char *disk_name = NULL;
	struct json_object *disk = NULL;
	char names[256] = "";

	json_object_object_foreach(top, k, v) {
		bool known = strcmp(k, "disk") == 0;

		if (disko_internal(k))
			continue;
		for (size_t i = 0; i < sizeof(disko_other_kinds) / sizeof(*disko_other_kinds); i++)
			if (strcmp(k, disko_other_kinds[i]) == 0) {
				known = true;
				if (json_object_is_type(v, json_type_object) && disko_count(v)) {
					json_object_object_foreach(v, k2, v2) {
						(void)v2;
						if (!disko_internal(k2))
							return disko_fail(c, k, ".%s: %s devices are "
									  "not supported (one disk "
									  "with a gpt or msdos "
									  "table is)", k2, k);
					}
				}
				else if (!json_object_is_type(v, json_type_null) &&
					 !json_object_is_type(v, json_type_object))
					return disko_fail(c, k, ": expected an object");
			}
		if (!known)
			return disko_fail(c, k, ": unknown device kind (expected disk; is this the "
					  "JSON of config.disko.devices?)");
		if (strcmp(k, "disk") == 0)
			disks = v;
	}
	if (!disks || !json_object_is_type(disks, json_type_object) || !disko_count(disks))
		return disko_fail(c, "disk", ": no disk (expected one)");
	json_object_object_foreach(disks, dk, dv) {
		if (disko_internal(dk))
			continue;
		if (!disk_name) {
			disk_name = dk;
			disk = dv;
		}
		size_t l = strlen(names);
		snprintf(names + l, sizeof(names) - l, "%s%s", l ? ", " : "", dk);
	}
	if (disko_count(disks) > 1)
		return disko_fail(c, "disk", ": %zu disks (%s); an image is one disk: keep one in "
				  "the JSON (e.g. jq '.disk |= {NAME: .NAME}')", disko_count(disks),
				  names);
	return disko_disk(c, disk_name, disk);
}

DEFINE_CLEANUP_FUNC(struct json_object, json_object_put)

int spec_disko_parse(struct image_spec *s, const char *what, const char *text, size_t len,
		     struct diag *d)
{
	_cleanup_(json_object_putp) struct json_object *top = NULL;
	struct json_tokener *tok;
	struct json_check keys = { 0 };
	struct disko_ctx c = { .s = s, .d = d, .file = what };
	int r;

	r = json_check(text, len, what, d, &keys);
	json_check_free(&keys);
	if (r < 0)
		return diag_prepend(d, r, "disko");
	tok = json_tokener_new_ex(JSON_CHECK_MAX_DEPTH);
	if (!tok)
		return diag_fail(d, -ENOMEM, "disko %s: out of memory", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	top = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (!top || !json_object_is_type(top, json_type_object))
		return diag_fail(d, -EINVAL, "disko %s: not a JSON object", what);
	r = disko_devices(&c, top);
	if (r < 0) {
		for (size_t i = 0; i < c.cap; i++)
			spec_partition_clear(&c.parts[i]);
		free(c.parts);
		return r;
	}
	spec_partitions_clear(s);
	s->partitions = c.parts;
	s->n_partitions = c.n_parts;
	s->partition_table = c.gpt ? PART_TABLE_GPT : PART_TABLE_MBR;
	return 0;
}

int spec_load_disko(struct image_spec *s, struct diag *d)
{
	_cleanup_free_ uint8_t *text = NULL;
	size_t len;
	int r;

	if (s->n_partitions)
		return diag_fail(d, -EINVAL, "disko %s: the spec has a \"partitions\" list too; "
				 "give one of them", s->disko);
	if (s->partition_table != PART_TABLE_LEGACY)
		return diag_fail(d, -EINVAL, "disko %s: the spec sets partitionTableType %s; the "
				 "disko JSON says the table: leave it out", s->disko,
				 part_table_name(s->partition_table));
	r = read_file(s->disko, DISKO_JSON_MAX, &text, &len);
	if (r < 0)
		return diag_fail(d, r, "disko %s: cannot read: %s", s->disko, strerror(-r));
	return spec_disko_parse(s, s->disko, (const char *)text, len, d);
}
