#include "fs/ext4/ext4-internal.h"

#include <stdlib.h>

#include "fs/ext4/csum_test_vectors.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/test.h"

static const struct ext4_dir_hash hash_md4 = {
	.version = EXT4_HASH_HALF_MD4,
	.seed = { 0x11111111u, 0x33332222u, 0x55554444u, 0x55555555u },
};

struct names {
	struct ext4_dirent *e;
	char *buf;
	size_t n;
};

/* n names "prefix-%0*zu" of exactly len bytes, inode 100 + i, type by i % 7 + 1 */
static void names_make(struct names *s, size_t n, size_t len)
{
	s->n = n;
	s->e = calloc(n ? n : 1, sizeof(*s->e));
	s->buf = calloc(n ? n : 1, len + 1);
	for (size_t i = 0; i < n; i++) {
		char *p = s->buf + i * (len + 1);

		snprintf(p, len + 1, "n%0*zu", (int)len - 1, i);
		/* reverse order on input: the layout sorts */
		s->e[n - 1 - i] = (struct ext4_dirent){ (const uint8_t *)p, (uint8_t)len,
							(uint8_t)(i % 7 + 1), (uint32_t)(100 + i) };
	}
}

static void names_free(struct names *s)
{
	free(s->e);
	free(s->buf);
}

struct seen {
	size_t n;
	uint32_t *ino; /* per input index: how often seen */
};

/* Walk one leaf (or the linear block from off), checking rec_lens, tail and checksum. Each
 * entry must be a generated name; returns entries seen or -1. */
static long leaf_check(const uint8_t *b, size_t off, bool csum, uint32_t seed, struct seen *s,
		       const struct ext4_dir_hash *h, uint32_t lo, uint32_t hi)
{
	size_t end = csum ? 4096 - 12 : 4096;
	long count = 0;

	while (off < end) {
		uint32_t ino = le32_get(b + off);
		size_t rl = le16_get(b + off + 4), nl = b[off + 6];

		if (rl < ROUND_UP(8 + nl, 4) || off + rl > end || rl % 4)
			return -1;
		if (off + rl < end && rl != ROUND_UP(8 + nl, 4))
			return -2; /* packed */
		if (ino < 100 || ino - 100 >= s->n || b[off + 7] != (ino - 100) % 7 + 1)
			return -3;
		if (h) {
			uint32_t hash = ext4_dirhash(h, b + off + 8, nl, NULL);

			if (hash < lo || hash > hi)
				return -4;
		}
		s->ino[ino - 100]++;
		count++;
		off += rl;
	}
	if (off != end)
		return -5;
	if (csum) {
		if (le32_get(b + end) != 0 || le16_get(b + end + 4) != 12 || b[end + 6] != 0 ||
		    b[end + 7] != 0xde || le32_get(b + end + 8) != crc32c_le(seed, b, end))
			return -6;
	}
	return count;
}

TEST(dir_linear_layout)
{
	struct names s;
	struct ext4_dir_layout *l = NULL;
	struct diag d = { 0 };
	uint8_t b[4096] = { 0 };
	struct seen seen = { 3, calloc(3, sizeof(uint32_t)) };

	names_make(&s, 3, 5);
	ASSERT_OK(ext4_dir_layout_new(s.e, 3, 12, 2, &hash_md4, true, &d, &l));
	ASSERT_EQ(ext4_dir_layout_blocks(l), 1);
	ASSERT_TRUE(!ext4_dir_layout_indexed(l));
	ext4_dir_block_encode(l, 0, 0x1234, b);
	ASSERT_MEM_EQ(b, "\x0c\x00\x00\x00\x0c\x00\x01\x02.\0\0\0", 12);
	ASSERT_MEM_EQ(b + 12, "\x02\x00\x00\x00\x0c\x00\x02\x02..\0\0", 12);
	/* sorted by name: n0000 (ino 100) first */
	ASSERT_MEM_EQ(b + 24, "\x64\x00\x00\x00\x10\x00\x05\x01n0000\0\0\0", 16);
	ASSERT_EQ(le32_get(b + 40), 101);
	ASSERT_EQ(le16_get(b + 56 + 4), 4084 - 56);
	ASSERT_EQ(leaf_check(b, 24, true, 0x1234, &seen, NULL, 0, 0), 3);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(seen.ino[i], 1);
	ext4_dir_layout_free(l);
	names_free(&s);
	free(seen.ino);
}

TEST(dir_empty_and_no_csum)
{
	struct ext4_dir_layout *l = NULL;
	struct diag d = { 0 };
	uint8_t b[4096] = { 0 };

	ASSERT_OK(ext4_dir_layout_new(NULL, 0, 2, 2, &hash_md4, false, &d, &l));
	ext4_dir_block_encode(l, 0, 0, b);
	ASSERT_EQ(le16_get(b + 4), 12);
	ASSERT_EQ(le16_get(b + 16), 4096 - 12);
	ASSERT_EQ(le32_get(b + 4084), 0);
	ext4_dir_layout_free(l);
}

/* The leaf format e2fsck -D wrote for /big (csum_test_vectors.h): packed entries, the last
 * stretched to the checksum tail. */
TEST(dir_leaf_like_e2fsck)
{
	uint8_t b[4096];
	size_t off = 0, n = 0;

	memset(b, 0, sizeof(b));
	for (size_t i = 0; i < sizeof(kat_dir_leaf) / sizeof(kat_dir_leaf[0]); i++)
		memcpy(b + kat_dir_leaf[i].off, kat_dir_leaf[i].bytes, kat_dir_leaf[i].len);
	while (off < 4084) {
		size_t rl = le16_get(b + off + 4);

		ASSERT_EQ(b[off + 6], 36); /* "file-NNNN-abcdefghijklmnopqrstuvwxyz" */
		if (off + rl < 4084)
			ASSERT_EQ(rl, 44);
		off += rl;
		n++;
	}
	ASSERT_EQ(off, 4084);
	/* e2fsck -D leaves ~20% slack (indexed_dir_slack_percentage); we pack 92 (4084 / 44) */
	ASSERT_EQ(n, 75);
}

static void htree_check(int *_failed, size_t n, size_t len, bool csum, uint8_t want_levels)
{
	struct names s;
	struct ext4_dir_layout *l = NULL;
	struct diag d = { 0 };
	struct seen seen = { n, calloc(n, sizeof(uint32_t)) };
	uint32_t seed = 0xabcdef01, nb;
	uint8_t *blk;
	size_t total = 0, count_off = 0x20;

	names_make(&s, n, len);
	ASSERT_OK(ext4_dir_layout_new(s.e, n, 12, 2, &hash_md4, csum, &d, &l));
	ASSERT_TRUE(ext4_dir_layout_indexed(l));
	nb = ext4_dir_layout_blocks(l);
	blk = calloc(nb, 4096);
	for (uint32_t i = 0; i < nb; i++)
		ext4_dir_block_encode(l, i, seed, blk + (size_t)i * 4096);

	/* root */
	ASSERT_EQ(le32_get(blk), 12);
	ASSERT_EQ(le16_get(blk + 4), 12);
	ASSERT_EQ(le32_get(blk + 12), 2);
	ASSERT_EQ(le16_get(blk + 16), 4084);
	ASSERT_EQ(le32_get(blk + 0x18), 0);
	ASSERT_EQ(blk[0x1c], 1);
	ASSERT_EQ(blk[0x1d], 8);
	ASSERT_EQ(blk[0x1e], want_levels);
	ASSERT_EQ(blk[0x1f], 0);
	ASSERT_EQ(le16_get(blk + 0x20), csum ? 507 : 508);

	/* walk: (block, lo, hi) ranges from the root down to the leaves */
	uint8_t *used = calloc(nb, 1);
	struct {
		uint32_t blk, lo, hi;
		uint8_t level;
	} *q = calloc(nb, sizeof(*q));
	size_t qh = 0, qt = 0;

	q[qt++] = (typeof(*q)){ 0, 0, 0xffffffffu, 0 };
	used[0] = 1;
	while (qh < qt) {
		uint32_t bn = q[qh].blk, lo = q[qh].lo, hi = q[qh].hi;
		uint8_t level = q[qh++].level;
		uint8_t *b = blk + (size_t)bn * 4096;

		if (level <= want_levels) {
			size_t co = bn == 0 ? count_off : 8;
			uint32_t limit = le16_get(b + co), cnt = le16_get(b + co + 2);

			if (bn != 0) {
				ASSERT_EQ(le32_get(b), 0);
				ASSERT_EQ(le16_get(b + 4), 4096);
				ASSERT_EQ(limit, csum ? 510 : 511);
			}
			ASSERT_TRUE(cnt >= 1 && cnt <= limit);
			if (csum) {
				uint8_t *t = b + co + limit * 8;
				uint32_t c = crc32c_le(seed, b, co + cnt * 8);

				c = crc32c_le(c, t, 4);
				c = crc32c_le(c, "\0\0\0\0", 4);
				ASSERT_EQ(le32_get(t), 0);
				ASSERT_EQ(le32_get(t + 4), c);
			}
			for (uint32_t i = 0; i < cnt; i++) {
				uint32_t h0 = i ? le32_get(b + co + i * 8) & ~1u : lo;
				uint32_t h1 = i + 1 < cnt ? le32_get(b + co + (i + 1) * 8) & ~1u : hi;
				uint32_t child = le32_get(b + co + i * 8 + 4);

				ASSERT_TRUE(h0 <= h1 && h0 >= lo && h1 <= hi);
				ASSERT_TRUE(child > 0 && child < nb && !used[child]);
				used[child] = 1;
				q[qt++] = (typeof(*q)){ child, h0, h1, (uint8_t)(level + 1) };
			}
		} else {
			long c = leaf_check(b, 0, csum, seed, &seen, &hash_md4, lo, hi);

			ASSERT_TRUE(c > 0);
			total += (size_t)c;
		}
	}
	ASSERT_EQ(qt, nb); /* every block reached once */
	ASSERT_EQ(total, n);
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(seen.ino[i], 1);
	ext4_dir_layout_free(l);
	names_free(&s);
	free(seen.ino);
	free(blk);
	free(used);
	free(q);
}

TEST(dir_htree_one_level)
{
	htree_check(_failed, 300, 40, true, 0);
	htree_check(_failed, 5000, 13, false, 0);
}

TEST(dir_htree_two_levels_nix_store_sized)
{
	htree_check(_failed, 200000, 40, true, 1);
}

TEST(dir_htree_block_counts)
{
	struct names s;
	struct ext4_dir_layout *l = NULL;
	struct diag d = { 0 };

	/* 300 names of 40 bytes: 85 per leaf -> 4 leaves + root, as e2fsck -D made /big */
	names_make(&s, 300, 40);
	ASSERT_OK(ext4_dir_layout_new(s.e, 300, 12, 2, &hash_md4, true, &d, &l));
	ASSERT_EQ(ext4_dir_layout_blocks(l), 5);
	l = ext4_dir_layout_free(l);
	names_free(&s);
	/* exactly one block: 24 + 84 * 48 = 4056 <= 4084; 85 entries do not fit */
	names_make(&s, 85, 40);
	ASSERT_OK(ext4_dir_layout_new(s.e, 84, 12, 2, &hash_md4, true, &d, &l));
	ASSERT_EQ(ext4_dir_layout_blocks(l), 1);
	l = ext4_dir_layout_free(l);
	ASSERT_OK(ext4_dir_layout_new(s.e, 85, 12, 2, &hash_md4, true, &d, &l));
	ASSERT_TRUE(ext4_dir_layout_indexed(l));
	ASSERT_EQ(ext4_dir_layout_blocks(l), 2); /* 85 * 48 = 4080: root + one leaf */
	ext4_dir_layout_free(l);
	names_free(&s);
}

TEST(dir_rejects_bad_names)
{
	struct ext4_dir_layout *l = NULL;
	struct diag d = { 0 };
	struct ext4_dirent e[2] = { { (const uint8_t *)"ok", 2, EXT4_FT_REG, 20 },
				    { (const uint8_t *)"a/b", 3, EXT4_FT_REG, 21 } };

	ASSERT_ERR(ext4_dir_layout_new(e, 2, 12, 2, &hash_md4, true, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "\"a/b\"") != NULL);
	e[1] = (struct ext4_dirent){ (const uint8_t *)"x\0y", 3, EXT4_FT_REG, 21 };
	ASSERT_ERR(ext4_dir_layout_new(e, 2, 12, 2, &hash_md4, true, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "x\\x00y") != NULL);
	e[1] = (struct ext4_dirent){ (const uint8_t *)"..", 2, EXT4_FT_DIR, 21 };
	ASSERT_ERR(ext4_dir_layout_new(e, 2, 12, 2, &hash_md4, true, &d, &l), -EINVAL);
	e[1] = (struct ext4_dirent){ (const uint8_t *)"ok", 2, EXT4_FT_DIR, 21 };
	ASSERT_ERR(ext4_dir_layout_new(e, 2, 12, 2, &hash_md4, true, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "twice") != NULL);
	ASSERT_TRUE(l == NULL);
}

/* c0369269 and c0395013 collide under the legacy hash (0x0b373974). With 254 smaller hashes
 * before them, a packed first leaf (255 entries of rec_len 16) would split the pair; the layout
 * moves both to the second leaf, whose index hash then has no continuation bit. */
TEST(dir_htree_keeps_equal_hashes_together)
{
	static const struct ext4_dir_hash legacy = { .version = EXT4_HASH_LEGACY };
	const uint32_t h = 0x0b373974;
	char (*buf)[9] = calloc(1000, sizeof(*buf));
	struct ext4_dirent *e = calloc(1000, sizeof(*e));
	size_t n = 0, lo = 0, hi = 0;
	struct ext4_dir_layout *l = NULL;
	struct diag d = { 0 };
	uint8_t b[4096];

	ASSERT_EQ(ext4_dirhash(&legacy, (const uint8_t *)"c0369269", 8, NULL), h);
	ASSERT_EQ(ext4_dirhash(&legacy, (const uint8_t *)"c0395013", 8, NULL), h);
	for (unsigned i = 0; n < 600 && i < 100000; i++) {
		uint32_t x;

		snprintf(buf[n], 9, "d%07u", i);
		x = ext4_dirhash(&legacy, (const uint8_t *)buf[n], 8, NULL);
		if (x == h || (x < h ? lo >= 254 : hi >= 344))
			continue;
		x < h ? lo++ : hi++;
		e[n] = (struct ext4_dirent){ (const uint8_t *)buf[n], 8, EXT4_FT_REG, 100 };
		n++;
	}
	ASSERT_EQ(lo, 254);
	e[n++] = (struct ext4_dirent){ (const uint8_t *)"c0369269", 8, EXT4_FT_REG, 101 };
	e[n++] = (struct ext4_dirent){ (const uint8_t *)"c0395013", 8, EXT4_FT_REG, 102 };
	ASSERT_EQ(n, 600);
	ASSERT_OK(ext4_dir_layout_new(e, n, 12, 2, &legacy, true, &d, &l));
	ASSERT_EQ(ext4_dir_layout_blocks(l), 4); /* root + 254 + 255 + 91 */

	memset(b, 0, sizeof(b));
	ext4_dir_block_encode(l, 0, 0, b);
	ASSERT_EQ(b[0x1c], 0);
	ASSERT_EQ(le16_get(b + 0x22), 3);
	ASSERT_EQ(le32_get(b + 0x28), h); /* no continuation bit */
	ASSERT_EQ(le32_get(b + 0x2c), 2);

	memset(b, 0, sizeof(b));
	ext4_dir_block_encode(l, 1, 0, b);
	ASSERT_EQ(le16_get(b + 253 * 16 + 4), 4084 - 253 * 16); /* 254 entries, last stretched */
	memset(b, 0, sizeof(b));
	ext4_dir_block_encode(l, 2, 0, b);
	ASSERT_EQ(le32_get(b), 101);
	ASSERT_MEM_EQ(b + 8, "c0369269", 8);
	ASSERT_EQ(le32_get(b + 16), 102);
	ext4_dir_layout_free(l);
	free(buf);
	free(e);
}
