/* qcow2 L1/L2 entries and the sink's map of allocated clusters (qcow2.txt "Cluster mapping",
 * "Compressed Clusters Descriptor"; docs/formats/qcow2.md). */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/* Bits 0..x-1 of a compressed descriptor are the host offset, x..61 the extra sectors. */
static unsigned csize_shift(unsigned cluster_bits)
{
	return 62 - (cluster_bits - 8);
}

uint64_t qcow2_l2_entry_normal(uint64_t host_off)
{
	/* every cluster we write has refcount 1, which is what COPIED says */
	return host_off | QCOW2_OFLAG_COPIED;
}

uint64_t qcow2_l2_entry_compressed(unsigned cluster_bits, uint64_t host_off, uint64_t len)
{
	/* sectors touched beyond the first, as qemu counts them */
	uint64_t extra = ((host_off + len - 1) >> 9) - (host_off >> 9);

	return QCOW2_OFLAG_COMPRESSED | extra << csize_shift(cluster_bits) | host_off;
}

int qcow2_l2_entry_decode(uint64_t e, unsigned cluster_bits, uint32_t version,
			  struct qcow2_cluster *ret)
{
	struct qcow2_cluster c = { .type = QCOW2_CLUSTER_UNALLOCATED };

	if (e & QCOW2_OFLAG_COMPRESSED) {
		unsigned x = csize_shift(cluster_bits);
		uint64_t nb = ((e >> x) & ((1ull << (cluster_bits - 8)) - 1)) + 1;

		if (e & QCOW2_OFLAG_COPIED)
			return -EBADMSG;
		c.type = QCOW2_CLUSTER_COMPRESSED;
		c.host_off = e & ((1ull << x) - 1);
		c.host_len = nb * 512 - (c.host_off & 511);
		*ret = c;
		return 0;
	}
	/* bits 1..8 and 56..61 are reserved; bit 0 is the zero flag from version 3 on */
	if (e & 0x3f000000000001feull || (version < 3 && (e & QCOW2_OFLAG_ZERO)))
		return -EBADMSG;
	c.host_off = e & QCOW2_OFFSET_MASK;
	if (e & QCOW2_OFLAG_ZERO)
		c.type = QCOW2_CLUSTER_ZERO;
	else if (c.host_off) {
		if (c.host_off & ((1ull << cluster_bits) - 1))
			return -EBADMSG;
		c.type = QCOW2_CLUSTER_NORMAL;
	}
	*ret = c;
	return 0;
}

void qcow2_l2_map_add(struct qcow2_l2_map *m, uint64_t guest_clus, uint64_t entry)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->guest_clus = xreallocarray(m->guest_clus, m->cap, sizeof(*m->guest_clus));
		m->entry = xreallocarray(m->entry, m->cap, sizeof(*m->entry));
	}
	m->guest_clus[m->n] = guest_clus;
	m->entry[m->n] = entry;
	m->n++;
}

void qcow2_l2_map_free(struct qcow2_l2_map *m)
{
	free(m->guest_clus);
	free(m->entry);
	memset(m, 0, sizeof(*m));
}

uint64_t qcow2_l2_map_n_tables(const struct qcow2_l2_map *m, unsigned cluster_bits)
{
	unsigned shift = cluster_bits - 3;
	uint64_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (i == 0 || m->guest_clus[i] >> shift != m->guest_clus[i - 1] >> shift)
			n++;
	return n;
}

int qcow2_l2_map_write(const struct qcow2_l2_map *m, unsigned cluster_bits, int fd,
		       uint64_t l2_off, uint64_t l1_off, uint32_t l1_size)
{
	size_t cs = (size_t)1 << cluster_bits;
	unsigned shift = cluster_bits - 3;
	_cleanup_free_ uint8_t *l1 = xcalloc(l1_size ? l1_size : 1, 8);
	_cleanup_free_ uint8_t *l2 = xmalloc(cs);
	size_t i = 0;
	int r;

	while (i < m->n) {
		uint64_t l1_idx = m->guest_clus[i] >> shift;

		memset(l2, 0, cs);
		for (; i < m->n && m->guest_clus[i] >> shift == l1_idx; i++)
			be64_put(l2 + (m->guest_clus[i] & ((1ull << shift) - 1)) * 8, m->entry[i]);
		r = pwrite_full(fd, l2, cs, l2_off);
		if (r < 0)
			return r;
		be64_put(l1 + l1_idx * 8, l2_off | QCOW2_OFLAG_COPIED);
		l2_off += cs;
	}
	if (l1_size == 0)
		return 0;
	return pwrite_full(fd, l1, (size_t)l1_size * 8, l1_off);
}
