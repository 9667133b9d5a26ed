/* Names: the forbidden-name check, 8.3 basis names and numeric tails, long-name checksums and
 * entries (known answers from an mtools-written image), DOS times. */
#include "fs/fat/fat-internal.h"

#include "util/endian.h"
#include "util/test.h"

TEST(lfn_checksum_known_answers)
{
	/* mcopy "a long file name.txt" and ".hidden" onto a mkfs.fat image: the checksum bytes
	 * of their long-name entries */
	ASSERT_EQ(fat_lfn_checksum((const uint8_t *)"ALONGF~1TXT"), 0x02);
	ASSERT_EQ(fat_lfn_checksum((const uint8_t *)"HIDDEN~1   "), 0x4d);
}

struct basis_case {
	const char *name, *basis;
	bool lossy, tail;
};

static const struct basis_case basis_cases[] = {
	{ "BOOTX64.EFI", "BOOTX64 EFI", false, false },
	{ "EFI", "EFI        ", false, false },
	{ "efi", "EFI        ", true, false },
	{ "Readme.txt", "README  TXT", true, false },
	{ "a long file name.txt", "ALONGFILTXT", true, true },
	{ ".hidden", "HIDDEN     ", true, true },
	{ "loader.conf", "LOADER  CON", true, true },
	{ "x.tar.gz", "XTAR    GZ ", true, true },
	{ "a+b", "A_B        ", true, true },
	{ "\xc3\xbc" "ber", "_BER       ", true, true },
	{ "nixos-generation-1.conf", "NIXOS-GECON", true, true },
	{ "ABCDEFGH.IJK", "ABCDEFGHIJK", false, false },
	{ "ABCDEFGHI", "ABCDEFGH   ", true, true },
	{ "foo.", "FOO        ", true, true },
};

TEST(short_basis_table)
{
	for (size_t i = 0; i < sizeof(basis_cases) / sizeof(basis_cases[0]); i++) {
		const struct basis_case *c = &basis_cases[i];
		uint8_t out[11];
		bool lossy, tail;

		fat_short_basis(c->name, strlen(c->name), out, &lossy, &tail);
		if (memcmp(out, c->basis, 11) || lossy != c->lossy || tail != c->tail) {
			fprintf(stderr, "  %s: \"%.11s\" lossy %d tail %d\n", c->name, out, lossy,
				tail);
			ASSERT_TRUE(false);
		}
	}
}

TEST(short_tail_shortens_the_base)
{
	uint8_t n[11];

	memcpy(n, "ALONGFILTXT", 11);
	fat_short_tail(n, 1);
	ASSERT_MEM_EQ(n, "ALONGF~1TXT", 11);
	memcpy(n, "ALONGFILTXT", 11);
	fat_short_tail(n, 123);
	ASSERT_MEM_EQ(n, "ALON~123TXT", 11);
	memcpy(n, "AB      C  ", 11);
	fat_short_tail(n, 7);
	ASSERT_MEM_EQ(n, "AB~7    C  ", 11);
}

TEST(name_check)
{
	const char *why;

	ASSERT_OK(fat_name_check("loader.conf", 11, &why));
	ASSERT_OK(fat_name_check("\xc3\xbc name", 7, &why));
	ASSERT_ERR(fat_name_check("a:b", 3, &why), -EINVAL);
	ASSERT_ERR(fat_name_check("a?", 2, &why), -EINVAL);
	ASSERT_ERR(fat_name_check("a\\b", 3, &why), -EINVAL);
	ASSERT_ERR(fat_name_check("a\tb", 3, &why), -EINVAL);
	ASSERT_ERR(fat_name_check("trailing.", 9, &why), -EINVAL);
	ASSERT_ERR(fat_name_check("trailing ", 9, &why), -EINVAL);
}

TEST(utf16_from_utf8)
{
	uint16_t u[FAT_NAME_MAX];
	size_t n;
	char long_name[300];

	ASSERT_OK(fat_utf16_from_utf8("a\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80", 10, u, &n));
	ASSERT_EQ(n, 5);
	ASSERT_EQ(u[0], 'a');
	ASSERT_EQ(u[1], 0xfc);
	ASSERT_EQ(u[2], 0x20ac);
	ASSERT_EQ(u[3], 0xd83d);
	ASSERT_EQ(u[4], 0xde00);
	ASSERT_ERR(fat_utf16_from_utf8("\xc0\xaf", 2, u, &n), -EILSEQ);
	ASSERT_ERR(fat_utf16_from_utf8("\xed\xa0\x80", 3, u, &n), -EILSEQ);
	ASSERT_ERR(fat_utf16_from_utf8("\xe2\x82", 2, u, &n), -EILSEQ);
	memset(long_name, 'x', sizeof(long_name));
	ASSERT_OK(fat_utf16_from_utf8(long_name, 255, u, &n));
	ASSERT_ERR(fat_utf16_from_utf8(long_name, 256, u, &n), -ENAMETOOLONG);
}

TEST(lfn_entry_layout)
{
	uint16_t u[FAT_NAME_MAX];
	uint8_t e[FAT_DIRENT_SIZE];
	size_t n;

	/* 14 units: two entries; the second holds "t" then 0x0000 then 0xffff padding */
	ASSERT_OK(fat_utf16_from_utf8("abcdefghijklmn", 14, u, &n));
	ASSERT_EQ(fat_lfn_count(n), 2);
	fat_lfn_encode(e, u, n, 0, 0x5a);
	ASSERT_EQ(e[FAT_LFN_ORD], 0x01);
	ASSERT_EQ(e[FAT_LFN_ATTR], 0x0f);
	ASSERT_EQ(e[FAT_LFN_CHKSUM], 0x5a);
	ASSERT_MEM_EQ(e + FAT_LFN_NAME1, "a\0b\0c\0d\0e\0", 10);
	ASSERT_MEM_EQ(e + FAT_LFN_NAME2, "f\0g\0h\0i\0j\0k\0", 12);
	ASSERT_MEM_EQ(e + FAT_LFN_NAME3, "l\0m\0", 4);
	fat_lfn_encode(e, u, n, 1, 0x5a);
	ASSERT_EQ(e[FAT_LFN_ORD], 0x42);
	ASSERT_MEM_EQ(e + FAT_LFN_NAME1, "n\0\0\0\xff\xff\xff\xff\xff\xff", 10);
	ASSERT_EQ(le16_get(e + FAT_LFN_FST_CLUS_LO), 0);
}

TEST(dos_time)
{
	uint16_t date, time;

	fat_dos_time(0, &date, &time); /* before 1980: 1980-01-01 00:00:00 */
	ASSERT_EQ(date, (0 << 9) | (1 << 5) | 1);
	ASSERT_EQ(time, 0);
	fat_dos_time(1700000001, &date, &time); /* 2023-11-14 22:13:21 UTC */
	ASSERT_EQ(date, (43 << 9) | (11 << 5) | 14);
	ASSERT_EQ(time, (22 << 11) | (13 << 5) | 10);
}
