#include "format/vdi.h"

#include "format/format-internal.h"
#include "format/format-test.h"
#include "util/cleanup.h"
#include "util/endian.h"
#include "util/test.h"
#include "util/uuid.h"

#define MIB (1u << 20)
#define VSIZE (6 * MIB + 1000)

/* Block 0 partial, 1 a hole, 2 written as zeros, 3-5 whole, 6 partial and the disk's odd end. */
static const struct ftest_range pattern[] = {
	{ 0, 1000, false },
	{ 300000, 5000, false },
	{ 2 * MIB, MIB, true },
	{ 3 * MIB, 3 * MIB, false },
	{ 6 * MIB + 10, 990, false },
};

static int build(const char *dir, const char *name, const char *seed, char *path, size_t len,
		 struct diag *d)
{
	struct format_params p = { .virtual_size = VSIZE, .seed = seed };
	char raw[256];

	snprintf(path, len, "%s/%s", dir, name);
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	return ftest_write(&format_vdi, &p, path, raw, pattern, ARRAY_SIZE(pattern), d);
}

static void cleanup_dir(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };

	(void)ftest_run(argv, NULL, 0);
}

TEST(vdi_header_encode_named_offsets)
{
	struct vdi_header h = { .version = VDI_VERSION_1_1,
				.header_size = VDI_HEADER_SIZE_V1PLUS,
				.image_type = VDI_TYPE_DYNAMIC,
				.offset_bmap = 0x200,
				.offset_data = 0x400,
				.sector_size = 512,
				.disk_size = 5 * MIB,
				.block_size = MIB,
				.blocks_in_image = 5,
				.blocks_allocated = 3 };
	struct vdi_header back;
	struct diag d = { 0 };
	uint8_t buf[VDI_HDR_SIZE];

	uuid_parse("01234567-89ab-cdef-0123-456789abcdef", h.uuid_image);
	vdi_header_encode(buf, &h);
	ASSERT_MEM_EQ(buf, "<<< Oracle VM VirtualBox Disk Image >>>\n\0", 41);
	ASSERT_MEM_EQ(buf + 0x40, "\x7f\x10\xda\xbe\x01\x00\x01\x00\x90\x01\x00\x00", 12);
	ASSERT_MEM_EQ(buf + 0x4c, "\x01\x00\x00\x00", 4);
	ASSERT_MEM_EQ(buf + 0x154, "\x00\x02\x00\x00\x00\x04\x00\x00", 8);
	ASSERT_TRUE(mem_is_zero(buf + 0x15c, 12)); /* legacy geometry as qemu-img leaves it */
	ASSERT_EQ(le32_get(buf + 0x168), 512);
	ASSERT_EQ(le64_get(buf + 0x170), 5 * MIB);
	ASSERT_MEM_EQ(buf + 0x178, "\x00\x00\x10\x00\x00\x00\x00\x00\x05\x00\x00\x00\x03\x00\x00\x00",
		      16);
	/* GUID byte order, as VirtualBox's RTUUID */
	ASSERT_MEM_EQ(buf + 0x188, "\x67\x45\x23\x01\xab\x89\xef\xcd\x01\x23", 10);
	ASSERT_EQ(le32_get(buf + 0x1d4), 512); /* LCHS sector size VirtualBox checks */
	ASSERT_TRUE(mem_is_zero(buf + 0x1d8, VDI_HDR_SIZE - 0x1d8));

	ASSERT_OK(vdi_header_decode(buf, sizeof(buf), 0x400 + 3 * MIB, &d, &back));
	ASSERT_EQ(back.disk_size, 5 * MIB);
	ASSERT_EQ(back.blocks_allocated, 3);
	ASSERT_EQ(back.offset_data, 0x400);
	ASSERT_MEM_EQ(back.uuid_image, h.uuid_image, 16);
}

TEST(vdi_header_decode_rejects_hostile_fields)
{
	struct vdi_header h = { .version = VDI_VERSION_1_1,
				.header_size = VDI_HEADER_SIZE_V1PLUS,
				.image_type = VDI_TYPE_DYNAMIC,
				.offset_bmap = 0x200,
				.offset_data = 0x400,
				.sector_size = 512,
				.disk_size = 5 * MIB,
				.block_size = MIB,
				.blocks_in_image = 5 };
	struct vdi_header out;
	struct diag d = { 0 };
	uint8_t buf[VDI_HDR_SIZE], bad[VDI_HDR_SIZE];

	vdi_header_encode(buf, &h);
	ASSERT_OK(vdi_header_decode(buf, sizeof(buf), 0x400, &d, &out));
	ASSERT_ERR(vdi_header_decode(buf, sizeof(buf), 0x300, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "data offset") != NULL);
	ASSERT_ERR(vdi_header_decode(buf, 100, 0x400, &d, &out), -EBADMSG);

#define MUTATE(field_off, val, want, word)                                        \
	do {                                                                      \
		memcpy(bad, buf, sizeof(bad));                                    \
		le32_put(bad + (field_off), (val));                               \
		ASSERT_ERR(vdi_header_decode(bad, sizeof(bad), 1ull << 40, &d, &out), want); \
		ASSERT_TRUE(strstr(d.msg, word) != NULL);                         \
	} while (0)
	MUTATE(VDI_HDR_SIGNATURE, 0x12345678, -EBADMSG, "signature");
	MUTATE(VDI_HDR_VERSION, 0x00010000, -ENOTSUP, "version");
	MUTATE(VDI_HDR_HEADER_SIZE, 12, -EBADMSG, "header size");
	MUTATE(VDI_HDR_IMAGE_TYPE, VDI_TYPE_DIFF, -ENOTSUP, "differencing");
	MUTATE(VDI_HDR_IMAGE_TYPE, 9, -EBADMSG, "image type");
	MUTATE(VDI_HDR_UUID_PARENT, 1, -ENOTSUP, "parent");
	MUTATE(VDI_HDR_SECTOR_SIZE, 4096, -EBADMSG, "sector size");
	MUTATE(VDI_HDR_BLOCK_SIZE, 3 * MIB, -EBADMSG, "block size");
	MUTATE(VDI_HDR_BLOCK_EXTRA, 512, -ENOTSUP, "extra");
	MUTATE(VDI_HDR_BLOCKS_IN_IMAGE, 4, -EBADMSG, "disk size");
	MUTATE(VDI_HDR_BLOCKS_IN_IMAGE, 0x40000000, -EBADMSG, "blocks in image");
	MUTATE(VDI_HDR_BLOCKS_ALLOCATED, 6, -EBADMSG, "blocks allocated");
	MUTATE(VDI_HDR_OFFSET_BMAP, 0x100, -EBADMSG, "block map");
	MUTATE(VDI_HDR_OFFSET_BMAP, 0xfffffff0, -EBADMSG, "data offset");
	MUTATE(VDI_HDR_OFFSET_DATA, 0x201, -EBADMSG, "data offset");
#undef MUTATE
}

TEST(vdi_sink_allocates_data_blocks_in_order)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vdi_test"), path[256];
	uint8_t *buf;
	size_t len;

	ASSERT_OK(build(dir, "a.vdi", "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_EQ(len, 0x400 + 5 * MIB); /* blocks 0, 3, 4, 5, 6 */
	ASSERT_EQ(le32_get(buf + VDI_HDR_OFFSET_BMAP), 0x200);
	ASSERT_EQ(le32_get(buf + VDI_HDR_OFFSET_DATA), 0x400);
	ASSERT_EQ(le64_get(buf + VDI_HDR_DISK_SIZE), 6 * MIB + 1024);
	ASSERT_EQ(le32_get(buf + VDI_HDR_BLOCKS_IN_IMAGE), 7);
	ASSERT_EQ(le32_get(buf + VDI_HDR_BLOCKS_ALLOCATED), 5);
	ASSERT_MEM_EQ(buf + 0x200,
		      "\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00"
		      "\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00",
		      28);
	ASSERT_TRUE(mem_is_zero(buf + 0x200 + 28, 0x200 - 28));
	ASSERT_EQ(buf[0x400], ftest_byte(0));
	ASSERT_EQ(buf[0x400 + MIB], ftest_byte(3 * MIB));
	ASSERT_EQ(buf[0x400 + 4 * MIB + 10], ftest_byte(6 * MIB + 10));
	free(buf);
	cleanup_dir(dir);
}

TEST(vdi_sink_is_deterministic_and_seeded)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vdi_test"), a[256], b[256], c[256];
	uint8_t *ba, *bb, *bc, want[16], guid[16];
	size_t la, lb, lc;

	ASSERT_OK(build(dir, "a.vdi", "seed-1", a, sizeof(a), &d));
	ASSERT_OK(build(dir, "b.vdi", "seed-1", b, sizeof(b), &d));
	ASSERT_OK(build(dir, "c.vdi", "seed-2", c, sizeof(c), &d));
	ASSERT_OK(ftest_read(a, &ba, &la));
	ASSERT_OK(ftest_read(b, &bb, &lb));
	ASSERT_OK(ftest_read(c, &bc, &lc));
	ASSERT_EQ(la, lb);
	ASSERT_MEM_EQ(ba, bb, la);
	ASSERT_TRUE(memcmp(ba + VDI_HDR_UUID_IMAGE, bc + VDI_HDR_UUID_IMAGE, 16) != 0);
	uuid_derive("seed-1", "vdi-uuid", want);
	uuid_to_guid(want, guid);
	ASSERT_MEM_EQ(ba + VDI_HDR_UUID_IMAGE, guid, 16);
	ASSERT_TRUE(!uuid_is_null(ba + VDI_HDR_UUID_LAST_SNAP));
	ASSERT_TRUE(uuid_is_null(ba + VDI_HDR_UUID_LINK) && uuid_is_null(ba + VDI_HDR_UUID_PARENT));
	free(ba);
	free(bb);
	free(bc);
	cleanup_dir(dir);
}

TEST(vdi_sink_passes_qemu_img_check_info_compare)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vdi_test"), path[256], raw[256], out[4096];

	if (!ftest_have_qemu_img()) {
		TEST_SKIP("no qemu-img");
	}
	ASSERT_OK(build(dir, "a.vdi", "seed-1", path, sizeof(path), &d));
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	{
		char *argv[] = { "qemu-img", "check", "-f", "vdi", path, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	{
		char *argv[] = { "qemu-img", "info", "--output=json", path, NULL };
		ASSERT_EQ(ftest_run(argv, out, sizeof(out)), 0);
		ASSERT_TRUE(strstr(out, "\"format\": \"vdi\"") != NULL);
		ASSERT_TRUE(strstr(out, "\"virtual-size\": 6292480,") != NULL);
	}
	{
		char *argv[] = { "qemu-img", "compare", "-f", "vdi", "-F", "raw", path, raw, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	cleanup_dir(dir);
}

TEST(vdi_reader_reads_ours_and_qemu_img_files)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vdi_test"), path[256], raw[256], q[256], qs[256];

	ASSERT_OK(build(dir, "a.vdi", "seed-1", path, sizeof(path), &d));
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	ASSERT_OK(ftest_reader_equals_raw(&reader_vdi, path, raw, 6 * MIB + 1024, &d));
	ASSERT_TRUE(reader_vdi.probe((const uint8_t *)"x", 1, 1) == 0);
	if (!ftest_have_qemu_img()) {
		TEST_SKIP("no qemu-img");
	}
	snprintf(q, sizeof(q), "%s/q.vdi", dir);
	snprintf(qs, sizeof(qs), "%s/qs.vdi", dir);
	{
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vdi", raw, q, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_OK(ftest_reader_equals_raw(&reader_vdi, q, raw, 6 * MIB + 1024, &d));
	{ /* a static image: every block allocated */
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vdi", "-o",
				 "static=on", raw, qs, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_OK(ftest_reader_equals_raw(&reader_vdi, qs, raw, 6 * MIB + 1024, &d));
	cleanup_dir(dir);
}

TEST(vdi_large_sparse_disk_stays_small)
{
	struct diag d = { 0 };
	struct format_params p = { .virtual_size = 100ull << 30, .seed = "s" };
	static const struct ftest_range rg[] = { { 0, 4096, false },
						 { (100ull << 30) - 4096, 4096, false } };
	char *dir = ftest_tmpdir("vdi_test"), path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/big.vdi", dir);
	ASSERT_OK(ftest_write(&format_vdi, &p, path, NULL, rg, ARRAY_SIZE(rg), &d));
	ASSERT_OK(stat(path, &st));
	/* header, a 102400-entry block map, two blocks */
	ASSERT_EQ(st.st_size, 0x200 + 102400 * 4 + 2 * MIB);
	if (ftest_have_qemu_img()) {
		char *argv[] = { "qemu-img", "check", "-q", "-f", "vdi", path, NULL };

		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
		ASSERT_EQ(ftest_qemu_virtual_size(path, "vdi"), 100ull << 30);
	} else {
		test_skip("no qemu-img");
	}
	cleanup_dir(dir);
}

TEST(vdi_empty_disk_round_trips)
{
	struct diag d = { 0 };
	struct format_params p = { .virtual_size = 0, .seed = "s" };
	char *dir = ftest_tmpdir("vdi_test"), path[256], raw[256];

	snprintf(path, sizeof(path), "%s/empty.vdi", dir);
	snprintf(raw, sizeof(raw), "%s/empty.raw", dir);
	ASSERT_OK(ftest_write(&format_vdi, &p, path, raw, NULL, 0, &d));
	ASSERT_OK(ftest_reader_equals_raw(&reader_vdi, path, raw, 0, &d));
	cleanup_dir(dir);
}

static int open_bytes(const char *dir, const uint8_t *buf, size_t len, struct diag *d)
{
	char path[256];
	struct image_reader *rd;
	int fd, r;

	snprintf(path, sizeof(path), "%s/bad.vdi", dir);
	if (ftest_write_file(path, buf, len) < 0)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	r = reader_vdi.open(fd, len, d, &rd);
	if (r >= 0) {
		uint8_t tmp[4096];
		uint64_t start, n;

		/* whatever opened must read without faults */
		for (uint64_t off = 0; off < rd->virtual_size && r >= 0; off += 65536)
			r = reader_vdi.read(rd, off, tmp, MIN(sizeof(tmp), rd->virtual_size - off), d);
		if (r >= 0)
			r = reader_vdi.next_data(rd, 0, &start, &n, d);
		reader_vdi.close(rd);
	}
	close(fd);
	return r;
}

TEST(vdi_reader_fails_cleanly_on_truncated_and_corrupted_files)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vdi_test"), path[256];
	uint8_t *buf;
	size_t len;

	ASSERT_OK(build(dir, "a.vdi", "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_OK(open_bytes(dir, buf, len, &d));
	ASSERT_ERR(open_bytes(dir, buf, len - 1, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "block map entry 6") != NULL);
	ASSERT_ERR(open_bytes(dir, buf, 0x300, &d), -EBADMSG);
	ASSERT_ERR(open_bytes(dir, buf, 100, &d), -EBADMSG);
	ASSERT_ERR(open_bytes(dir, buf, 0, &d), -EBADMSG);
	le32_put(buf + 0x200 + 12, 0x7fffffff); /* block 3 far past the end */
	ASSERT_ERR(open_bytes(dir, buf, len, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "block map entry 3") != NULL);
	le32_put(buf + 0x200 + 12, VDI_DISCARDED); /* reads as zeros */
	ASSERT_OK(open_bytes(dir, buf, len, &d));
	/* every single-byte corruption of the header either opens and reads or fails cleanly */
	for (size_t i = 0x40; i < 0x1d8; i++) {
		uint8_t save = buf[i];
		int r;

		buf[i] ^= 0xa5;
		r = open_bytes(dir, buf, len, &d);
		ASSERT_TRUE(r >= 0 || r == -EBADMSG || r == -ENOTSUP);
		buf[i] = save;
	}
	free(buf);
	cleanup_dir(dir);
}
