/* Decoding an existing image's MBR or GPT for `inspect`. The image is hostile: every offset,
 * length and count is checked before it is used (docs/formats/gpt.md, "What we reject"). */
#include "part/part.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/gpt.h"
#include "part/mbr.h"
#include "part/types.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* Far above any real table (128 entries = 16 KiB), small enough to read at once. */
#define PROBE_MAX_ENTRIES_BYTES (1024u * 1024u)
#define PROBE_MAX_ENTRY_SIZE 4096u

struct part_probe *part_probe_free(struct part_probe *p)
{
	if (!p)
		return NULL;
	free(p->parts);
	free(p);
	return NULL;
}

static int read_fd(void *ctx, void *buf, size_t len, uint64_t off, struct diag *d)
{
	int r = pread_full(*(const int *)ctx, buf, len, off);

	if (r < 0)
		return diag_fail(d, r, "%s", strerror(-r));
	return 0;
}

static int read_at(const struct part_probe_io *io, void *buf, size_t len, uint64_t off,
		   struct diag *d, const char *what)
{
	int r = io->read(io->ctx, buf, len, off, d);

	if (r < 0)
		return diag_prepend(d, r, "cannot read %s (%zu bytes at offset %llu)", what, len,
				    (unsigned long long)off);
	return 0;
}

/* Header fields against the disk: where it is, where its array is, what is usable. */
static int gpt_check_header(const struct gpt_header *h, uint64_t disk_lba, uint64_t want_lba,
			    struct diag *d)
{
	uint64_t array_bytes, array_sect, array_end;

	if (h->my_lba != want_lba)
		return diag_fail(d, -EBADMSG, "GPT header at LBA %llu: MyLBA is %llu",
				 (unsigned long long)want_lba, (unsigned long long)h->my_lba);
	if (h->entry_size < GPT_PE_SIZE || h->entry_size > PROBE_MAX_ENTRY_SIZE ||
	    (h->entry_size & (h->entry_size - 1)) != 0)
		return diag_fail(
			d, -EBADMSG,
			"GPT header: SizeOfPartitionEntry %u is not 128 * 2^n (at most %u)",
			h->entry_size, PROBE_MAX_ENTRY_SIZE);
	array_bytes = (uint64_t)h->n_entries * h->entry_size;
	if (array_bytes > PROBE_MAX_ENTRIES_BYTES)
		return diag_fail(
			d, -EBADMSG,
			"GPT header: NumberOfPartitionEntries %u of %u bytes exceeds %u bytes",
			h->n_entries, h->entry_size, PROBE_MAX_ENTRIES_BYTES);
	if (h->first_usable_lba > h->last_usable_lba || h->last_usable_lba >= disk_lba)
		return diag_fail(
			d, -EBADMSG,
			"GPT header: usable LBAs %llu..%llu do not fit the %llu-sector image",
			(unsigned long long)h->first_usable_lba,
			(unsigned long long)h->last_usable_lba, (unsigned long long)disk_lba);
	if (h->my_lba >= h->first_usable_lba && h->my_lba <= h->last_usable_lba)
		return diag_fail(d, -EBADMSG, "GPT header: its own LBA %llu is in the usable area",
				 (unsigned long long)h->my_lba);
	array_sect = DIV_ROUND_UP(array_bytes, PART_SECTOR);
	array_end = h->entries_lba + array_sect; /* no overflow: both bounded below */
	if (h->entries_lba == 0 || h->entries_lba >= disk_lba || array_end > disk_lba)
		return diag_fail(
			d, -EBADMSG,
			"GPT header: PartitionEntryLBA %llu (%llu sectors) runs past the end "
			"of the %llu-sector image",
			(unsigned long long)h->entries_lba, (unsigned long long)array_sect,
			(unsigned long long)disk_lba);
	if (array_sect > 0 && h->entries_lba <= h->last_usable_lba &&
	    array_end > h->first_usable_lba)
		return diag_fail(
			d, -EBADMSG,
			"GPT header: entry array LBA %llu..%llu overlaps usable LBAs %llu..%llu",
			(unsigned long long)h->entries_lba, (unsigned long long)(array_end - 1),
			(unsigned long long)h->first_usable_lba,
			(unsigned long long)h->last_usable_lba);
	if (h->my_lba >= h->entries_lba && h->my_lba < array_end)
		return diag_fail(d, -EBADMSG, "GPT header: entry array covers the header's LBA");
	return 0;
}

/* Read, check and decode one header and its array; *ret_array is the raw array. */
static int gpt_read_copy(const struct part_probe_io *io, uint64_t disk_lba, uint64_t lba, struct diag *d,
			 struct gpt_header *ret, uint8_t **ret_array)
{
	_cleanup_free_ uint8_t *array = NULL;
	uint8_t sector[PART_SECTOR];
	struct gpt_header h;
	size_t array_bytes;
	uint32_t crc;
	int r;

	if (lba >= disk_lba)
		return diag_fail(d, -EBADMSG, "GPT header LBA %llu is past the %llu-sector image",
				 (unsigned long long)lba, (unsigned long long)disk_lba);
	r = read_at(io, sector, sizeof(sector), lba * PART_SECTOR, d, "GPT header");
	if (r < 0)
		return r;
	r = gpt_header_decode(sector, sizeof(sector), d, &h);
	if (r < 0)
		return r;
	r = gpt_check_header(&h, disk_lba, lba, d);
	if (r < 0)
		return r;
	array_bytes = (size_t)h.n_entries * h.entry_size;
	array = xcalloc(1, array_bytes + 1);
	r = read_at(io, array, array_bytes, h.entries_lba * PART_SECTOR, d, "GPT entry array");
	if (r < 0)
		return r;
	crc = crc32_ieee(0, array, array_bytes);
	if (crc != h.entries_crc)
		return diag_fail(d, -EBADMSG,
				 "GPT header: PartitionEntryArrayCRC32 0x%08x, computed 0x%08x",
				 h.entries_crc, crc);
	*ret = h;
	*ret_array = TAKE_PTR(array);
	return 0;
}

static int cmp_first_lba(const void *a, const void *b)
{
	const struct part_probe_entry *x = *(const struct part_probe_entry *const *)a;
	const struct part_probe_entry *y = *(const struct part_probe_entry *const *)b;

	return x->first_lba < y->first_lba ? -1 : x->first_lba > y->first_lba;
}

static int check_overlaps(const struct part_probe *p, struct diag *d)
{
	_cleanup_free_ const struct part_probe_entry **v = NULL;

	if (p->n_parts < 2)
		return 0;
	v = xreallocarray(NULL, p->n_parts, sizeof(*v));
	for (size_t i = 0; i < p->n_parts; i++)
		v[i] = &p->parts[i];
	qsort(v, p->n_parts, sizeof(*v), cmp_first_lba);
	for (size_t i = 1; i < p->n_parts; i++)
		if (v[i - 1]->first_lba + v[i - 1]->n_lba > v[i]->first_lba)
			return diag_fail(d, -EBADMSG, "partitions %u and %u overlap",
					 v[i - 1]->number, v[i]->number);
	return 0;
}

static int gpt_decode_entries(struct part_probe *p, const struct gpt_header *h,
			      const uint8_t *array, struct diag *d)
{
	p->parts = xreallocarray(NULL, h->n_entries ? h->n_entries : 1, sizeof(*p->parts));
	for (uint32_t i = 0; i < h->n_entries; i++) {
		struct part_probe_entry *e;
		struct gpt_entry g;

		gpt_entry_decode(array + (size_t)i * h->entry_size, &g);
		if (uuid_is_null(g.type_uuid))
			continue;
		if (g.first_lba > g.last_lba || g.first_lba < h->first_usable_lba ||
		    g.last_lba > h->last_usable_lba)
			return diag_fail(
				d, -EBADMSG,
				"GPT entry %u: LBA %llu..%llu outside usable LBAs %llu..%llu",
				i + 1, (unsigned long long)g.first_lba,
				(unsigned long long)g.last_lba,
				(unsigned long long)h->first_usable_lba,
				(unsigned long long)h->last_usable_lba);
		e = &p->parts[p->n_parts++];
		*e = (struct part_probe_entry){
			.number = i + 1,
			.first_lba = g.first_lba,
			.n_lba = g.last_lba - g.first_lba + 1,
			.attributes = g.attributes,
			.bootable = (g.attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE) != 0,
		};
		memcpy(e->type_uuid, g.type_uuid, 16);
		memcpy(e->uuid, g.uuid, 16);
		gpt_entry_name_utf8(&g, e->name, sizeof(e->name));
	}
	return check_overlaps(p, d);
}

/* How the backup copy differs from the primary in what both must say (UEFI 2.10 §5.3.2). */
static const char *gpt_copies_differ(const struct gpt_header *h, const struct gpt_header *bh)
{
	if (memcmp(h->disk_uuid, bh->disk_uuid, 16) != 0)
		return "DiskGUID";
	if (h->first_usable_lba != bh->first_usable_lba ||
	    h->last_usable_lba != bh->last_usable_lba)
		return "usable LBAs";
	if (h->n_entries != bh->n_entries || h->entry_size != bh->entry_size)
		return "entry count or size";
	if (h->entries_crc != bh->entries_crc)
		return "entries (PartitionEntryArrayCRC32)";
	if (bh->alternate_lba != h->my_lba)
		return "AlternateLBA";
	return NULL;
}

static int probe_gpt(const struct part_probe_io *io, uint64_t disk_lba, struct part_probe *p, struct diag *d)
{
	_cleanup_free_ uint8_t *array = NULL, *backup_array = NULL;
	struct gpt_header h, bh;
	struct diag scratch = { 0 };
	const char *differ;
	int r;

	r = gpt_read_copy(io, disk_lba, 1, d, &h, &array);
	if (r < 0) {
		/* The backup sits in the last sector (UEFI 2.10 §5.3.2). */
		if (disk_lba < 2 ||
		    gpt_read_copy(io, disk_lba, disk_lba - 1, &scratch, &h, &array) < 0)
			return diag_prepend(d, r, "primary GPT (no valid backup either)");
		p->backup_used = true;
		snprintf(p->gpt_problem, sizeof(p->gpt_problem), "primary GPT: %s",
			 diag_message(d, r));
	} else if (h.alternate_lba >= disk_lba) {
		p->backup_bad = true;
		snprintf(p->gpt_problem, sizeof(p->gpt_problem),
			 "backup GPT: AlternateLBA %llu is past the %llu-sector image (truncated?)",
			 (unsigned long long)h.alternate_lba, (unsigned long long)disk_lba);
	} else if ((r = gpt_read_copy(io, disk_lba, h.alternate_lba, &scratch, &bh,
				      &backup_array)) < 0) {
		p->backup_bad = true;
		snprintf(p->gpt_problem, sizeof(p->gpt_problem), "backup GPT at LBA %llu: %s",
			 (unsigned long long)h.alternate_lba, diag_message(&scratch, r));
	} else if ((differ = gpt_copies_differ(&h, &bh)) != NULL) {
		p->backup_bad = true;
		snprintf(p->gpt_problem, sizeof(p->gpt_problem),
			 "backup GPT at LBA %llu: its %s differ from the primary's",
			 (unsigned long long)h.alternate_lba, differ);
	} else if (h.alternate_lba != disk_lba - 1) {
		p->backup_bad = true;
		snprintf(p->gpt_problem, sizeof(p->gpt_problem),
			 "backup GPT at LBA %llu is not in the last sector (LBA %llu): the image "
			 "was grown?",
			 (unsigned long long)h.alternate_lba, (unsigned long long)(disk_lba - 1));
	}
	p->kind = PART_PROBE_GPT;
	memcpy(p->disk_uuid, h.disk_uuid, 16);
	p->first_usable_lba = h.first_usable_lba;
	p->last_usable_lba = h.last_usable_lba;
	r = gpt_decode_entries(p, &h, array, d);
	if (r < 0)
		return diag_prepend(d, r, "%s GPT", p->backup_used ? "backup" : "primary");
	return 0;
}

static int probe_mbr(const struct mbr *m, uint64_t disk_lba, struct part_probe *p, struct diag *d)
{
	p->kind = PART_PROBE_MBR;
	p->mbr_signature = m->signature;
	p->parts = xcalloc(MBR_N_ENTRIES, sizeof(*p->parts));
	for (unsigned i = 0; i < MBR_N_ENTRIES; i++) {
		const struct mbr_entry *e = &m->entries[i];

		if (e->type == 0)
			continue;
		if (e->lba_count == 0 || e->lba_first == 0 ||
		    (uint64_t)e->lba_first + e->lba_count > disk_lba)
			return diag_fail(
				d, -EBADMSG,
				"MBR entry %u: sectors %u+%u do not fit the %llu-sector image",
				i + 1, e->lba_first, e->lba_count, (unsigned long long)disk_lba);
		p->parts[p->n_parts++] = (struct part_probe_entry){
			.number = i + 1,
			.first_lba = e->lba_first,
			.n_lba = e->lba_count,
			.mbr_type = e->type,
			.bootable = e->active,
		};
	}
	return check_overlaps(p, d);
}

static bool number_has_role(const struct part_probe *p, size_t i, uint32_t number,
			    enum part_role want)
{
	const struct part_probe_entry *e = &p->parts[i];
	enum part_role role;

	if (e->number != number)
		return false;
	if (want == PART_ROLE_ROOT)
		return part_type_is_linux_root(e->type_uuid);
	return part_type_role(e->type_uuid, &role) == 0 && role == want;
}

/* Which make-disk-image layout the partitions match, by number and type. */
static enum part_table guess_layout(const struct part_probe *p)
{
	static const struct {
		enum part_table table;
		size_t n;
		enum part_role roles[3];
	} gpt_layouts[] = {
		{ PART_TABLE_LEGACY_GPT, 2, { PART_ROLE_BIOS_BOOT, PART_ROLE_ROOT } },
		{ PART_TABLE_EFI, 2, { PART_ROLE_ESP, PART_ROLE_ROOT } },
		{ PART_TABLE_EFIXBOOTLDR,
		  3,
		  { PART_ROLE_ESP, PART_ROLE_XBOOTLDR, PART_ROLE_ROOT } },
		{ PART_TABLE_HYBRID, 3, { PART_ROLE_ESP, PART_ROLE_BIOS_BOOT, PART_ROLE_ROOT } },
	};

	if (p->kind == PART_PROBE_MBR) {
		if (p->n_parts == 1 && p->parts[0].number == 1 &&
		    p->parts[0].mbr_type == MBR_TYPE_LINUX)
			return PART_TABLE_LEGACY;
		if (p->n_parts == 2 && p->parts[0].number == 1 && p->parts[1].number == 2 &&
		    p->parts[0].mbr_type == MBR_TYPE_FAT32_LBA && p->parts[0].bootable &&
		    p->parts[1].mbr_type == MBR_TYPE_LINUX)
			return PART_TABLE_LEGACY_BOOT;
		return PART_TABLE_NONE;
	}
	if (p->kind != PART_PROBE_GPT)
		return PART_TABLE_NONE;
	for (size_t t = 0; t < ARRAY_SIZE(gpt_layouts); t++) {
		size_t i;

		if (p->n_parts != gpt_layouts[t].n)
			continue;
		for (i = 0; i < p->n_parts; i++)
			if (!number_has_role(p, i, (uint32_t)i + 1, gpt_layouts[t].roles[i]))
				break;
		if (i == p->n_parts)
			return gpt_layouts[t].table;
	}
	return PART_TABLE_NONE;
}

int part_probe(int fd, uint64_t size, struct diag *d, struct part_probe **ret)
{
	struct part_probe_io io = { read_fd, &fd };

	return part_probe_io(&io, size, d, ret);
}

int part_probe_io(const struct part_probe_io *io, uint64_t size, struct diag *d,
		  struct part_probe **ret)
{
	_cleanup_(part_probe_freep) struct part_probe *p = xcalloc(1, sizeof(*p));
	uint64_t disk_lba = size / PART_SECTOR;
	uint8_t sector[MBR_SIZE];
	struct diag scratch;
	bool gpt = false;
	struct mbr m;
	int r;

	p->disk_bytes = size;
	if (disk_lba == 0) {
		*ret = TAKE_PTR(p);
		return 0;
	}
	r = read_at(io, sector, sizeof(sector), 0, d, "sector 0");
	if (r < 0)
		return r;
	/* No signature, or status bytes no MBR has (a filesystem's boot sector): no table. */
	if (mbr_decode(sector, &scratch, &m) < 0) {
		*ret = TAKE_PTR(p);
		return 0;
	}
	for (unsigned i = 0; i < MBR_N_ENTRIES; i++)
		gpt = gpt || m.entries[i].type == MBR_TYPE_GPT_PROTECTIVE;
	r = gpt ? probe_gpt(io, disk_lba, p, d) : probe_mbr(&m, disk_lba, p, d);
	if (r < 0)
		return r;
	if (gpt)
		p->mbr_signature = m.signature;
	p->layout = guess_layout(p);
	*ret = TAKE_PTR(p);
	return 0;
}
