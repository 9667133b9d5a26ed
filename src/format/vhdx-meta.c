/* VHDX codecs (vhdx-internal.h): file type identifier, headers, region table, metadata table
 * and items, BAT geometry. Decoders treat the bytes as hostile and name the field they
 * refuse; the reader (vhdx-read.c) adds what needs the file (sizes, the log, the BAT). */
#include "format/vhdx-internal.h"

#include <errno.h>
#include <string.h>

#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/uuid.h"

/* [MS-VHDX] 2.3.4 known regions and 2.6.2 known metadata items, in on-disk GUID order. */
const uint8_t vhdx_guid_bat[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
				    0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
const uint8_t vhdx_guid_metadata[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
					 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };
const uint8_t vhdx_item_guids[VHDX_N_ITEMS][16] = {
	/* CAA16737-FA36-4D43-B3B6-33F0AA44E76B */
	[VHDX_ITEM_FILE_PARAMETERS] = { 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,
					0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b },
	/* 2FA54224-CD1B-4876-B211-5DBED83BF4B8 */
	[VHDX_ITEM_VIRTUAL_DISK_SIZE] = { 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
					  0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 },
	/* BECA12AB-B2E6-4523-93EF-C309E000C746 */
	[VHDX_ITEM_PAGE83] = { 0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45,
			       0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46 },
	/* 8141BF1D-A96F-4709-BA47-F233A8FAAB5F */
	[VHDX_ITEM_LOGICAL_SECTOR] = { 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,
				       0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f },
	/* CDA348C7-445D-4471-9CC9-E9885251C556 */
	[VHDX_ITEM_PHYSICAL_SECTOR] = { 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44,
					0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56 },
	/* A8D35F2D-B30B-454D-ABF7-D3D84834AB0C */
	[VHDX_ITEM_PARENT_LOCATOR] = { 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,
				       0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c },
};

static const char *const vhdx_item_names[VHDX_N_ITEMS] = {
	[VHDX_ITEM_FILE_PARAMETERS] = "File Parameters",
	[VHDX_ITEM_VIRTUAL_DISK_SIZE] = "Virtual Disk Size",
	[VHDX_ITEM_PAGE83] = "Page 83 Data",
	[VHDX_ITEM_LOGICAL_SECTOR] = "Logical Sector Size",
	[VHDX_ITEM_PHYSICAL_SECTOR] = "Physical Sector Size",
	[VHDX_ITEM_PARENT_LOCATOR] = "Parent Locator",
};

/* Each item's size as we write it and the least a reader accepts; its table flags. */
static const uint32_t vhdx_item_sizes[VHDX_N_ITEMS] = {
	[VHDX_ITEM_FILE_PARAMETERS] = 8, [VHDX_ITEM_VIRTUAL_DISK_SIZE] = 8,
	[VHDX_ITEM_PAGE83] = 16,         [VHDX_ITEM_LOGICAL_SECTOR] = 4,
	[VHDX_ITEM_PHYSICAL_SECTOR] = 4, [VHDX_ITEM_PARENT_LOCATOR] = 20,
};

static const uint32_t vhdx_item_flags[VHDX_N_ITEMS] = {
	[VHDX_ITEM_FILE_PARAMETERS] = VHDX_MTE_IS_REQUIRED,
	[VHDX_ITEM_VIRTUAL_DISK_SIZE] = VHDX_MTE_IS_REQUIRED | VHDX_MTE_IS_VIRTUAL_DISK,
	[VHDX_ITEM_PAGE83] = VHDX_MTE_IS_REQUIRED | VHDX_MTE_IS_VIRTUAL_DISK,
	[VHDX_ITEM_LOGICAL_SECTOR] = VHDX_MTE_IS_REQUIRED | VHDX_MTE_IS_VIRTUAL_DISK,
	[VHDX_ITEM_PHYSICAL_SECTOR] = VHDX_MTE_IS_REQUIRED | VHDX_MTE_IS_VIRTUAL_DISK,
	[VHDX_ITEM_PARENT_LOCATOR] = VHDX_MTE_IS_REQUIRED,
};

/* The items we write: all but the parent locator. */
#define VHDX_N_WRITTEN VHDX_ITEM_PARENT_LOCATOR

uint32_t vhdx_checksum(const uint8_t *buf, size_t len, size_t csum_off)
{
	static const uint8_t zero[4];
	uint32_t crc = crc32c_le(~0u, buf, csum_off);

	crc = crc32c_le(crc, zero, sizeof(zero));
	return ~crc32c_le(crc, buf + csum_off + 4, len - csum_off - 4);
}

static void vhdx_guid_format(const uint8_t *g, char out[UUID_STR_LEN])
{
	uint8_t u[UUID_LEN];

	uuid_to_guid(g, u);
	uuid_format(u, out);
}

struct vhdx_geometry vhdx_geometry_for(uint64_t virtual_size, uint32_t block_size,
				       uint32_t logical_sector)
{
	struct vhdx_geometry g = { .block_size = block_size };

	g.chunk_ratio = VHDX_SECTORS_PER_CHUNK * logical_sector / block_size;
	g.n_blocks = virtual_size / block_size + (virtual_size % block_size != 0);
	/* 2.5: the last entry is the last payload block's, no sector bitmap entry after it */
	g.n_bat = g.n_blocks ? g.n_blocks + (g.n_blocks - 1) / g.chunk_ratio : 0;
	return g;
}

void vhdx_file_id_encode(uint8_t *buf, const char *creator)
{
	memset(buf, 0, VHDX_FID_SIZE);
	memcpy(buf + VHDX_FID_SIGNATURE, "vhdxfile", 8);
	for (size_t i = 0; creator[i] && i < 255; i++)
		le16_put(buf + VHDX_FID_CREATOR + 2 * i, (uint8_t)creator[i]);
}

void vhdx_header_encode(uint8_t *buf, const struct vhdx_header *h)
{
	memset(buf, 0, VHDX_HDR_SIZE);
	memcpy(buf + VHDX_HDR_SIGNATURE, "head", 4);
	le64_put(buf + VHDX_HDR_SEQUENCE, h->sequence);
	memcpy(buf + VHDX_HDR_FILE_WRITE_GUID, h->file_write_guid, 16);
	memcpy(buf + VHDX_HDR_DATA_WRITE_GUID, h->data_write_guid, 16);
	memcpy(buf + VHDX_HDR_LOG_GUID, h->log_guid, 16);
	le16_put(buf + VHDX_HDR_LOG_VERSION, h->log_version);
	le16_put(buf + VHDX_HDR_VERSION, h->version);
	le32_put(buf + VHDX_HDR_LOG_LENGTH, h->log_length);
	le64_put(buf + VHDX_HDR_LOG_OFFSET, h->log_offset);
	le32_put(buf + VHDX_HDR_CHECKSUM, vhdx_checksum(buf, VHDX_HDR_SIZE, VHDX_HDR_CHECKSUM));
}

int vhdx_header_decode(const uint8_t *buf, struct diag *d, struct vhdx_header *ret)
{
	struct vhdx_header h = { 0 };
	uint32_t sum = le32_get(buf + VHDX_HDR_CHECKSUM);

	if (memcmp(buf + VHDX_HDR_SIGNATURE, "head", 4) != 0)
		return diag_fail(d, -EBADMSG, "no signature \"head\"");
	if (sum != vhdx_checksum(buf, VHDX_HDR_SIZE, VHDX_HDR_CHECKSUM))
		return diag_fail(d, -EBADMSG, "bad checksum 0x%08x", sum);
	h.sequence = le64_get(buf + VHDX_HDR_SEQUENCE);
	memcpy(h.file_write_guid, buf + VHDX_HDR_FILE_WRITE_GUID, 16);
	memcpy(h.data_write_guid, buf + VHDX_HDR_DATA_WRITE_GUID, 16);
	memcpy(h.log_guid, buf + VHDX_HDR_LOG_GUID, 16);
	h.log_version = le16_get(buf + VHDX_HDR_LOG_VERSION);
	h.version = le16_get(buf + VHDX_HDR_VERSION);
	h.log_length = le32_get(buf + VHDX_HDR_LOG_LENGTH);
	h.log_offset = le64_get(buf + VHDX_HDR_LOG_OFFSET);
	if (h.version != 1)
		return diag_fail(d, -ENOTSUP, "version %u is not supported (only 1)", h.version);
	*ret = h;
	return 0;
}

static void vhdx_region_entry_encode(uint8_t *p, const uint8_t *guid, const struct vhdx_region *r)
{
	memcpy(p + VHDX_RTE_GUID, guid, 16);
	le64_put(p + VHDX_RTE_FILE_OFFSET, r->offset);
	le32_put(p + VHDX_RTE_LENGTH, r->length);
	le32_put(p + VHDX_RTE_REQUIRED, 1);
}

void vhdx_region_table_encode(uint8_t *buf, const struct vhdx_regions *r)
{
	memset(buf, 0, VHDX_RT_SIZE);
	memcpy(buf + VHDX_RT_SIGNATURE, "regi", 4);
	le32_put(buf + VHDX_RT_ENTRY_COUNT, 2);
	vhdx_region_entry_encode(buf + VHDX_RT_ENTRIES, vhdx_guid_bat, &r->bat);
	vhdx_region_entry_encode(buf + VHDX_RT_ENTRIES + VHDX_RTE_SIZE, vhdx_guid_metadata,
				 &r->meta);
	le32_put(buf + VHDX_RT_CHECKSUM, vhdx_checksum(buf, VHDX_RT_SIZE, VHDX_RT_CHECKSUM));
}

static int vhdx_region_check(const struct vhdx_region *r, const char *name, struct diag *d)
{
	if (r->offset % VHDX_MIB != 0 || r->offset < VHDX_HEADER_SECTION_SIZE ||
	    r->offset > (1ull << 60))
		return diag_fail(d, -EBADMSG, "%s region offset %llu is not a multiple of 1 MiB "
				 "past the header section", name, (unsigned long long)r->offset);
	if (r->length % VHDX_MIB != 0 || r->length == 0)
		return diag_fail(d, -EBADMSG, "%s region length %u is not a positive multiple of "
				 "1 MiB", name, r->length);
	return 0;
}

int vhdx_region_table_decode(const uint8_t *buf, struct diag *d, struct vhdx_regions *ret)
{
	struct vhdx_regions out = { 0 };
	uint32_t sum = le32_get(buf + VHDX_RT_CHECKSUM);
	uint32_t n = le32_get(buf + VHDX_RT_ENTRY_COUNT);
	bool have_bat = false, have_meta = false;
	int r;

	if (memcmp(buf + VHDX_RT_SIGNATURE, "regi", 4) != 0)
		return diag_fail(d, -EBADMSG, "no signature \"regi\"");
	if (sum != vhdx_checksum(buf, VHDX_RT_SIZE, VHDX_RT_CHECKSUM))
		return diag_fail(d, -EBADMSG, "bad checksum 0x%08x", sum);
	if (n > VHDX_RT_MAX_ENTRIES)
		return diag_fail(d, -EBADMSG, "entry count %u exceeds %u", n, VHDX_RT_MAX_ENTRIES);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = buf + VHDX_RT_ENTRIES + (size_t)i * VHDX_RTE_SIZE;
		struct vhdx_region reg = { le64_get(p + VHDX_RTE_FILE_OFFSET),
					   le32_get(p + VHDX_RTE_LENGTH) };
		bool *seen = NULL;

		if (memcmp(p + VHDX_RTE_GUID, vhdx_guid_bat, 16) == 0) {
			seen = &have_bat;
			out.bat = reg;
		} else if (memcmp(p + VHDX_RTE_GUID, vhdx_guid_metadata, 16) == 0) {
			seen = &have_meta;
			out.meta = reg;
		} else if (le32_get(p + VHDX_RTE_REQUIRED) & 1) {
			char g[UUID_STR_LEN];

			vhdx_guid_format(p + VHDX_RTE_GUID, g);
			return diag_fail(d, -ENOTSUP, "region %s is required but unknown", g);
		} else
			continue;
		if (*seen)
			return diag_fail(d, -EBADMSG, "the %s region is listed twice",
					 seen == &have_bat ? "BAT" : "metadata");
		*seen = true;
	}
	if (!have_bat || !have_meta)
		return diag_fail(d, -EBADMSG, "no %s region", have_bat ? "metadata" : "BAT");
	r = vhdx_region_check(&out.bat, "BAT", d);
	if (r >= 0)
		r = vhdx_region_check(&out.meta, "metadata", d);
	if (r < 0)
		return r;
	if (out.bat.offset < out.meta.offset + out.meta.length &&
	    out.meta.offset < out.bat.offset + out.bat.length)
		return diag_fail(d, -EBADMSG, "the BAT and metadata regions overlap");
	*ret = out;
	return 0;
}

void vhdx_meta_encode(uint8_t *buf, const struct vhdx_meta *m)
{
	uint8_t *items = buf + VHDX_MT_SIZE;
	uint32_t off = VHDX_MT_SIZE;

	memset(buf, 0, VHDX_META_ENCODED_SIZE);
	memcpy(buf + VHDX_MT_SIGNATURE, "metadata", 8);
	le16_put(buf + VHDX_MT_ENTRY_COUNT, VHDX_N_WRITTEN);
	for (int i = 0; i < VHDX_N_WRITTEN; i++) {
		uint8_t *e = buf + VHDX_MT_ENTRIES + (size_t)i * VHDX_MTE_SIZE;

		memcpy(e + VHDX_MTE_ITEM_ID, vhdx_item_guids[i], 16);
		le32_put(e + VHDX_MTE_OFFSET, off);
		le32_put(e + VHDX_MTE_LENGTH, vhdx_item_sizes[i]);
		le32_put(e + VHDX_MTE_FLAGS, vhdx_item_flags[i]);
		off += vhdx_item_sizes[i];
	}
	/* the items packed in table order from 64 KiB, as qemu-img lays them out */
	le32_put(items, m->block_size);
	le32_put(items + 4, m->fp_flags);
	le64_put(items + 8, m->virtual_size);
	memcpy(items + 16, m->page83, 16);
	le32_put(items + 32, m->logical_sector);
	le32_put(items + 36, m->physical_sector);
}

static int vhdx_item_find(const uint8_t *guid)
{
	for (int i = 0; i < VHDX_N_ITEMS; i++)
		if (memcmp(guid, vhdx_item_guids[i], 16) == 0)
			return i;
	return -1;
}

int vhdx_meta_table_decode(const uint8_t *buf, uint32_t region_length, struct diag *d,
			   struct vhdx_meta_items *ret)
{
	struct vhdx_meta_items out = { 0 };
	uint16_t n = le16_get(buf + VHDX_MT_ENTRY_COUNT);

	if (memcmp(buf + VHDX_MT_SIGNATURE, "metadata", 8) != 0)
		return diag_fail(d, -EBADMSG, "no metadata table signature \"metadata\"");
	if (n > VHDX_MT_MAX_ENTRIES)
		return diag_fail(d, -EBADMSG, "metadata entry count %u exceeds %u", n,
				 VHDX_MT_MAX_ENTRIES);
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *e = buf + VHDX_MT_ENTRIES + (size_t)i * VHDX_MTE_SIZE;
		uint32_t off = le32_get(e + VHDX_MTE_OFFSET), len = le32_get(e + VHDX_MTE_LENGTH);
		int k = vhdx_item_find(e + VHDX_MTE_ITEM_ID);
		char g[UUID_STR_LEN];

		vhdx_guid_format(e + VHDX_MTE_ITEM_ID, g);
		if (len > 0 && (off < VHDX_MT_SIZE || len > VHDX_MT_ITEM_MAX ||
				off > region_length || len > region_length - off))
			return diag_fail(d, -EBADMSG, "metadata item %s at %u+%u lies outside the "
					 "%u-byte region's item area", g, off, len, region_length);
		if (k < 0) {
			if (le32_get(e + VHDX_MTE_FLAGS) & VHDX_MTE_IS_REQUIRED)
				return diag_fail(d, -ENOTSUP, "metadata item %s is required but "
						 "unknown", g);
			continue;
		}
		if (out.present[k])
			return diag_fail(d, -EBADMSG, "metadata item %s is listed twice",
					 vhdx_item_names[k]);
		if (len < vhdx_item_sizes[k])
			return diag_fail(d, -EBADMSG, "metadata item %s is %u bytes, not %u",
					 vhdx_item_names[k], len, vhdx_item_sizes[k]);
		out.present[k] = true;
		out.offset[k] = off;
		out.length[k] = len;
	}
	for (int k = 0; k < VHDX_N_WRITTEN; k++)
		if (!out.present[k])
			return diag_fail(d, -EBADMSG, "no %s metadata item", vhdx_item_names[k]);
	*ret = out;
	return 0;
}

int vhdx_meta_values_decode(const uint8_t *const item[VHDX_N_ITEMS],
			    const struct vhdx_meta_items *items, struct diag *d,
			    struct vhdx_meta *ret)
{
	struct vhdx_meta m = { 0 };

	m.block_size = le32_get(item[VHDX_ITEM_FILE_PARAMETERS]);
	m.fp_flags = le32_get(item[VHDX_ITEM_FILE_PARAMETERS] + 4);
	m.virtual_size = le64_get(item[VHDX_ITEM_VIRTUAL_DISK_SIZE]);
	memcpy(m.page83, item[VHDX_ITEM_PAGE83], 16);
	m.logical_sector = le32_get(item[VHDX_ITEM_LOGICAL_SECTOR]);
	m.physical_sector = le32_get(item[VHDX_ITEM_PHYSICAL_SECTOR]);
	if (m.fp_flags & VHDX_FP_HAS_PARENT || items->present[VHDX_ITEM_PARENT_LOCATOR])
		return diag_fail(d, -ENOTSUP, "differencing disks (with a parent) are not "
				 "supported; merge it into its parent first");
	if (m.block_size < VHDX_BLOCK_MIN || m.block_size > VHDX_BLOCK_MAX ||
	    (m.block_size & (m.block_size - 1)) != 0)
		return diag_fail(d, -EBADMSG, "block size %u is not a power of two from 1 MiB to "
				 "256 MiB", m.block_size);
	if (m.logical_sector != 512 && m.logical_sector != 4096)
		return diag_fail(d, -EBADMSG, "logical sector size %u is neither 512 nor 4096",
				 m.logical_sector);
	if (m.physical_sector != 512 && m.physical_sector != 4096)
		return diag_fail(d, -EBADMSG, "physical sector size %u is neither 512 nor 4096",
				 m.physical_sector);
	if (m.virtual_size > VHDX_MAX_SIZE || m.virtual_size % m.logical_sector != 0)
		return diag_fail(d, -EBADMSG, "virtual disk size %llu is not a multiple of the "
				 "%u-byte sector up to 64 TiB",
				 (unsigned long long)m.virtual_size, m.logical_sector);
	*ret = m;
	return 0;
}
