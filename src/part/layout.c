/* make-disk-image's partitionTableType layouts, and the plan ranges of their tables.
 * What we copy from make-disk-image and what we do not: docs/formats/gpt.md, mbr.md. */
#include "part/part.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
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
#define ESP_START_LBA (8 * MIB_LBA)
#define XBOOTLDR_START_LBA (100 * MIB_LBA)

enum {
	RANGE_MBR,
	RANGE_GPT_PRIMARY,
	RANGE_GPT_BACKUP,
};

static bool table_is_gpt(enum part_table t)
{
	return t != PART_TABLE_NONE && t != PART_TABLE_LEGACY;
}

/* Where the root partition starts, in sectors. */
static uint64_t root_start_lba(const struct part_params *p)
{
	switch (p->table) {
	case PART_TABLE_NONE:
		return 0;
	case PART_TABLE_LEGACY:
		return MIB_LBA;
	case PART_TABLE_LEGACY_GPT:
		return 2 * MIB_LBA;
	case PART_TABLE_EFI:
	case PART_TABLE_EFIXBOOTLDR:
	case PART_TABLE_HYBRID:
	default:
		break;
	}
	return p->boot_bytes / PART_SECTOR;
}

/* Sectors after the root partition's end: the backup GPT. */
static uint64_t tail_lba(enum part_table t)
{
	return table_is_gpt(t) ? GPT_COPY_SECT : 0;
}

static int check_boot_size(const struct part_params *p, struct diag *d)
{
	uint64_t min_mib;

	switch (p->table) {
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

/* Smallest whole-MiB disk whose root partition holds root_bytes. */
static uint64_t disk_mib_for_root(const struct part_params *p, uint64_t root_bytes)
{
	uint64_t lba =
		root_start_lba(p) + DIV_ROUND_UP(root_bytes, PART_SECTOR) + tail_lba(p->table);

	return DIV_ROUND_UP(lba, MIB_LBA);
}

static void add_part(struct part_layout *l, const struct part_params *p, enum part_role role,
		     uint32_t number, uint64_t first_lba, uint64_t last_lba, const char *name)
{
	struct part_entry *e = &l->parts[l->n_parts++];

	assert(l->n_parts <= ARRAY_SIZE(l->parts));
	*e = (struct part_entry){
		.role = role,
		.number = number,
		.first_lba = first_lba,
		.n_lba = last_lba - first_lba + 1,
	};
	snprintf(e->name, sizeof(e->name), "%s", name);
	if (!table_is_gpt(l->table)) {
		e->mbr_type = MBR_TYPE_LINUX;
		return;
	}
	part_type_uuid(role, p->arch, p->generic_root_type, e->type_uuid);
	switch (role) {
	case PART_ROLE_ROOT:
		if (uuid_is_null(p->root_uuid))
			uuid_derive(p->seed, "gpt-partition:root", e->uuid);
		else
			memcpy(e->uuid, p->root_uuid, 16);
		break;
	case PART_ROLE_ESP:
		uuid_derive(p->seed, "gpt-partition:esp", e->uuid);
		break;
	case PART_ROLE_XBOOTLDR:
		uuid_derive(p->seed, "gpt-partition:xbootldr", e->uuid);
		break;
	case PART_ROLE_BIOS_BOOT:
		uuid_derive(p->seed, "gpt-partition:bios-boot", e->uuid);
		break;
	default:
		break;
	}
}

/* Partitions in number order, names as make-disk-image's parted mkpart gives them. */
static void add_parts(struct part_layout *l, const struct part_params *p, uint64_t root_last)
{
	uint64_t boot_lba = p->boot_bytes / PART_SECTOR;

	switch (p->table) {
	case PART_TABLE_NONE:
		break;
	case PART_TABLE_LEGACY:
		add_part(l, p, PART_ROLE_ROOT, 1, MIB_LBA, root_last, "primary");
		break;
	case PART_TABLE_LEGACY_GPT:
		add_part(l, p, PART_ROLE_BIOS_BOOT, 1, MIB_LBA, 2 * MIB_LBA - 1, "no-fs");
		add_part(l, p, PART_ROLE_ROOT, 2, 2 * MIB_LBA, root_last, "primary");
		break;
	case PART_TABLE_EFI:
		add_part(l, p, PART_ROLE_ESP, 1, ESP_START_LBA, boot_lba - 1, "ESP");
		add_part(l, p, PART_ROLE_ROOT, 2, boot_lba, root_last, "primary");
		break;
	case PART_TABLE_EFIXBOOTLDR:
		add_part(l, p, PART_ROLE_ESP, 1, ESP_START_LBA, XBOOTLDR_START_LBA - 1, "ESP");
		add_part(l, p, PART_ROLE_XBOOTLDR, 2, XBOOTLDR_START_LBA, boot_lba - 1, "BOOT");
		add_part(l, p, PART_ROLE_ROOT, 3, boot_lba, root_last, "ROOT");
		break;
	case PART_TABLE_HYBRID:
		add_part(l, p, PART_ROLE_ESP, 1, ESP_START_LBA, boot_lba - 1, "ESP");
		add_part(l, p, PART_ROLE_BIOS_BOOT, 2, GPT_FIRST_USABLE_LBA, MIB_LBA - 1, "no-fs");
		add_part(l, p, PART_ROLE_ROOT, 3, boot_lba, root_last, "primary");
		break;
	default:
		break;
	}
}

int part_layout_plan(const struct part_params *p, struct diag *d, struct part_layout *ret)
{
	struct part_layout l = { .table = p->table };
	uint64_t disk_bytes = p->disk_bytes, need_mib, disk_lba, root_last;
	int r;

	assert(p->seed);
	if ((size_t)p->table > PART_TABLE_HYBRID)
		return diag_fail(d, -EINVAL, "unknown partition table type %d", (int)p->table);
	r = check_boot_size(p, d);
	if (r < 0)
		return r;

	/* A fixed disk must leave the root at least 1 MiB (or root_min_bytes, when given). */
	need_mib = disk_mib_for_root(p, MAX(p->root_min_bytes, (uint64_t)PART_MIB));
	if (disk_bytes == 0) {
		if (p->root_min_bytes == 0)
			return diag_fail(d, -EINVAL, "neither diskSize nor the root size is known");
		disk_bytes = disk_mib_for_root(p, p->root_min_bytes) * PART_MIB;
	} else if (disk_bytes % PART_MIB != 0) {
		return diag_fail(d, -EINVAL, "diskSize %llu bytes is not a whole number of MiB",
				 (unsigned long long)disk_bytes);
	} else if (disk_bytes / PART_MIB < need_mib) {
		return diag_fail(
			d, -ENOSPC,
			"diskSize %llu MiB too small: partitionTableType %s with a root of "
			"%llu bytes needs at least %llu MiB",
			(unsigned long long)(disk_bytes / PART_MIB), part_table_name(p->table),
			(unsigned long long)MAX(p->root_min_bytes, (uint64_t)PART_MIB),
			(unsigned long long)need_mib);
	}

	disk_lba = disk_bytes / PART_SECTOR;
	root_last = disk_lba - 1 - tail_lba(p->table);
	if (p->table == PART_TABLE_LEGACY && root_last - MIB_LBA + 1 > UINT32_MAX)
		return diag_fail(
			d, -EOVERFLOW,
			"diskSize %llu MiB is too large for partitionTableType legacy: MBR "
			"addresses at most 2 TiB; use legacy+gpt",
			(unsigned long long)(disk_bytes / PART_MIB));

	l.disk_bytes = disk_bytes;
	if (table_is_gpt(p->table)) {
		uuid_derive(p->seed, "gpt-disk", l.disk_uuid);
	} else if (p->table == PART_TABLE_LEGACY) {
		uint8_t sig[4];

		uuid_derive_bytes(p->seed, "mbr-signature", sig, sizeof(sig));
		l.mbr_signature = (uint32_t)sig[0] | (uint32_t)sig[1] << 8 |
				  (uint32_t)sig[2] << 16 | (uint32_t)sig[3] << 24;
		if (l.mbr_signature == 0) /* 0 reads as "no signature" to some tools */
			l.mbr_signature = 1;
	}
	add_parts(&l, p, root_last);
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
	if (!table_is_gpt(l->table))
		return;
	image_plan_add_fill(p, PART_SECTOR, copy_bytes, table_fill, l, RANGE_GPT_PRIMARY);
	image_plan_add_fill(p, l->disk_bytes - copy_bytes, copy_bytes, table_fill, l,
			    RANGE_GPT_BACKUP);
}
