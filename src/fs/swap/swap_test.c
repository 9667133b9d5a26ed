#include "fs/swap/swap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs-test.h"
#include "fs/fs.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test-spawn.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

static const uint8_t test_uuid[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0x4d, 0xef,
				       0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };


TEST(header_fields_at_mkswap_offsets)
{
	uint8_t page[SWAP_PAGE_SIZE];

	swap_header_encode(page, (1 << 20) + 1000, test_uuid, "lbl");
	for (size_t i = 0; i < 1024; i++)
		ASSERT_EQ(page[i], 0); /* bootbits */
	ASSERT_MEM_EQ(page + 1024, "\x01\x00\x00\x00", 4);          /* version */
	ASSERT_MEM_EQ(page + 1028, "\xff\x00\x00\x00", 4);          /* last_page: 256 - 1 */
	ASSERT_MEM_EQ(page + 1032, "\x00\x00\x00\x00", 4);          /* nr_badpages */
	ASSERT_MEM_EQ(page + 1036, test_uuid, 16);
	ASSERT_MEM_EQ(page + 1052, "lbl\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	for (size_t i = 1068; i < SWAP_PAGE_SIZE - 10; i++)
		ASSERT_EQ(page[i], 0);
	ASSERT_MEM_EQ(page + 4086, "SWAPSPACE2", 10);
}

TEST(header_round_trips_through_the_probe)
{
	uint8_t disk[16 * SWAP_PAGE_SIZE] = { 0 };
	struct swap_header h;
	struct diag d = { 0 };

	swap_header_encode(disk, sizeof(disk), test_uuid, "fifteen-bytes-x");
	memcpy(disk + SWAP_HDR_LABEL + 15, "y", 1); /* a label without its NUL: blkid reads 16 */
	ASSERT_EQ(swap_header_probe(fs_test_buf_read, &(struct fs_test_buf){ disk, sizeof(disk) }, sizeof(disk), &d,
				    &h),
		  1);
	ASSERT_EQ(h.page_size, 4096);
	ASSERT_EQ(h.last_page, 15);
	ASSERT_EQ(h.nr_badpages, 0);
	ASSERT_MEM_EQ(h.uuid, test_uuid, 16);
	ASSERT_STR_EQ(h.label, "fifteen-bytes-xy");
	ASSERT_TRUE(!h.big_endian);
}

TEST(probe_finds_larger_pages_and_big_endian_headers)
{
	static uint8_t disk[16 * 65536];
	struct swap_header h;
	struct diag d = { 0 };

	memset(disk, 0, sizeof(disk));
	be32_put(disk + SWAP_HDR_VERSION, 1);
	be32_put(disk + SWAP_HDR_LAST_PAGE, 15);
	memcpy(disk + 65536 - 10, "SWAPSPACE2", 10);
	ASSERT_EQ(swap_header_probe(fs_test_buf_read, &(struct fs_test_buf){ disk, sizeof(disk) }, sizeof(disk), &d,
				    &h),
		  1);
	ASSERT_EQ(h.page_size, 65536);
	ASSERT_EQ(h.last_page, 15);
	ASSERT_TRUE(h.big_endian);
}

TEST(probe_says_no_without_the_magic_and_rejects_bad_fields)
{
	uint8_t disk[16 * SWAP_PAGE_SIZE] = { 0 };
	struct fs_test_buf b = { disk, sizeof(disk) };
	struct swap_header h;
	struct diag d = { 0 };

	ASSERT_EQ(swap_header_probe(fs_test_buf_read, &b, sizeof(disk), &d, &h), 0);
	ASSERT_EQ(swap_header_probe(fs_test_buf_read, &b, 4000, &d, &h), 0); /* smaller than a page */
	swap_header_encode(disk, sizeof(disk), test_uuid, "");
	le32_put(disk + SWAP_HDR_VERSION, 2);
	ASSERT_ERR(swap_header_probe(fs_test_buf_read, &b, sizeof(disk), &d, &h), -EBADMSG);
	ASSERT_TRUE(strstr(diag_message(&d, -EBADMSG), "version 2") != NULL);
	swap_header_encode(disk, sizeof(disk), test_uuid, "");
	ASSERT_ERR(swap_header_probe(fs_test_buf_read, &b, sizeof(disk) - 1, &d, &h), -EBADMSG);
	ASSERT_TRUE(strstr(diag_message(&d, -EBADMSG), "past the partition") != NULL);
	le32_put(disk + SWAP_HDR_LAST_PAGE, 8);
	ASSERT_ERR(swap_header_probe(fs_test_buf_read, &b, sizeof(disk), &d, &h), -EBADMSG);
	le32_put(disk + SWAP_HDR_LAST_PAGE, 15);
	le32_put(disk + SWAP_HDR_NR_BADPAGES, 638);
	ASSERT_ERR(swap_header_probe(fs_test_buf_read, &b, sizeof(disk), &d, &h), -EBADMSG);
	le32_put(disk + SWAP_HDR_NR_BADPAGES, 637);
	ASSERT_EQ(swap_header_probe(fs_test_buf_read, &b, sizeof(disk), &d, &h), 1);
}

TEST(handler_sizes_and_identifiers)
{
	const struct fs_ops *ops = fs_ops_find("swap");
	struct fs_request rq = { .what = "partition 3", .role = "swap", .seed = "s",
				 .size_bytes = 1 << 20 };
	struct fs_plan *pl = NULL;
	struct fs_stats st;
	struct diag d = { 0 };
	uint8_t want[16];
	uint64_t min;

	ASSERT_TRUE(ops && !ops->needs_tree);
	ASSERT_OK(ops->min_size(&rq, &d, &min));
	ASSERT_EQ(min, 40960);
	ASSERT_OK(ops->plan(&rq, &d, &pl));
	ops->stats(pl, &st);
	uuid_derive("s", "swap-uuid:swap", want);
	ASSERT_MEM_EQ(st.uuid, want, 16);
	ASSERT_STR_EQ(st.type, "swap");
	ASSERT_EQ(st.size_bytes, 1 << 20);
	ASSERT_EQ(st.n_blocks, 256);
	pl = ops->free(pl);

	rq.uuid_set = true;
	memcpy(rq.uuid, test_uuid, 16);
	rq.label = "data";
	rq.size_bytes = 40960 + 4095; /* whole pages are used */
	ASSERT_OK(ops->plan(&rq, &d, &pl));
	ops->stats(pl, &st);
	ASSERT_MEM_EQ(st.uuid, test_uuid, 16);
	ASSERT_STR_EQ(st.label, "data");
	ASSERT_EQ(st.size_bytes, 40960);
	pl = ops->free(pl);

	rq.size_bytes = 40959;
	ASSERT_ERR(ops->plan(&rq, &d, &pl), -ENOSPC);
	ASSERT_STR_EQ(diag_message(&d, -ENOSPC),
		      "partition 3: 40959 bytes is too small for swap: it needs at least 40 KiB "
		      "(10 pages of 4096 bytes)");
	rq.size_bytes = 1 << 20;
	rq.label = "sixteen-bytes-xx"; /* mkswap would cut it to 15 */
	ASSERT_ERR(ops->plan(&rq, &d, &pl), -EINVAL);
	ASSERT_ERR(ops->min_size(&rq, &d, &min), -EINVAL);
	ASSERT_STR_EQ(diag_message(&d, -EINVAL), "partition 3: the label is 16 bytes long; swap "
		      "labels hold at most 15 bytes");
}

/* The value of KEY= in blkid -o export output, or "". */
static char *export_value(const char *out, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, n) == 0 && l[n] == '=')
			return xstrndup(l + n + 1, strcspn(l + n + 1, "\n"));
	return xstrdup("");
}

static char *slurp(const char *path)
{
	uint8_t *buf = NULL;
	size_t len;

	if (read_file(path, 1 << 20, &buf, &len) < 0)
		return xstrdup("");
	return (char *)buf;
}

/* Our swap partition, emitted at offset 1 MiB of a disk, against blkid, swaplabel and an
 * mkswap of the same size (whole partition compared: mkswap writes only the first page). */
static void oracle(int *_failed, uint64_t size, const char *label)
{
	const struct fs_ops *ops = fs_ops_find("swap");
	struct fs_request rq = { .what = "swap", .role = "swap", .seed = "s", .size_bytes = size,
				 .label = label, .uuid_set = true };
	char *dir = fs_test_tmpdir("swap_test"), disk[128], part[128], ref[128], out[128];
	char u[UUID_STR_LEN], sz[32];
	struct fs_plan *pl = NULL;
	struct diag d = { 0 };
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;

	if (!test_have("blkid") || !test_have("mkswap") || !test_have("swaplabel"))
		TEST_SKIP("blkid, mkswap or swaplabel missing");
	ASSERT_TRUE(dir != NULL);
	memcpy(rq.uuid, test_uuid, 16);
	uuid_format(test_uuid, u);
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	snprintf(part, sizeof(part), "%s/part.img", dir);
	snprintf(ref, sizeof(ref), "%s/ref.img", dir);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	ASSERT_OK(ops->plan(&rq, &d, &pl));
	ASSERT_OK(fs_test_emit(ops, pl, (1 << 20) + size, 1 << 20, disk, &d));
	pl = ops->free(pl);

	/* the partition, cut out of the disk */
	ASSERT_OK(read_file(disk, 64 << 20, &a, &alen));
	ASSERT_EQ(alen, (1 << 20) + size);
	for (size_t i = 0; i < 1 << 20; i++)
		ASSERT_EQ(a[i], 0);
	{
		int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		ASSERT_TRUE(fd >= 0);
		ASSERT_OK(pwrite_full(fd, a + (1 << 20), size, 0));
		close(fd);
	}

	{
		char *const argv[] = { "blkid", "-p", "-o", "export", part, NULL };
		char *o, *v;

		ASSERT_EQ(test_run(argv, out), 0);
		o = slurp(out);
		v = export_value(o, "TYPE");
		ASSERT_STR_EQ(v, "swap");
		free(v);
		v = export_value(o, "UUID");
		ASSERT_STR_EQ(v, u);
		free(v);
		v = export_value(o, "LABEL");
		ASSERT_STR_EQ(v, label);
		free(v);
		v = export_value(o, "VERSION");
		ASSERT_STR_EQ(v, "1");
		free(v);
		free(o);
	}
	{
		char *const argv[] = { "swaplabel", part, NULL };
		char want[128], *o;

		ASSERT_EQ(test_run(argv, out), 0);
		o = slurp(out);
		snprintf(want, sizeof(want), "%s%s%sUUID:  %s\n", *label ? "LABEL: " : "", label,
			 *label ? "\n" : "", u);
		ASSERT_STR_EQ(o, want);
		free(o);
	}
	{
		char *const trunc[] = { "truncate", "-s", sz, ref, NULL };
		char *const mk_l[] = { "mkswap", "-L", (char *)label, "-U", u, ref, NULL };
		char *const mk[] = { "mkswap", "-U", u, ref, NULL };

		snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
		ASSERT_EQ(test_run(trunc, NULL), 0);
		ASSERT_EQ(test_run(*label ? mk_l : mk, out), 0);
		ASSERT_OK(read_file(ref, 64 << 20, &b, &blen));
		ASSERT_EQ(blen, size);
		ASSERT_MEM_EQ(a + (1 << 20), b, size);
	}
	free(a);
	free(b);
	(void)unlink(disk);
	(void)unlink(part);
	(void)unlink(ref);
	(void)unlink(out);
	(void)rmdir(dir);
}

TEST(minimum_swap_matches_mkswap_and_blkid)
{
	oracle(_failed, 40960, "lbl");
}

TEST(odd_sized_unlabelled_swap_matches_mkswap_and_blkid)
{
	oracle(_failed, (3 << 20) + 1000, "");
}

TEST(longest_label_matches_mkswap_and_swaplabel)
{
	oracle(_failed, 1 << 20, "fifteen-bytes-x");
}
