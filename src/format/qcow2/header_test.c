/* qcow2 codecs on their own: header fields at their named offsets, table entries as qemu
 * computes them, refcount layout, compression round trips. */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <stdlib.h>

#include "util/diag.h"
#include "util/endian.h"
#include "util/test.h"

static struct qcow2_header sample(void)
{
	return (struct qcow2_header){
		.version = 3,
		.cluster_bits = 16,
		.size = 1ull << 30,
		.l1_size = 2,
		.l1_table_offset = 0x30000,
		.refcount_table_offset = 0x10000,
		.refcount_table_clusters = 1,
		.refcount_order = 4,
		.header_length = QCOW2_HDR_V3_SIZE,
	};
}

TEST(qcow2_header_fields_are_big_endian_at_named_offsets)
{
	struct qcow2_header h = sample();
	uint8_t p[QCOW2_HDR_V3_COMPRESSION_SIZE + 8];

	qcow2_header_encode(p, &h);
	ASSERT_MEM_EQ(p + QCOW2_HDR_MAGIC, "QFI\xfb", 4);
	ASSERT_MEM_EQ(p + QCOW2_HDR_VERSION, "\0\0\0\3", 4);
	ASSERT_MEM_EQ(p + QCOW2_HDR_CLUSTER_BITS, "\0\0\0\x10", 4);
	ASSERT_MEM_EQ(p + QCOW2_HDR_SIZE, "\0\0\0\0\x40\0\0\0", 8);
	ASSERT_MEM_EQ(p + QCOW2_HDR_L1_SIZE, "\0\0\0\2", 4);
	ASSERT_MEM_EQ(p + QCOW2_HDR_L1_TABLE_OFFSET, "\0\0\0\0\0\3\0\0", 8);
	ASSERT_MEM_EQ(p + QCOW2_HDR_REFCOUNT_TABLE_OFFSET, "\0\0\0\0\0\1\0\0", 8);
	ASSERT_MEM_EQ(p + QCOW2_HDR_REFCOUNT_ORDER, "\0\0\0\4", 4);
	ASSERT_MEM_EQ(p + QCOW2_HDR_HEADER_LENGTH, "\0\0\0\x68", 4);
	ASSERT_EQ(p[QCOW2_HDR_COMPRESSION_TYPE], 0);
}

TEST(qcow2_header_round_trips_with_zstd)
{
	struct qcow2_header h = sample(), g;
	struct diag d = { 0 };
	uint8_t p[QCOW2_HDR_V3_COMPRESSION_SIZE + 8];

	h.header_length = QCOW2_HDR_V3_COMPRESSION_SIZE;
	h.compression_type = QCOW2_COMPRESSION_ZSTD;
	h.incompatible_features = QCOW2_INCOMPAT_COMPRESSION;
	qcow2_header_encode(p, &h);
	ASSERT_EQ(p[QCOW2_HDR_COMPRESSION_TYPE], 1);
	ASSERT_EQ(p[QCOW2_HDR_INCOMPATIBLE_FEATURES + 7], 8);
	ASSERT_OK(qcow2_header_decode(p, sizeof(p), 1 << 20, &d, &g));
	ASSERT_EQ(g.size, h.size);
	ASSERT_EQ(g.l1_table_offset, h.l1_table_offset);
	ASSERT_EQ(g.compression_type, 1);
	ASSERT_EQ(g.header_length, 112);
}

/* Decode after poking one be32/be64 field of a valid header. */
static int decode_with(unsigned off, unsigned width, uint64_t v, struct diag *d)
{
	struct qcow2_header h = sample(), g;
	uint8_t p[QCOW2_HDR_V3_COMPRESSION_SIZE + 8];

	qcow2_header_encode(p, &h);
	if (width == 4)
		be32_put(p + off, (uint32_t)v);
	else if (width == 8)
		be64_put(p + off, v);
	else
		p[off] = (uint8_t)v;
	return qcow2_header_decode(p, sizeof(p), 1 << 20, d, &g);
}

TEST(qcow2_header_decode_rejects_hostile_fields)
{
	struct diag d = { 0 };

	ASSERT_ERR(decode_with(QCOW2_HDR_MAGIC, 4, 0x514649fa, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_VERSION, 4, 4, &d), -ENOTSUP);
	ASSERT_ERR(decode_with(QCOW2_HDR_CLUSTER_BITS, 4, 8, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_CLUSTER_BITS, 4, 40, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_SIZE, 4 * 2, ~0ull, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_L1_SIZE, 4, 1, &d), -EBADMSG); /* below what size needs */
	ASSERT_ERR(decode_with(QCOW2_HDR_L1_SIZE, 4, 0xffffffff, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_L1_TABLE_OFFSET, 8, 1 << 20, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_L1_TABLE_OFFSET, 8, 0x30200, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_L1_TABLE_OFFSET, 8, ~0ull << 16, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS, 4, 0xffffffff, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_BACKING_FILE_OFFSET, 8, 0x200, &d), -ENOTSUP);
	ASSERT_ERR(decode_with(QCOW2_HDR_CRYPT_METHOD, 4, 2, &d), -ENOTSUP);
	ASSERT_ERR(decode_with(QCOW2_HDR_HEADER_LENGTH, 4, 100, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_HEADER_LENGTH, 4, 0x7ffffff8, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_REFCOUNT_ORDER, 4, 7, &d), -EBADMSG);
	ASSERT_ERR(decode_with(QCOW2_HDR_INCOMPATIBLE_FEATURES, 8, QCOW2_INCOMPAT_DATA_FILE, &d),
		   -ENOTSUP);
	ASSERT_ERR(decode_with(QCOW2_HDR_INCOMPATIBLE_FEATURES, 8, 1ull << 40, &d), -ENOTSUP);
	/* bit 3 without a compression_type field */
	ASSERT_ERR(decode_with(QCOW2_HDR_INCOMPATIBLE_FEATURES, 8, QCOW2_INCOMPAT_COMPRESSION, &d),
		   -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "compression_type") != NULL);
	ASSERT_OK(decode_with(QCOW2_HDR_INCOMPATIBLE_FEATURES, 8, QCOW2_INCOMPAT_DIRTY, &d));
}

TEST(qcow2_header_decode_rejects_truncation)
{
	struct qcow2_header h = sample(), g;
	struct diag d = { 0 };
	uint8_t p[QCOW2_HDR_V3_COMPRESSION_SIZE + 8];

	qcow2_header_encode(p, &h);
	ASSERT_ERR(qcow2_header_decode(p, 0, 1 << 20, &d, &g), -EBADMSG);
	ASSERT_ERR(qcow2_header_decode(p, 71, 1 << 20, &d, &g), -EBADMSG);
	ASSERT_ERR(qcow2_header_decode(p, 100, 1 << 20, &d, &g), -EBADMSG);
	/* the L1 table lies past a short file */
	ASSERT_ERR(qcow2_header_decode(p, sizeof(p), 0x30008, &d, &g), -EBADMSG);
	ASSERT_OK(qcow2_header_decode(p, sizeof(p), 0x30010, &d, &g));
}

TEST(qcow2_l1_entries_cover_the_disk)
{
	ASSERT_EQ(qcow2_l1_entries(0, 16), 0);
	ASSERT_EQ(qcow2_l1_entries(1, 16), 1);
	ASSERT_EQ(qcow2_l1_entries(512ull << 20, 16), 1); /* one L2 maps 512 MiB */
	ASSERT_EQ(qcow2_l1_entries((512ull << 20) + 1, 16), 2);
	ASSERT_EQ(qcow2_l1_entries(100ull << 30, 16), 200);
	ASSERT_EQ(qcow2_l1_entries(1 << 20, 9), 32); /* 512-byte clusters: 32 KiB per L2 */
}

TEST(qcow2_compressed_descriptor_matches_qemu)
{
	struct qcow2_cluster c;
	/* 64 KiB clusters: offset in bits 0..53, extra sectors from bit 54 */
	uint64_t e = qcow2_l2_entry_compressed(16, 0x10000 + 1000, 3000);

	/* bytes 66536..69535 touch sectors 129..135: 6 beyond the first */
	ASSERT_EQ(e, QCOW2_OFLAG_COMPRESSED | 6ull << 54 | (0x10000 + 1000));
	ASSERT_OK(qcow2_l2_entry_decode(e, 16, 3, &c));
	ASSERT_EQ(c.type, QCOW2_CLUSTER_COMPRESSED);
	ASSERT_EQ(c.host_off, 0x10000 + 1000);
	ASSERT_EQ(c.host_len, 7 * 512 - 1000 % 512);
	/* 2 MiB clusters: the sector count starts at bit 49 */
	e = qcow2_l2_entry_compressed(21, 0x200000, 512 * 4096);
	ASSERT_EQ(e >> 49 & 0x1fff, 4095);
	/* 512-byte clusters: one bit of sector count, at bit 61 */
	e = qcow2_l2_entry_compressed(9, 0x3ff, 2);
	ASSERT_EQ(e, QCOW2_OFLAG_COMPRESSED | 1ull << 61 | 0x3ff);
}

TEST(qcow2_l2_entries_decode_and_reject_reserved_bits)
{
	struct qcow2_cluster c;

	ASSERT_OK(qcow2_l2_entry_decode(qcow2_l2_entry_normal(0x50000), 16, 3, &c));
	ASSERT_EQ(c.type, QCOW2_CLUSTER_NORMAL);
	ASSERT_EQ(c.host_off, 0x50000);
	ASSERT_OK(qcow2_l2_entry_decode(0, 16, 3, &c));
	ASSERT_EQ(c.type, QCOW2_CLUSTER_UNALLOCATED);
	ASSERT_OK(qcow2_l2_entry_decode(1, 16, 3, &c));
	ASSERT_EQ(c.type, QCOW2_CLUSTER_ZERO);
	ASSERT_ERR(qcow2_l2_entry_decode(1, 16, 2, &c), -EBADMSG);
	ASSERT_ERR(qcow2_l2_entry_decode(0x50200, 16, 3, &c), -EBADMSG); /* misaligned */
	ASSERT_ERR(qcow2_l2_entry_decode(0x50002, 16, 3, &c), -EBADMSG); /* reserved bit 1 */
	ASSERT_ERR(qcow2_l2_entry_decode(1ull << 60 | 0x50000, 16, 3, &c), -EBADMSG);
	ASSERT_ERR(qcow2_l2_entry_decode(QCOW2_OFLAG_COPIED | QCOW2_OFLAG_COMPRESSED, 16, 3, &c),
		   -EBADMSG);
}

TEST(qcow2_refcount_layout_counts_itself)
{
	struct qcow2_refcount_layout l;

	qcow2_refcount_layout(3, 16, &l);
	ASSERT_EQ(l.n_blocks, 1);
	ASSERT_EQ(l.table_clusters, 1);
	/* one 64 KiB block holds 32768 refcounts: 32766 + block + table fit exactly */
	qcow2_refcount_layout(32766, 16, &l);
	ASSERT_EQ(l.n_blocks, 1);
	qcow2_refcount_layout(32767, 16, &l);
	ASSERT_EQ(l.n_blocks, 2);
	ASSERT_EQ(l.table_clusters, 1);
	/* 512-byte clusters: 256 refcounts per block, 64 blocks per table cluster */
	qcow2_refcount_layout(64 * 256, 9, &l);
	ASSERT_EQ(l.table_clusters, 2);
	ASSERT_TRUE(l.n_blocks * 256 >= 64 * 256 + l.n_blocks + l.table_clusters);
}

static void round_trip(int *_failed, enum qcow2_compression_type type)
{
	struct qcow2_codec *c = qcow2_codec_new(type);
	uint8_t in[65536], out[65536], back[65536], pad[65536 + 512];
	size_t len;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i / 100 * 7);
	ASSERT_OK(qcow2_codec_compress(c, in, sizeof(in), out, sizeof(out) - 1, &len));
	ASSERT_TRUE(len < 4096);
	ASSERT_OK(qcow2_codec_decompress(c, out, len, back, sizeof(back)));
	ASSERT_MEM_EQ(in, back, sizeof(in));
	/* sector padding after the stream is ignored, as qemu reads it */
	memset(pad, 0xa5, sizeof(pad));
	memcpy(pad, out, len);
	ASSERT_OK(qcow2_codec_decompress(c, pad, len + 300, back, sizeof(back)));
	ASSERT_MEM_EQ(in, back, sizeof(in));
	/* truncated or corrupted streams fail */
	ASSERT_ERR(qcow2_codec_decompress(c, out, len / 2, back, sizeof(back)), -EBADMSG);
	memset(pad, 0xff, 64);
	ASSERT_ERR(qcow2_codec_decompress(c, pad, len, back, sizeof(back)), -EBADMSG);
	/* random data does not fit in cs - 1 bytes */
	srand(1);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)rand();
	ASSERT_ERR(qcow2_codec_compress(c, in, sizeof(in), out, sizeof(out) - 1, &len), -ENOSPC);
	qcow2_codec_free(c);
}

TEST(qcow2_deflate_round_trips)
{
	round_trip(_failed, QCOW2_COMPRESSION_ZLIB);
}

TEST(qcow2_zstd_round_trips)
{
	round_trip(_failed, QCOW2_COMPRESSION_ZSTD);
}
