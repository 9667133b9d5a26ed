#include "format/vhd.h"

#include "format/format-internal.h"
#include "format/format-test.h"
#include "util/cleanup.h"
#include "util/endian.h"
#include "util/test.h"
#include "util/uuid.h"

#define MIB (1u << 20)
#define VSIZE (9 * MIB + 1000)
#define DYN_SIZE (9 * MIB + 1024) /* rounded up to a sector */
#define FIXED_SIZE (10 * MIB)     /* rounded up to a MiB */
#define BLK (512 + 2 * MIB)       /* bitmap + data */

/* 2 MiB blocks: 0 partial, 1 a hole, 2 written as zeros, 3 whole, 4 partial up to the odd end. */
static const struct ftest_range pattern[] = {
	{ 0, 1000, false },
	{ 300000, 5000, false },
	{ 4 * MIB, 2 * MIB, true },
	{ 6 * MIB, 3 * MIB, false },
	{ 9 * MIB + 10, 990, false },
};

static int build(const char *dir, const char *name, bool fixed, const char *seed, char *path,
		 size_t len, struct diag *d)
{
	struct format_params p = { .virtual_size = VSIZE,
				   .seed = seed,
				   .timestamp = 1700000000,
				   .vpc_subformat = fixed ? FORMAT_VPC_FIXED : FORMAT_VPC_DYNAMIC };
	char raw[256];

	snprintf(path, len, "%s/%s", dir, name);
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	return ftest_write(&format_vpc, &p, path, raw, pattern, ARRAY_SIZE(pattern), d);
}

static void cleanup_dir(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };

	(void)ftest_run(argv, NULL, 0);
}

TEST(vhd_geometry_follows_the_specification)
{
	struct vhd_geometry g;

	/* qemu-img create -f vpc 5000000: 144/4/17 (5013504 bytes) */
	g = vhd_geometry_for(5013504 / 512);
	ASSERT_EQ(g.cylinders, 144);
	ASSERT_EQ(g.heads, 4);
	ASSERT_EQ(g.sectors, 17);
	/* 1 GiB: past 17 sectors x 16 heads x 1024, so 63 sectors per track */
	g = vhd_geometry_for(2097152);
	ASSERT_EQ(g.cylinders, 2080);
	ASSERT_EQ(g.heads, 16);
	ASSERT_EQ(g.sectors, 63);
	/* beyond 65535 x 16 x 63: 255 sectors, capped at 65535 cylinders */
	g = vhd_geometry_for(4ull << 31);
	ASSERT_EQ(g.cylinders, 65535);
	ASSERT_EQ(g.heads, 16);
	ASSERT_EQ(g.sectors, 255);
}

TEST(vhd_geometry_matches_qemu_img)
{
	static const char *const sizes[] = { "5000000", "100M", "1G", "10G", "40G", "130G",
					     "1500G" };
	char *dir = ftest_tmpdir("vhd_test"), path[256];

	if (!ftest_have_qemu_img()) {
		TEST_SKIP("no qemu-img");
	}
	snprintf(path, sizeof(path), "%s/g.vhd", dir);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char *argv[] = { "qemu-img", "create", "-q", "-f", "vpc", path, (char *)sizes[i],
				 NULL };
		struct vhd_footer f;
		struct vhd_geometry g;
		struct diag d = { 0 };
		uint8_t *buf;
		size_t len;

		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
		ASSERT_OK(ftest_read(path, &buf, &len));
		/* qemu's checksum is ours */
		ASSERT_EQ(be32_get(buf + VHD_FTR_CHECKSUM),
			  vhd_checksum(buf, VHD_FTR_SIZE, VHD_FTR_CHECKSUM));
		ASSERT_EQ(be32_get(buf + 512 + VHD_DYN_CHECKSUM),
			  vhd_checksum(buf + 512, VHD_DYN_SIZE, VHD_DYN_CHECKSUM));
		ASSERT_OK(vhd_footer_decode(buf, &d, &f));
		g = vhd_geometry_for(f.current_size / 512);
		ASSERT_EQ(g.cylinders, f.geom.cylinders);
		ASSERT_EQ(g.heads, f.geom.heads);
		ASSERT_EQ(g.sectors, f.geom.sectors);
		free(buf);
	}
	cleanup_dir(dir);
}

TEST(vhd_footer_and_dynamic_header_named_offsets)
{
	struct vhd_footer f = { .data_offset = 512,
				.timestamp = 0x3295055c,
				.creator_app = { 'q', 'e', 'm', '2' },
				.creator_version = 0x00050003,
				.creator_os = { 'W', 'i', '2', 'k' },
				.orig_size = 0x4c4c00,
				.current_size = 0x4c4c00,
				.geom = { 144, 4, 17 },
				.disk_type = VHD_TYPE_DYNAMIC };
	struct vhd_dyn_header h = { .table_offset = 1536, .max_table_entries = 3,
				    .block_size = VHD_BLOCK_SIZE };
	struct vhd_footer fb;
	struct vhd_dyn_header hb;
	struct diag d = { 0 };
	uint8_t buf[VHD_DYN_SIZE];

	vhd_footer_encode(buf, &f);
	ASSERT_MEM_EQ(buf, "conectix\0\0\0\x02\0\x01\0\0\0\0\0\0\0\0\x02\0\x32\x95\x05\x5cqem2"
			   "\0\x05\0\x03Wi2k\0\0\0\0\0\x4c\x4c\0\0\0\0\0\0\x4c\x4c\0"
			   "\0\x90\x04\x11\0\0\0\x03",
		      64);
	ASSERT_EQ(be32_get(buf + VHD_FTR_CHECKSUM),
		  ~(uint32_t)(0x63 + 0x6f + 0x6e + 0x65 + 0x63 + 0x74 + 0x69 + 0x78 + 2 + 1 + 2 +
			      0x32 + 0x95 + 0x05 + 0x5c + 'q' + 'e' + 'm' + '2' + 5 + 3 + 'W' +
			      'i' + '2' + 'k' + 2 * (0x4c + 0x4c) + 0x90 + 4 + 0x11 + 3));
	ASSERT_TRUE(mem_is_zero(buf + 68, 512 - 68));
	ASSERT_OK(vhd_footer_decode(buf, &d, &fb));
	ASSERT_EQ(fb.current_size, 0x4c4c00);
	ASSERT_EQ(vhd_footer_virtual_size(&fb), 0x4c4c00); /* qem2: current_size */
	memcpy(fb.creator_app, "qemu", 4);
	ASSERT_EQ(vhd_footer_virtual_size(&fb), 144 * 4 * 17 * 512); /* qemu: CHS */

	vhd_dyn_header_encode(buf, &h);
	ASSERT_MEM_EQ(buf, "cxsparse\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0\0\0\x06\0"
			   "\0\x01\0\0\0\0\0\x03\0\x20\0\0",
		      36);
	ASSERT_EQ(be32_get(buf + VHD_DYN_CHECKSUM), 0xfffff474); /* as qemu-img wrote it */
	ASSERT_OK(vhd_dyn_header_decode(buf, &d, &hb));
	ASSERT_EQ(hb.table_offset, 1536);
	ASSERT_EQ(hb.max_table_entries, 3);
}

TEST(vhd_decoders_reject_hostile_fields)
{
	struct vhd_footer f = { .data_offset = 512, .current_size = MIB, .geom = { 30, 4, 17 },
				.disk_type = VHD_TYPE_DYNAMIC };
	struct vhd_dyn_header h = { .table_offset = 1536, .max_table_entries = 1,
				    .block_size = VHD_BLOCK_SIZE };
	struct vhd_footer fo;
	struct vhd_dyn_header ho;
	struct diag d = { 0 };
	uint8_t buf[VHD_DYN_SIZE];

	memcpy(f.creator_app, "qem2", 4);
	vhd_footer_encode(buf, &f);
	buf[100] = 1;
	ASSERT_ERR(vhd_footer_decode(buf, &d, &fo), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "checksum") != NULL);
	f.disk_type = VHD_TYPE_DIFF;
	vhd_footer_encode(buf, &f);
	ASSERT_ERR(vhd_footer_decode(buf, &d, &fo), -ENOTSUP);
	ASSERT_TRUE(strstr(d.msg, "differencing") != NULL);
	f.disk_type = 7;
	vhd_footer_encode(buf, &f);
	ASSERT_ERR(vhd_footer_decode(buf, &d, &fo), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "disk type") != NULL);
	f.disk_type = VHD_TYPE_FIXED;
	f.current_size = VHD_MAX_SIZE + 512;
	vhd_footer_encode(buf, &f);
	ASSERT_ERR(vhd_footer_decode(buf, &d, &fo), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "current size") != NULL);
	vhd_footer_encode(buf, &f);
	buf[0] = 'C';
	ASSERT_ERR(vhd_footer_decode(buf, &d, &fo), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "cookie") != NULL);

	h.block_size = 3 * MIB;
	vhd_dyn_header_encode(buf, &h);
	ASSERT_ERR(vhd_dyn_header_decode(buf, &d, &ho), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "block size") != NULL);
	h.block_size = VHD_BLOCK_SIZE;
	vhd_dyn_header_encode(buf, &h);
	buf[VHD_DYN_TABLE_OFFSET] ^= 1;
	ASSERT_ERR(vhd_dyn_header_decode(buf, &d, &ho), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "checksum") != NULL);
}

TEST(vhd_dynamic_sink_layout)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhd_test"), path[256];
	uint64_t data = 2048, end = data + 3 * (uint64_t)BLK;
	uint8_t *buf, want_uuid[16];
	size_t len;

	ASSERT_OK(build(dir, "a.vhd", false, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_EQ(len, end + 512); /* blocks 0, 3, 4 and the footer */
	ASSERT_MEM_EQ(buf, buf + end, 512); /* footer copy at 0 */
	ASSERT_EQ(be64_get(buf + VHD_FTR_DATA_OFFSET), 512);
	ASSERT_EQ(be32_get(buf + VHD_FTR_TIMESTAMP), 1700000000 - 946684800);
	ASSERT_MEM_EQ(buf + VHD_FTR_CREATOR_APP, "qem2", 4);
	ASSERT_EQ(be64_get(buf + VHD_FTR_CURRENT_SIZE), DYN_SIZE);
	ASSERT_EQ(be64_get(buf + VHD_FTR_ORIG_SIZE), DYN_SIZE);
	ASSERT_EQ(be32_get(buf + VHD_FTR_DISK_TYPE), VHD_TYPE_DYNAMIC);
	uuid_derive("seed-1", "vhd-uuid", want_uuid);
	ASSERT_MEM_EQ(buf + VHD_FTR_UUID, want_uuid, 16);
	ASSERT_MEM_EQ(buf + 512, "cxsparse", 8);
	ASSERT_EQ(be64_get(buf + 512 + VHD_DYN_TABLE_OFFSET), 1536);
	ASSERT_EQ(be32_get(buf + 512 + VHD_DYN_MAX_TABLE_ENTRIES), 5);
	ASSERT_EQ(be32_get(buf + 1536), data / 512);
	ASSERT_EQ(be32_get(buf + 1540), VHD_UNALLOCATED);
	ASSERT_EQ(be32_get(buf + 1544), VHD_UNALLOCATED);
	ASSERT_EQ(be32_get(buf + 1548), (data + BLK) / 512);
	ASSERT_EQ(be32_get(buf + 1552), (data + 2 * BLK) / 512);
	for (size_t i = 1556; i < 2048; i++) /* padding: unallocated entries, as qemu */
		ASSERT_EQ(buf[i], 0xff);
	for (size_t i = 0; i < 512; i++) /* every sector present */
		ASSERT_EQ(buf[data + i], 0xff);
	ASSERT_EQ(buf[data + 512], ftest_byte(0));
	ASSERT_EQ(buf[data + BLK + 512], ftest_byte(6 * MIB));
	ASSERT_EQ(buf[data + 2 * BLK + 512 + MIB + 10], ftest_byte(9 * MIB + 10));
	free(buf);
	cleanup_dir(dir);
}

TEST(vhd_fixed_sink_layout)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhd_test"), path[256];
	uint8_t *buf;
	size_t len;

	ASSERT_OK(build(dir, "f.vhd", true, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_EQ(len, FIXED_SIZE + 512);
	ASSERT_EQ(buf[0], ftest_byte(0));
	ASSERT_EQ(buf[6 * MIB], ftest_byte(6 * MIB));
	ASSERT_TRUE(mem_is_zero(buf + VSIZE, FIXED_SIZE - VSIZE));
	ASSERT_TRUE(mem_is_zero(buf + 2 * MIB, 4 * MIB)); /* a hole and written zeros */
	ASSERT_MEM_EQ(buf + FIXED_SIZE, "conectix", 8);
	ASSERT_EQ(be64_get(buf + FIXED_SIZE + VHD_FTR_DATA_OFFSET), UINT64_MAX);
	ASSERT_EQ(be64_get(buf + FIXED_SIZE + VHD_FTR_CURRENT_SIZE), FIXED_SIZE);
	ASSERT_EQ(be32_get(buf + FIXED_SIZE + VHD_FTR_DISK_TYPE), VHD_TYPE_FIXED);
	free(buf);
	cleanup_dir(dir);
}

TEST(vhd_sink_is_deterministic_and_clamps_time)
{
	struct diag d = { 0 };
	struct format_params p = { .virtual_size = MIB, .seed = "s", .timestamp = 12345 };
	static const struct ftest_range one[] = { { 0, 512, false } };
	char *dir = ftest_tmpdir("vhd_test"), a[256], b[256];
	uint8_t *ba, *bb;
	size_t la, lb;

	ASSERT_OK(build(dir, "a.vhd", false, "seed-1", a, sizeof(a), &d));
	ASSERT_OK(build(dir, "b.vhd", false, "seed-1", b, sizeof(b), &d));
	ASSERT_OK(ftest_read(a, &ba, &la));
	ASSERT_OK(ftest_read(b, &bb, &lb));
	ASSERT_EQ(la, lb);
	ASSERT_MEM_EQ(ba, bb, la);
	free(ba);
	free(bb);
	ASSERT_OK(ftest_write(&format_vpc, &p, a, NULL, one, 1, &d)); /* before 2000 */
	ASSERT_OK(ftest_read(a, &ba, &la));
	ASSERT_EQ(be32_get(ba + VHD_FTR_TIMESTAMP), 0);
	free(ba);
	p.virtual_size = VHD_MAX_SIZE + 1;
	ASSERT_ERR(ftest_write(&format_vpc, &p, b, NULL, one, 0, &d), -EOVERFLOW);
	cleanup_dir(dir);
}

TEST(vhd_large_sparse_disk_stays_small)
{
	struct diag d = { 0 };
	struct format_params p = { .virtual_size = 100ull << 30, .seed = "s" };
	static const struct ftest_range rg[] = { { 0, 4096, false },
						 { (100ull << 30) - 4096, 4096, false } };
	char *dir = ftest_tmpdir("vhd_test"), path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/big.vhd", dir);
	ASSERT_OK(ftest_write(&format_vpc, &p, path, NULL, rg, ARRAY_SIZE(rg), &d));
	ASSERT_OK(stat(path, &st));
	/* headers, a 51200-entry BAT, two blocks and the footer */
	ASSERT_EQ(st.st_size, 1536 + 51200 * 4 + 2 * BLK + 512);
	if (ftest_have_qemu_img())
		ASSERT_EQ(ftest_qemu_virtual_size(path, "vpc"), 100ull << 30);
	else
		test_skip("no qemu-img");
	cleanup_dir(dir);
}

static void check_with_qemu(const char *path, const char *raw, const char *size, int *_failed)
{
	char out[4096];
	char *info[] = { "qemu-img", "info", "-f", "vpc", "--output=json", (char *)path, NULL };
	char *cmp[] = { "qemu-img", "compare", "-f", "vpc", "-F", "raw", (char *)path,
			(char *)raw, NULL };

	ASSERT_EQ(ftest_run(info, out, sizeof(out)), 0);
	ASSERT_TRUE(strstr(out, "\"format\": \"vpc\"") != NULL);
	ASSERT_TRUE(strstr(out, size) != NULL);
	ASSERT_EQ(ftest_run(cmp, NULL, 0), 0);
}

TEST(vhd_sinks_pass_qemu_img_info_and_compare)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhd_test"), path[256], raw[256], out[4096];

	if (!ftest_have_qemu_img()) {
		TEST_SKIP("no qemu-img");
	}
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	ASSERT_OK(build(dir, "a.vhd", false, "seed-1", path, sizeof(path), &d));
	{ /* qemu probes a dynamic VHD by its header */
		char *argv[] = { "qemu-img", "info", "--output=json", path, NULL };
		ASSERT_EQ(ftest_run(argv, out, sizeof(out)), 0);
		ASSERT_TRUE(strstr(out, "\"format\": \"vpc\"") != NULL);
	}
	check_with_qemu(path, raw, "\"virtual-size\": 9438208,", _failed);
	if (*_failed)
		return;
	ASSERT_OK(build(dir, "f.vhd", true, "seed-1", path, sizeof(path), &d));
	check_with_qemu(path, raw, "\"virtual-size\": 10485760,", _failed);
	if (*_failed)
		return;
	cleanup_dir(dir);
}

TEST(vhd_reader_reads_ours_and_qemu_img_files)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhd_test"), path[256], raw[256], q[256];

	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	ASSERT_OK(build(dir, "a.vhd", false, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_reader_equals_raw(&reader_vpc, path, raw, DYN_SIZE, &d));
	ASSERT_TRUE(reader_vpc.probe((const uint8_t *)"conectix", 8, 8) > 0);
	ASSERT_OK(build(dir, "f.vhd", true, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_reader_equals_raw(&reader_vpc, path, raw, FIXED_SIZE, &d));
	if (!ftest_have_qemu_img()) {
		TEST_SKIP("no qemu-img");
	}
	snprintf(q, sizeof(q), "%s/q.vhd", dir);
	{ /* creator "qemu": the size is the CHS product, rounded up from the raw size */
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vpc", raw, q, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_TRUE(ftest_qemu_virtual_size(q, "vpc") > DYN_SIZE);
	ASSERT_OK(ftest_reader_equals_raw(&reader_vpc, q, raw, ftest_qemu_virtual_size(q, "vpc"),
					  &d));
	{
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o",
				 "subformat=fixed", raw, q, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_OK(ftest_reader_equals_raw(&reader_vpc, q, raw, ftest_qemu_virtual_size(q, "vpc"),
					  &d));
	{
		char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o",
				 "force_size=on", raw, q, NULL };
		ASSERT_EQ(ftest_run(argv, NULL, 0), 0);
	}
	ASSERT_OK(ftest_reader_equals_raw(&reader_vpc, q, raw, DYN_SIZE, &d));
	cleanup_dir(dir);
}

TEST(vhd_empty_disk_round_trips)
{
	struct diag d = { 0 };
	struct format_params p = { .virtual_size = 0, .seed = "s" };
	char *dir = ftest_tmpdir("vhd_test"), path[256], raw[256];

	snprintf(path, sizeof(path), "%s/empty.vhd", dir);
	snprintf(raw, sizeof(raw), "%s/empty.raw", dir);
	ASSERT_OK(ftest_write(&format_vpc, &p, path, raw, NULL, 0, &d));
	ASSERT_OK(ftest_reader_equals_raw(&reader_vpc, path, raw, 0, &d));
	cleanup_dir(dir);
}

static int open_bytes(const char *dir, const uint8_t *buf, size_t len, struct diag *d)
{
	char path[256];
	struct image_reader *rd;
	int fd, r;

	snprintf(path, sizeof(path), "%s/bad.vhd", dir);
	if (ftest_write_file(path, buf, len) < 0)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	r = reader_vpc.open(fd, len, d, &rd);
	if (r >= 0) {
		uint8_t tmp[4096];
		uint64_t start, n;

		for (uint64_t off = 0; off < rd->virtual_size && r >= 0; off += 65536)
			r = reader_vpc.read(rd, off, tmp, MIN(sizeof(tmp), rd->virtual_size - off), d);
		if (r >= 0)
			r = reader_vpc.next_data(rd, 0, &start, &n, d);
		reader_vpc.close(rd);
	}
	close(fd);
	return r;
}

TEST(vhd_reader_fails_cleanly_on_truncated_and_corrupted_files)
{
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("vhd_test"), path[256];
	uint8_t *buf, *fixed;
	size_t len, flen;

	ASSERT_OK(build(dir, "a.vhd", false, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_OK(open_bytes(dir, buf, len, &d));
	/* the copy at 0 describes the disk; the last block then ends past the file */
	ASSERT_ERR(open_bytes(dir, buf, len - 513, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "BAT entry 4") != NULL);
	ASSERT_ERR(open_bytes(dir, buf, 1000, &d), -EBADMSG);
	ASSERT_ERR(open_bytes(dir, buf, 100, &d), -EBADMSG);
	ASSERT_ERR(open_bytes(dir, buf, 0, &d), -EBADMSG);
	be32_put(buf + 1536 + 12, 0x7fffffff);
	ASSERT_ERR(open_bytes(dir, buf, len, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "BAT entry 3") != NULL);
	be32_put(buf + 1536 + 12, VHD_UNALLOCATED);
	ASSERT_OK(open_bytes(dir, buf, len, &d));
	/* every single-byte corruption of the headers opens and reads or fails cleanly */
	for (size_t i = 0; i < 1536 + 32; i++) {
		uint8_t save = buf[i];
		int r;

		buf[i] ^= 0x5a;
		r = open_bytes(dir, buf, len, &d);
		ASSERT_TRUE(r >= 0 || r == -EBADMSG || r == -ENOTSUP);
		buf[i] = save;
	}
	free(buf);

	ASSERT_OK(build(dir, "f.vhd", true, "seed-1", path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &fixed, &flen));
	ASSERT_OK(open_bytes(dir, fixed, flen, &d));
	memmove(fixed + flen - 1024, fixed + flen - 512, 512); /* footer of a cut-short file */
	ASSERT_ERR(open_bytes(dir, fixed, flen - 512, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "truncated") != NULL);
	free(fixed);
	cleanup_dir(dir);
}
