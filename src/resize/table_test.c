/* Growing partition tables: the GPT moved to the new end with every other byte kept, MBR
 * entries, refusals; and the size argument. */
#include "resize/table.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/reader.h"
#include "image/plan.h"
#include "part/gpt.h"
#include "part/mbr.h"
#include "part/part.h"
#include "resize/commit.h"
#include "resize/resize.h"
#include "resize/view.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test.h"
#include "util/xalloc.h"

/* A raw image of layout t at path (the table only), size_mib MiB. */
static void make_image(const char *path, enum part_table t, uint64_t size_mib)
{
	struct part_params p = {
		.table = t,
		.arch = PART_ARCH_X86_64,
		.boot_bytes = 64 * PART_MIB,
		.disk_bytes = size_mib * PART_MIB,
		.seed = "resize-seed",
	};
	struct part_layout l;
	struct diag d = { 0 };
	struct image_plan *plan;
	int fd;

	if (part_layout_plan(&p, &d, &l) < 0)
		abort();
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)l.disk_bytes) < 0)
		abort();
	plan = image_plan_new(l.disk_bytes);
	part_plan_ranges(&l, plan);
	for (size_t i = 0; i < plan->n_ranges; i++) {
		const struct image_range *r = &plan->ranges[i];
		_cleanup_free_ uint8_t *buf = xcalloc(1, r->len);

		if (image_range_fill(plan, r, 0, buf, r->len, &d) < 0 ||
		    pwrite_full(fd, buf, r->len, r->off) < 0)
			abort();
	}
	image_plan_free(plan);
	close(fd);
}

static void read_at(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || pread_full(fd, buf, len, off) < 0)
		abort();
	close(fd);
}

/* Grow path to new_mib through the view and commit in place; the table's result. */
static int grow(const char *path, uint64_t new_mib, uint32_t want, struct diag *d,
		struct resize_part *ret)
{
	_cleanup_(image_input_freep) struct image_input *in = NULL;
	_cleanup_(part_probe_freep) struct part_probe *pp = NULL;
	struct resize_view v;
	int fd, r;

	if (image_reader_open(path, "raw", d, &in) < 0)
		abort();
	if (part_probe(in->fd, in->reader->virtual_size, d, &pp) < 0)
		abort();
	resize_view_init(&v, in, new_mib * PART_MIB);
	r = resize_table_grow(&v, pp, want, d, ret);
	if (r >= 0) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		r = resize_commit_in_place(&v, fd, path, d);
		close(fd);
	}
	resize_view_done(&v);
	return r;
}

static int probe_path(const char *path, uint64_t size, struct part_probe **ret)
{
	struct diag d = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	r = part_probe(fd, size, &d, ret);
	close(fd);
	return r;
}

/* Header bytes other than the fields a move changes. */
static void mask_header(uint8_t *h)
{
	memset(h + GPT_HDR_CRC, 0, 4);
	memset(h + GPT_HDR_MY_LBA, 0, 8);
	memset(h + GPT_HDR_ALTERNATE_LBA, 0, 8);
	memset(h + GPT_HDR_LAST_USABLE_LBA, 0, 8);
	memset(h + GPT_HDR_ENTRIES_LBA, 0, 8);
	memset(h + GPT_HDR_ENTRIES_CRC, 0, 4);
}

TEST(gpt_moves_to_the_new_end_keeping_every_other_byte)
{
	char path[] = "/tmp/resize-gpt-XXXXXX";
	uint8_t old_hdr[512], new_hdr[512], bk_hdr[512], old_mbr[512], new_mbr[512];
	uint8_t old_arr[GPT_ENTRIES_BYTES], new_arr[GPT_ENTRIES_BYTES], bk_arr[GPT_ENTRIES_BYTES];
	uint8_t zeros[33 * 512] = { 0 }, old_bk[33 * 512];
	uint64_t disk_lba = 1024 * 2048ull;
	struct part_probe *pp = NULL;
	struct resize_part p;
	struct diag d = { 0 };
	int fd = mkstemp(path);

	close(fd);
	make_image(path, PART_TABLE_HYBRID, 300);
	read_at(path, 0, old_mbr, 512);
	read_at(path, 512, old_hdr, 512);
	read_at(path, 1024, old_arr, sizeof(old_arr));
	ASSERT_OK(grow(path, 1024, 0, &d, &p));
	ASSERT_EQ(p.number, 3);
	ASSERT_EQ(p.new_bytes, (1023 - 64) * (uint64_t)PART_MIB); /* ends at the last MiB */

	read_at(path, 0, new_mbr, 512);
	read_at(path, 512, new_hdr, 512);
	read_at(path, 1024, new_arr, sizeof(new_arr));
	read_at(path, (disk_lba - 1) * 512, bk_hdr, 512);
	read_at(path, (disk_lba - 33) * 512, bk_arr, sizeof(bk_arr));
	read_at(path, (300 * 2048 - 33) * 512, old_bk, sizeof(old_bk));
	ASSERT_MEM_EQ(old_bk, zeros, sizeof(zeros)); /* the old backup is gone */
	/* CRCs */
	ASSERT_EQ(le32_get(new_hdr + GPT_HDR_ENTRIES_CRC), crc32_ieee(0, new_arr, sizeof(new_arr)));
	ASSERT_MEM_EQ(new_arr, bk_arr, sizeof(new_arr));
	ASSERT_EQ(le64_get(new_hdr + GPT_HDR_ALTERNATE_LBA), disk_lba - 1);
	ASSERT_EQ(le64_get(new_hdr + GPT_HDR_LAST_USABLE_LBA), disk_lba - 34);
	ASSERT_EQ(le64_get(bk_hdr + GPT_HDR_MY_LBA), disk_lba - 1);
	ASSERT_EQ(le64_get(bk_hdr + GPT_HDR_ALTERNATE_LBA), 1);
	ASSERT_EQ(le64_get(bk_hdr + GPT_HDR_ENTRIES_LBA), disk_lba - 33);
	/* the partition entry: only its last LBA changed */
	ASSERT_EQ(le64_get(new_arr + 2 * GPT_PE_SIZE + GPT_PE_LAST_LBA), 1023 * 2048ull - 1);
	memset(new_arr + 2 * GPT_PE_SIZE + GPT_PE_LAST_LBA, 0, 8);
	memset(old_arr + 2 * GPT_PE_SIZE + GPT_PE_LAST_LBA, 0, 8);
	ASSERT_MEM_EQ(new_arr, old_arr, sizeof(old_arr));
	mask_header(old_hdr);
	mask_header(new_hdr);
	mask_header(bk_hdr);
	ASSERT_MEM_EQ(new_hdr, old_hdr, 512);
	ASSERT_MEM_EQ(bk_hdr, old_hdr, 512);
	/* the protective MBR: the 0xEE entry's count (and CHS end) alone */
	ASSERT_EQ(le32_get(new_mbr + MBR_PARTITION_TABLE + MBR_PE_LBA_COUNT), disk_lba - 1);
	memset(new_mbr + MBR_PARTITION_TABLE + MBR_PE_CHS_LAST, 0, 3);
	memset(old_mbr + MBR_PARTITION_TABLE + MBR_PE_CHS_LAST, 0, 3);
	memset(new_mbr + MBR_PARTITION_TABLE + MBR_PE_LBA_COUNT, 0, 4);
	memset(old_mbr + MBR_PARTITION_TABLE + MBR_PE_LBA_COUNT, 0, 4);
	ASSERT_MEM_EQ(new_mbr, old_mbr, 512);
	/* and our own prober is content with both copies */
	ASSERT_OK(probe_path(path, disk_lba * 512, &pp));
	ASSERT_EQ(pp->kind, PART_PROBE_GPT);
	ASSERT_TRUE(!pp->backup_bad && !pp->backup_used);
	ASSERT_STR_EQ(pp->gpt_problem, "");
	pp = part_probe_free(pp);
	(void)unlink(path);
}

TEST(mbr_grows_the_last_entry)
{
	char path[] = "/tmp/resize-mbr-XXXXXX";
	uint8_t old_mbr[512], new_mbr[512];
	struct resize_part p;
	struct diag d = { 0 };
	int fd = mkstemp(path);

	close(fd);
	make_image(path, PART_TABLE_LEGACY_BOOT, 300);
	read_at(path, 0, old_mbr, 512);
	ASSERT_OK(grow(path, 500, 0, &d, &p));
	ASSERT_EQ(p.number, 2);
	read_at(path, 0, new_mbr, 512);
	ASSERT_EQ(le32_get(new_mbr + MBR_PARTITION_TABLE + MBR_PE_SIZE + MBR_PE_LBA_FIRST) +
			  le32_get(new_mbr + MBR_PARTITION_TABLE + MBR_PE_SIZE + MBR_PE_LBA_COUNT),
		  500 * 2048);
	/* entry 1 and everything else: as they were */
	memset(new_mbr + MBR_PARTITION_TABLE + MBR_PE_SIZE + MBR_PE_CHS_LAST, 0, 3);
	memset(old_mbr + MBR_PARTITION_TABLE + MBR_PE_SIZE + MBR_PE_CHS_LAST, 0, 3);
	memset(new_mbr + MBR_PARTITION_TABLE + MBR_PE_SIZE + MBR_PE_LBA_COUNT, 0, 4);
	memset(old_mbr + MBR_PARTITION_TABLE + MBR_PE_SIZE + MBR_PE_LBA_COUNT, 0, 4);
	ASSERT_MEM_EQ(new_mbr, old_mbr, 512);
	(void)unlink(path);
}

TEST(refusals_leave_the_image_unchanged)
{
	char path[] = "/tmp/resize-refuse-XXXXXX";
	_cleanup_free_ uint8_t *a = NULL, *b = NULL;
	size_t na, nb;
	struct resize_part p;
	struct diag d = { 0 };
	int fd = mkstemp(path);

	close(fd);
	/* an MBR partition past 2 TiB */
	make_image(path, PART_TABLE_LEGACY, 64);
	if (read_file(path, 1u << 30, &a, &na) < 0)
		abort();
	ASSERT_ERR(grow(path, 3u * 1024 * 1024, 0, &d, &p), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "2 TiB") != NULL);
	/* partition 1 (ESP) is followed directly by the root */
	make_image(path, PART_TABLE_EFI, 300);
	free(a);
	if (read_file(path, 1u << 30, &a, &na) < 0)
		abort();
	ASSERT_ERR(grow(path, 400, 1, &d, &p), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "follows it directly") != NULL);
	ASSERT_TRUE(strstr(d.msg, "partition 2") != NULL);
	ASSERT_ERR(grow(path, 400, 7, &d, &p), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "no partition 7") != NULL);
	if (read_file(path, 1u << 30, &b, &nb) < 0)
		abort();
	ASSERT_EQ(na, nb);
	ASSERT_TRUE(memcmp(a, b, na) == 0);
	(void)unlink(path);
}

TEST(size_argument)
{
	uint64_t v;
	bool rel;

	ASSERT_OK(resize_size_parse("100G", &v, &rel));
	ASSERT_EQ(v, 100ull << 30);
	ASSERT_TRUE(!rel);
	ASSERT_OK(resize_size_parse("2048", &v, &rel)); /* MiB, as every size */
	ASSERT_EQ(v, 2048ull << 20);
	ASSERT_OK(resize_size_parse("+100M", &v, &rel));
	ASSERT_EQ(v, 100ull << 20);
	ASSERT_TRUE(rel);
	ASSERT_OK(resize_size_parse("+0", &v, &rel));
	ASSERT_ERR(resize_size_parse("0", &v, &rel), -EINVAL);
	ASSERT_ERR(resize_size_parse("-1G", &v, &rel), -EINVAL);
	ASSERT_ERR(resize_size_parse("++1G", &v, &rel), -EINVAL);
	ASSERT_ERR(resize_size_parse("1Q", &v, &rel), -EINVAL);
	ASSERT_ERR(resize_size_parse("99999999999999999999G", &v, &rel), -ERANGE);
}
