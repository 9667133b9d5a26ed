/* GPT encoder and decoder (UEFI 2.10 §5.3). Our choices are in docs/formats/gpt.md. */
#include "part/gpt.h"

#include <errno.h>
#include <string.h>

#include "part/part.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/uuid.h"

void gpt_header_encode(uint8_t *sector, const struct gpt_header *h)
{
	uint8_t g[16];

	memset(sector, 0, PART_SECTOR);
	memcpy(sector + GPT_HDR_SIGNATURE, GPT_SIGNATURE, 8);
	le32_put(sector + GPT_HDR_REVISION, h->revision);
	le32_put(sector + GPT_HDR_SIZE, h->header_size);
	le64_put(sector + GPT_HDR_MY_LBA, h->my_lba);
	le64_put(sector + GPT_HDR_ALTERNATE_LBA, h->alternate_lba);
	le64_put(sector + GPT_HDR_FIRST_USABLE_LBA, h->first_usable_lba);
	le64_put(sector + GPT_HDR_LAST_USABLE_LBA, h->last_usable_lba);
	uuid_to_guid(h->disk_uuid, g);
	memcpy(sector + GPT_HDR_DISK_GUID, g, 16);
	le64_put(sector + GPT_HDR_ENTRIES_LBA, h->entries_lba);
	le32_put(sector + GPT_HDR_N_ENTRIES, h->n_entries);
	le32_put(sector + GPT_HDR_ENTRY_SIZE, h->entry_size);
	le32_put(sector + GPT_HDR_ENTRIES_CRC, h->entries_crc);
	le32_put(sector + GPT_HDR_CRC, crc32_ieee(0, sector, h->header_size));
}

int gpt_header_decode(const uint8_t *buf, size_t len, struct diag *d, struct gpt_header *ret)
{
	struct gpt_header h = { 0 };
	uint8_t tmp[PART_SECTOR];
	uint32_t crc;

	if (len < GPT_HDR_LEN)
		return diag_fail(d, -EBADMSG, "GPT header: %zu bytes, need %d", len, GPT_HDR_LEN);
	if (memcmp(buf + GPT_HDR_SIGNATURE, GPT_SIGNATURE, 8) != 0)
		return diag_fail(d, -EBADMSG, "GPT header: signature is not \"EFI PART\"");
	h.revision = le32_get(buf + GPT_HDR_REVISION);
	/* Minor revisions are compatible; a different major one is not ours to read. */
	if ((h.revision >> 16) != 1)
		return diag_fail(d, -EBADMSG, "GPT header: revision 0x%08x, want 1.x", h.revision);
	h.header_size = le32_get(buf + GPT_HDR_SIZE);
	if (h.header_size < GPT_HDR_LEN || h.header_size > len || h.header_size > sizeof(tmp))
		return diag_fail(d, -EBADMSG, "GPT header: header size %u out of range %d..%zu",
				 h.header_size, GPT_HDR_LEN, MIN(len, sizeof(tmp)));
	memcpy(tmp, buf, h.header_size);
	memset(tmp + GPT_HDR_CRC, 0, 4);
	crc = crc32_ieee(0, tmp, h.header_size);
	if (crc != le32_get(buf + GPT_HDR_CRC))
		return diag_fail(d, -EBADMSG, "GPT header: header CRC32 0x%08x, computed 0x%08x",
				 le32_get(buf + GPT_HDR_CRC), crc);
	h.my_lba = le64_get(buf + GPT_HDR_MY_LBA);
	h.alternate_lba = le64_get(buf + GPT_HDR_ALTERNATE_LBA);
	h.first_usable_lba = le64_get(buf + GPT_HDR_FIRST_USABLE_LBA);
	h.last_usable_lba = le64_get(buf + GPT_HDR_LAST_USABLE_LBA);
	uuid_to_guid(buf + GPT_HDR_DISK_GUID, h.disk_uuid);
	h.entries_lba = le64_get(buf + GPT_HDR_ENTRIES_LBA);
	h.n_entries = le32_get(buf + GPT_HDR_N_ENTRIES);
	h.entry_size = le32_get(buf + GPT_HDR_ENTRY_SIZE);
	h.entries_crc = le32_get(buf + GPT_HDR_ENTRIES_CRC);
	*ret = h;
	return 0;
}

void gpt_entry_encode(uint8_t *p, const struct gpt_entry *e)
{
	memset(p, 0, GPT_PE_SIZE);
	uuid_to_guid(e->type_uuid, p + GPT_PE_TYPE_GUID);
	uuid_to_guid(e->uuid, p + GPT_PE_UNIQUE_GUID);
	le64_put(p + GPT_PE_FIRST_LBA, e->first_lba);
	le64_put(p + GPT_PE_LAST_LBA, e->last_lba);
	le64_put(p + GPT_PE_ATTRIBUTES, e->attributes);
	for (unsigned i = 0; i < GPT_NAME_UNITS; i++)
		le16_put(p + GPT_PE_NAME + 2 * i, e->name[i]);
}

void gpt_entry_decode(const uint8_t *p, struct gpt_entry *ret)
{
	struct gpt_entry e = { 0 };

	uuid_to_guid(p + GPT_PE_TYPE_GUID, e.type_uuid);
	uuid_to_guid(p + GPT_PE_UNIQUE_GUID, e.uuid);
	e.first_lba = le64_get(p + GPT_PE_FIRST_LBA);
	e.last_lba = le64_get(p + GPT_PE_LAST_LBA);
	e.attributes = le64_get(p + GPT_PE_ATTRIBUTES);
	for (unsigned i = 0; i < GPT_NAME_UNITS; i++)
		e.name[i] = le16_get(p + GPT_PE_NAME + 2 * i);
	*ret = e;
}

void gpt_entry_set_name(struct gpt_entry *e, const char *ascii)
{
	memset(e->name, 0, sizeof(e->name));
	for (unsigned i = 0; i < GPT_NAME_UNITS && ascii[i]; i++)
		e->name[i] = (uint8_t)ascii[i];
}

static size_t utf8_put(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

void gpt_entry_name_utf8(const struct gpt_entry *e, char *out, size_t out_len)
{
	char tmp[4];
	size_t n = 0;

	for (unsigned i = 0; i < GPT_NAME_UNITS && e->name[i]; i++) {
		uint32_t c = e->name[i];
		size_t k;

		if (c >= 0xd800 && c < 0xdc00 && i + 1 < GPT_NAME_UNITS &&
		    e->name[i + 1] >= 0xdc00 && e->name[i + 1] < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) + (e->name[i + 1] - 0xdc00u);
			i++;
		} else if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd;
		}
		k = utf8_put(tmp, c);
		if (n + k >= out_len)
			break;
		memcpy(out + n, tmp, k);
		n += k;
	}
	if (out_len > 0)
		out[n] = '\0';
}

void gpt_entries_encode(const struct part_layout *l, uint8_t *buf)
{
	memset(buf, 0, GPT_ENTRIES_BYTES);
	for (size_t i = 0; i < l->n_parts; i++) {
		const struct part_entry *p = &l->parts[i];
		struct gpt_entry e = {
			.first_lba = p->first_lba,
			.last_lba = p->first_lba + p->n_lba - 1,
			.attributes = p->attributes |
				      (p->bootable ? GPT_ATTR_LEGACY_BIOS_BOOTABLE : 0),
		};

		memcpy(e.type_uuid, p->type_uuid, 16);
		memcpy(e.uuid, p->uuid, 16);
		gpt_entry_set_name(&e, p->name);
		gpt_entry_encode(buf + (size_t)(p->number - 1) * GPT_PE_SIZE, &e);
	}
}

void gpt_copy_encode(const struct part_layout *l, int backup, uint8_t *buf)
{
	uint64_t last_lba = l->disk_bytes / PART_SECTOR - 1;
	uint8_t *entries = backup ? buf : buf + PART_SECTOR;
	uint8_t *hdr = backup ? buf + GPT_ENTRIES_BYTES : buf;
	struct gpt_header h = {
		.revision = GPT_REVISION,
		.header_size = GPT_HDR_LEN,
		.my_lba = backup ? last_lba : 1,
		.alternate_lba = backup ? 1 : last_lba,
		.first_usable_lba = l->first_usable_lba ? l->first_usable_lba : GPT_FIRST_USABLE_LBA,
		.last_usable_lba = last_lba - GPT_COPY_SECT,
		.entries_lba = backup ? last_lba - GPT_ENTRIES_SECT : 2,
		.n_entries = GPT_N_ENTRIES,
		.entry_size = GPT_PE_SIZE,
	};

	gpt_entries_encode(l, entries);
	h.entries_crc = crc32_ieee(0, entries, GPT_ENTRIES_BYTES);
	memcpy(h.disk_uuid, l->disk_uuid, 16);
	gpt_header_encode(hdr, &h);
}
