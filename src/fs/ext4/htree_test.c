#include "fs/ext4/htree.h"

#include "fs/ext4/csum_test_vectors.h"
#include "util/endian.h"
#include "util/test.h"

/* Known answers from e2fsprogs 1.47.0:
 *   debugfs -R "dx_hash -h ALG -s SEED NAME" img
 * ALG half_md4 / tea / legacy are the signed-char variants; HASHALG_3/4/5 the unsigned ones. */
static const struct ext4_dir_hash seed_uuid = {
	/* 6ba7b810-9dad-11d1-80b4-00c04fd430c8 as four le32 words */
	.seed = { 0x10b8a76bu, 0xd111ad9du, 0xc000b480u, 0xc830d44fu },
};

struct vec {
	enum ext4_hash_version v;
	bool uns, zero_seed;
	const char *name;
	uint32_t major, minor;
};

#define L40 "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define HI "caf\xc3\xa9-\xff\x80"

static const struct vec vecs[] = {
	{ EXT4_HASH_LEGACY, false, false, "hello", 0x32252546, 0 },
	{ EXT4_HASH_LEGACY, false, false, "a", 0xe74b53e2, 0 },
	{ EXT4_HASH_LEGACY, false, false, L40, 0xd3aa8e04, 0 },
	{ EXT4_HASH_LEGACY, false, false, HI, 0x29730c82, 0 },
	{ EXT4_HASH_LEGACY, false, true, "hello", 0x32252546, 0 },
	{ EXT4_HASH_LEGACY, true, false, "hello", 0x32252546, 0 },
	{ EXT4_HASH_LEGACY, true, false, HI, 0xa8875488, 0 },
	{ EXT4_HASH_HALF_MD4, false, false, "hello", 0xe0ed1c4c, 0x8c6ca53c },
	{ EXT4_HASH_HALF_MD4, false, false, "a", 0xa7e8b272, 0xb17ccbde },
	{ EXT4_HASH_HALF_MD4, false, false, L40, 0xb81c68f6, 0xcfbd8aee },
	{ EXT4_HASH_HALF_MD4, false, false, HI, 0xea19431a, 0xddd2ecff },
	{ EXT4_HASH_HALF_MD4, false, true, "hello", 0x1746da32, 0x420013b5 },
	{ EXT4_HASH_HALF_MD4, false, true, "a", 0xd5fa7d7a, 0xacb48187 },
	{ EXT4_HASH_HALF_MD4, false, true, L40, 0x4059ff28, 0x8b91bf23 },
	{ EXT4_HASH_HALF_MD4, false, true, HI, 0xf8949282, 0x27feace7 },
	{ EXT4_HASH_HALF_MD4, true, false, "hello", 0xe0ed1c4c, 0x8c6ca53c },
	{ EXT4_HASH_HALF_MD4, true, false, HI, 0x1eac93ca, 0x0c1b4ac2 },
	{ EXT4_HASH_TEA, false, false, "hello", 0x8a1569ec, 0xc3c70bce },
	{ EXT4_HASH_TEA, false, false, "a", 0xe39e6046, 0x14cf9ff3 },
	{ EXT4_HASH_TEA, false, false, L40, 0x2ecb9b18, 0x6d0ce316 },
	{ EXT4_HASH_TEA, false, false, HI, 0xcb9c1b2a, 0x58739eb6 },
	{ EXT4_HASH_TEA, false, true, "hello", 0x6f5bb1a8, 0x231917c2 },
	{ EXT4_HASH_TEA, false, true, "a", 0x6d0ea4c0, 0xc18922df },
	{ EXT4_HASH_TEA, false, true, L40, 0x4d79b500, 0xa70a1877 },
	{ EXT4_HASH_TEA, false, true, HI, 0x4004da98, 0x32a7cece },
	{ EXT4_HASH_TEA, true, false, "hello", 0x8a1569ec, 0xc3c70bce },
	{ EXT4_HASH_TEA, true, false, HI, 0x14b4127c, 0xc21187cc },
};

TEST(dirhash_known_answers)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct ext4_dir_hash h = seed_uuid;
		uint32_t minor = 0xdeadbeef, major;

		h.version = vecs[i].v;
		h.unsigned_chars = vecs[i].uns;
		if (vecs[i].zero_seed)
			memset(h.seed, 0, sizeof(h.seed));
		major = ext4_dirhash(&h, (const uint8_t *)vecs[i].name, strlen(vecs[i].name), &minor);
		if (major != vecs[i].major || minor != vecs[i].minor)
			fprintf(stderr, "  vector %zu (%s)\n", i, vecs[i].name);
		ASSERT_EQ(major, vecs[i].major);
		ASSERT_EQ(minor, vecs[i].minor);
	}
}

/* Names of 32 (one half-MD4 block), 33 and 255 bytes exercise the block loop and padding. */
TEST(dirhash_long_names)
{
	static const struct {
		size_t len;
		char c;
		uint32_t md4, md4_minor, tea, tea_minor;
	} v[] = {
		{ 32, 'y', 0xfdb4705e, 0x7fa28981, 0xa5b76bdc, 0xfb1638e7 },
		{ 33, 'z', 0xc5a38670, 0x595a62c7, 0x460513ec, 0xc65e5127 },
		{ 255, 'x', 0xfb29bf30, 0x52d2c448, 0x9ba1aa20, 0x80fb4dde },
	};
	uint8_t name[255];

	for (size_t i = 0; i < 3; i++) {
		struct ext4_dir_hash h = seed_uuid;
		uint32_t minor;

		memset(name, v[i].c, v[i].len);
		h.version = EXT4_HASH_HALF_MD4;
		ASSERT_EQ(ext4_dirhash(&h, name, v[i].len, &minor), v[i].md4);
		ASSERT_EQ(minor, v[i].md4_minor);
		h.version = EXT4_HASH_TEA;
		ASSERT_EQ(ext4_dirhash(&h, name, v[i].len, &minor), v[i].tea);
		ASSERT_EQ(minor, v[i].tea_minor);
	}
}

TEST(dirhash_low_bit_clear)
{
	struct ext4_dir_hash h = seed_uuid;
	char name[16];

	h.version = EXT4_HASH_HALF_MD4;
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(name, sizeof(name), "n%d", i);

		ASSERT_EQ(ext4_dirhash(&h, (const uint8_t *)name, (size_t)n, NULL) & 1, 0);
	}
}

TEST(dx_limits)
{
	ASSERT_EQ(ext4_dx_root_limit(true), 507);
	ASSERT_EQ(ext4_dx_root_limit(false), 508);
	ASSERT_EQ(ext4_dx_node_limit(true), 510);
	ASSERT_EQ(ext4_dx_node_limit(false), 511);
}

/* The dx root e2fsck -D wrote for /big in csum_test_vectors.h, byte for byte. */
TEST(dx_root_matches_e2fsck)
{
	static const uint8_t uuid[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
					  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	static const struct ext4_dx_entry e[] = {
		{ 0, 1 }, { 0x486ac506, 2 }, { 0x8098e82c, 3 }, { 0xc1beadc8, 4 }
	};
	uint8_t want[4096], got[4096];

	memset(want, 0, sizeof(want));
	for (size_t i = 0; i < sizeof(kat_dx_root) / sizeof(kat_dx_root[0]); i++)
		memcpy(want + kat_dx_root[i].off, kat_dx_root[i].bytes, kat_dx_root[i].len);
	memset(got, 0x55, sizeof(got));
	ext4_dx_root_encode(got, 12, 2, EXT4_HASH_HALF_MD4, 0, e, 4, true,
			    ext4_inode_seed(ext4_csum_seed(uuid), 12, 0x9abcdef1u));
	ASSERT_MEM_EQ(got, want, sizeof(got));
}

TEST(dx_node_layout)
{
	static const struct ext4_dx_entry e[] = { { 0x1234, 7 }, { 0x5679, 8 } };
	uint8_t b[4096];

	ext4_dx_node_encode(b, e, 2, true, 42);
	ASSERT_EQ(le32_get(b), 0);
	ASSERT_EQ(le16_get(b + 4), 4096);
	ASSERT_EQ(b[6], 0);
	ASSERT_EQ(b[7], 0);
	ASSERT_EQ(le16_get(b + 8), 510);
	ASSERT_EQ(le16_get(b + 10), 2);
	ASSERT_EQ(le32_get(b + 12), 7);
	ASSERT_EQ(le32_get(b + 16), 0x5679); /* continuation bit kept */
	ASSERT_EQ(le32_get(b + 20), 8);
	ASSERT_EQ(le32_get(b + 4088), 0);
	ASSERT_TRUE(le32_get(b + 4092) != 0);
	ext4_dx_node_encode(b, e, 2, false, 42);
	ASSERT_EQ(le16_get(b + 8), 511);
	ASSERT_EQ(le32_get(b + 4092), 0);
}
