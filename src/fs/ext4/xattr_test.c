#include "fs/ext4/ext4-internal.h"

#include "fs/ext4/csum_test_vectors.h"
#include "tree/tree.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/test.h"

static const uint8_t uuid[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
				  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };

#define XA(n, v, l) { (char *)(n), (uint8_t *)(v), (l) }

/* VFS ACL as getfattr -e hex shows it for
 * user::rw- user:1000:r-- group::r-- group:100:rw- mask::rw- other::r-- */
static const uint8_t vfs_acl[] = {
	0x02, 0, 0, 0,
	0x01, 0, 0x06, 0, 0xff, 0xff, 0xff, 0xff,
	0x02, 0, 0x04, 0, 0xe8, 0x03, 0, 0,
	0x04, 0, 0x04, 0, 0xff, 0xff, 0xff, 0xff,
	0x08, 0, 0x06, 0, 0x64, 0, 0, 0,
	0x10, 0, 0x06, 0, 0xff, 0xff, 0xff, 0xff,
	0x20, 0, 0x04, 0, 0xff, 0xff, 0xff, 0xff,
};

/* The in-inode area (inode + 160 .. 256) mke2fs -d wrote for that file (e2fsprogs 1.47.0;
 * it leaves e_hash 0, which the kernel and e2fsck accept; we store the hash). */
static const uint8_t mke2fs_ibody_acl[96] = {
	0x00, 0x00, 0x02, 0xea, 0x00, 0x02, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, [60] = 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x02,
	0x00, 0x04, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00, 0x08, 0x00, 0x06, 0x00,
	0x64, 0x00, 0x00, 0x00, 0x10, 0x00, 0x06, 0x00, 0x20, 0x00, 0x04, 0x00,
};

static uint32_t name_hash_value(const char *name, const uint8_t *v, size_t len)
{
	uint32_t h = 0;

	while (*name)
		h = (h << 5) ^ (h >> 27) ^ (uint8_t)*name++;
	for (size_t i = 0; i < len; i += 4) {
		uint8_t w[4] = { 0 };

		memcpy(w, v + i, len - i < 4 ? len - i : 4);
		h = (h << 16) ^ (h >> 16) ^ le32_get(w);
	}
	return h;
}

TEST(xattr_inode_acl_matches_mke2fs)
{
	struct tree_xattr x[] = { XA("system.posix_acl_access", vfs_acl, sizeof(vfs_acl)) };
	struct diag d = { 0 };
	uint8_t inode[256];
	bool needs_block = true;

	ASSERT_OK(ext4_xattr_placement(x, 1, &d, &needs_block));
	ASSERT_TRUE(!needs_block);
	memset(inode, 0x77, sizeof(inode));
	ext4_xattr_inode_encode(inode, x, 1);
	for (int i = 0; i < 160; i++)
		ASSERT_EQ(inode[i], 0x77);
	ASSERT_MEM_EQ(inode + 160, mke2fs_ibody_acl, 16);
	ASSERT_MEM_EQ(inode + 180, mke2fs_ibody_acl + 20, 76);
	ASSERT_EQ(le32_get(inode + 176), name_hash_value("", mke2fs_ibody_acl + 60, 36));
}

/* user.big = 300 x 'v' in the external block mke2fs wrote (csum_test_vectors.h, block 22). */
TEST(xattr_block_matches_mke2fs)
{
	uint8_t v[300], want[4096], got[4096];
	struct tree_xattr x[] = { XA("user.big", v, sizeof(v)) };
	struct diag d = { 0 };
	bool needs_block = false;

	memset(v, 'v', sizeof(v));
	memset(want, 0, sizeof(want));
	for (size_t i = 0; i < sizeof(kat_xattr_blk) / sizeof(kat_xattr_blk[0]); i++)
		memcpy(want + kat_xattr_blk[i].off, kat_xattr_blk[i].bytes, kat_xattr_blk[i].len);
	ASSERT_OK(ext4_xattr_placement(x, 1, &d, &needs_block));
	ASSERT_TRUE(needs_block);
	memset(got, 0x55, sizeof(got));
	ext4_xattr_block_encode(got, x, 1, ext4_csum_seed(uuid), 22);
	/* e_hash known answer from mke2fs; the block hash is the rehash of one entry */
	ASSERT_EQ(le32_get(want + 32 + 12), 0xf3317677u);
	ASSERT_EQ(le32_get(got + 12), 0xf3317677u);
	/* mke2fs leaves h_hash 0; everything else, checksum aside, is identical */
	ASSERT_MEM_EQ(got, want, 12);
	ASSERT_MEM_EQ(got + 20, want + 20, 4096 - 20);
	le32_put(got + 12, 0);
	ext4_xattr_block_csum_set(got, 4096, ext4_csum_seed(uuid), 22);
	ASSERT_MEM_EQ(got, want, 4096);
}

/* Test-only decoder for one entry. */
struct dec {
	uint8_t name_len, index;
	uint16_t offs;
	uint32_t inum, size, hash;
	const uint8_t *name;
};

static struct dec dec_at(const uint8_t *p)
{
	return (struct dec){ p[0], p[1], le16_get(p + 2), le32_get(p + 4), le32_get(p + 8),
			     le32_get(p + 12), p + 16 };
}

TEST(xattr_block_capability_acl_user)
{
	static const uint8_t cap[20] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00 };
	uint8_t big[100];
	struct tree_xattr x[] = {
		XA("security.capability", cap, sizeof(cap)),
		XA("system.posix_acl_access", vfs_acl, sizeof(vfs_acl)),
		XA("user.comment", big, sizeof(big)),
		XA("user.a", "", 0),
	};
	struct diag d = { 0 };
	bool needs_block = false;
	uint8_t b[4096];
	uint32_t seed = ext4_csum_seed(uuid), bh = 0;
	struct dec e;

	memset(big, 'c', sizeof(big));
	ASSERT_OK(ext4_xattr_placement(x, 4, &d, &needs_block));
	ASSERT_TRUE(needs_block);
	ext4_xattr_block_encode(b, x, 4, seed, 1234);
	ASSERT_EQ(le32_get(b), 0xea020000u);
	ASSERT_EQ(le32_get(b + 4), 1);
	ASSERT_EQ(le32_get(b + 8), 1);
	for (int i = 20; i < 32; i++)
		ASSERT_EQ(b[i], 0);

	/* order: user.a (1, len 1), user.comment (1, len 7), ACL (2), security (6) */
	e = dec_at(b + 32);
	ASSERT_EQ(e.name_len, 1);
	ASSERT_EQ(e.index, 1);
	ASSERT_EQ(e.size, 0);
	ASSERT_EQ(e.offs, 0);
	ASSERT_EQ(e.inum, 0);
	ASSERT_MEM_EQ(e.name, "a", 1);
	ASSERT_EQ(e.hash, name_hash_value("a", NULL, 0));
	bh = e.hash;

	e = dec_at(b + 52);
	ASSERT_EQ(e.name_len, 7);
	ASSERT_EQ(e.index, 1);
	ASSERT_EQ(e.size, 100);
	ASSERT_EQ(e.offs, 4096 - 100);
	ASSERT_MEM_EQ(e.name, "comment", 7);
	ASSERT_MEM_EQ(b + e.offs, big, 100);
	ASSERT_EQ(e.hash, name_hash_value("comment", big, 100));
	bh = (bh << 16) ^ (bh >> 16) ^ e.hash;

	e = dec_at(b + 76);
	ASSERT_EQ(e.name_len, 0);
	ASSERT_EQ(e.index, 2);
	ASSERT_EQ(e.size, 36);
	ASSERT_EQ(e.offs, 4096 - 100 - 36);
	ASSERT_MEM_EQ(b + e.offs, mke2fs_ibody_acl + 60, 36);
	bh = (bh << 16) ^ (bh >> 16) ^ e.hash;

	e = dec_at(b + 92);
	ASSERT_EQ(e.name_len, 10);
	ASSERT_EQ(e.index, 6);
	ASSERT_EQ(e.size, 20);
	ASSERT_EQ(e.offs, 4096 - 136 - 20);
	ASSERT_MEM_EQ(e.name, "capability", 10);
	ASSERT_MEM_EQ(b + e.offs, cap, 20);
	ASSERT_EQ(e.hash, name_hash_value("capability", cap, 20));
	bh = (bh << 16) ^ (bh >> 16) ^ e.hash;

	ASSERT_EQ(le32_get(b + 120), 0); /* end of entries */
	ASSERT_EQ(le32_get(b + 12), bh);
	/* the checksum over le64 block number and the block with h_checksum zeroed */
	{
		uint8_t c[4096], nr[8];
		uint32_t crc;

		memcpy(c, b, sizeof(c));
		le32_put(c + 16, 0);
		le64_put(nr, 1234);
		crc = crc32c_le(crc32c_le(seed, nr, 8), c, 4096);
		ASSERT_EQ(le32_get(b + 16), crc);
	}
}

TEST(xattr_inode_packing_and_overflow)
{
	uint8_t v[64];
	struct tree_xattr x[] = { XA("trusted.x", v, 60), XA("user.y", v, 4) };
	struct diag d = { 0 };
	bool nb = true;
	uint8_t inode[256] = { 0 };
	struct dec e;

	memset(v, 'q', sizeof(v));
	/* 4 magic + 20 + 20 + 4 end + 4 + 60 = 112 > 96: a block */
	ASSERT_OK(ext4_xattr_placement(x, 2, &d, &nb));
	ASSERT_TRUE(nb);
	x[0].len = 40; /* 4 + 20 + 20 + 4 + 4 + 40 = 92 <= 96 */
	ASSERT_OK(ext4_xattr_placement(x, 2, &d, &nb));
	ASSERT_TRUE(!nb);
	ext4_xattr_inode_encode(inode, x, 2);
	ASSERT_EQ(le32_get(inode + 160), 0xea020000u);
	e = dec_at(inode + 164); /* user.y first (index 1) */
	ASSERT_EQ(e.index, 1);
	ASSERT_EQ(e.offs, 92 - 4);
	ASSERT_MEM_EQ(inode + 164 + e.offs, "qqqq", 4);
	e = dec_at(inode + 184);
	ASSERT_EQ(e.index, 4);
	ASSERT_EQ(e.offs, 92 - 4 - 40);
	ASSERT_EQ(le32_get(inode + 204), 0);
}

TEST(xattr_rejects)
{
	static const uint8_t bad_acl[] = { 1, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0 };
	static uint8_t huge[5000];
	struct tree_xattr x[1] = { XA("os2.foo", "x", 1) };
	struct diag d = { 0 };
	bool nb;

	ASSERT_ERR(ext4_xattr_placement(x, 1, &d, &nb), -ENOTSUP);
	ASSERT_TRUE(strstr(d.msg, "os2.foo") != NULL);
	x[0] = (struct tree_xattr)XA("system.posix_acl_default", bad_acl, sizeof(bad_acl));
	ASSERT_ERR(ext4_xattr_placement(x, 1, &d, &nb), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "system.posix_acl_default") != NULL);
	x[0] = (struct tree_xattr)XA("user.", "x", 1);
	ASSERT_ERR(ext4_xattr_placement(x, 1, &d, &nb), -EINVAL);
	x[0] = (struct tree_xattr)XA("user.huge", huge, sizeof(huge));
	ASSERT_ERR(ext4_xattr_placement(x, 1, &d, &nb), -E2BIG);
	ASSERT_OK(ext4_xattr_placement(NULL, 0, &d, &nb));
	ASSERT_TRUE(!nb);
}
