/* qcow2 sinks: "qcow2" and "qcow2-compressed". Data clusters are appended in guest order as
 * they complete, from host cluster 1 on; finish appends the L2 tables, L1, refcount blocks and
 * the refcount table, then writes the header into cluster 0 (docs/formats/qcow2.md). Memory: the
 * current cluster, the L2 entries and refcounts of allocated clusters, the compression queue. */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "format/pool.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/xalloc.h"

#define QCOW2_WBUF_SIZE (256u << 10)

enum qcow2_job_kind {
	QCOW2_JOB_ZERO,       /* all zeros: left unallocated */
	QCOW2_JOB_PLAIN,      /* does not compress: stored as is */
	QCOW2_JOB_COMPRESSED, /* replaced by its out_len[i] compressed bytes, in place */
};

struct qcow2_sink {
	struct sink base;
	struct outfile *out;
	unsigned cluster_bits;
	size_t cs;
	bool compressed;
	enum qcow2_compression_type ctype;
	uint8_t *cur; /* the partial cluster being filled */
	uint64_t cur_clus;
	bool cur_dirty;
	uint64_t host_end; /* end of the data area in the file, in bytes */
	uint8_t *wbuf;     /* data bytes for [wbuf_off, wbuf_off + wbuf_len), not yet written */
	uint64_t wbuf_off;
	size_t wbuf_len;
	uint16_t *rc;      /* refcounts of host clusters [0, n_rc) */
	uint64_t n_rc;
	struct qcow2_l2_map map;
	struct format_pool *pool;
	int level; /* the workers' codec level, 0: its default */
};

/* A worker's codec and scratch space. */
struct qcow2_worker {
	struct qcow2_codec *codec;
	uint8_t *scratch;
	size_t cs;
};

static void *worker_new(void *ctx)
{
	const struct qcow2_sink *s = ctx;
	struct qcow2_worker *w = xcalloc(1, sizeof(*w));

	w->codec = qcow2_codec_new(s->ctype);
	qcow2_codec_set_level(w->codec, s->level);
	w->scratch = xmalloc(s->cs);
	w->cs = s->cs;
	return w;
}

static void worker_free(void *arg)
{
	struct qcow2_worker *w = arg;

	qcow2_codec_free(w->codec);
	free(w->scratch);
	free(w);
}

/* Compressed bytes go to the worker's scratch, then over the cluster they came from: a batch
 * needs one buffer, not two. */
static void job_compress(void *arg, struct format_job *j)
{
	struct qcow2_worker *w = arg;
	size_t cs = w->cs;

	for (size_t i = 0; i < j->n; i++) {
		uint8_t *in = j->buf + i * cs;
		size_t len;

		if (mem_is_zero(in, cs)) {
			j->kind[i] = QCOW2_JOB_ZERO;
			continue;
		}
		/* qemu stores a cluster raw unless it compresses to at most cs - 1 bytes */
		if (qcow2_codec_compress(w->codec, in, cs, w->scratch, cs - 1, &len) < 0) {
			j->kind[i] = QCOW2_JOB_PLAIN;
			continue;
		}
		memcpy(in, w->scratch, len);
		j->kind[i] = QCOW2_JOB_COMPRESSED;
		j->out_len[i] = (uint32_t)len;
	}
}

static int job_write(void *ctx, const struct format_job *j);

static const struct format_pool_ops qcow2_pool_ops = {
	.worker_new = worker_new,
	.worker_free = worker_free,
	.compress = job_compress,
	.write = job_write,
};

/* Make room for refcounts of host clusters [0, n). */
static void rc_ensure(struct qcow2_sink *s, uint64_t n)
{
	uint64_t cap = s->n_rc;

	if (n <= cap)
		return;
	while (cap < n)
		cap = cap ? cap * 2 : 1024;
	s->rc = xreallocarray(s->rc, cap, sizeof(*s->rc));
	memset(s->rc + s->n_rc, 0, (cap - s->n_rc) * sizeof(*s->rc));
	s->n_rc = cap;
}

static int write_fail(struct qcow2_sink *s, struct diag *d, int r)
{
	return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
}

/* The write side (wbuf_flush, append, put_*, job_write) runs in the writing worker while
 * compressing: it returns -errno and the sink's thread words the message (write_fail). */
static int wbuf_flush(struct qcow2_sink *s)
{
	int r;

	if (s->wbuf_len == 0)
		return 0;
	r = pwrite_full(s->out->fd, s->wbuf, s->wbuf_len, s->wbuf_off);
	s->wbuf_len = 0;
	return r;
}

/* Data bytes go out in 256 KiB writes: the data area only grows, mostly contiguously. */
static int append(struct qcow2_sink *s, uint64_t host, const void *data, size_t len)
{
	int r;

	if (s->wbuf_len && (s->wbuf_off + s->wbuf_len != host ||
			    len > QCOW2_WBUF_SIZE - s->wbuf_len)) {
		r = wbuf_flush(s);
		if (r < 0)
			return r;
	}
	if (len >= QCOW2_WBUF_SIZE)
		return pwrite_full(s->out->fd, data, len, host);
	if (s->wbuf_len == 0)
		s->wbuf_off = host;
	memcpy(s->wbuf + s->wbuf_len, data, len);
	s->wbuf_len += len;
	return 0;
}

/* A whole cluster stored as is, at the next cluster boundary of the data area. */
static int put_plain(struct qcow2_sink *s, uint64_t guest_clus, const uint8_t *data)
{
	uint64_t host = ROUND_UP(s->host_end, (uint64_t)s->cs);
	int r = append(s, host, data, s->cs);

	if (r < 0)
		return r;
	rc_ensure(s, (host >> s->cluster_bits) + 1);
	s->rc[host >> s->cluster_bits]++;
	s->host_end = host + s->cs;
	qcow2_l2_map_add(&s->map, guest_clus, qcow2_l2_entry_normal(host));
	return 0;
}

/* A compressed cluster packed right after the previous one, as qemu's byte allocator does.
 * Every host cluster its sector-rounded range touches gains a reference (qemu-img check). */
static int put_compressed(struct qcow2_sink *s, uint64_t guest_clus, const uint8_t *data,
			  size_t len)
{
	uint64_t host = s->host_end, first, last;
	int r;

	rc_ensure(s, (host >> s->cluster_bits) + 1);
	if (s->rc[host >> s->cluster_bits] == UINT16_MAX)
		host = ROUND_UP(host, (uint64_t)s->cs); /* a 16-bit refcount is full */
	r = append(s, host, data, len);
	if (r < 0)
		return r;
	first = (host & ~511ull) >> s->cluster_bits;
	last = (ROUND_UP(host + len, 512) - 1) >> s->cluster_bits;
	rc_ensure(s, last + 1);
	for (uint64_t c = first; c <= last; c++)
		s->rc[c]++;
	s->host_end = host + len;
	qcow2_l2_map_add(&s->map, guest_clus,
			 qcow2_l2_entry_compressed(s->cluster_bits, host, len));
	return 0;
}

/* Appends a finished batch's clusters in order. */
static int job_write(void *ctx, const struct format_job *j)
{
	struct qcow2_sink *s = ctx;
	int r = 0;

	for (size_t i = 0; i < j->n && r >= 0; i++) {
		if (j->kind[i] == QCOW2_JOB_PLAIN)
			r = put_plain(s, j->unit_idx[i], j->buf + i * s->cs);
		else if (j->kind[i] == QCOW2_JOB_COMPRESSED)
			r = put_compressed(s, j->unit_idx[i], j->buf + i * s->cs, j->out_len[i]);
	}
	return r;
}

static int pool_fail(struct qcow2_sink *s, struct diag *d, int r)
{
	return r < 0 ? write_fail(s, d, r) : 0;
}

static int emit_cluster(struct qcow2_sink *s, uint64_t guest_clus, const uint8_t *data,
			struct diag *d)
{
	int r;

	if (s->compressed)
		/* the workers test for zeros */
		return pool_fail(s, d, format_pool_submit(s->pool, guest_clus, data));
	if (mem_is_zero(data, s->cs))
		return 0; /* unallocated clusters read as zeros */
	r = put_plain(s, guest_clus, data);
	return r < 0 ? write_fail(s, d, r) : 0;
}

static int flush_cur(struct qcow2_sink *s, struct diag *d)
{
	if (!s->cur_dirty)
		return 0;
	s->cur_dirty = false;
	return emit_cluster(s, s->cur_clus, s->cur, d);
}

/* Starts the partial cluster clus, all zeros. */
static void cur_start(struct qcow2_sink *s, uint64_t clus)
{
	memset(s->cur, 0, s->cs);
	s->cur_clus = clus;
	s->cur_dirty = true;
}

static int qcow2_write(struct sink *base, uint64_t off, const void *buf, size_t len,
		       struct diag *d)
{
	struct qcow2_sink *s = (struct qcow2_sink *)base;
	const uint8_t *p = buf;
	int r;

	while (len > 0) {
		uint64_t clus = off >> s->cluster_bits;
		size_t within = off & (s->cs - 1), n = MIN(len, s->cs - within);

		if (s->cur_dirty && s->cur_clus != clus) {
			r = flush_cur(s, d);
			if (r < 0)
				return r;
		}
		if (!s->cur_dirty && n == s->cs) {
			r = emit_cluster(s, clus, p, d); /* whole cluster: no copy */
		} else {
			if (!s->cur_dirty)
				cur_start(s, clus);
			memcpy(s->cur + within, p, n);
			r = 0;
		}
		if (r < 0)
			return r;
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* File data read straight into the batch being filled (whole clusters, up to a batch per read)
 * or into the partial cluster, not through the caller's buffer and a copy. Zero clusters the
 * workers find stay unallocated, so the file is the one qcow2_write makes of the same bytes. */
static ssize_t qcow2_copy_from_fd(struct sink *base, uint64_t off, int fd, uint64_t src_off,
				  size_t len, struct diag *d)
{
	struct qcow2_sink *s = (struct qcow2_sink *)base;
	size_t done = 0;

	while (done < len) {
		uint64_t pos = off + done, clus = pos >> s->cluster_bits;
		size_t within = pos & (s->cs - 1), whole = 0, want;
		struct format_job *j = NULL;
		uint8_t *dst;
		ssize_t n;
		int r = interrupt_check(d);

		if (r < 0)
			return r;
		if (s->cur_dirty && s->cur_clus != clus) {
			r = flush_cur(s, d);
			if (r < 0)
				return r;
		}
		if (!s->cur_dirty && within == 0)
			whole = (len - done) >> s->cluster_bits;
		if (whole > 0) {
			r = pool_fail(s, d, format_pool_room(s->pool, &j));
			if (r < 0)
				return r;
			whole = MIN(whole, format_pool_batch(s->pool) - j->n);
			dst = j->buf + j->n * s->cs;
			want = whole * s->cs;
		} else {
			if (!s->cur_dirty)
				cur_start(s, clus);
			dst = s->cur + within;
			want = MIN(len - done, s->cs - within);
		}
		n = pread(fd, dst, want, (off_t)(src_off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && done > 0)
			break; /* the caller reads the rest and reports the error */
		if (n < 0)
			return diag_fail(d, -errno, "cannot read: %s", strerror(errno));
		if (n == 0)
			break; /* the source ended early */
		if (whole > 0) {
			size_t full = (size_t)n >> s->cluster_bits, tail = (size_t)n & (s->cs - 1);

			format_pool_commit(s->pool, clus, full);
			if (tail > 0) {
				/* a short read: its last cluster goes on as the partial one */
				cur_start(s, clus + full);
				memcpy(s->cur, dst + full * s->cs, tail);
			}
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static struct qcow2_sink *sink_free(struct qcow2_sink *s)
{
	s->pool = format_pool_free(s->pool);
	qcow2_l2_map_free(&s->map);
	free(s->rc);
	free(s->wbuf);
	free(s->cur);
	free(s);
	return NULL;
}

/* Everything after the data: L2 tables, L1, refcount blocks, refcount table, then the header. */
static int write_metadata(struct qcow2_sink *s, struct diag *d)
{
	/* qemu sees whole sectors only: round an odd size up so no byte is lost */
	uint64_t cs = s->cs, vsize = ROUND_UP(s->base.virtual_size, 512);
	uint64_t data_clus = DIV_ROUND_UP(s->host_end, cs);
	uint64_t n_l2 = qcow2_l2_map_n_tables(&s->map, s->cluster_bits);
	uint32_t l1_size = (uint32_t)qcow2_l1_entries(vsize, s->cluster_bits);
	uint64_t l1_clus = DIV_ROUND_UP((uint64_t)l1_size * 8, cs);
	uint64_t l2_off = data_clus * cs, l1_off = l2_off + n_l2 * cs;
	uint64_t n_clus = data_clus + n_l2 + l1_clus, blocks_off = n_clus * cs;
	struct qcow2_refcount_layout l;
	uint8_t hdr[QCOW2_HDR_V3_COMPRESSION_SIZE + 8];
	struct qcow2_header h = {
		.version = 3,
		.cluster_bits = s->cluster_bits,
		.size = vsize,
		.l1_size = l1_size,
		.l1_table_offset = l1_size ? l1_off : 0,
		.refcount_order = 4,
		.header_length = QCOW2_HDR_V3_SIZE,
	};
	int r;

	rc_ensure(s, data_clus);
	s->rc[0] = 1; /* the header */
	qcow2_refcount_layout(n_clus, s->cluster_bits, &l);
	h.refcount_table_offset = blocks_off + l.n_blocks * cs;
	h.refcount_table_clusters = (uint32_t)l.table_clusters;
	if (s->ctype == QCOW2_COMPRESSION_ZSTD) {
		h.header_length = QCOW2_HDR_V3_COMPRESSION_SIZE;
		h.compression_type = QCOW2_COMPRESSION_ZSTD;
		h.incompatible_features |= QCOW2_INCOMPAT_COMPRESSION;
	}
	r = qcow2_l2_map_write(&s->map, s->cluster_bits, s->out->fd, l2_off, l1_off, l1_size);
	if (r >= 0)
		r = qcow2_refcount_write(s->rc, data_clus, n_clus + l.n_blocks + l.table_clusters, &l,
					 s->cluster_bits, s->out->fd, blocks_off);
	if (r >= 0) {
		qcow2_header_encode(hdr, &h);
		r = pwrite_full(s->out->fd, hdr, sizeof(hdr), 0);
	}
	if (r < 0)
		return write_fail(s, d, r);
	return 0;
}

static void qcow2_abort(struct sink *base)
{
	struct qcow2_sink *s = (struct qcow2_sink *)base;

	/* the workers stop first (the writing one may still be at the file) */
	s->pool = format_pool_cancel(s->pool);
	outfile_abort(s->out);
	sink_free(s);
}

static int qcow2_finish(struct sink *base, struct diag *d)
{
	struct qcow2_sink *s = (struct qcow2_sink *)base;
	int r;

	r = flush_cur(s, d);
	if (r >= 0 && s->pool)
		r = pool_fail(s, d, format_pool_drain(s->pool));
	if (r >= 0 && (r = wbuf_flush(s)) < 0)
		r = write_fail(s, d, r);
	if (r >= 0)
		r = interrupt_check(d);
	if (r >= 0)
		r = write_metadata(s, d);
	if (r < 0) {
		qcow2_abort(base);
		return r;
	}
	r = outfile_commit(s->out, d); /* frees out either way */
	sink_free(s);
	return r;
}

static int open_common(const struct format_params *p, struct outfile *out, bool compressed,
		       struct diag *d, struct sink **ret)
{
	uint32_t cs = p->cluster_size ? p->cluster_size : QCOW2_DEFAULT_CLUSTER_SIZE;
	unsigned bits = (unsigned)__builtin_ctz(cs);
	struct qcow2_sink *s;
	int r;

	if (cs & (cs - 1) || bits < QCOW2_MIN_CLUSTER_BITS || bits > QCOW2_MAX_CLUSTER_BITS)
		return diag_fail(d, -EINVAL, "qcow2 cluster size %u is not a power of two between "
				 "512 and 2M", cs);
	if (p->virtual_size > (1ull << 61) ||
	    qcow2_l1_entries(p->virtual_size, bits) * 8 > QCOW2_MAX_L1_BYTES)
		return diag_fail(d, -EOVERFLOW, "disk size %llu is too large for qcow2 with %u-byte "
				 "clusters; use a larger cluster size",
				 (unsigned long long)p->virtual_size, cs);
	s = xcalloc(1, sizeof(*s));
	s->out = out;
	s->cluster_bits = bits;
	s->cs = cs;
	s->cur = xmalloc(cs);
	s->wbuf = xmalloc(QCOW2_WBUF_SIZE);
	s->host_end = cs; /* cluster 0 is the header */
	s->compressed = compressed;
	if (compressed) {
		s->ctype = p->compression == FORMAT_COMPRESSION_ZSTD ? QCOW2_COMPRESSION_ZSTD
								     : QCOW2_COMPRESSION_ZLIB;
		s->level = p->compression_level;
		r = format_pool_new(&qcow2_pool_ops, s, p->n_threads, cs, /* out_unit= */ 0,
				    &s->pool);
		if (r < 0) {
			sink_free(s);
			return diag_fail(d, r, "cannot start compression threads: %s",
					 strerror(-r));
		}
	}
	*ret = &s->base;
	return 0;
}

static int qcow2_open(const struct format_params *p, struct outfile *out, struct diag *d,
		      struct sink **ret)
{
	return open_common(p, out, /* compressed= */ false, d, ret);
}

static int qcow2_open_compressed(const struct format_params *p, struct outfile *out,
				 struct diag *d, struct sink **ret)
{
	return open_common(p, out, /* compressed= */ true, d, ret);
}

const struct format_ops format_qcow2 = {
	.name = "qcow2",
	.extension = "qcow2",
	.options = FORMAT_OPT_CLUSTER_SIZE,
	.compressed = "qcow2-compressed",
	.open = qcow2_open,
	.write = qcow2_write,
	.finish = qcow2_finish,
	.abort = qcow2_abort,
};

const struct format_ops format_qcow2_compressed = {
	.name = "qcow2-compressed",
	.extension = "qcow2",
	.options = FORMAT_OPT_CLUSTER_SIZE | FORMAT_OPT_COMPRESSION |
		   FORMAT_OPT_COMPRESSION_LEVEL | FORMAT_OPT_THREADS,
	.open = qcow2_open_compressed,
	.write = qcow2_write,
	.copy_from_fd = qcow2_copy_from_fd,
	.finish = qcow2_finish,
	.abort = qcow2_abort,
};
