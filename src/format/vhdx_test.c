#include "format/vhdx-internal.h"

#include "format/format-internal.h"
#include "format/format-test.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/endian.h"
#include "util/test.h"
#include "util/uuid.h"

#define MIB (1u << 20)
#define VSIZE (9 * MIB + 1000)
#define DISK_SIZE (9 * MIB + 1024) /* rounded up to a sector */
#define DATA (4 * MIB)             /* after the header section, log, metadata and BAT */
#define META (2 * MIB)
#define BAT (3 * MIB)

/* 1 MiB blocks: 0 partial, 1 a hole, 2-3 written as zeros, 4 a hole, 5-8 data (8 partial),
 * 9 partial up to the odd end. */
static const struct ftest_range pattern[] = {
	{ 0, 1000, false },
	{ 300000, 5000, false },
	{ 2 * MIB, 2 * MIB, true },
	{ 5 * MIB + 100, 3 * MIB, false },
	{ 9 * MIB + 10, 990, false },
};

static int build(const char *dir, const char *name, uint32_t block_size, const char *seed,
		 char *path, size_t len, struct diag *d)
{
	struct format_params p = { .virtual_size = VSIZE,
				   .seed = seed,
				   .timestamp = 1700000000,
				   .vhdx_block_size = block_size };
	char raw[256];

	snprintf(path, len, "%s/%s", dir, name);
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	return ftest_write(&format_vhdx, &p, path, raw, pattern, ARRAY_SIZE(pattern), d);
}

static void cleanup_dir(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };

	(void)ftest_run(argv, NULL, 0);
}

static void guid_of(const char *seed, const char *purpose, uint8_t out[16])
{
	uint8_t u[16];

	uuid_derive(seed, purpose, u);
	uuid_to_guid(u, out);
}

TEST(vhdx_checksum_is_crc32c_with_the_field_zeroed)
{
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	uint32_t want;

	memset(buf + 4, 0, 4);
	want = crc32c(buf, sizeof(buf));
	buf[4] = 0xaa; /* whatever the field holds */
	ASSERT_EQ(vhdx_checksum(buf, sizeof(buf), 4), want);
	/* "123456789" is CRC-32C's check value 0xe3069283 */
	ASSERT_EQ(crc32c("123456789", 9), 0xe3069283u);
}

TEST(vhdx_geometry_interleaves_sector_bitmap_entries)
{
	struct vhdx_geometry g = vhdx_geometry_for(5ull << 30, MIB, 512);

	ASSERT_EQ(g.chunk_ratio, 4096);
	ASSERT_EQ(g.n_blocks, 5120);
	ASSERT_EQ(g.n_bat, 5121); /* one bitmap entry, after the first 4096 blocks */
	ASSERT_EQ(vhdx_bat_index(&g, 4095), 4095);
	ASSERT_TRUE(vhdx_bat_is_bitmap(&g, 4096));
	ASSERT_TRUE(!vhdx_bat_is_bitmap(&g, 4095));
	ASSERT_EQ(vhdx_bat_index(&g, 4096), 4097);
	g = vhdx_geometry_for(5ull << 30, 32 * MIB, 512);
	ASSERT_EQ(g.chunk_ratio, 128);
	ASSERT_EQ(g.n_blocks, 160);
	ASSERT_EQ(g.n_bat, 161);
	/* exactly one chunk: no bitmap entry after the last block */
	g = vhdx_geometry_for(4096ull * MIB, MIB, 512);
	ASSERT_EQ(g.n_bat, 4096);
	g = vhdx_geometry_for(4096ull * MIB + 1, MIB, 512);
	ASSERT_EQ(g.n_bat, 4098);
	g = vhdx_geometry_for(0, MIB, 512);
	ASSERT_EQ(g.n_bat, 0);
	/* 4 KiB sectors: 2^23 of them per chunk */
	g = vhdx_geometry_for(1ull << 40, 256 * MIB, 4096);
	ASSERT_EQ(g.chunk_ratio, 128);
}

TEST(vhdx_header_named_offsets_and_checksum)
{
	struct vhdx_header h = { .sequence = 0x0102030405060708ull,
				 .version = 1,
				 .log_length = MIB,
				 .log_offset = MIB };
	struct vhdx_header out;
	struct diag d = { 0 };
	uint8_t buf[VHDX_HDR_SIZE];

	memset(h.file_write_guid, 0x11, 16);
	memset(h.data_write_guid, 0x22, 16);
	vhdx_header_encode(buf, &h);
	ASSERT_MEM_EQ(buf, "head", 4);
	ASSERT_MEM_EQ(buf + 8, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	ASSERT_EQ(buf[16], 0x11);
	ASSERT_EQ(buf[32], 0x22);
	ASSERT_TRUE(mem_is_zero(buf + 48, 16)); /* LogGuid */
	ASSERT_MEM_EQ(buf + 64, "\x00\x00\x01\x00", 4); /* LogVersion 0, Version 1 */
	ASSERT_MEM_EQ(buf + 68, "\x00\x00\x10\x00", 4);
	ASSERT_EQ(le64_get(buf + 72), MIB);
	ASSERT_TRUE(mem_is_zero(buf + VHDX_HDR_USED, VHDX_HDR_SIZE - VHDX_HDR_USED));
	ASSERT_EQ(le32_get(buf + 4), vhdx_checksum(buf, sizeof(buf), 4));
	ASSERT_OK(vhdx_header_decode(buf, &d, &out));
	ASSERT_EQ(out.sequence, h.sequence);
	ASSERT_EQ(out.log_offset, MIB);

	buf[4000] ^= 1; /* the checksum covers the reserved bytes too */
	ASSERT_ERR(vhdx_header_decode(buf, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "checksum") != NULL);
	h.version = 2;
	vhdx_header_encode(buf, &h);
	ASSERT_ERR(vhdx_header_decode(buf, &d, &out), -ENOTSUP);
	buf[0] = 'H';
	ASSERT_ERR(vhdx_header_decode(buf, &d, &out), -EBADMSG);
}

TEST(vhdx_region_table_entries_and_checks)
{
	struct vhdx_regions rt = { .bat = { 3 * MIB, MIB }, .meta = { 2 * MIB, MIB } }, out;
	struct diag d = { 0 };
	static uint8_t buf[VHDX_RT_SIZE];

	vhdx_region_table_encode(buf, &rt);
	ASSERT_MEM_EQ(buf, "regi", 4);
	ASSERT_EQ(le32_get(buf + 8), 2);
	ASSERT_MEM_EQ(buf + 16, "\x66\x77\xc2\x2d\x23\xf6\x00\x42", 8); /* 2DC27766-F623-4200 */
	ASSERT_EQ(le64_get(buf + 16 + 16), 3 * MIB);
	ASSERT_EQ(le32_get(buf + 16 + 24), MIB);
	ASSERT_EQ(le32_get(buf + 16 + 28), 1); /* required */
	ASSERT_MEM_EQ(buf + 48, "\x06\xa2\x7c\x8b\x90\x47\x9a\x4b", 8); /* 8B7CA206-4790-4B9A */
	ASSERT_EQ(le64_get(buf + 48 + 16), 2 * MIB);
	ASSERT_EQ(le32_get(buf + 4), vhdx_checksum(buf, sizeof(buf), 4));
	ASSERT_OK(vhdx_region_table_decode(buf, &d, &out));
	ASSERT_EQ(out.bat.offset, 3 * MIB);
	ASSERT_EQ(out.meta.length, MIB);

	rt.bat.offset = 2 * MIB; /* overlaps the metadata */
	vhdx_region_table_encode(buf, &rt);
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "overlap") != NULL);
	rt.bat.offset = 3 * MIB + 4096;
	vhdx_region_table_encode(buf, &rt);
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -EBADMSG);
	rt.bat.offset = 0;
	vhdx_region_table_encode(buf, &rt);
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -EBADMSG);
	rt.bat = (struct vhdx_region){ 3 * MIB, 0 };
	vhdx_region_table_encode(buf, &rt);
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -EBADMSG);

	/* the metadata entry twice; then an unknown required region */
	rt.bat = (struct vhdx_region){ 3 * MIB, MIB };
	vhdx_region_table_encode(buf, &rt);
	memcpy(buf + 16, buf + 48, 16);
	le32_put(buf + 4, vhdx_checksum(buf, sizeof(buf), 4));
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -EBADMSG);
	buf[16] ^= 0xff;
	le32_put(buf + 4, vhdx_checksum(buf, sizeof(buf), 4));
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -ENOTSUP);
	le32_put(buf + 16 + 28, 0); /* unknown and optional: skipped, then no BAT */
	le32_put(buf + 4, vhdx_checksum(buf, sizeof(buf), 4));
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "no BAT region") != NULL);
	le32_put(buf + 8, 2048);
	le32_put(buf + 4, vhdx_checksum(buf, sizeof(buf), 4));
	ASSERT_ERR(vhdx_region_table_decode(buf, &d, &out), -EBADMSG);
}

/* The table's entry for item k, -1 when absent. */
static const uint8_t *meta_entry(const uint8_t *buf, int k)
{
	for (int i = 0; i < le16_get(buf + VHDX_MT_ENTRY_COUNT); i++)
		if (memcmp(buf + 32 + 32 * i, vhdx_item_guids[k], 16) == 0)
			return buf + 32 + 32 * i;
	return NULL;
}

static int meta_decode(const uint8_t *buf, struct diag *d, struct vhdx_meta *ret)
{
	struct vhdx_meta_items items;
	const uint8_t *item[VHDX_N_ITEMS];
	int r = vhdx_meta_table_decode(buf, MIB, d, &items);

	if (r < 0)
		return r;
	for (int k = 0; k < VHDX_N_ITEMS; k++)
		item[k] = buf + (items.present[k] ? items.offset[k] : 0);
	return vhdx_meta_values_decode(item, &items, d, ret);
}

TEST(vhdx_metadata_items_flags_and_values)
{
	static uint8_t buf[VHDX_META_ENCODED_SIZE];
	struct vhdx_meta m = { .block_size = 32 * MIB,
			       .virtual_size = DISK_SIZE,
			       .logical_sector = 512,
			       .physical_sector = 4096 },
			 out;
	static const uint32_t flags[] = { 4, 6, 6, 6, 6 };
	struct diag d = { 0 };
	const uint8_t *e;

	memset(m.page83, 0x83, 16);
	vhdx_meta_encode(buf, &m);
	ASSERT_MEM_EQ(buf, "metadata", 8);
	ASSERT_EQ(le16_get(buf + 10), 5);
	for (int k = 0; k < 5; k++) {
		e = meta_entry(buf, k);
		ASSERT_TRUE(e != NULL);
		ASSERT_TRUE(le32_get(e + 16) >= VHDX_MT_SIZE);
		ASSERT_EQ(le32_get(e + 24), flags[k]);
	}
	e = meta_entry(buf, VHDX_ITEM_FILE_PARAMETERS);
	ASSERT_EQ(le32_get(e + 20), 8);
	ASSERT_EQ(le32_get(buf + le32_get(e + 16)), 32 * MIB);
	ASSERT_EQ(le32_get(buf + le32_get(e + 16) + 4), 0); /* not fixed, no parent */
	e = meta_entry(buf, VHDX_ITEM_VIRTUAL_DISK_SIZE);
	ASSERT_EQ(le64_get(buf + le32_get(e + 16)), DISK_SIZE);
	e = meta_entry(buf, VHDX_ITEM_PAGE83);
	ASSERT_EQ(le32_get(e + 20), 16);
	ASSERT_EQ(buf[le32_get(e + 16)], 0x83);
	e = meta_entry(buf, VHDX_ITEM_LOGICAL_SECTOR);
	ASSERT_EQ(le32_get(buf + le32_get(e + 16)), 512);
	e = meta_entry(buf, VHDX_ITEM_PHYSICAL_SECTOR);
	ASSERT_EQ(le32_get(buf + le32_get(e + 16)), 4096);
	ASSERT_OK(meta_decode(buf, &d, &out));
	ASSERT_EQ(out.block_size, 32 * MIB);
	ASSERT_EQ(out.virtual_size, DISK_SIZE);
	ASSERT_MEM_EQ(out.page83, m.page83, 16);

	/* values refused */
	m.fp_flags = VHDX_FP_HAS_PARENT;
	vhdx_meta_encode(buf, &m);
	ASSERT_ERR(meta_decode(buf, &d, &out), -ENOTSUP);
	ASSERT_TRUE(strstr(d.msg, "differencing") != NULL);
	m.fp_flags = 0;
	m.block_size = 3 * MIB;
	vhdx_meta_encode(buf, &m);
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	m.block_size = 512 * MIB;
	vhdx_meta_encode(buf, &m);
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	m.block_size = MIB;
	m.logical_sector = 1024;
	vhdx_meta_encode(buf, &m);
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	m.logical_sector = 4096; /* the size is not a multiple of it */
	vhdx_meta_encode(buf, &m);
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	m.logical_sector = 512;
	m.virtual_size = (64ull << 40) + 512;
	vhdx_meta_encode(buf, &m);
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);

	/* the table refused */
	m.virtual_size = DISK_SIZE;
	vhdx_meta_encode(buf, &m);
	e = meta_entry(buf, VHDX_ITEM_PAGE83);
	le32_put((uint8_t *)e + 16, 100); /* inside the table */
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	le32_put((uint8_t *)e + 16, MIB - 8); /* past the region */
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	le32_put((uint8_t *)e + 16, VHDX_MT_SIZE + 16);
	le32_put((uint8_t *)e + 20, 8); /* too short */
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	le32_put((uint8_t *)e + 20, 16);
	ASSERT_OK(meta_decode(buf, &d, &out));
	memcpy((uint8_t *)e, vhdx_item_guids[VHDX_ITEM_LOGICAL_SECTOR], 16); /* twice */
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	((uint8_t *)e)[0] ^= 0xff; /* unknown, required: refused; optional: Page 83 missing */
	ASSERT_ERR(meta_decode(buf, &d, &out), -ENOTSUP);
	le32_put((uint8_t *)e + 24, 0);
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "Page 83") != NULL);
	memcpy(buf, "metadatX", 8);
	ASSERT_ERR(meta_decode(buf, &d, &out), -EBADMSG);
}

TEST(vhdx_sink_layout)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhdx_test"), path[256];
	uint8_t *buf, want[16];
	size_t len;
	/* blocks 0, 5, 6, 7, 8, 9 allocated in that order */
	static const int slot[10] = { 0, -1, -1, -1, -1, 1, 2, 3, 4, 5 };
	const uint8_t *e;

	ASSERT_OK(build(dir, "a.vhdx", 0, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_EQ(len, DATA + 6 * MIB);
	ASSERT_MEM_EQ(buf, "vhdxfile", 8);
	ASSERT_MEM_EQ(buf + 8, "m\0k\0d\0i\0s\0k\0i\0m\0a\0g\0e\0\0", 24);
	for (int i = 0; i < 2; i++) {
		const uint8_t *h = buf + (i ? VHDX_HEADER2_OFFSET : VHDX_HEADER1_OFFSET);

		ASSERT_MEM_EQ(h, "head", 4);
		ASSERT_EQ(le32_get(h + 4), vhdx_checksum(h, VHDX_HDR_SIZE, 4));
		ASSERT_EQ(le64_get(h + 8), 1 + i);
		guid_of("seed-1", "vhdx-file-write-guid", want);
		ASSERT_MEM_EQ(h + 16, want, 16);
		guid_of("seed-1", "vhdx-data-write-guid", want);
		ASSERT_MEM_EQ(h + 32, want, 16);
		ASSERT_TRUE(mem_is_zero(h + 48, 18)); /* no log, LogVersion 0 */
		ASSERT_EQ(le16_get(h + 66), 1);
		ASSERT_EQ(le32_get(h + 68), MIB);
		ASSERT_EQ(le64_get(h + 72), MIB);
	}
	ASSERT_MEM_EQ(buf + VHDX_REGION1_OFFSET, buf + VHDX_REGION2_OFFSET, VHDX_RT_SIZE);
	ASSERT_EQ(le32_get(buf + VHDX_REGION1_OFFSET + 4),
		  vhdx_checksum(buf + VHDX_REGION1_OFFSET, VHDX_RT_SIZE, 4));
	ASSERT_TRUE(mem_is_zero(buf + MIB, MIB)); /* the log */
	e = meta_entry(buf + META, VHDX_ITEM_PAGE83);
	guid_of("seed-1", "vhdx-disk-id", want);
	ASSERT_MEM_EQ(buf + META + le32_get(e + 16), want, 16);
	e = meta_entry(buf + META, VHDX_ITEM_VIRTUAL_DISK_SIZE);
	ASSERT_EQ(le64_get(buf + META + le32_get(e + 16)), DISK_SIZE);
	for (int b = 0; b < 10; b++) {
		uint64_t v = le64_get(buf + BAT + 8 * b);

		if (slot[b] < 0)
			ASSERT_EQ(v, VHDX_PAYLOAD_ZERO);
		else
			ASSERT_EQ(v, (DATA + slot[b] * (uint64_t)MIB) | VHDX_PAYLOAD_FULLY_PRESENT);
	}
	ASSERT_TRUE(mem_is_zero(buf + BAT + 80, MIB - 80));
	ASSERT_EQ(buf[DATA], ftest_byte(0));
	ASSERT_EQ(buf[DATA + 300000], ftest_byte(300000));
	ASSERT_TRUE(mem_is_zero(buf + DATA + 1000, 300000 - 1000));
	ASSERT_TRUE(mem_is_zero(buf + DATA + MIB, 100));
	ASSERT_EQ(buf[DATA + MIB + 100], ftest_byte(5 * MIB + 100));
	ASSERT_EQ(buf[DATA + 5 * MIB + 10], ftest_byte(9 * MIB + 10));
	ASSERT_TRUE(mem_is_zero(buf + DATA + 5 * MIB + 1000, MIB - 1000)); /* past the disk */
	free(buf);

	/* 32 MiB blocks: one block, the file holds all of it */
	ASSERT_OK(build(dir, "b.vhdx", 32 * MIB, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_EQ(len, DATA + 32 * MIB);
	ASSERT_EQ(le64_get(buf + BAT), DATA | VHDX_PAYLOAD_FULLY_PRESENT);
	ASSERT_EQ(le64_get(buf + BAT + 8), 0);
	ASSERT_EQ(buf[DATA + 9 * MIB + 10], ftest_byte(9 * MIB + 10));
	free(buf);
	cleanup_dir(dir);
}

TEST(vhdx_sink_is_deterministic)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhdx_test"), a[256], b[256];
	uint8_t *ba, *bb;
	size_t la, lb;

	ASSERT_OK(build(dir, "a.vhdx", 0, "s", a, sizeof(a), &d));
	ASSERT_OK(build(dir, "b.vhdx", 0, "s", b, sizeof(b), &d));
	ASSERT_OK(ftest_read(a, &ba, &la));
	ASSERT_OK(ftest_read(b, &bb, &lb));
	ASSERT_EQ(la, lb);
	ASSERT_MEM_EQ(ba, bb, la);
	free(bb);
	ASSERT_OK(build(dir, "b.vhdx", 0, "other", b, sizeof(b), &d));
	ASSERT_OK(ftest_read(b, &bb, &lb));
	ASSERT_TRUE(memcmp(ba + VHDX_HEADER1_OFFSET, bb + VHDX_HEADER1_OFFSET, 64) != 0);
	ASSERT_MEM_EQ(ba + DATA, bb + DATA, la - DATA); /* only the identifiers differ */
	free(ba);
	free(bb);
	cleanup_dir(dir);
}

TEST(vhdx_sink_refuses_bad_parameters)
{
	struct diag d = { 0 };
	struct format_params p = { .virtual_size = MIB, .vhdx_block_size = 3 * MIB };
	static const struct ftest_range none[1];
	char *dir = ftest_tmpdir("vhdx_test"), path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/x.vhdx", dir);
	ASSERT_ERR(ftest_write(&format_vhdx, &p, path, NULL, none, 0, &d), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "block size") != NULL);
	p.vhdx_block_size = 0;
	p.virtual_size = (64ull << 40) + 1;
	ASSERT_ERR(ftest_write(&format_vhdx, &p, path, NULL, none, 0, &d), -EOVERFLOW);
	ASSERT_TRUE(stat(path, &st) < 0); /* no partial output */
	cleanup_dir(dir);
}

/* A 5 GiB disk: a second chunk, so a sector bitmap entry between the payload entries, and
 * BAT entries past the first 64 KiB buffer. */
TEST(vhdx_large_sparse_disk_interleaves_bitmap_entries)
{
	static const struct ftest_range rg[] = {
		{ 0, 4096, false },
		{ 4096ull * MIB, 4096, false },
		{ 5000ull * MIB + 7, 100, false },
	};
	struct format_params p = { .virtual_size = 5ull << 30, .seed = "s" };
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhdx_test"), path[256], raw[256];
	uint8_t bat[8 * 5121];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/big.vhdx", dir);
	snprintf(raw, sizeof(raw), "%s/big.raw", dir);
	ASSERT_OK(ftest_write(&format_vhdx, &p, path, raw, rg, ARRAY_SIZE(rg), &d));
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_size, 3 * MIB + MIB + 3 * MIB);
	ASSERT_TRUE(st.st_blocks * 512 < 8 * MIB);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_OK(pread_full(fd, bat, sizeof(bat), BAT));
	close(fd);
	ASSERT_EQ(le64_get(bat), (4 * MIB) | 6);
	ASSERT_EQ(le64_get(bat + 8), VHDX_PAYLOAD_ZERO);
	ASSERT_EQ(le64_get(bat + 8 * 4096), VHDX_SB_NOT_PRESENT);
	ASSERT_EQ(le64_get(bat + 8 * 4097), (5 * MIB) | 6);
	ASSERT_EQ(le64_get(bat + 8 * 5001), (6 * MIB) | 6);
	ASSERT_EQ(le64_get(bat + 8 * 5120), VHDX_PAYLOAD_ZERO);
	if (ftest_have_qemu_img()) {
		char *check[] = { "qemu-img", "check", "-q", path, NULL };
		char *io[] = { "qemu-io", "-r", "-c", "read -P 0 4K 4092K", "-c",
			       "read -P 0 4095M 1M", path, NULL };

		/* (no qemu-img compare: qemu's vhdx driver reads all 5 GiB) */
		ASSERT_EQ(ftest_run(check, NULL, 0), 0);
		ASSERT_EQ(ftest_qemu_virtual_size(path, "vhdx"), 5ull << 30);
		ASSERT_EQ(ftest_run(io, NULL, 0), 0);
	}
	{
		struct image_reader *rd;
		uint8_t got[100];
		uint64_t start, n;

		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_OK(reader_vhdx.open(fd, (uint64_t)st.st_size, &d, &rd));
		ASSERT_OK(reader_vhdx.read(rd, 5000ull * MIB + 7, got, sizeof(got), &d));
		for (size_t i = 0; i < sizeof(got); i++)
			ASSERT_EQ(got[i], ftest_byte(5000ull * MIB + 7 + i));
		ASSERT_OK(reader_vhdx.next_data(rd, 4096, &start, &n, &d));
		ASSERT_EQ(start, 4096);
		ASSERT_EQ(n, MIB - 4096);
		ASSERT_OK(reader_vhdx.next_data(rd, MIB, &start, &n, &d));
		ASSERT_EQ(start, 4096ull * MIB);
		ASSERT_EQ(n, MIB);
		ASSERT_OK(reader_vhdx.next_data(rd, 5001ull * MIB, &start, &n, &d));
		ASSERT_EQ(n, 0);
		reader_vhdx.close(rd);
		close(fd);
	}
	cleanup_dir(dir);
}

TEST(vhdx_sinks_pass_qemu_img_check_and_compare)
{
	static const uint32_t sizes[] = { 0, 32 * MIB, 256 * MIB };
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhdx_test"), path[256], raw[256];

	if (!ftest_have_qemu_img()) {
		cleanup_dir(dir);
		TEST_SKIP("no qemu-img");
	}
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char *check[] = { "qemu-img", "check", "-q", path, NULL };
		char *cmp[] = { "qemu-img", "compare", "-q", "-f", "raw", "-F", "vhdx", raw, path,
				NULL };

		ASSERT_OK(build(dir, "a.vhdx", sizes[i], "s", path, sizeof(path), &d));
		ASSERT_EQ(ftest_run(check, NULL, 0), 0);
		ASSERT_EQ(ftest_qemu_virtual_size(path, "vhdx"), DISK_SIZE);
		ASSERT_OK(truncate(raw, DISK_SIZE));
		ASSERT_EQ(ftest_run(cmp, NULL, 0), 0);
	}
	cleanup_dir(dir);
}

TEST(vhdx_reader_reads_ours_and_qemu_img_files)
{
	static const uint32_t sizes[] = { 0, 32 * MIB };
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhdx_test"), path[256], raw[256], q[256];

	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_OK(build(dir, "a.vhdx", sizes[i], "s", path, sizeof(path), &d));
		ASSERT_OK(ftest_reader_equals_raw(&reader_vhdx, path, raw, DISK_SIZE, &d));
	}
	if (!ftest_have_qemu_img()) {
		cleanup_dir(dir);
		TEST_SKIP("no qemu-img");
	}
	snprintf(q, sizeof(q), "%s/q.vhdx", dir);
	{
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o",
				 "block_size=1M", raw, q, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_OK(ftest_reader_equals_raw(&reader_vhdx, q, raw, DISK_SIZE, &d));
	{
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vhdx", raw, q, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_OK(ftest_reader_equals_raw(&reader_vhdx, q, raw, DISK_SIZE, &d));
	{
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o",
				 "subformat=fixed", raw, q, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_OK(ftest_reader_equals_raw(&reader_vhdx, q, raw, DISK_SIZE, &d));
	cleanup_dir(dir);
}

TEST(vhdx_empty_disk_round_trips)
{
	struct diag d = { 0 };
	struct format_params p = { .virtual_size = 0, .seed = "s" };
	char *dir = ftest_tmpdir("vhdx_test"), path[256], raw[256];

	snprintf(path, sizeof(path), "%s/empty.vhdx", dir);
	snprintf(raw, sizeof(raw), "%s/empty.raw", dir);
	ASSERT_OK(ftest_write(&format_vhdx, &p, path, raw, NULL, 0, &d));
	ASSERT_OK(ftest_reader_equals_raw(&reader_vhdx, path, raw, 0, &d));
	cleanup_dir(dir);
}

/* Open path (its first len bytes) with the reader, read it all and walk its data. */
static int open_file(const char *path, uint64_t len, struct diag *d)
{
	struct image_reader *rd;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = reader_vhdx.open(fd, len, d, &rd);
	if (r >= 0) {
		static uint8_t tmp[MIB];
		uint64_t start, n;

		for (uint64_t off = 0; off < rd->virtual_size && r >= 0; off += sizeof(tmp))
			r = reader_vhdx.read(rd, off, tmp, MIN(sizeof(tmp), rd->virtual_size - off),
					     d);
		if (r >= 0)
			r = reader_vhdx.next_data(rd, 0, &start, &n, d);
		reader_vhdx.close(rd);
	}
	close(fd);
	return r;
}

static void poke(const char *path, uint64_t off, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || pwrite_full(fd, p, len, off) < 0)
		abort();
	close(fd);
}

static void peek(const char *path, uint64_t off, void *p, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || pread_full(fd, p, len, off) < 0)
		abort();
	close(fd);
}

/* Header i of the file rewritten by f, its checksum made valid again. */
static void rewrite_header(const char *path, int i, void (*f)(struct vhdx_header *))
{
	uint64_t at = i ? VHDX_HEADER2_OFFSET : VHDX_HEADER1_OFFSET;
	uint8_t buf[VHDX_HDR_SIZE];
	struct vhdx_header h;
	struct diag d = { 0 };

	peek(path, at, buf, sizeof(buf));
	if (vhdx_header_decode(buf, &d, &h) < 0)
		abort();
	f(&h);
	vhdx_header_encode(buf, &h);
	poke(path, at, buf, sizeof(buf));
}

static void set_sequence_1(struct vhdx_header *h)
{
	h->sequence = 1;
	h->file_write_guid[0] ^= 1;
}

static void set_log_guid(struct vhdx_header *h)
{
	memset(h->log_guid, 0x4c, 16);
}

TEST(vhdx_reader_rejects_corrupt_files)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhdx_test"), path[256];
	uint8_t save[VHDX_HDR_SIZE], b, loge[64] = "loge";
	struct stat st;
	uint64_t len;

	ASSERT_OK(build(dir, "a.vhdx", 0, "s", path, sizeof(path), &d));
	ASSERT_OK(stat(path, &st));
	len = (uint64_t)st.st_size;
	ASSERT_OK(open_file(path, len, &d));

	/* the current header (2) damaged: header 1 serves; both: refused */
	peek(path, VHDX_HEADER2_OFFSET, save, sizeof(save));
	b = save[100] ^ 1;
	poke(path, VHDX_HEADER2_OFFSET + 100, &b, 1);
	ASSERT_OK(open_file(path, len, &d));
	b = 'x';
	poke(path, VHDX_HEADER1_OFFSET, &b, 1);
	ASSERT_ERR(open_file(path, len, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "no valid header") != NULL);
	ASSERT_TRUE(strstr(d.msg, "checksum") != NULL);
	poke(path, VHDX_HEADER2_OFFSET, save, sizeof(save));
	ASSERT_OK(open_file(path, len, &d));
	b = 'h';
	poke(path, VHDX_HEADER1_OFFSET, &b, 1);

	/* two valid headers with one sequence number must be the same */
	rewrite_header(path, 1, set_sequence_1);
	ASSERT_ERR(open_file(path, len, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "same sequence") != NULL);
	poke(path, VHDX_HEADER2_OFFSET, save, sizeof(save));

	/* a LogGuid alone is no pending log; an entry of that LogGuid is */
	rewrite_header(path, 1, set_log_guid);
	ASSERT_OK(open_file(path, len, &d));
	memset(loge + 32, 0x4c, 16);
	poke(path, MIB + 8192, loge, sizeof(loge));
	ASSERT_ERR(open_file(path, len, &d), -EBUSY);
	ASSERT_TRUE(strstr(d.msg, "pending log") != NULL);
	poke(path, VHDX_HEADER2_OFFSET, save, sizeof(save)); /* LogGuid zero: log ignored */
	ASSERT_OK(open_file(path, len, &d));
	memset(loge, 0, sizeof(loge));
	poke(path, MIB + 8192, loge, sizeof(loge));

	/* region table 1 damaged: table 2 serves */
	b = 0x31; /* the BAT's offset, byte 2 of 0x300000 */
	poke(path, VHDX_REGION1_OFFSET + 16 + 18, &b, 1);
	ASSERT_OK(open_file(path, len, &d));
	poke(path, VHDX_REGION2_OFFSET + 16 + 18, &b, 1);
	ASSERT_ERR(open_file(path, len, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "region table: bad checksum") != NULL);
	b = 0x30;
	poke(path, VHDX_REGION1_OFFSET + 16 + 18, &b, 1);
	poke(path, VHDX_REGION2_OFFSET + 16 + 18, &b, 1);
	ASSERT_OK(open_file(path, len, &d));

	/* BAT entries: past the end, into the header section, the BAT or the log, a reserved
	 * state, partially present */
	{
		static const uint64_t bad[] = {
			(64ull * MIB) | 6, 6, (uint64_t)BAT | 6, (uint64_t)MIB | 6,
			(4ull * MIB) | 4, (4ull * MIB) | 7,
		};
		static const char *const why[] = { "past the end",     "header section",
						   "overlaps the BAT", "overlaps the log",
						   "reserved state",   "partially present" };
		uint8_t e[8];

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			le64_put(e, bad[i]);
			poke(path, BAT + 8, e, 8);
			ASSERT_ERR(open_file(path, len, &d), -EBADMSG);
			ASSERT_TRUE(strstr(d.msg, why[i]) != NULL);
			ASSERT_TRUE(strstr(d.msg, "BAT entry 1") != NULL);
		}
		le64_put(e, VHDX_PAYLOAD_UNMAPPED);
		poke(path, BAT + 8, e, 8);
		ASSERT_OK(open_file(path, len, &d));
	}
	/* truncated: the last block ends past the file; the header section cut */
	ASSERT_ERR(open_file(path, len - MIB + 500, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "truncated") != NULL);
	ASSERT_ERR(open_file(path, 300000, &d), -EBADMSG);
	ASSERT_ERR(open_file(path, 0, &d), -EBADMSG);

	/* every single-byte corruption of the headers, region tables and metadata table opens
	 * and reads, or fails cleanly */
	{
		static const struct {
			uint64_t off;
			size_t len;
		} areas[] = { { VHDX_HEADER1_OFFSET, 80 },
			      { VHDX_HEADER2_OFFSET, 80 },
			      { VHDX_REGION1_OFFSET, 80 },
			      { META, 32 + 5 * 32 },
			      { META + VHDX_MT_SIZE, 40 } };

		for (size_t a = 0; a < ARRAY_SIZE(areas); a++)
			for (size_t i = 0; i < areas[a].len; i++) {
				uint8_t old, x;
				int r;

				peek(path, areas[a].off + i, &old, 1);
				x = old ^ 0x5a;
				poke(path, areas[a].off + i, &x, 1);
				r = open_file(path, len, &d);
				ASSERT_TRUE(r >= 0 || r == -EBADMSG || r == -ENOTSUP);
				poke(path, areas[a].off + i, &old, 1);
			}
	}
	ASSERT_OK(open_file(path, len, &d));
	cleanup_dir(dir);
}
