/* GUID Partition Table header and entry array (UEFI 2.10 §5.3). Little-endian; GUIDs in the
 * mixed-endian EFI encoding (util/uuid.h uuid_to_guid). See docs/formats/gpt.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;
struct part_layout;

/* GPT header, UEFI 2.10 table 5-5. */
enum {
	GPT_HDR_SIGNATURE = 0,	       /* "EFI PART" */
	GPT_HDR_REVISION = 8,	       /* le32, 0x00010000 */
	GPT_HDR_SIZE = 12,	       /* le32, 92 */
	GPT_HDR_CRC = 16,	       /* le32, CRC32 of GPT_HDR_SIZE bytes with this field 0 */
	GPT_HDR_RESERVED = 20,	       /* le32, zero */
	GPT_HDR_MY_LBA = 24,	       /* le64 */
	GPT_HDR_ALTERNATE_LBA = 32,    /* le64 */
	GPT_HDR_FIRST_USABLE_LBA = 40, /* le64 */
	GPT_HDR_LAST_USABLE_LBA = 48,  /* le64 */
	GPT_HDR_DISK_GUID = 56,	       /* 16 bytes */
	GPT_HDR_ENTRIES_LBA = 72,      /* le64 */
	GPT_HDR_N_ENTRIES = 80,	       /* le32 */
	GPT_HDR_ENTRY_SIZE = 84,       /* le32 */
	GPT_HDR_ENTRIES_CRC = 88,      /* le32 */
	GPT_HDR_LEN = 92,
};

/* GPT partition entry, UEFI 2.10 table 5-6. */
enum {
	GPT_PE_TYPE_GUID = 0,	 /* 16 bytes; all zero = unused entry */
	GPT_PE_UNIQUE_GUID = 16, /* 16 bytes */
	GPT_PE_FIRST_LBA = 32,	 /* le64 */
	GPT_PE_LAST_LBA = 40,	 /* le64, inclusive */
	GPT_PE_ATTRIBUTES = 48,	 /* le64 */
	GPT_PE_NAME = 56,	 /* 36 UTF-16LE code units */
	GPT_PE_SIZE = 128,
};

#define GPT_SIGNATURE "EFI PART"
#define GPT_REVISION 0x00010000u
#define GPT_NAME_UNITS 36
#define GPT_N_ENTRIES 128u
#define GPT_ENTRIES_BYTES (GPT_N_ENTRIES * GPT_PE_SIZE) /* 16 KiB = 32 sectors */
#define GPT_ENTRIES_SECT (GPT_ENTRIES_BYTES / 512u)
/* LBA 0 (MBR), 1 (header), 2..33 (entries): the first usable LBA. */
#define GPT_FIRST_USABLE_LBA (2u + GPT_ENTRIES_SECT)
/* Header plus entry array: the primary copy at LBA 1, the backup at the disk's last 33. */
#define GPT_COPY_SECT (1u + GPT_ENTRIES_SECT)

#define GPT_ATTR_REQUIRED (1ull << 0)
#define GPT_ATTR_NO_BLOCK_IO (1ull << 1)
#define GPT_ATTR_LEGACY_BIOS_BOOTABLE (1ull << 2)

struct gpt_header {
	uint32_t revision;
	uint32_t header_size;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable_lba;
	uint64_t last_usable_lba;
	uint8_t disk_uuid[16]; /* RFC 4122 byte order */
	uint64_t entries_lba;
	uint32_t n_entries;
	uint32_t entry_size;
	uint32_t entries_crc;
};

struct gpt_entry {
	uint8_t type_uuid[16]; /* RFC 4122 byte order */
	uint8_t uuid[16];
	uint64_t first_lba;
	uint64_t last_lba;
	uint64_t attributes;
	uint16_t name[GPT_NAME_UNITS];
};

/* Encode into a 512-byte sector (the rest zeroed) and stamp the header CRC. */
void gpt_header_encode(uint8_t *sector, const struct gpt_header *h);
/* Check signature, revision, header size (92..len) and CRC. -EBADMSG naming the field. */
int gpt_header_decode(const uint8_t *buf, size_t len, struct diag *d, struct gpt_header *ret);
void gpt_entry_encode(uint8_t *p, const struct gpt_entry *e);
void gpt_entry_decode(const uint8_t *p, struct gpt_entry *ret);
/* ASCII name into UTF-16 code units, truncated to 36. */
void gpt_entry_set_name(struct gpt_entry *e, const char *ascii);
/* The name as NUL-terminated UTF-8 (unpaired surrogates become U+FFFD); out_len >= 109. */
void gpt_entry_name_utf8(const struct gpt_entry *e, char *out, size_t out_len);

/* The layout's entry array (GPT_ENTRIES_BYTES) into buf. */
void gpt_entries_encode(const struct part_layout *l, uint8_t *buf);
/* Header + entries as they sit on the disk: primary (LBA 1..33: header first) or backup
 * (last 33 LBAs: entries first, header in the disk's last sector). buf: GPT_COPY_SECT sectors. */
void gpt_copy_encode(const struct part_layout *l, int backup, uint8_t *buf);
