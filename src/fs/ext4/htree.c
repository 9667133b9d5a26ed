/* htree directory hashes and index blocks. The hashes are those of the kernel's
 * fs/ext4/hash.c (e2fsprogs lib/ext2fs/dirhash.c): legacy (dx_hack_hash), half-MD4 and TEA,
 * each with the signed-char and unsigned-char variants selected by the superblock's
 * s_flags. Index blocks follow the ext4 disk-layout document, "Hash Tree Directories".
 * See docs/formats/ext4-dir.md. */
#include "fs/ext4/htree.h"

#include <assert.h>
#include <string.h>

#include "util/endian.h"

enum {
	EXT4_DX_INFO_OFF = 0x18,   /* dx_root_info after '.' and the '..' header */
	EXT4_DX_INFO_LENGTH = 8,
	EXT4_DX_TAIL_SIZE = 8,
	EXT4_DX_ENTRY_SIZE = 8,
	EXT4_HTREE_EOF_32BIT = 0x7fffffff,
};

static uint32_t rol32(uint32_t x, unsigned s)
{
	return (x << s) | (x >> (32 - s));
}

static void tea_transform(uint32_t buf[4], const uint32_t in[4])
{
	uint32_t sum = 0, b0 = buf[0], b1 = buf[1];
	uint32_t a = in[0], b = in[1], c = in[2], d = in[3];

	for (int n = 0; n < 16; n++) {
		sum += 0x9e3779b9u;
		b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b);
		b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d);
	}
	buf[0] += b0;
	buf[1] += b1;
}

#define MD4_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD4_G(x, y, z) (((x) & (y)) + (((x) ^ (y)) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD4_ROUND(f, a, b, c, d, x, s) (a += f(b, c, d) + (x), a = rol32(a, s))
#define MD4_K2 013240474631u
#define MD4_K3 015666365641u

/* MD4's three rounds cut to 8 input words ("half MD4"). */
static void half_md4_transform(uint32_t buf[4], const uint32_t in[8])
{
	uint32_t a = buf[0], b = buf[1], c = buf[2], d = buf[3];

	MD4_ROUND(MD4_F, a, b, c, d, in[0], 3);
	MD4_ROUND(MD4_F, d, a, b, c, in[1], 7);
	MD4_ROUND(MD4_F, c, d, a, b, in[2], 11);
	MD4_ROUND(MD4_F, b, c, d, a, in[3], 19);
	MD4_ROUND(MD4_F, a, b, c, d, in[4], 3);
	MD4_ROUND(MD4_F, d, a, b, c, in[5], 7);
	MD4_ROUND(MD4_F, c, d, a, b, in[6], 11);
	MD4_ROUND(MD4_F, b, c, d, a, in[7], 19);

	MD4_ROUND(MD4_G, a, b, c, d, in[1] + MD4_K2, 3);
	MD4_ROUND(MD4_G, d, a, b, c, in[3] + MD4_K2, 5);
	MD4_ROUND(MD4_G, c, d, a, b, in[5] + MD4_K2, 9);
	MD4_ROUND(MD4_G, b, c, d, a, in[7] + MD4_K2, 13);
	MD4_ROUND(MD4_G, a, b, c, d, in[0] + MD4_K2, 3);
	MD4_ROUND(MD4_G, d, a, b, c, in[2] + MD4_K2, 5);
	MD4_ROUND(MD4_G, c, d, a, b, in[4] + MD4_K2, 9);
	MD4_ROUND(MD4_G, b, c, d, a, in[6] + MD4_K2, 13);

	MD4_ROUND(MD4_H, a, b, c, d, in[3] + MD4_K3, 3);
	MD4_ROUND(MD4_H, d, a, b, c, in[7] + MD4_K3, 9);
	MD4_ROUND(MD4_H, c, d, a, b, in[2] + MD4_K3, 11);
	MD4_ROUND(MD4_H, b, c, d, a, in[6] + MD4_K3, 15);
	MD4_ROUND(MD4_H, a, b, c, d, in[1] + MD4_K3, 3);
	MD4_ROUND(MD4_H, d, a, b, c, in[5] + MD4_K3, 9);
	MD4_ROUND(MD4_H, c, d, a, b, in[0] + MD4_K3, 11);
	MD4_ROUND(MD4_H, b, c, d, a, in[4] + MD4_K3, 15);

	buf[0] += a;
	buf[1] += b;
	buf[2] += c;
	buf[3] += d;
}

/* A name byte as the kernel's char (signed on x86) or unsigned char sees it. */
static uint32_t hash_char(uint8_t c, bool unsigned_chars)
{
	return unsigned_chars ? c : (uint32_t)(int32_t)(int8_t)c;
}

static uint32_t dx_hack_hash(const uint8_t *name, size_t len, bool unsigned_chars)
{
	uint32_t hash, hash0 = 0x12a3fe2d, hash1 = 0x37abe8f9;

	while (len--) {
		hash = hash1 + (hash0 ^ (hash_char(*name++, unsigned_chars) * 7152373u));
		if (hash & 0x80000000u)
			hash -= 0x7fffffff;
		hash1 = hash0;
		hash0 = hash;
	}
	return hash0 << 1;
}

/* Pack up to num*4 name bytes big-end-first into words, padding with the length. */
static void str2hashbuf(const uint8_t *msg, size_t len, uint32_t *buf, int num,
			bool unsigned_chars)
{
	uint32_t pad = (uint32_t)len | ((uint32_t)len << 8), val;

	pad |= pad << 16;
	val = pad;
	if (len > (size_t)num * 4)
		len = (size_t)num * 4;
	for (size_t i = 0; i < len; i++) {
		val = hash_char(msg[i], unsigned_chars) + (val << 8);
		if (i % 4 == 3) {
			*buf++ = val;
			val = pad;
			num--;
		}
	}
	if (--num >= 0)
		*buf++ = val;
	while (--num >= 0)
		*buf++ = pad;
}

uint32_t ext4_dirhash(const struct ext4_dir_hash *h, const uint8_t *name, size_t len,
		      uint32_t *ret_minor)
{
	uint32_t buf[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	uint32_t in[8], hash = 0, minor = 0;

	/* An all-zero seed means "use the MD4 initial values". */
	if (h->seed[0] || h->seed[1] || h->seed[2] || h->seed[3])
		memcpy(buf, h->seed, sizeof(buf));

	switch (h->version) {
	case EXT4_HASH_LEGACY:
		hash = dx_hack_hash(name, len, h->unsigned_chars);
		break;
	case EXT4_HASH_HALF_MD4:
		for (size_t off = 0; off < len; off += 32) {
			str2hashbuf(name + off, len - off, in, 8, h->unsigned_chars);
			half_md4_transform(buf, in);
		}
		hash = buf[1];
		minor = buf[2];
		break;
	case EXT4_HASH_TEA:
		for (size_t off = 0; off < len; off += 16) {
			str2hashbuf(name + off, len - off, in, 4, h->unsigned_chars);
			tea_transform(buf, in);
		}
		hash = buf[0];
		minor = buf[1];
		break;
	}
	hash &= ~1u;
	/* 0xfffffffe is the end-of-directory cookie for 32-bit readdir. */
	if (hash == (uint32_t)EXT4_HTREE_EOF_32BIT << 1)
		hash = ((uint32_t)EXT4_HTREE_EOF_32BIT - 1) << 1;
	if (ret_minor)
		*ret_minor = minor;
	return hash;
}

uint32_t ext4_dx_root_limit(bool csum)
{
	return (EXT4_BLOCK_SIZE - EXT4_DX_ROOT_COUNT_OFF - (csum ? EXT4_DX_TAIL_SIZE : 0)) /
	       EXT4_DX_ENTRY_SIZE;
}

uint32_t ext4_dx_node_limit(bool csum)
{
	return (EXT4_BLOCK_SIZE - EXT4_DX_NODE_COUNT_OFF - (csum ? EXT4_DX_TAIL_SIZE : 0)) /
	       EXT4_DX_ENTRY_SIZE;
}

/* count/limit overlay entry 0's hash; entry 0's block follows. */
static void dx_entries_encode(uint8_t *p, uint32_t limit, const struct ext4_dx_entry *e,
			      uint32_t count)
{
	assert(count >= 1 && count <= limit);
	le16_put(p, (uint16_t)limit);
	le16_put(p + 2, (uint16_t)count);
	le32_put(p + 4, e[0].blk);
	for (uint32_t i = 1; i < count; i++) {
		le32_put(p + i * EXT4_DX_ENTRY_SIZE, e[i].hash);
		le32_put(p + i * EXT4_DX_ENTRY_SIZE + 4, e[i].blk);
	}
}

void ext4_dx_root_encode(uint8_t *buf, uint32_t self_ino, uint32_t parent_ino,
			 enum ext4_hash_version version, uint8_t indirect_levels,
			 const struct ext4_dx_entry *e, uint32_t count, bool csum,
			 uint32_t inode_seed)
{
	memset(buf, 0, EXT4_BLOCK_SIZE);
	/* '.' */
	le32_put(buf + 0, self_ino);
	le16_put(buf + 4, 12);
	buf[6] = 1;
	buf[7] = EXT4_FT_DIR;
	buf[8] = '.';
	/* '..' spans the rest of the block, hiding the index from non-htree readers */
	le32_put(buf + 12, parent_ino);
	le16_put(buf + 16, EXT4_BLOCK_SIZE - 12);
	buf[18] = 2;
	buf[19] = EXT4_FT_DIR;
	buf[20] = '.';
	buf[21] = '.';
	/* dx_root_info: reserved_zero (le32) 0, hash_version, info_length, levels, flags 0 */
	buf[EXT4_DX_INFO_OFF + 4] = (uint8_t)version;
	buf[EXT4_DX_INFO_OFF + 5] = EXT4_DX_INFO_LENGTH;
	buf[EXT4_DX_INFO_OFF + 6] = indirect_levels;
	dx_entries_encode(buf + EXT4_DX_ROOT_COUNT_OFF, ext4_dx_root_limit(csum), e, count);
	if (csum)
		ext4_dx_csum_set(buf, EXT4_BLOCK_SIZE, inode_seed, EXT4_DX_ROOT_COUNT_OFF);
}

void ext4_dx_node_encode(uint8_t *buf, const struct ext4_dx_entry *e, uint32_t count, bool csum,
			 uint32_t inode_seed)
{
	memset(buf, 0, EXT4_BLOCK_SIZE);
	/* fake dirent: inode 0, rec_len = the whole block, so linear readers skip it */
	le16_put(buf + 4, (uint16_t)EXT4_BLOCK_SIZE);
	dx_entries_encode(buf + EXT4_DX_NODE_COUNT_OFF, ext4_dx_node_limit(csum), e, count);
	if (csum)
		ext4_dx_csum_set(buf, EXT4_BLOCK_SIZE, inode_seed, EXT4_DX_NODE_COUNT_OFF);
}
