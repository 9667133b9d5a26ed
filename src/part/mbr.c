/* MBR encoder and decoder (UEFI 2.10 §5.2.1 legacy MBR, §5.2.3 protective MBR).
 * Our choices are in docs/formats/mbr.md. */
#include "part/mbr.h"

#include <errno.h>
#include <string.h>

#include "part/part.h"
#include "util/diag.h"
#include "util/endian.h"

#define CHS_HEADS 255u
#define CHS_SECTORS 63u
#define CHS_MAX_CYL 1023u

void mbr_chs_encode(uint8_t p[3], uint64_t lba)
{
	uint64_t c = lba / (CHS_HEADS * CHS_SECTORS);
	uint32_t h = (uint32_t)(lba / CHS_SECTORS % CHS_HEADS);
	uint32_t s = (uint32_t)(lba % CHS_SECTORS) + 1;

	if (c > CHS_MAX_CYL) {
		/* Not addressable: the conventional maximum, as fdisk writes it. */
		c = CHS_MAX_CYL;
		h = CHS_HEADS - 1;
		s = CHS_SECTORS;
	}
	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(s | ((c >> 2) & 0xc0));
	p[2] = (uint8_t)c;
}

void mbr_entry_encode(uint8_t *p, const struct mbr_entry *e)
{
	memset(p, 0, MBR_PE_SIZE);
	if (e->type == 0)
		return;
	p[MBR_PE_STATUS] = e->active ? 0x80 : 0x00;
	mbr_chs_encode(p + MBR_PE_CHS_FIRST, e->lba_first);
	p[MBR_PE_TYPE] = e->type;
	mbr_chs_encode(p + MBR_PE_CHS_LAST, (uint64_t)e->lba_first + e->lba_count - 1);
	if (e->type == MBR_TYPE_GPT_PROTECTIVE &&
	    (uint64_t)e->lba_first + e->lba_count - 1 >=
		    CHS_HEADS * CHS_SECTORS * (CHS_MAX_CYL + 1))
		/* UEFI 2.10 table 5-4: 0xFFFFFF when the last block has no CHS address. */
		memset(p + MBR_PE_CHS_LAST, 0xff, 3);
	le32_put(p + MBR_PE_LBA_FIRST, e->lba_first);
	le32_put(p + MBR_PE_LBA_COUNT, e->lba_count);
}

int mbr_entry_decode(const uint8_t *p, struct diag *d, struct mbr_entry *ret)
{
	struct mbr_entry e = { 0 };

	if (p[MBR_PE_STATUS] != 0x00 && p[MBR_PE_STATUS] != 0x80)
		return diag_fail(d, -EBADMSG,
				 "MBR partition entry: status byte 0x%02x is not 0x00 or 0x80",
				 p[MBR_PE_STATUS]);
	e.active = p[MBR_PE_STATUS] == 0x80;
	e.type = p[MBR_PE_TYPE];
	e.lba_first = le32_get(p + MBR_PE_LBA_FIRST);
	e.lba_count = le32_get(p + MBR_PE_LBA_COUNT);
	*ret = e;
	return 0;
}

void mbr_encode(uint8_t sector[MBR_SIZE], const struct mbr *m)
{
	memset(sector, 0, MBR_SIZE);
	le32_put(sector + MBR_DISK_SIGNATURE, m->signature);
	for (unsigned i = 0; i < MBR_N_ENTRIES; i++)
		mbr_entry_encode(sector + MBR_PARTITION_TABLE + MBR_PE_SIZE * i, &m->entries[i]);
	sector[MBR_BOOT_SIGNATURE] = 0x55;
	sector[MBR_BOOT_SIGNATURE + 1] = 0xaa;
}

int mbr_decode(const uint8_t sector[MBR_SIZE], struct diag *d, struct mbr *ret)
{
	struct mbr m = { 0 };
	int r;

	if (sector[MBR_BOOT_SIGNATURE] != 0x55 || sector[MBR_BOOT_SIGNATURE + 1] != 0xaa)
		return diag_fail(d, -EBADMSG, "MBR: no 0x55 0xaa boot signature at byte 510");
	m.signature = le32_get(sector + MBR_DISK_SIGNATURE);
	for (unsigned i = 0; i < MBR_N_ENTRIES; i++) {
		r = mbr_entry_decode(sector + MBR_PARTITION_TABLE + MBR_PE_SIZE * i, d,
				     &m.entries[i]);
		if (r < 0)
			return diag_prepend(d, r, "MBR entry %u", i + 1);
	}
	*ret = m;
	return 0;
}

void mbr_from_layout(const struct part_layout *l, struct mbr *ret)
{
	uint64_t disk_lba = l->disk_bytes / PART_SECTOR;
	struct mbr m = { 0 };

	if (part_table_is_mbr(l->table)) {
		m.signature = l->mbr_signature;
		for (size_t i = 0; i < l->n_parts && i < MBR_N_ENTRIES; i++) {
			const struct part_entry *p = &l->parts[i];

			m.entries[p->number - 1] = (struct mbr_entry){
				.active = p->bootable,
				.type = p->mbr_type,
				.lba_first = (uint32_t)p->first_lba,
				.lba_count = (uint32_t)p->n_lba,
			};
		}
	} else if (l->table != PART_TABLE_NONE) {
		/* One 0xEE entry over the whole disk after LBA 0 (UEFI 2.10 table 5-4). */
		m.entries[0] = (struct mbr_entry){
			.type = MBR_TYPE_GPT_PROTECTIVE,
			.lba_first = 1,
			.lba_count =
				disk_lba - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(disk_lba - 1),
		};
	}
	*ret = m;
}
