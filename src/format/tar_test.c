#include "format/tar.h"

#include <errno.h>
#include <string.h>

#include "util/diag.h"
#include "util/test.h"

static void put(uint8_t *b, size_t off, const char *s, size_t n)
{
	memcpy(b + off, s, n);
}

/* The header GNU tar 1.34 writes for a 10 MiB file with data in its first 4 KiB and in the
 * 4 KiB at 4997120: truncate -s 10M disk.raw, bytes written at 1000 and 5000000, then
 * tar --format=oldgnu -S --owner=root:0 --group=root:0 --mtime=@0 --mode=0644 -cf x disk.raw */
TEST(tar_oldgnu_sparse_header_matches_gnu_tar)
{
	static const struct tar_extent ext[] = { { 0, 4096 }, { 4997120, 4096 } };
	struct tar_member m = { .name = "disk.raw", .size = 10u << 20, .mtime = 0,
				.mode = 0644, .extents = ext, .n_extents = 2 };
	uint8_t want[TAR_BLOCK] = { 0 }, got[TAR_BLOCK];

	put(want, 0, "disk.raw", 8);
	put(want, 100, "0000644\0" "0000000\0" "0000000\0" "00000020000\0" "00000000000\0"
		       "020422\0 S", 57);
	put(want, 257, "ustar  \0root", 12);
	put(want, 297, "root", 4);
	put(want, 386, "00000000000\0" "00000010000\0" "00023040000\0" "00000010000\0"
		       "00050000000\0" "00000000000\0", 72);
	put(want, 483, "00050000000", 11);
	ASSERT_EQ(tar_header_blocks(&m), 1);
	ASSERT_EQ(tar_member_data_size(&m), 8192);
	tar_header_encode(got, &m);
	ASSERT_MEM_EQ(got, want, TAR_BLOCK);
}

TEST(tar_sparse_extension_blocks_round_trip)
{
	struct tar_extent ext[30];
	struct tar_member m = { .name = "disk.raw", .size = 100ull << 30, .mode = 0644,
				.mtime = 1700000000, .extents = ext, .n_extents = 30 };
	uint8_t buf[3 * TAR_BLOCK];
	struct tar_extent map[TAR_GNU_SPARSE_IN_EXT];
	struct tar_entry e;
	struct diag d = { 0 };
	size_t n;
	bool more;

	for (size_t i = 0; i < 30; i++)
		ext[i] = (struct tar_extent){ .off = i * (3ull << 30), .len = 512 };
	/* 30 entries and the closing one: 4 in the header, 21 + 6 in two extension blocks */
	ASSERT_EQ(tar_header_blocks(&m), 3);
	tar_header_encode(buf, &m);
	ASSERT_EQ(tar_header_decode(buf, &e, &d), 1);
	ASSERT_TRUE(e.sparse && e.extended);
	ASSERT_EQ(e.realsize, 100ull << 30); /* past 8 GiB: base-256 */
	ASSERT_EQ(buf[TAR_GNU_REALSIZE], 0x80);
	ASSERT_EQ(e.size, 30 * 512);
	ASSERT_EQ(e.n_map, 4);
	ASSERT_EQ(e.map[3].off, 9ull << 30);
	ASSERT_OK(tar_sparse_ext_decode(buf + TAR_BLOCK, map, &n, &more, &d));
	ASSERT_EQ(n, 21);
	ASSERT_TRUE(more);
	ASSERT_EQ(map[0].off, 12ull << 30);
	ASSERT_OK(tar_sparse_ext_decode(buf + 2 * TAR_BLOCK, map, &n, &more, &d));
	ASSERT_EQ(n, 6);
	ASSERT_TRUE(!more);
	ASSERT_EQ(map[5].off, 100ull << 30);
	ASSERT_EQ(map[5].len, 0);
}

TEST(tar_ustar_header_and_bad_checksum)
{
	struct tar_member m = { .name = "nixos.ovf", .size = 1234, .mode = 0644, .mtime = 1 };
	uint8_t b[TAR_BLOCK];
	struct tar_entry e;
	struct diag d = { 0 };

	tar_header_encode(b, &m);
	ASSERT_MEM_EQ(b + TAR_MAGIC, "ustar\0" "00", 8);
	ASSERT_EQ(tar_header_decode(b, &e, &d), 1);
	ASSERT_STR_EQ(e.name, "nixos.ovf");
	ASSERT_EQ(e.size, 1234);
	ASSERT_TRUE(!e.sparse);
	b[0] ^= 1;
	ASSERT_ERR(tar_header_decode(b, &e, &d), -EBADMSG);
	memset(b, 0, sizeof(b));
	ASSERT_EQ(tar_header_decode(b, &e, &d), 0);
}

TEST(tar_number_fields_are_checked)
{
	uint64_t v;

	ASSERT_OK(tar_number_decode((const uint8_t *)"0000644\0", 8, &v));
	ASSERT_EQ(v, 0644);
	ASSERT_OK(tar_number_decode((const uint8_t *)"  644 \0\0", 8, &v));
	ASSERT_EQ(v, 0644);
	ASSERT_ERR(tar_number_decode((const uint8_t *)"00009\0\0\0", 8, &v), -EBADMSG);
	ASSERT_ERR(tar_number_decode((const uint8_t *)"\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
				     12, &v), -EBADMSG);
}
