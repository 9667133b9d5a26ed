#include "part/mbr.h"

#include "part/part.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test.h"

/* Bytes 440..511 that util-linux 2.38 sfdisk writes for
 *   truncate -s 300M s.img
 *   printf 'label: dos\nlabel-id: 0x12345678\nstart=2048, type=83\n' | sfdisk s.img */
static const uint8_t sfdisk_tail[MBR_TABLE_LEN] =
	"\x78\x56\x34\x12\x00\x00\x00\x20\x21\x00\x83\x3e\x18\x26\x00\x08\x00\x00\x00\x58"
	"\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x55\xaa";

TEST(mbr_entry_lba_fields_are_little_endian)
{
	struct mbr_entry e = { .type = 0x83, .lba_first = 2048, .lba_count = 0x100000 };
	uint8_t buf[MBR_PE_SIZE];

	mbr_entry_encode(buf, &e);

	ASSERT_EQ(buf[MBR_PE_TYPE], 0x83);
	ASSERT_MEM_EQ(buf + MBR_PE_LBA_FIRST, "\x00\x08\x00\x00", 4);
	ASSERT_MEM_EQ(buf + MBR_PE_LBA_COUNT, "\x00\x00\x10\x00", 4);
}

TEST(mbr_encode_matches_sfdisk)
{
	struct mbr m = {
		.signature = 0x12345678,
		.entries = { { .type = 0x83, .lba_first = 2048, .lba_count = 614400 - 2048 } },
	};
	uint8_t sector[MBR_SIZE];

	mbr_encode(sector, &m);
	ASSERT_MEM_EQ(sector + MBR_TABLE_OFF, sfdisk_tail, MBR_TABLE_LEN);
	ASSERT_TRUE(mem_is_zero(sector, 440));
}

TEST(mbr_chs_saturates_like_fdisk)
{
	uint8_t p[3];

	mbr_chs_encode(p, 1);
	ASSERT_MEM_EQ(p, "\x00\x02\x00", 3);
	mbr_chs_encode(p, 2048);
	ASSERT_MEM_EQ(p, "\x20\x21\x00", 3);
	mbr_chs_encode(p, 1024ull * 255 * 63);
	ASSERT_MEM_EQ(p, "\xfe\xff\xff", 3);
}

TEST(mbr_protective_entry_per_uefi)
{
	struct part_layout l = { .table = PART_TABLE_EFI, .disk_bytes = 300 * PART_MIB };
	uint8_t sector[MBR_SIZE];
	struct mbr m;

	mbr_from_layout(&l, &m);
	mbr_encode(sector, &m);
	/* status 0, CHS 0/0/2, type 0xEE, CHS of LBA 614399, LBA 1, 614399 sectors */
	ASSERT_MEM_EQ(sector + MBR_PARTITION_TABLE,
		      "\x00\x00\x02\x00\xee\x3e\x18\x26\x01\x00\x00\x00\xff\x5f\x09\x00", 16);
	ASSERT_EQ(m.signature, 0);

	/* past CHS range: 0xFFFFFF; past 2 TiB: the count saturates */
	l.disk_bytes = 3ull * 1024 * 1024 * PART_MIB;
	mbr_from_layout(&l, &m);
	mbr_encode(sector, &m);
	ASSERT_MEM_EQ(sector + MBR_PARTITION_TABLE,
		      "\x00\x00\x02\x00\xee\xff\xff\xff\x01\x00\x00\x00\xff\xff\xff\xff", 16);
}

TEST(mbr_round_trip)
{
	struct mbr m = {
		.signature = 0xdeadbeef,
		.entries = { [0] = { .active = true,
				     .type = 0x83,
				     .lba_first = 2048,
				     .lba_count = 99 },
			     [3] = { .type = 0x0c, .lba_first = 4096, .lba_count = 8192 } },
	};
	uint8_t sector[MBR_SIZE];
	struct diag d = { 0 };
	struct mbr back;

	mbr_encode(sector, &m);
	ASSERT_OK(mbr_decode(sector, &d, &back));
	ASSERT_EQ(back.signature, 0xdeadbeef);
	ASSERT_MEM_EQ(&back.entries[0], &m.entries[0], sizeof(m.entries[0]));
	ASSERT_MEM_EQ(&back.entries[3], &m.entries[3], sizeof(m.entries[3]));
	ASSERT_EQ(back.entries[1].type, 0);
}

TEST(mbr_decode_rejects_bad_signature_and_status)
{
	struct mbr m = { .entries = { { .type = 0x83, .lba_first = 1, .lba_count = 1 } } };
	uint8_t sector[MBR_SIZE];
	struct diag d = { 0 };
	struct mbr back;

	mbr_encode(sector, &m);
	sector[MBR_PARTITION_TABLE + 16 + MBR_PE_STATUS] = 0x7f;
	ASSERT_ERR(mbr_decode(sector, &d, &back), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "status") != NULL);
	sector[MBR_PARTITION_TABLE + 16 + MBR_PE_STATUS] = 0;
	sector[MBR_BOOT_SIGNATURE] = 0;
	ASSERT_ERR(mbr_decode(sector, &d, &back), -EBADMSG);
}
