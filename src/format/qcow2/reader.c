/* Reading qcow2 v2/v3 images (ours and qemu-img's): plain, zero and compressed clusters. The
 * file is hostile: every table offset and cluster is checked against the file size before use,
 * and memory is the L1 table (at most 32 MiB, as qemu), a few cached L2 tables and one cluster
 * of decompressed data (docs/formats/qcow2.md). */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define QCOW2_L2_CACHE 4

uint64_t qcow2_reader_lookups;

struct qcow2_reader {
	struct image_reader base;
	int fd;
	uint64_t file_size;
	struct qcow2_header h;
	unsigned cluster_bits;
	uint64_t cs;
	uint64_t *l1; /* host offsets of L2 tables, 0 = none; checked at open */
	struct {
		uint64_t host_off; /* 0 = empty slot */
		uint8_t *data;
	} l2[QCOW2_L2_CACHE];
	unsigned l2_next;
	uint64_t empty_l2; /* host offset of an L2 table seen to map no data; 0: none */
	struct qcow2_codec *codec;
	uint8_t *cbuf;  /* compressed bytes of one cluster */
	uint8_t *dbuf;  /* the last decompressed cluster */
	uint64_t dbuf_clus; /* UINT64_MAX: none */
};

static int qcow2_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	uint32_t v;

	if (len < 8 || be32_get(head + QCOW2_HDR_MAGIC) != QCOW2_MAGIC)
		return 0;
	v = be32_get(head + QCOW2_HDR_VERSION);
	return v == 2 || v == 3;
}

static void qcow2_close(struct image_reader *base)
{
	struct qcow2_reader *r = (struct qcow2_reader *)base;

	if (!r)
		return;
	for (unsigned i = 0; i < QCOW2_L2_CACHE; i++)
		free(r->l2[i].data);
	qcow2_codec_free(r->codec);
	free(r->cbuf);
	free(r->dbuf);
	free(r->l1);
	free(r);
}

static void qcow2_reader_freep(struct qcow2_reader **r)
{
	if (*r)
		qcow2_close(&(*r)->base);
}

static int load_l1(struct qcow2_reader *r, struct diag *d)
{
	uint32_t n = r->h.l1_size;
	_cleanup_free_ uint8_t *raw = xmalloc(n ? (size_t)n * 8 : 1);
	int e;

	e = pread_full(r->fd, raw, (size_t)n * 8, r->h.l1_table_offset);
	if (e < 0)
		return diag_fail(d, e, "cannot read the qcow2 L1 table: %s", strerror(-e));
	r->l1 = xcalloc(n ? n : 1, sizeof(*r->l1));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = be64_get(raw + (size_t)i * 8), off = v & QCOW2_OFFSET_MASK;

		if (v & 0x7f000000000001ffull || off & (r->cs - 1) ||
		    (off && (off > r->file_size || r->file_size - off < r->cs)))
			return diag_fail(d, -EBADMSG, "qcow2 L1 entry %u (0x%016llx) is invalid or "
					 "points past the end of the file", i,
					 (unsigned long long)v);
		r->l1[i] = off;
	}
	return 0;
}

static int qcow2_open(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	_cleanup_(qcow2_reader_freep) struct qcow2_reader *r = NULL;
	uint8_t head[QCOW2_HDR_V3_COMPRESSION_SIZE] = { 0 };
	size_t len = MIN(file_size, sizeof(head));
	int e;

	e = pread_full(fd, head, len, 0);
	if (e < 0)
		return diag_fail(d, e, "cannot read the qcow2 header: %s", strerror(-e));
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->file_size = file_size;
	e = qcow2_header_decode(head, len, file_size, d, &r->h);
	if (e < 0)
		return e;
	r->cluster_bits = r->h.cluster_bits;
	r->cs = 1ull << r->cluster_bits;
	r->base.virtual_size = r->h.size;
	e = load_l1(r, d);
	if (e < 0)
		return e;
	r->codec = qcow2_codec_new(r->h.compression_type);
	r->cbuf = xmalloc(2 * r->cs); /* a descriptor spans at most 2 clusters of sectors */
	r->dbuf = xmalloc(r->cs);
	r->dbuf_clus = UINT64_MAX;
	*ret = &TAKE_PTR(r)->base;
	return 0;
}

/* The L2 table at host offset off, from the cache or the file. */
static int l2_table(struct qcow2_reader *r, uint64_t off, const uint8_t **ret, struct diag *d)
{
	unsigned slot;
	int e;

	for (unsigned i = 0; i < QCOW2_L2_CACHE; i++)
		if (r->l2[i].host_off == off) {
			*ret = r->l2[i].data;
			return 0;
		}
	slot = r->l2_next++ % QCOW2_L2_CACHE;
	if (!r->l2[slot].data)
		r->l2[slot].data = xmalloc(r->cs);
	r->l2[slot].host_off = 0;
	e = pread_full(r->fd, r->l2[slot].data, r->cs, off);
	if (e < 0)
		return diag_fail(d, e, "cannot read a qcow2 L2 table at %llu: %s",
				 (unsigned long long)off, strerror(-e));
	r->l2[slot].host_off = off;
	*ret = r->l2[slot].data;
	return 0;
}

/* Where guest cluster clus lives, checked against the file. */
static int lookup(struct qcow2_reader *r, uint64_t clus, struct qcow2_cluster *ret,
		  struct diag *d)
{
	unsigned shift = r->cluster_bits - 3;
	uint64_t l1_idx = clus >> shift, e, need;
	const uint8_t *l2 = NULL;
	struct qcow2_cluster c;
	int err;

	qcow2_reader_lookups++;
	if (l1_idx >= r->h.l1_size || r->l1[l1_idx] == 0) {
		*ret = (struct qcow2_cluster){ .type = QCOW2_CLUSTER_UNALLOCATED };
		return 0;
	}
	err = l2_table(r, r->l1[l1_idx], &l2, d);
	if (err < 0)
		return err;
	e = be64_get(l2 + (clus & ((1ull << shift) - 1)) * 8);
	if (qcow2_l2_entry_decode(e, r->cluster_bits, r->h.version, &c) < 0)
		return diag_fail(d, -EBADMSG, "qcow2 L2 entry 0x%016llx for guest cluster %llu is "
				 "invalid", (unsigned long long)e, (unsigned long long)clus);
	if (c.type == QCOW2_CLUSTER_NORMAL) {
		/* the last cluster of the disk may be stored short */
		need = MIN(r->cs, r->h.size - (clus << r->cluster_bits));
		if (c.host_off > r->file_size || r->file_size - c.host_off < need)
			return diag_fail(d, -EBADMSG, "qcow2 data of guest cluster %llu at %llu is "
					 "past the end of the file", (unsigned long long)clus,
					 (unsigned long long)c.host_off);
	} else if (c.type == QCOW2_CLUSTER_COMPRESSED) {
		if (c.host_off >= r->file_size)
			return diag_fail(d, -EBADMSG, "qcow2 compressed data of guest cluster %llu at "
					 "%llu is past the end of the file",
					 (unsigned long long)clus, (unsigned long long)c.host_off);
		/* the sector-rounded length may run past the end of qemu's last cluster */
		c.host_len = MIN(c.host_len, r->file_size - c.host_off);
	}
	*ret = c;
	return 0;
}

static int read_compressed(struct qcow2_reader *r, uint64_t clus, const struct qcow2_cluster *c,
			   struct diag *d)
{
	int e;

	if (r->dbuf_clus == clus)
		return 0;
	r->dbuf_clus = UINT64_MAX;
	e = pread_full(r->fd, r->cbuf, c->host_len, c->host_off);
	if (e < 0)
		return diag_fail(d, e, "cannot read qcow2 compressed cluster at %llu: %s",
				 (unsigned long long)c->host_off, strerror(-e));
	e = qcow2_codec_decompress(r->codec, r->cbuf, c->host_len, r->dbuf, r->cs);
	if (e < 0)
		return diag_fail(d, -EBADMSG, "qcow2 compressed cluster for guest cluster %llu at "
				 "%llu does not decompress", (unsigned long long)clus,
				 (unsigned long long)c->host_off);
	r->dbuf_clus = clus;
	return 0;
}

static int qcow2_read(struct image_reader *base, uint64_t off, void *buf, size_t len,
		      struct diag *d)
{
	struct qcow2_reader *r = (struct qcow2_reader *)base;
	uint8_t *p = buf;
	int e;

	if (off > r->h.size || len > r->h.size - off)
		return diag_fail(d, -ERANGE, "read past the end of the qcow2 disk");
	while (len > 0) {
		uint64_t clus = off >> r->cluster_bits, within = off & (r->cs - 1);
		size_t n = (size_t)MIN((uint64_t)len, r->cs - within);
		struct qcow2_cluster c;

		e = lookup(r, clus, &c, d);
		if (e < 0)
			return e;
		switch (c.type) {
		case QCOW2_CLUSTER_UNALLOCATED:
		case QCOW2_CLUSTER_ZERO:
			memset(p, 0, n);
			break;
		case QCOW2_CLUSTER_NORMAL:
			e = pread_full(r->fd, p, n, c.host_off + within);
			if (e < 0)
				return diag_fail(d, e, "cannot read qcow2 data at %llu: %s",
						 (unsigned long long)(c.host_off + within),
						 strerror(-e));
			break;
		case QCOW2_CLUSTER_COMPRESSED:
			e = read_compressed(r, clus, &c, d);
			if (e < 0)
				return e;
			memcpy(p, r->dbuf + within, n);
			break;
		}
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

static bool holds_data(const struct qcow2_cluster *c)
{
	return c->type == QCOW2_CLUSTER_NORMAL || c->type == QCOW2_CLUSTER_COMPRESSED;
}

static int qcow2_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			   uint64_t *ret_len, struct diag *d)
{
	struct qcow2_reader *r = (struct qcow2_reader *)base;
	uint64_t size = r->h.size, n_clus = DIV_ROUND_UP(size, r->cs);
	uint64_t per_l2 = r->cs / 8, clus = off >> r->cluster_bits, end;
	struct qcow2_cluster c;
	bool from_start = false; /* this table scanned from its first entry */
	int e;

	/* Hostile L1 tables may point every entry at one empty L2 table: one scan of it is
	 * remembered, so the work stays linear in the file, not in the virtual size. */
	for (; off < size && clus < n_clus; clus++) {
		uint64_t l2 = r->l1[clus / per_l2];

		if (clus % per_l2 == 0)
			from_start = true;
		if (l2 == 0 || l2 == r->empty_l2) {
			clus = ROUND_UP(clus + 1, per_l2) - 1; /* skip the whole table */
			continue;
		}
		e = lookup(r, clus, &c, d);
		if (e < 0)
			return e;
		if (!holds_data(&c)) {
			if (from_start && (clus + 1) % per_l2 == 0)
				r->empty_l2 = l2;
			continue;
		}
		/* extend over the following allocated clusters of this table */
		for (end = clus + 1; end < n_clus && end % per_l2 != 0; end++) {
			e = lookup(r, end, &c, d);
			if (e < 0)
				return e;
			if (!holds_data(&c))
				break;
		}
		*ret_start = MAX(off, clus << r->cluster_bits);
		*ret_len = MIN(size, end << r->cluster_bits) - *ret_start;
		return 0;
	}
	*ret_start = size;
	*ret_len = 0;
	return 0;
}

/* resize: the same cluster size and compression. Compressed when any of the first data
 * clusters is: qemu-img -c (and our writer) store a cluster that does not shrink as is, so one
 * plain cluster says nothing, and looking at a bounded number keeps this cheap. Internal
 * snapshots would be lost: refused. */
#define QCOW2_PARAMS_PROBE_CLUSTERS 256u

static int qcow2_any_compressed(struct qcow2_reader *r, bool *ret, struct diag *d)
{
	uint64_t off = 0, start, len;
	unsigned seen = 0;
	int e;

	*ret = false;
	while (seen < QCOW2_PARAMS_PROBE_CLUSTERS) {
		e = qcow2_next_data(&r->base, off, &start, &len, d);
		if (e < 0)
			return e;
		if (len == 0)
			return 0;
		for (uint64_t c = start >> r->cluster_bits;
		     c <= (start + len - 1) >> r->cluster_bits && seen < QCOW2_PARAMS_PROBE_CLUSTERS;
		     c++, seen++) {
			struct qcow2_cluster cl;

			e = lookup(r, c, &cl, d);
			if (e < 0)
				return e;
			if (cl.type == QCOW2_CLUSTER_COMPRESSED) {
				*ret = true;
				return 0;
			}
		}
		off = start + len;
	}
	return 0;
}

static int qcow2_write_params(struct image_reader *base, const char **ret_format,
			      struct format_params *p, char *kept, size_t kept_cap, struct diag *d)
{
	struct qcow2_reader *r = (struct qcow2_reader *)base;
	bool compressed;
	int e;

	if (r->h.nb_snapshots)
		return diag_fail(d, -ENOTSUP, "the qcow2 image has %u internal snapshots, which "
				 "rewriting it would drop (qemu-img resize keeps them)",
				 r->h.nb_snapshots);
	e = qcow2_any_compressed(r, &compressed, d);
	if (e < 0)
		return e;
	*ret_format = compressed ? "qcow2-compressed" : "qcow2";
	p->cluster_size = (uint32_t)r->cs;
	p->compression = !compressed ? FORMAT_COMPRESSION_NONE
			 : r->h.compression_type == QCOW2_COMPRESSION_ZSTD ? FORMAT_COMPRESSION_ZSTD
									    : FORMAT_COMPRESSION_DEFLATE;
	snprintf(kept, kept_cap, "cluster size %llu%s%s", (unsigned long long)r->cs,
		 !compressed ? ", uncompressed"
		 : p->compression == FORMAT_COMPRESSION_ZSTD ? ", zstd-compressed"
							     : ", deflate-compressed",
		 r->h.version == 2 ? "; written as qcow2 v3" : "");
	return 0;
}

const struct reader_ops reader_qcow2 = {
	.write_params = qcow2_write_params,
	.name = "qcow2",
	.probe = qcow2_probe,
	.open = qcow2_open,
	.read = qcow2_read,
	.next_data = qcow2_next_data,
	.close = qcow2_close,
};
