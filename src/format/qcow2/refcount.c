/* qcow2 refcount table and blocks, 16-bit entries (qcow2.txt "Host cluster management";
 * docs/formats/qcow2.md). The sink writes them last, after the data, the L2 tables and L1. */
#include "format/qcow2/qcow2-internal.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

void qcow2_refcount_layout(uint64_t n_clus, unsigned cluster_bits,
			   struct qcow2_refcount_layout *ret)
{
	uint64_t per_block = (1ull << cluster_bits) / 2; /* 16-bit refcounts */
	uint64_t per_table = (1ull << cluster_bits) / 8;
	struct qcow2_refcount_layout l = { 0 };

	/* the blocks and the table count themselves: grow until nothing changes */
	for (;;) {
		uint64_t total = n_clus + l.n_blocks + l.table_clusters;
		uint64_t nb = (total + per_block - 1) / per_block;
		uint64_t nt = (nb + per_table - 1) / per_table;

		if (nb == l.n_blocks && nt == l.table_clusters)
			break;
		l.n_blocks = nb;
		l.table_clusters = nt;
	}
	*ret = l;
}

int qcow2_refcount_write(const uint16_t *data_rc, uint64_t n_data, uint64_t n_clus_total,
			 const struct qcow2_refcount_layout *l, unsigned cluster_bits, int fd,
			 uint64_t blocks_off)
{
	size_t cs = (size_t)1 << cluster_bits;
	uint64_t per_block = cs / 2;
	_cleanup_free_ uint8_t *buf = xmalloc(cs);
	_cleanup_free_ uint8_t *table = xcalloc(l->table_clusters, cs);
	int r;

	for (uint64_t b = 0; b < l->n_blocks; b++) {
		uint64_t first = b * per_block;

		memset(buf, 0, cs);
		for (uint64_t i = first; i < first + per_block && i < n_clus_total; i++)
			be16_put(buf + (i - first) * 2, i < n_data ? data_rc[i] : 1);
		r = pwrite_full(fd, buf, cs, blocks_off + b * cs);
		if (r < 0)
			return r;
		be64_put(table + b * 8, blocks_off + b * cs);
	}
	return pwrite_full(fd, table, l->table_clusters * cs, blocks_off + l->n_blocks * cs);
}
