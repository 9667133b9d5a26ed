#include "part/gpt.h"

#include "part/part.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test.h"
#include "util/uuid.h"

/* Known answers from GNU parted 3.5 (Debian 12), made exactly as make-disk-image's hybrid
 * layout makes them:
 *   truncate -s 300M hybrid.img
 *   parted --script hybrid.img -- mklabel gpt mkpart ESP fat32 8MiB 256M set 1 boot on \
 *     mkpart no-fs 0 1024KiB set 2 bios_grub on mkpart primary ext4 256M -1
 * parted_header is bytes 512..603, parted_entries bytes 1024..1407 (the rest of the
 * 16 KiB array is zero); zlib.crc32 of the whole array is 0xc5e2cf62. */
static const uint8_t parted_header[GPT_HDR_LEN] =
	"\x45\x46\x49\x20\x50\x41\x52\x54\x00\x00\x01\x00\x5c\x00\x00\x00"
	"\xea\x35\xfa\x46\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"
	"\xff\x5f\x09\x00\x00\x00\x00\x00\x22\x00\x00\x00\x00\x00\x00\x00"
	"\xde\x5f\x09\x00\x00\x00\x00\x00\x5d\x31\x78\x19\x5a\x9a\x04\x49"
	"\xa4\xa4\xd8\xe7\x28\x44\x77\x61\x02\x00\x00\x00\x00\x00\x00\x00"
	"\x80\x00\x00\x00\x80\x00\x00\x00\x62\xcf\xe2\xc5";

static const uint8_t parted_entries[3 * GPT_PE_SIZE] =
	"\x28\x73\x2a\xc1\x1f\xf8\xd2\x11\xba\x4b\x00\xa0\xc9\x3e\xc9\x3b"
	"\x36\x94\xce\xc2\x60\x47\x81\x4c\x93\x95\xce\x20\x65\xa1\x1d\x80"
	"\x00\x40\x00\x00\x00\x00\x00\x00\xff\x9f\x07\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x45\x00\x53\x00\x50\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x48\x61\x68\x21\x49\x64\x6f\x6e\x74\x4e\x65\x65\x64\x45\x46\x49"
	"\x7a\xb5\x90\xa6\x18\xa2\x37\x4b\x9e\xa8\x29\x24\xf2\x25\x70\x2a"
	"\x22\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x6e\x00\x6f\x00\x2d\x00\x66\x00"
	"\x73\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\xaf\x3d\xc6\x0f\x83\x84\x72\x47\x8e\x79\x3d\x69\xd8\x47\x7d\xe4"
	"\x47\x8d\x3d\xe1\xb6\x82\x18\x49\xaf\x30\xe0\x4e\x10\x96\x8e\x70"
	"\x00\xa0\x07\x00\x00\x00\x00\x00\xff\x57\x09\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x70\x00\x72\x00\x69\x00\x6d\x00"
	"\x61\x00\x72\x00\x79\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";

TEST(gpt_header_decodes_parted_header)
{
	struct gpt_header h;
	struct diag d = { 0 };
	uint8_t want[UUID_LEN];

	ASSERT_OK(gpt_header_decode(parted_header, sizeof(parted_header), &d, &h));
	ASSERT_EQ(h.revision, 0x00010000);
	ASSERT_EQ(h.header_size, 92);
	ASSERT_EQ(h.my_lba, 1);
	ASSERT_EQ(h.alternate_lba, 614399);
	ASSERT_EQ(h.first_usable_lba, 34);
	ASSERT_EQ(h.last_usable_lba, 614366);
	ASSERT_EQ(h.entries_lba, 2);
	ASSERT_EQ(h.n_entries, 128);
	ASSERT_EQ(h.entry_size, 128);
	ASSERT_EQ(h.entries_crc, 0xc5e2cf62);
	ASSERT_OK(uuid_parse("1978315D-9A5A-4904-A4A4-D8E728447761", want));
	ASSERT_MEM_EQ(h.disk_uuid, want, UUID_LEN);
}

TEST(gpt_header_encode_matches_parted_bytes_and_crc)
{
	struct gpt_header h;
	struct diag d = { 0 };
	uint8_t sector[PART_SECTOR];

	ASSERT_OK(gpt_header_decode(parted_header, sizeof(parted_header), &d, &h));
	gpt_header_encode(sector, &h);
	ASSERT_MEM_EQ(sector, parted_header, GPT_HDR_LEN);
	ASSERT_EQ(le32_get(sector + GPT_HDR_CRC), 0x46fa35ea);
	ASSERT_TRUE(mem_is_zero(sector + GPT_HDR_LEN, PART_SECTOR - GPT_HDR_LEN));
}

TEST(gpt_entries_round_trip_parted_array_and_crc)
{
	static uint8_t array[GPT_ENTRIES_BYTES], again[GPT_ENTRIES_BYTES];
	struct gpt_entry e;
	char name[112];

	memcpy(array, parted_entries, sizeof(parted_entries));
	ASSERT_EQ(crc32_ieee(0, array, sizeof(array)), 0xc5e2cf62);
	for (unsigned i = 0; i < GPT_N_ENTRIES; i++) {
		gpt_entry_decode(array + i * GPT_PE_SIZE, &e);
		gpt_entry_encode(again + i * GPT_PE_SIZE, &e);
	}
	ASSERT_MEM_EQ(again, array, sizeof(array));

	gpt_entry_decode(array + GPT_PE_SIZE, &e);
	ASSERT_EQ(e.first_lba, 34);
	ASSERT_EQ(e.last_lba, 2048);
	gpt_entry_name_utf8(&e, name, sizeof(name));
	ASSERT_STR_EQ(name, "no-fs");
}

TEST(gpt_entry_esp_type_is_mixed_endian)
{
	struct gpt_entry e = { .first_lba = 16384, .last_lba = 524287 };
	uint8_t p[GPT_PE_SIZE];

	ASSERT_OK(uuid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", e.type_uuid));
	gpt_entry_set_name(&e, "ESP");
	gpt_entry_encode(p, &e);
	ASSERT_MEM_EQ(p + GPT_PE_TYPE_GUID,
		      "\x28\x73\x2a\xc1\x1f\xf8\xd2\x11\xba\x4b\x00\xa0\xc9\x3e\xc9\x3b", 16);
	ASSERT_MEM_EQ(p + GPT_PE_FIRST_LBA, "\x00\x40\x00\x00\x00\x00\x00\x00", 8);
	ASSERT_MEM_EQ(p + GPT_PE_LAST_LBA, "\xff\xff\x07\x00\x00\x00\x00\x00", 8);
	ASSERT_MEM_EQ(p + GPT_PE_NAME, "E\0S\0P\0\0\0", 8);
}

TEST(gpt_entry_name_utf8_handles_surrogates)
{
	struct gpt_entry e = { .name = { 0x00e9, 0xd83d, 0xde00, 0xdc00, 'x' } };
	char name[112];

	gpt_entry_name_utf8(&e, name, sizeof(name));
	/* é, U+1F600 from its pair, an unpaired low surrogate as U+FFFD, x */
	ASSERT_STR_EQ(name, "\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
}

TEST(gpt_header_decode_rejects_bad_fields)
{
	uint8_t buf[PART_SECTOR] = { 0 };
	struct gpt_header h;
	struct diag d = { 0 };

	memcpy(buf, parted_header, sizeof(parted_header));
	ASSERT_ERR(gpt_header_decode(buf, 80, &d, &h), -EBADMSG);

	buf[GPT_HDR_CRC] ^= 1;
	ASSERT_ERR(gpt_header_decode(buf, sizeof(buf), &d, &h), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "CRC32") != NULL);
	buf[GPT_HDR_CRC] ^= 1;

	le32_put(buf + GPT_HDR_SIZE, 4096);
	ASSERT_ERR(gpt_header_decode(buf, sizeof(buf), &d, &h), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "header size") != NULL);
	le32_put(buf + GPT_HDR_SIZE, 92);

	buf[0] = 'X';
	ASSERT_ERR(gpt_header_decode(buf, sizeof(buf), &d, &h), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "signature") != NULL);
}
