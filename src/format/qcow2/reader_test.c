/* The qcow2 reader on hand-made hostile files (not written by our qcow2 sink). */
#include "format/qcow2/qcow2-internal.h"

#include <stdlib.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test.h"

/* A v2 file of 64 KiB clusters: header, refcount table (cluster 1), L1 of n entries (cluster
 * 2), every entry pointing at one all-zero L2 table (cluster 3). */
static int aliased_l1_file(uint32_t n, uint64_t *ret_size)
{
	const uint64_t cs = 1u << 16, per_l2 = cs / 8;
	char path[] = "/tmp/qcow2-reader-XXXXXX";
	uint8_t *f = calloc(1, 4 * cs);
	int fd = mkstemp(path);

	if (!f || fd < 0 || n > cs / 8)
		abort();
	(void)unlink(path);
	be32_put(f + QCOW2_HDR_MAGIC, QCOW2_MAGIC);
	be32_put(f + QCOW2_HDR_VERSION, 2);
	be32_put(f + QCOW2_HDR_CLUSTER_BITS, 16);
	be64_put(f + QCOW2_HDR_SIZE, n * per_l2 * cs);
	be32_put(f + QCOW2_HDR_L1_SIZE, n);
	be64_put(f + QCOW2_HDR_L1_TABLE_OFFSET, 2 * cs);
	be64_put(f + QCOW2_HDR_REFCOUNT_TABLE_OFFSET, cs);
	be32_put(f + QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS, 1);
	for (uint32_t i = 0; i < n; i++)
		be64_put(f + 2 * cs + 8 * i, 3 * cs | 1ull << 63); /* COPIED */
	if (pwrite_full(fd, f, 4 * cs, 0) < 0)
		abort();
	free(f);
	*ret_size = n * per_l2 * cs;
	return fd;
}

static uint64_t next_data_work(uint32_t n, int *failed_)
{
	struct image_reader *rd = NULL;
	struct diag d = { 0 };
	uint64_t size, start = 1, len = 1, before;
	int fd = aliased_l1_file(n, &size);

	if (reader_qcow2.open(fd, 4u << 16, &d, &rd) < 0 || rd->virtual_size != size) {
		*failed_ = 1;
		close(fd);
		return 0;
	}
	before = qcow2_reader_lookups;
	if (reader_qcow2.next_data(rd, 0, &start, &len, &d) < 0 || start != size || len != 0)
		*failed_ = 1;
	reader_qcow2.close(rd);
	close(fd);
	return qcow2_reader_lookups - before;
}

/* 8192 L1 entries at one empty L2 table (a 4 TiB disk in a 256 KiB file): the table is
 * scanned once, not 8192 times (2^26 lookups). Counts work, not time. */
TEST(qcow2_aliased_empty_l2_tables_are_scanned_once)
{
	int bad = 0;
	uint64_t w1 = next_data_work(2048, &bad), w4 = next_data_work(8192, &bad);

	ASSERT_TRUE(!bad);
	ASSERT_TRUE(w1 >= 8192); /* the one table was looked at */
	ASSERT_TRUE(w4 <= 8192 + 8192);
	ASSERT_TRUE(w4 <= w1 + 8192);
}

/* Header fields that would make the reader allocate or walk absurd amounts are refused. */
TEST(qcow2_absurd_headers_are_refused)
{
	const uint64_t cs = 1u << 16;
	uint8_t h[QCOW2_HDR_V2_SIZE] = { 0 };
	struct qcow2_header out;
	struct diag d = { 0 };

	be32_put(h + QCOW2_HDR_MAGIC, QCOW2_MAGIC);
	be32_put(h + QCOW2_HDR_VERSION, 2);
	be32_put(h + QCOW2_HDR_CLUSTER_BITS, 16);
	be64_put(h + QCOW2_HDR_REFCOUNT_TABLE_OFFSET, cs);
	be32_put(h + QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS, 1);
	be64_put(h + QCOW2_HDR_L1_TABLE_OFFSET, 2 * cs);
	be64_put(h + QCOW2_HDR_SIZE, 1ull << 60); /* needs 2^31 L1 entries: 16 GiB */
	be32_put(h + QCOW2_HDR_L1_SIZE, 0x80000000u);
	ASSERT_ERR(qcow2_header_decode(h, sizeof(h), 1ull << 40, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "absurd") != NULL);
	be64_put(h + QCOW2_HDR_SIZE, UINT64_MAX);
	ASSERT_ERR(qcow2_header_decode(h, sizeof(h), 1ull << 40, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "absurd") != NULL);
	/* an L1 table that fits the limit but not the file */
	be64_put(h + QCOW2_HDR_SIZE, 1ull << 40);
	be32_put(h + QCOW2_HDR_L1_SIZE, 1u << 11);
	ASSERT_ERR(qcow2_header_decode(h, sizeof(h), 2 * cs + 8 * 2048 - 1, &d, &out), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "l1_table_offset") != NULL);
	ASSERT_OK(qcow2_header_decode(h, sizeof(h), 2 * cs + 8 * 2048, &d, &out));
}
