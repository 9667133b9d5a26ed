/* make-disk-image's partitionTableType layouts, and the plan ranges of their tables.
 * What we copy from make-disk-image and what we do not: docs/formats/gpt.md, mbr.md. */
#include "part/part.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "image/plan.h"
#include "part/gpt.h"
#include "part/mbr.h"
#include "part/types.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

#define MIB_LBA (PART_MIB / PART_SECTOR)

enum {
	RANGE_MBR,
	RANGE_GPT_PRIMARY,
	RANGE_GPT_BACKUP,
};

bool part_table_is_gpt(enum part_table t)
{
	return t == PART_TABLE_LEGACY_GPT || t == PART_TABLE_EFI || t == PART_TABLE_EFIXBOOTLDR ||
	       t == PART_TABLE_HYBRID || t == PART_TABLE_GPT;
}

bool part_table_is_mbr(enum part_table t)
{
	return t == PART_TABLE_LEGACY || t == PART_TABLE_LEGACY_BOOT || t == PART_TABLE_MBR;
}

static int check_boot_size(const struct part_params *p, struct diag *d)
{
	uint64_t min_mib;

	switch (p->table) {
	case PART_TABLE_LEGACY_BOOT:
		min_mib = 1; /* BOOT starts at 1 MiB */
		break;
	case PART_TABLE_EFI:
	case PART_TABLE_HYBRID:
		min_mib = 8; /* the ESP starts at 8 MiB */
		break;
	case PART_TABLE_EFIXBOOTLDR:
		min_mib = 100; /* the ESP takes 8..100 MiB, XBOOTLDR follows */
		break;
	default:
		return 0;
	}
	if (p->boot_bytes % PART_MIB != 0)
		return diag_fail(d, -EINVAL,
				 "bootSize %llu bytes is not a whole number of MiB; partitions are "
				 "1 MiB aligned",
				 (unsigned long long)p->boot_bytes);
	if (p->boot_bytes <= min_mib * PART_MIB)
		return diag_fail(d, -EINVAL,
				 "bootSize %llu MiB is too small for partitionTableType %s: it is "
				 "where the boot partitions end and must exceed %llu MiB",
				 (unsigned long long)(p->boot_bytes / PART_MIB),
				 part_table_name(p->table), (unsigned long long)min_mib);
	return 0;
}

/* The MBR type byte of a role (MBR tables). */
static int mbr_type_of(const struct part_request *r, uint32_t number, struct diag *d,
		       uint8_t *ret)
{
	if (r->type_set) {
		*ret = r->mbr_type;
		return 0;
	}
	switch (r->role) {
	case PART_ROLE_ESP:
		*ret = MBR_TYPE_ESP;
		return 0;
	case PART_ROLE_XBOOTLDR:
		*ret = MBR_TYPE_XBOOTLDR;
		return 0;
	case PART_ROLE_SWAP:
		*ret = MBR_TYPE_SWAP;
		return 0;
	case PART_ROLE_BOOT:
		*ret = MBR_TYPE_FAT32_LBA;
		return 0;
	case PART_ROLE_BIOS_BOOT:
		return diag_fail(d, -EINVAL,
				 "partition %u: a BIOS boot partition needs a GPT (on MBR, GRUB "
				 "goes in the gap before the first partition)",
				 number);
	case PART_ROLE_ROOT:
	case PART_ROLE_OTHER:
		break;
	}
	*ret = MBR_TYPE_LINUX;
	return 0;
}

static int add_entry(struct part_layout *l, const struct part_params *p,
		     const struct part_request *r, uint64_t first_lba, uint64_t n_lba,
		     struct diag *d)
{
	struct part_entry *e = &l->parts[l->n_parts];
	char key[64];

	*e = (struct part_entry){
		.role = r->role,
		.number = (uint32_t)l->n_parts + 1,
		.first_lba = first_lba,
		.n_lba = n_lba,
		.bootable = r->bootable,
		.attributes = r->attributes & ~PART_ATTR_LEGACY_BIOS_BOOTABLE,
	};
	l->n_parts++;
	snprintf(e->name, sizeof(e->name), "%s", r->name ? r->name : "");
	if (!part_table_is_gpt(l->table))
		return mbr_type_of(r, e->number, d, &e->mbr_type);
	if (r->type_set)
		memcpy(e->type_uuid, r->type_uuid, 16);
	else
		part_type_uuid(r->role, p->arch, p->generic_root_type, e->type_uuid);
	if (r->uuid_set) {
		memcpy(e->uuid, r->uuid, 16);
		return 0;
	}
	if (r->uuid_key)
		snprintf(key, sizeof(key), "gpt-partition:%s", r->uuid_key);
	else
		snprintf(key, sizeof(key), "gpt-partition:part%u", e->number);
	uuid_derive(p->seed, key, e->uuid);
	return 0;
}

/* Sectors of a partition that is not the growing one. */
static uint64_t fixed_lba(const struct part_request *r)
{
	if (r->size_rule == PART_SIZE_FIXED)
		return DIV_ROUND_UP(r->size_bytes, PART_SECTOR);
	return ROUND_UP(DIV_ROUND_UP(r->min_bytes, PART_SECTOR), MIB_LBA);
}

/* Placement of every partition for one disk size, or (disk_lba 0) the smallest disk. */
struct placement {
	uint64_t first[PART_MAX], n[PART_MAX];
	uint64_t disk_lba;
};

/* The partition that takes what the disk leaves: the REST one, else a last FIT one (-1:
 * none). A second REST is refused by the caller. */
static ssize_t grow_index(const struct part_request *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].size_rule == PART_SIZE_REST)
			return (ssize_t)i;
	if (n > 0 && r[n - 1].size_rule == PART_SIZE_FIT)
		return (ssize_t)n - 1;
	return -1;
}

/* Place the partitions. whole_disk: the table is none, the growing "partition" is the disk.
 * Returns the sectors the growing partition needs at least in *ret_need (0 without one). */
static void place(const struct part_request *r, size_t n, bool whole_disk, uint64_t tail,
		  uint64_t disk_lba, struct placement *pl)
{
	ssize_t g = grow_index(r, n);
	uint64_t cursor = whole_disk ? 0 : MIB_LBA, end = 0, after = 0, g_start = 0, g_len;

	/* before the growing partition, and the rest relative to its (aligned) end */
	for (size_t i = 0; i < n; i++) {
		uint64_t len = (ssize_t)i == g ? 0 : fixed_lba(&r[i]);

		if ((ssize_t)i < g || g < 0) {
			pl->first[i] = r[i].start_lba ? r[i].start_lba : ROUND_UP(cursor, MIB_LBA);
			if (whole_disk)
				pl->first[i] = 0;
			pl->n[i] = len;
			cursor = MAX(cursor, pl->first[i] + len);
			end = MAX(end, pl->first[i] + len);
		} else if ((ssize_t)i == g) {
			g_start = whole_disk ? 0
					     : r[i].start_lba ? r[i].start_lba
							      : ROUND_UP(cursor, MIB_LBA);
		} else {
			pl->first[i] = ROUND_UP(after, MIB_LBA); /* relative for now */
			pl->n[i] = len;
			after = pl->first[i] + len;
		}
	}
	if (g < 0) {
		pl->disk_lba = disk_lba ? disk_lba : ROUND_UP(end + tail, MIB_LBA);
		return;
	}
	g_len = DIV_ROUND_UP(MAX(r[g].min_bytes, (uint64_t)PART_MIB), PART_SECTOR);
	if (r[g].min_bytes == 0 && !disk_lba)
		g_len = 0;
	if (disk_lba) {
		/* what the disk leaves, whole MiB when partitions follow */
		uint64_t avail = disk_lba > tail + after ? disk_lba - tail - after : 0;

		if (after)
			avail = avail / MIB_LBA * MIB_LBA;
		g_len = avail > g_start ? avail - g_start : 0;
		if (r[g].size_rule == PART_SIZE_REST && r[g].max_bytes &&
		    g_len > r[g].max_bytes / PART_SECTOR)
			g_len = r[g].max_bytes / PART_SECTOR / MIB_LBA * MIB_LBA;
		pl->disk_lba = disk_lba;
	} else if (after) {
		g_len = ROUND_UP(g_len, MIB_LBA);
		pl->disk_lba = ROUND_UP(MAX(g_start + g_len + after, end) + tail, MIB_LBA);
	} else {
		pl->disk_lba = ROUND_UP(MAX(g_start + g_len, end) + tail, MIB_LBA);
		g_len = pl->disk_lba - tail - g_start;
	}
	pl->first[g] = g_start;
	pl->n[g] = g_len;
	for (size_t i = (size_t)g + 1; i < n; i++)
		pl->first[i] += g_start + g_len;
}

/* Every partition within the usable sectors, none overlapping. */
static int check_placement(const struct part_params *p, const struct part_request *r, size_t n,
			   const struct placement *pl, uint64_t tail, struct diag *d)
{
	uint64_t first_usable = part_table_is_gpt(p->table) ? GPT_FIRST_USABLE_LBA : 1;
	uint64_t last_usable = pl->disk_lba - tail; /* exclusive */

	for (size_t i = 0; i < n; i++) {
		if (pl->n[i] == 0)
			return diag_fail(d, -ENOSPC, "partition %zu: no room left on the disk", i + 1);
		if (pl->first[i] < first_usable || pl->first[i] + pl->n[i] > last_usable)
			return diag_fail(d, -ENOSPC,
					 "partition %zu (sectors %llu..%llu) does not fit a %llu MiB "
					 "disk",
					 i + 1, (unsigned long long)pl->first[i],
					 (unsigned long long)(pl->first[i] + pl->n[i] - 1),
					 (unsigned long long)(pl->disk_lba / MIB_LBA));
		for (size_t j = 0; j < i; j++)
			if (pl->first[i] < pl->first[j] + pl->n[j] &&
			    pl->first[j] < pl->first[i] + pl->n[i])
				return diag_fail(d, -EINVAL, "partition %zu overlaps partition %zu",
						 i + 1, j + 1);
		if (part_table_is_mbr(p->table) &&
		    (pl->first[i] > UINT32_MAX || pl->n[i] > UINT32_MAX))
			return diag_fail(
				d, -EOVERFLOW,
				"diskSize %llu MiB is too large for partitionTableType %s: MBR "
				"addresses at most 2 TiB; use %s",
				(unsigned long long)(pl->disk_lba / MIB_LBA),
				part_table_name(p->table),
				p->table == PART_TABLE_MBR ? "gpt" : "legacy+gpt");
	}
	(void)r;
	return 0;
}

int part_layout_plan(const struct part_params *p, struct diag *d, struct part_layout *ret)
{
	struct part_request preset[PART_PRESET_MAX];
	_cleanup_free_ struct part_request *own = NULL;
	const struct part_request *r = preset;
	struct part_layout l = { .table = p->table };
	struct placement pl, need;
	uint64_t tail, root_need;
	bool whole_disk = p->table == PART_TABLE_NONE;
	size_t n, n_rest = 0;
	ssize_t g;
	int rr;

	assert(p->seed);
	if ((size_t)p->table > PART_TABLE_MBR)
		return diag_fail(d, -EINVAL, "unknown partition table type %d", (int)p->table);
	if (p->table == PART_TABLE_GPT || p->table == PART_TABLE_MBR) {
		size_t max = p->table == PART_TABLE_GPT ? PART_MAX : MBR_N_ENTRIES;

		r = p->parts;
		n = p->n_parts;
		if (p->root_min_bytes) {
			/* the root's need, as for the presets (the fit of build/root.c) */
			struct part_request *q = xmemdup(r, n * sizeof(*r));

			for (size_t i = 0; i < n; i++)
				if (q[i].role == PART_ROLE_ROOT)
					q[i].min_bytes = MAX(q[i].min_bytes, p->root_min_bytes);
			own = q;
			r = q;
		}
		if (n == 0)
			return diag_fail(d, -EINVAL, "partitionTableType %s: no partitions",
					 part_table_name(p->table));
		if (n > max)
			return diag_fail(d, -EINVAL,
					 "partitionTableType %s: %zu partitions, at most %zu fit%s",
					 part_table_name(p->table), n, max,
					 p->table == PART_TABLE_MBR
						 ? " (no extended partitions; use gpt)"
						 : "");
	} else {
		rr = check_boot_size(p, d);
		if (rr < 0)
			return rr;
		rr = part_preset(p, preset, &n);
		if (rr < 0)
			return diag_fail(d, rr, "unknown partition table type %d", (int)p->table);
		if (whole_disk) {
			/* the bare filesystem behaves as a root partition over the whole disk */
			preset[0] = (struct part_request){ .size_rule = PART_SIZE_REST,
							   .min_bytes = p->root_min_bytes };
			n = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		n_rest += r[i].size_rule == PART_SIZE_REST;
		if (r[i].size_rule == PART_SIZE_REST && r[i].max_bytes &&
		    r[i].min_bytes > r[i].max_bytes)
			return diag_fail(d, -ENOSPC, "partition %zu: its contents need %llu bytes, "
					 "more than its maxSize of %llu bytes (raise maxSize)",
					 i + 1, (unsigned long long)r[i].min_bytes,
					 (unsigned long long)r[i].max_bytes);
	}
	if (n_rest > 1)
		return diag_fail(d, -EINVAL, "%zu partitions take \"the rest\" of the disk: at most "
				 "one may", n_rest);
	g = grow_index(r, n);
	tail = part_table_is_gpt(p->table) ? GPT_COPY_SECT : 0;
	root_need = g >= 0 ? MAX(r[g].min_bytes, (uint64_t)PART_MIB) : 0;

	if (p->disk_bytes == 0) {
		if (g >= 0 && r[g].min_bytes == 0)
			return diag_fail(d, -EINVAL, "neither diskSize nor the root size is known");
		place(r, n, whole_disk, tail, 0, &pl);
	} else if (p->disk_bytes % PART_MIB != 0) {
		return diag_fail(d, -EINVAL, "diskSize %llu bytes is not a whole number of MiB",
				 (unsigned long long)p->disk_bytes);
	} else {
		/* the smallest disk whose growing partition gets its need (at least 1 MiB) */
		struct part_request *tmp = xmemdup(r, n * sizeof(*r));

		if (g >= 0)
			tmp[g].min_bytes = root_need;
		place(tmp, n, whole_disk, tail, 0, &need);
		free(tmp);
		if (p->disk_bytes / PART_SECTOR < need.disk_lba) {
			if (p->table == PART_TABLE_GPT || p->table == PART_TABLE_MBR)
				return diag_fail(d, -ENOSPC,
						 "diskSize %llu MiB too small: the partitions need "
						 "at least %llu MiB",
						 (unsigned long long)(p->disk_bytes / PART_MIB),
						 (unsigned long long)(need.disk_lba / MIB_LBA));
			return diag_fail(
				d, -ENOSPC,
				"diskSize %llu MiB too small: partitionTableType %s with a root of "
				"%llu bytes needs at least %llu MiB",
				(unsigned long long)(p->disk_bytes / PART_MIB),
				part_table_name(p->table), (unsigned long long)root_need,
				(unsigned long long)(need.disk_lba / MIB_LBA));
		}
		place(r, n, whole_disk, tail, p->disk_bytes / PART_SECTOR, &pl);
	}

	l.disk_bytes = pl.disk_lba * PART_SECTOR;
	if (whole_disk) {
		*ret = l;
		return 0;
	}
	rr = check_placement(p, r, n, &pl, tail, d);
	if (rr < 0)
		return rr;
	if (part_table_is_gpt(p->table)) {
		l.first_usable_lba = p->first_usable_lba;
		if (p->disk_uuid_set)
			memcpy(l.disk_uuid, p->disk_uuid, 16);
		else
			uuid_derive(p->seed, "gpt-disk", l.disk_uuid);
	} else {
		uint8_t sig[4];

		uuid_derive_bytes(p->seed, "mbr-signature", sig, sizeof(sig));
		l.mbr_signature = (uint32_t)sig[0] | (uint32_t)sig[1] << 8 |
				  (uint32_t)sig[2] << 16 | (uint32_t)sig[3] << 24;
		if (l.mbr_signature == 0) /* 0 reads as "no signature" to some tools */
			l.mbr_signature = 1;
	}
	for (size_t i = 0; i < n; i++) {
		rr = add_entry(&l, p, &r[i], pl.first[i], pl.n[i], d);
		if (rr < 0)
			return rr;
	}
	*ret = l;
	return 0;
}

void part_layout_root(const struct part_layout *l, uint64_t *ret_off, uint64_t *ret_len)
{
	const struct part_entry *e = part_layout_find(l, PART_ROLE_ROOT);

	if (!e) {
		*ret_off = 0;
		*ret_len = l->disk_bytes;
		return;
	}
	*ret_off = e->first_lba * PART_SECTOR;
	*ret_len = e->n_lba * PART_SECTOR;
}

const struct part_entry *part_layout_find(const struct part_layout *l, enum part_role role)
{
	for (size_t i = 0; i < l->n_parts; i++)
		if (l->parts[i].role == role)
			return &l->parts[i];
	return NULL;
}

/* Encodes the whole structure (at most 33 sectors) and copies the slice asked for. */
static int table_fill(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		      struct diag *d)
{
	const struct part_layout *l = ctx;
	_cleanup_free_ uint8_t *tmp = xcalloc(GPT_COPY_SECT, PART_SECTOR);
	const uint8_t *src = tmp;
	size_t total = GPT_COPY_SECT * PART_SECTOR;

	switch (arg) {
	case RANGE_MBR: {
		struct mbr m;

		mbr_from_layout(l, &m);
		mbr_encode(tmp, &m);
		src = tmp + MBR_TABLE_OFF;
		total = MBR_TABLE_LEN;
		break;
	}
	case RANGE_GPT_PRIMARY:
		gpt_copy_encode(l, /* backup= */ 0, tmp);
		break;
	case RANGE_GPT_BACKUP:
		gpt_copy_encode(l, /* backup= */ 1, tmp);
		break;
	default:
		return diag_fail(d, -EINVAL, "partition table: unknown range %llu",
				 (unsigned long long)arg);
	}
	if (off > total || len > total - off)
		return diag_fail(d, -EINVAL, "partition table: fill %llu+%zu past %zu bytes",
				 (unsigned long long)off, len, total);
	memcpy(buf, src + off, len);
	return 0;
}

void part_plan_ranges(const struct part_layout *l, struct image_plan *p)
{
	uint64_t copy_bytes = (uint64_t)GPT_COPY_SECT * PART_SECTOR;

	if (l->table == PART_TABLE_NONE)
		return;
	image_plan_add_fill(p, MBR_TABLE_OFF, MBR_TABLE_LEN, table_fill, l, RANGE_MBR);
	if (!part_table_is_gpt(l->table))
		return;
	image_plan_add_fill(p, PART_SECTOR, copy_bytes, table_fill, l, RANGE_GPT_PRIMARY);
	image_plan_add_fill(p, l->disk_bytes - copy_bytes, copy_bytes, table_fill, l,
			    RANGE_GPT_BACKUP);
}
