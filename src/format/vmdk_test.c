#include "format/vmdk-internal.h"

#include "format/format-internal.h"
#include "format/format-test.h"
#include "util/cleanup.h"
#include "util/endian.h"
#include "util/test.h"
#include "util/xalloc.h"

#define MIB (1u << 20)
#define VSIZE (50 * MIB + 1000)
#define CAP_SECT ((50 * MIB + 1024) / 512)

/* Two grain tables (32 MiB each): partial grains, a hole, a range of zeros, whole grains,
 * then in the second table two grains and the odd end. */
static const struct ftest_range pattern[] = {
	{ 0, 1000, false },
	{ 300000, 5000, false },
	{ 4 * MIB, 2 * MIB, true },
	{ 6 * MIB, 3 * MIB, false },
	{ 40 * MIB + 4096, 100000, false },
	{ 50 * MIB + 10, 990, false },
};

static int build(const char *dir, const char *name, enum format_vmdk_subformat sub,
		 unsigned threads, char *path, size_t len, struct diag *d)
{
	struct format_params p = { .virtual_size = VSIZE,
				   .seed = "test-seed",
				   .vmdk_subformat = sub,
				   .n_threads = threads };
	char raw[256];

	snprintf(path, len, "%s/%s", dir, name);
	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	return ftest_write(&format_vmdk, &p, path, raw, pattern, ARRAY_SIZE(pattern), d);
}

static void cleanup_dir(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };

	(void)ftest_run(argv, NULL, 0);
}

static int qemu_ok(const char *dir, const char *path)
{
	char raw[256];
	char *check[] = { "qemu-img", "check", "-q", "-f", "vmdk", (char *)path, NULL };
	char *cmp[] = { "qemu-img", "compare", "-q", "-f", "raw", "-F", "vmdk", raw,
			(char *)path, NULL };

	snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
	if (ftest_run(check, NULL, 0) != 0)
		return -1;
	return ftest_run(cmp, NULL, 0) == 0 ? 0 : -2;
}

TEST(vmdk_monolithic_sparse_header_as_qemu)
{
	char *dir = ftest_tmpdir("vmdk-test"), path[256];
	_cleanup_free_ uint8_t *buf = NULL;
	struct diag d = { 0 };
	struct vmdk_header h;
	size_t len;

	ASSERT_OK(build(dir, "disk.vmdk", FORMAT_VMDK_MONOLITHIC_SPARSE, 0, path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_OK(vmdk_header_decode(buf, &d, &h));
	ASSERT_EQ(h.version, 1);
	ASSERT_EQ(h.flags, VMDK_FLAG_NL_DETECT | VMDK_FLAG_RGD);
	ASSERT_EQ(h.capacity, CAP_SECT);
	ASSERT_EQ(h.grain_sect, 128);
	ASSERT_EQ(h.n_gtes, 512);
	ASSERT_EQ(h.desc_offset, 1);
	ASSERT_EQ(h.desc_sect, 20);
	/* 2 tables: one-sector directories, 4 sectors a table (qemu: 21, 30, 128) */
	ASSERT_EQ(h.rgd_offset, 21);
	ASSERT_EQ(h.gd_offset, 21 + 1 + 8);
	ASSERT_EQ(h.overhead, 128);
	ASSERT_EQ(h.compress, 0);
	ASSERT_MEM_EQ(buf + VMDK_HDR_NL_CHECK, "\n \r\n", 4);
	ASSERT_TRUE(strstr((char *)buf + 512, "createType=\"monolithicSparse\"\n"));
	ASSERT_TRUE(strstr((char *)buf + 512, "RW 102402 SPARSE \"disk.vmdk\"\n"));
	ASSERT_TRUE(strstr((char *)buf + 512, "parentCID=ffffffff\n"));
	ASSERT_TRUE(strstr((char *)buf + 512, "ddb.geometry.cylinders = \"101\"\n"));
	ASSERT_TRUE(strstr((char *)buf + 512, "ddb.adapterType = \"ide\"\n"));
	/* both directories point at their tables */
	ASSERT_EQ(le32_get(buf + 21 * 512), 22);
	ASSERT_EQ(le32_get(buf + 21 * 512 + 4), 26);
	ASSERT_EQ(le32_get(buf + 30 * 512), 31);
	/* grains in write order from sector 128: grain 0, then 4 MiB of zeros unallocated */
	ASSERT_EQ(le32_get(buf + 22 * 512), 128);
	ASSERT_EQ(le32_get(buf + 31 * 512), 128);
	ASSERT_EQ(le32_get(buf + 31 * 512 + 4 * 4), 256); /* 300000 is in grain 4 */
	ASSERT_EQ(le32_get(buf + 31 * 512 + 4 * 64), 0);  /* 4 MiB: zeros */
	ASSERT_EQ(le32_get(buf + 31 * 512 + 4 * 96), 384); /* 6 MiB */
	ASSERT_EQ(buf[128 * 512], ftest_byte(0));
	/* file: metadata, 1 + 1 + 48 + 2 + 1 grains */
	ASSERT_EQ(len, (128 + 53 * 128) * 512);
	ASSERT_EQ(qemu_ok(dir, path) == 0 || !ftest_have_qemu_img(), 1);
	cleanup_dir(dir);
}

TEST(vmdk_stream_optimized_layout)
{
	char *dir = ftest_tmpdir("vmdk-test"), path[256];
	_cleanup_free_ uint8_t *buf = NULL;
	struct diag d = { 0 };
	struct vmdk_header h, f;
	const uint8_t *end;
	uint64_t gt;
	size_t len;

	ASSERT_OK(build(dir, "s.vmdk", FORMAT_VMDK_STREAM_OPTIMIZED, 0, path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &buf, &len));
	ASSERT_EQ(len % 512, 0);
	ASSERT_OK(vmdk_header_decode(buf, &d, &h));
	ASSERT_EQ(h.version, 3);
	ASSERT_EQ(h.flags, VMDK_FLAG_NL_DETECT | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS);
	ASSERT_EQ(h.compress, 1);
	ASSERT_TRUE(h.gd_offset == VMDK_GD_AT_END);
	ASSERT_EQ(h.rgd_offset, 0);
	ASSERT_EQ(h.overhead, 128);
	ASSERT_TRUE(strstr((char *)buf + 512, "createType=\"streamOptimized\"\n"));
	/* the first grain's marker: LBA 0 and its compressed size */
	ASSERT_EQ(le64_get(buf + 128 * 512), 0);
	ASSERT_TRUE(le32_get(buf + 128 * 512 + 8) > 0 && le32_get(buf + 128 * 512 + 8) < 65536);
	ASSERT_EQ(buf[128 * 512 + 12], 0x78); /* a zlib stream */
	/* tail: footer marker, footer, end-of-stream marker */
	end = buf + len;
	ASSERT_EQ(le64_get(end - 1536), 1);
	ASSERT_EQ(le32_get(end - 1536 + 12), VMDK_MARKER_FOOTER);
	ASSERT_OK(vmdk_header_decode(end - 1024, &d, &f));
	ASSERT_TRUE(mem_is_zero(end - 512, 512));
	ASSERT_EQ(f.capacity, CAP_SECT);
	/* the directory, behind its marker; both tables hold grains */
	ASSERT_EQ(le64_get(buf + (f.gd_offset - 1) * 512), 1);
	ASSERT_EQ(le32_get(buf + (f.gd_offset - 1) * 512 + 12), VMDK_MARKER_GD);
	gt = le32_get(buf + f.gd_offset * 512 + 4);
	ASSERT_TRUE(gt > 128 && gt < f.gd_offset);
	ASSERT_EQ(le32_get(buf + (gt - 1) * 512 + 12), VMDK_MARKER_GT);
	ASSERT_EQ(le64_get(buf + (gt - 1) * 512), 4);
	ASSERT_EQ(qemu_ok(dir, path) == 0 || !ftest_have_qemu_img(), 1);
	cleanup_dir(dir);
}

TEST(vmdk_output_is_deterministic_and_thread_invariant)
{
	static const enum format_vmdk_subformat subs[] = { FORMAT_VMDK_MONOLITHIC_SPARSE,
							   FORMAT_VMDK_STREAM_OPTIMIZED };

	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		char *dir = ftest_tmpdir("vmdk-test"), path[256];
		_cleanup_free_ uint8_t *a = NULL, *b = NULL, *c = NULL;
		struct diag d = { 0 };
		size_t la, lb, lc;

		ASSERT_OK(mkdir(strcat(strcpy(path, dir), "/1"), 0755));
		ASSERT_OK(mkdir(strcat(strcpy(path, dir), "/2"), 0755));
		ASSERT_OK(build(dir, "1/x.vmdk", subs[i], 1, path, sizeof(path), &d));
		ASSERT_OK(ftest_read(path, &a, &la));
		ASSERT_OK(build(dir, "2/x.vmdk", subs[i], 1, path, sizeof(path), &d));
		ASSERT_OK(ftest_read(path, &b, &lb));
		ASSERT_OK(build(dir, "x.vmdk", subs[i], 7, path, sizeof(path), &d));
		ASSERT_OK(ftest_read(path, &c, &lc));
		ASSERT_EQ(la, lb);
		ASSERT_EQ(la, lc);
		ASSERT_MEM_EQ(a, b, la);
		ASSERT_MEM_EQ(a, c, la);
		cleanup_dir(dir);
	}
}

TEST(vmdk_reader_round_trip)
{
	static const enum format_vmdk_subformat subs[] = { FORMAT_VMDK_MONOLITHIC_SPARSE,
							   FORMAT_VMDK_STREAM_OPTIMIZED };

	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		char *dir = ftest_tmpdir("vmdk-test"), path[256], raw[256];
		struct diag d = { 0 };

		ASSERT_OK(build(dir, "r.vmdk", subs[i], 2, path, sizeof(path), &d));
		snprintf(raw, sizeof(raw), "%s/pattern.raw", dir);
		ASSERT_TRUE(reader_vmdk.probe((const uint8_t *)"KDMV", 4, 4096) > 0);
		ASSERT_OK(ftest_reader_equals_raw(&reader_vmdk, path, raw, CAP_SECT * 512, &d));
		cleanup_dir(dir);
	}
}

TEST(vmdk_descriptor_keeps_the_extent_line_whole)
{
	char buf[4096];

	vmdk_descriptor(buf, sizeof(buf), FORMAT_VMDK_MONOLITHIC_SPARSE, "s", 1 << 30,
			"a\"b\nc.vmdk");
	ASSERT_TRUE(strstr(buf, "RW 1073741824 SPARSE \"a_b_c.vmdk\"\n"));
	ASSERT_TRUE(strstr(buf, "ddb.geometry.cylinders = \"16383\"\n"));
}

/* Open a copy of the image at path with buf[off..off+n) replaced, expect err and a message
 * containing want. */
static int open_patched(const char *dir, const uint8_t *img, size_t len, uint64_t off,
			const void *patch, size_t n, size_t new_len, int want_err, const char *want)
{
	char path[256];
	_cleanup_free_ uint8_t *copy = xmalloc(len);
	struct image_reader *rd = NULL;
	struct diag d = { 0 };
	int fd, r;

	memcpy(copy, img, len);
	memcpy(copy + off, patch, n);
	snprintf(path, sizeof(path), "%s/bad.vmdk", dir);
	if (ftest_write_file(path, copy, new_len) < 0)
		return -100;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	r = reader_vmdk.open(fd, new_len, &d, &rd);
	if (r >= 0) {
		/* some damage shows when reading: walk the disk */
		uint8_t *b = xmalloc(1 << 20);

		for (uint64_t o = 0; r >= 0 && o < rd->virtual_size; o += 1 << 20)
			r = reader_vmdk.read(rd, o, b, (size_t)MIN(1 << 20, rd->virtual_size - o),
					     &d);
		free(b);
		reader_vmdk.close(rd);
	}
	close(fd);
	if (r != want_err || !strstr(d.msg, want)) {
		fprintf(stderr, "  got %d \"%s\", want %d \"%s\"\n", r, d.msg,
			want_err, want);
		return -1;
	}
	return 0;
}

TEST(vmdk_reader_rejects_corrupt_images)
{
	char *dir = ftest_tmpdir("vmdk-test"), path[256];
	_cleanup_free_ uint8_t *m = NULL, *s = NULL;
	struct diag d = { 0 };
	uint8_t b8[8];
	size_t lm, ls;

	ASSERT_OK(build(dir, "m.vmdk", FORMAT_VMDK_MONOLITHIC_SPARSE, 0, path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &m, &lm));
	ASSERT_OK(build(dir, "s.vmdk", FORMAT_VMDK_STREAM_OPTIMIZED, 0, path, sizeof(path), &d));
	ASSERT_OK(ftest_read(path, &s, &ls));

	ASSERT_OK(open_patched(dir, m, lm, 0, "KDMW", 4, lm, -EBADMSG, "magic"));
	ASSERT_OK(open_patched(dir, m, lm, 4, "\x04\0\0\0", 4, lm, -ENOTSUP, "version 4"));
	ASSERT_OK(open_patched(dir, m, lm, 20, "\x03\0\0\0", 4, lm, -EBADMSG, "grain size"));
	ASSERT_OK(open_patched(dir, m, lm, 44, "\0\0\0\0", 4, lm, -EBADMSG, "grain table size"));
	ASSERT_OK(open_patched(dir, m, lm, 73, "\n\n\n\n", 4, lm, -EBADMSG, "newline"));
	/* a capacity needing a 64 GiB directory, and one past the file */
	ASSERT_OK(open_patched(dir, m, lm, 12, "\0\0\0\0\0\0\x04\0", 8, lm, -EBADMSG,
			       "grain tables, more than"));
	le64_put(b8, 1ull << 40);
	ASSERT_OK(open_patched(dir, m, lm, 56, b8, 8, lm, -EBADMSG, "grain directory offset"));
	/* a table past the end, tables overlapping, a grain past the end */
	ASSERT_OK(open_patched(dir, m, lm, 30 * 512, "\xff\xff\0\0", 4, lm, -EBADMSG,
			       "past the end"));
	ASSERT_OK(open_patched(dir, m, lm, 30 * 512 + 4, "\x1f\0\0\0", 4, lm, -EBADMSG,
			       "overlaps"));
	ASSERT_OK(open_patched(dir, m, lm, 31 * 512, "\0\0\xff\0", 4, lm, -EBADMSG,
			       "past the end"));
	/* streams: truncated (no footer), a grain that does not inflate, a wrong LBA */
	ASSERT_OK(open_patched(dir, s, ls, 0, "KDMV", 4, ls - 512, -EBADMSG, "footer"));
	ASSERT_OK(open_patched(dir, s, ls, 128 * 512 + 12, "\x78\x9c\xff\xff", 4, ls, -EBADMSG,
			       "does not inflate"));
	ASSERT_OK(open_patched(dir, s, ls, 128 * 512, "\x01", 1, ls, -EBADMSG, "marker says"));
	ASSERT_OK(open_patched(dir, s, ls, 128 * 512 + 8, "\0\0\0\x10", 4, ls, -EBADMSG,
			       "compressed size"));
	cleanup_dir(dir);
}

TEST(vmdk_refuses_disks_past_2_tib)
{
	struct format_params p = { .virtual_size = 2ull << 40 };
	struct outfile o = { .fd = -1, .path = (char *)"x.vmdk" };
	struct diag d = { 0 };
	struct sink *s;

	ASSERT_ERR(format_vmdk.open(&p, &o, &d, &s), -EOVERFLOW);
	ASSERT_TRUE(strstr(d.msg, "use format qcow2"));
}
