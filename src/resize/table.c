/* Growing a GPT or MBR partition table (table.h). UEFI 2.10 §5.2 (MBR), §5.3 (GPT);
 * docs/formats/gpt.md, docs/resize.md. */
#include "resize/table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/gpt.h"
#include "part/mbr.h"
#include "part/part.h"
#include "part/types.h"
#include "resize/view.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

#define ALIGN_LBA (1048576u / PART_SECTOR) /* partition ends on whole MiB */
#define MBR_MAX_LBA 0xffffffffull          /* MBR sector numbers and counts are 32-bit */
#define CHS_MAX_LBA (1024ull * 255 * 63)

/* The primary GPT as it sits on the disk. */
struct gpt_disk {
	uint8_t hdr[PART_SECTOR];
	struct gpt_header h;
	uint8_t *array;
	size_t array_bytes;
	uint64_t array_sect;
};

static int gpt_disk_read(struct resize_view *v, struct gpt_disk *g, struct diag *d)
{
	int r = resize_view_read(v, PART_SECTOR, g->hdr, sizeof(g->hdr), d);

	if (r < 0)
		return r;
	/* part_probe checked the primary header and array already (it is the one it used) */
	r = gpt_header_decode(g->hdr, sizeof(g->hdr), d, &g->h);
	if (r < 0)
		return r;
	g->array_bytes = (size_t)g->h.n_entries * g->h.entry_size;
	g->array_sect = DIV_ROUND_UP(g->array_bytes, PART_SECTOR);
	g->array = xcalloc(1, g->array_sect * PART_SECTOR);
	return resize_view_read(v, g->h.entries_lba * PART_SECTOR, g->array, g->array_bytes, d);
}

/* Where the backup copy of g goes on a disk of disk_lba sectors: its header in the last
 * sector, its array just before. */
static uint64_t gpt_last_usable(const struct gpt_disk *g, uint64_t disk_lba)
{
	return disk_lba - 1 - g->array_sect - 1;
}

static void gpt_header_stamp(uint8_t *hdr, uint32_t header_size)
{
	memset(hdr + GPT_HDR_CRC, 0, 4);
	le32_put(hdr + GPT_HDR_CRC, crc32_ieee(0, hdr, header_size));
}

static const struct part_probe_entry *find_number(const struct part_probe *pp, uint32_t n)
{
	for (size_t i = 0; i < pp->n_parts; i++)
		if (pp->parts[i].number == n)
			return &pp->parts[i];
	return NULL;
}

static bool mbr_is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

/* "partition 2 (root)" or "partition 2" */
static void part_words(const struct part_probe_entry *e, char *buf, size_t cap)
{
	if (e->name[0])
		snprintf(buf, cap, "partition %u (%s)", e->number, e->name);
	else
		snprintf(buf, cap, "partition %u", e->number);
}

static int choose_entry(const struct part_probe *pp, uint32_t want, struct diag *d,
			const struct part_probe_entry **ret)
{
	const struct part_probe_entry *e = NULL;

	if (pp->n_parts == 0)
		return diag_fail(d, -EINVAL, "the partition table has no partitions to grow");
	if (want) {
		e = find_number(pp, want);
		if (!e)
			return diag_fail(d, -EINVAL, "there is no partition %u (the table has %zu "
					 "partitions, the last is number %u)", want, pp->n_parts,
					 pp->parts[pp->n_parts - 1].number);
	} else
		for (size_t i = 0; i < pp->n_parts; i++)
			if (!e || pp->parts[i].first_lba + pp->parts[i].n_lba >
					  e->first_lba + e->n_lba)
				e = &pp->parts[i];
	*ret = e;
	return 0;
}

/* The first sector past where e may end on the new disk (1 MiB aligned), or a refusal. */
static int part_limit(const struct part_probe *pp, const struct part_probe_entry *e,
		      uint64_t usable_end, struct diag *d, uint64_t *ret)
{
	const struct part_probe_entry *next = NULL;
	uint64_t end = e->first_lba + e->n_lba, limit = usable_end / ALIGN_LBA * ALIGN_LBA;
	char what[160], nwhat[160];

	for (size_t i = 0; i < pp->n_parts; i++) {
		const struct part_probe_entry *x = &pp->parts[i];

		if (x != e && x->first_lba >= end && (!next || x->first_lba < next->first_lba))
			next = x;
	}
	part_words(e, what, sizeof(what));
	if (next) {
		part_words(next, nwhat, sizeof(nwhat));
		if (next->first_lba == end)
			return diag_fail(d, -EINVAL, "%s cannot grow: %s follows it directly at "
					 "sector %llu (only the last partition can grow; name it with "
					 "--partition %u)", what, nwhat,
					 (unsigned long long)next->first_lba, next->number);
		limit = next->first_lba; /* up to the next one, as growpart */
	}
	*ret = MAX(limit, end);
	return 0;
}

static void part_result(const struct part_probe_entry *e, uint64_t new_end,
			struct resize_part *ret)
{
	*ret = (struct resize_part){
		.number = e->number,
		.off = e->first_lba * PART_SECTOR,
		.old_bytes = e->n_lba * PART_SECTOR,
		.new_bytes = (new_end - e->first_lba) * PART_SECTOR,
	};
	snprintf(ret->name, sizeof(ret->name), "%s", e->name);
}

/* The last sector's CHS address, as mbr_entry_encode writes it. */
static void mbr_patch_count(uint8_t *pe, uint32_t count)
{
	uint64_t last = (uint64_t)le32_get(pe + MBR_PE_LBA_FIRST) + count - 1;

	le32_put(pe + MBR_PE_LBA_COUNT, count);
	if (pe[MBR_PE_TYPE] == MBR_TYPE_GPT_PROTECTIVE && last >= CHS_MAX_LBA)
		memset(pe + MBR_PE_CHS_LAST, 0xff, 3); /* UEFI 2.10 table 5-4 */
	else
		mbr_chs_encode(pe + MBR_PE_CHS_LAST, last);
}

static int grow_mbr(struct resize_view *v, const struct part_probe *pp,
		    const struct part_probe_entry *e, struct diag *d, struct resize_part *ret)
{
	uint64_t disk_lba = v->new_size / PART_SECTOR, new_end;
	uint8_t sector[MBR_SIZE];
	char what[160];
	int r;

	part_words(e, what, sizeof(what));
	if (mbr_is_extended(e->mbr_type))
		return diag_fail(d, -ENOTSUP, "%s is an extended partition (type 0x%02x): growing "
				 "logical partitions is not supported", what, e->mbr_type);
	r = part_limit(pp, e, disk_lba, d, &new_end);
	if (r < 0)
		return r;
	if (new_end - 1 > MBR_MAX_LBA)
		return diag_fail(d, -EINVAL, "%s would end at sector %llu, past the 2 TiB an MBR "
				 "can address (sector %llu): resize to at most 2 TiB, or use a GPT "
				 "image", what, (unsigned long long)(new_end - 1), MBR_MAX_LBA);
	r = resize_view_read(v, 0, sector, sizeof(sector), d);
	if (r < 0)
		return r;
	mbr_patch_count(sector + MBR_PARTITION_TABLE + MBR_PE_SIZE * (e->number - 1),
			(uint32_t)(new_end - e->first_lba));
	/* only the entry's 16 bytes change */
	r = resize_view_write(v, MBR_PARTITION_TABLE + MBR_PE_SIZE * (e->number - 1),
			      sector + MBR_PARTITION_TABLE + MBR_PE_SIZE * (e->number - 1),
			      MBR_PE_SIZE, d);
	if (r < 0)
		return r;
	part_result(e, new_end, ret);
	return 0;
}

/* The protective (or hybrid) MBR: every 0xEE entry covers the disk after its first sector,
 * capped at 0xffffffff sectors. Other entries of a hybrid MBR stay as they are. */
static int grow_protective(struct resize_view *v, struct diag *d)
{
	uint64_t disk_lba = v->new_size / PART_SECTOR;
	uint8_t sector[MBR_SIZE];
	int r = resize_view_read(v, 0, sector, sizeof(sector), d);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < MBR_N_ENTRIES; i++) {
		uint8_t *pe = sector + MBR_PARTITION_TABLE + MBR_PE_SIZE * i;
		uint64_t first = le32_get(pe + MBR_PE_LBA_FIRST);

		if (pe[MBR_PE_TYPE] != MBR_TYPE_GPT_PROTECTIVE || first >= disk_lba)
			continue;
		mbr_patch_count(pe, (uint32_t)MIN(disk_lba - first, MBR_MAX_LBA));
		r = resize_view_write(v, MBR_PARTITION_TABLE + MBR_PE_SIZE * i, pe, MBR_PE_SIZE,
				      d);
		if (r < 0)
			return r;
	}
	return 0;
}

static int grow_gpt(struct resize_view *v, const struct part_probe *pp,
		    const struct part_probe_entry *e, struct diag *d, struct resize_part *ret)
{
	_cleanup_free_ uint8_t *array = NULL, *zeros = NULL;
	uint64_t disk_lba = v->new_size / PART_SECTOR, bk_hdr, bk_arr, last_usable, new_end;
	uint64_t old_alt;
	struct gpt_disk g = { 0 };
	uint8_t bk[PART_SECTOR];
	uint32_t crc;
	int r;

	if (pp->backup_used)
		return diag_fail(d, -EINVAL, "the primary GPT is damaged (%s): repair the table "
				 "first (sgdisk -v, gdisk)", pp->gpt_problem);
	r = gpt_disk_read(v, &g, d);
	array = g.array;
	if (r < 0)
		return r;
	if (disk_lba < g.h.last_usable_lba + 2 + g.array_sect)
		return diag_fail(d, -EINVAL, "the disk is too small for the GPT's backup copy");
	bk_hdr = disk_lba - 1;
	bk_arr = bk_hdr - g.array_sect;
	last_usable = gpt_last_usable(&g, disk_lba);
	r = part_limit(pp, e, last_usable + 1, d, &new_end);
	if (r < 0)
		return r;
	le64_put(array + (size_t)(e->number - 1) * g.h.entry_size + GPT_PE_LAST_LBA, new_end - 1);
	crc = crc32_ieee(0, array, g.array_bytes);

	/* the backup header: the primary's bytes with its place, its array's place, the usable
	 * end and the array's CRC changed */
	memcpy(bk, g.hdr, sizeof(bk));
	le64_put(bk + GPT_HDR_MY_LBA, bk_hdr);
	le64_put(bk + GPT_HDR_ALTERNATE_LBA, g.h.my_lba);
	le64_put(bk + GPT_HDR_LAST_USABLE_LBA, last_usable);
	le64_put(bk + GPT_HDR_ENTRIES_LBA, bk_arr);
	le32_put(bk + GPT_HDR_ENTRIES_CRC, crc);
	gpt_header_stamp(bk, g.h.header_size);
	old_alt = g.h.alternate_lba;
	le64_put(g.hdr + GPT_HDR_ALTERNATE_LBA, bk_hdr);
	le64_put(g.hdr + GPT_HDR_LAST_USABLE_LBA, last_usable);
	le32_put(g.hdr + GPT_HDR_ENTRIES_CRC, crc);
	gpt_header_stamp(g.hdr, g.h.header_size);

	/* backup first: until the primary changes, the old table is the one tools read */
	r = resize_view_write(v, bk_arr * PART_SECTOR, array, g.array_bytes, d);
	if (r >= 0)
		r = resize_view_write(v, bk_hdr * PART_SECTOR, bk, sizeof(bk), d);
	if (r >= 0)
		r = grow_protective(v, d);
	if (r >= 0)
		r = resize_view_write(v, g.h.entries_lba * PART_SECTOR, array, g.array_bytes, d);
	if (r >= 0)
		r = resize_view_write(v, PART_SECTOR, g.hdr, sizeof(g.hdr), d);
	if (r < 0)
		return r;
	/* the old backup copy (now inside the grown partition or free space) becomes zeros: a
	 * filesystem grown over it expects zeros, and no tool should find a stale header. Also
	 * when it is no longer in the last sector (a file grown by qemu-img resize or truncate):
	 * its sectors lie past the old usable area either way. */
	if (old_alt < bk_arr && old_alt >= g.array_sect &&
	    old_alt - g.array_sect > g.h.last_usable_lba && old_alt < v->old_size / PART_SECTOR) {
		size_t n = (size_t)(g.array_sect + 1) * PART_SECTOR;

		zeros = xcalloc(1, n);
		r = resize_view_write(v, (old_alt - g.array_sect) * PART_SECTOR, zeros, n, d);
		if (r < 0)
			return r;
	}
	part_result(e, new_end, ret);
	ret->last_usable_lba = last_usable;
	return 0;
}

int resize_table_grow(struct resize_view *v, const struct part_probe *pp, uint32_t want,
		      struct diag *d, struct resize_part *ret)
{
	const struct part_probe_entry *e = NULL;
	int r;

	if (pp->kind == PART_PROBE_NONE) {
		if (want)
			return diag_fail(d, -EINVAL, "there is no partition table, so no partition "
					 "%u: the filesystem is the whole disk (leave out "
					 "--partition)", want);
		*ret = (struct resize_part){ .old_bytes = v->old_size, .new_bytes = v->new_size };
		return 0;
	}
	r = choose_entry(pp, want, d, &e);
	if (r < 0)
		return r;
	return pp->kind == PART_PROBE_GPT ? grow_gpt(v, pp, e, d, ret) : grow_mbr(v, pp, e, d, ret);
}
