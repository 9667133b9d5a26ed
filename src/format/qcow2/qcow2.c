/* qcow2 sinks: "qcow2" and "qcow2-compressed". Data clusters are appended in guest order as
 * they complete, from host cluster 1 on; finish appends the L2 tables, L1, refcount blocks and
 * the refcount table, then writes the header into cluster 0 (docs/formats/qcow2.md). Memory: the
 * current cluster, the L2 entries and refcounts of allocated clusters, the compression queue. */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/xalloc.h"

#define QCOW2_MAX_THREADS 64u
#define QCOW2_WBUF_SIZE (256u << 10)
/* Clusters go to the workers in batches of about 512 KiB: one lock round trip per batch, not per
 * cluster, and bounded memory (one buffer per batch, 2 * n_threads + 2 batches in flight: 3 MiB
 * with 2 threads). */
#define QCOW2_BATCH_BYTES (512u << 10)

enum qcow2_job_kind {
	QCOW2_JOB_ZERO,       /* all zeros: left unallocated */
	QCOW2_JOB_PLAIN,      /* does not compress: stored as is */
	QCOW2_JOB_COMPRESSED, /* replaced by its out_len[i] compressed bytes, in place */
};

struct qcow2_job {
	uint8_t *buf; /* n clusters at i * cs */
	uint64_t *guest_clus;
	uint32_t *out_len;
	uint8_t *kind;
	size_t n;
	bool done;
};

/* Compression workers: batches are numbered in submission (cluster) order, compressed in any
 * order and written out strictly in order, one worker at a time (whichever finds the oldest
 * batch finished), so the output does not depend on timing or on the number of threads, and
 * the sink's thread only reads. */
struct qcow2_pool {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	pthread_t *threads;
	unsigned n_threads, n_started;
	struct qcow2_sink *sink; /* written to by the writing worker only, until drained */
	struct qcow2_job *jobs;
	/* batches [retire_seq, submit_seq) are with the workers; jobs[submit_seq % depth] fills */
	uint64_t depth, submit_seq, take_seq, retire_seq;
	size_t batch; /* clusters per batch */
	bool quit;
	bool cancel;  /* abort: workers take no more batches and write nothing more */
	bool writing; /* a worker is writing batches out */
	int err;      /* the first write error */
	enum qcow2_compression_type type;
	int level; /* 0: the codec's default */
	size_t cs;
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
	struct qcow2_pool *pool;
};

/* Compressed bytes go to the worker's scratch, then over the cluster they came from: a batch
 * needs one buffer, not two. */
static void job_compress(struct qcow2_codec *c, uint8_t *scratch, struct qcow2_job *j, size_t cs)
{
	for (size_t i = 0; i < j->n; i++) {
		uint8_t *in = j->buf + i * cs;
		size_t len;

		if (mem_is_zero(in, cs)) {
			j->kind[i] = QCOW2_JOB_ZERO;
			continue;
		}
		/* qemu stores a cluster raw unless it compresses to at most cs - 1 bytes */
		if (qcow2_codec_compress(c, in, cs, scratch, cs - 1, &len) < 0) {
			j->kind[i] = QCOW2_JOB_PLAIN;
			continue;
		}
		memcpy(in, scratch, len);
		j->kind[i] = QCOW2_JOB_COMPRESSED;
		j->out_len[i] = (uint32_t)len;
	}
}

static int job_write(struct qcow2_sink *s, const struct qcow2_job *j);

/* With the lock held, by a worker that finished a batch: unless another worker is at it,
 * write out every finished batch from the oldest on, in order, without the lock. */
static void pool_write_finished(struct qcow2_pool *p)
{
	if (p->writing)
		return; /* that worker looks again after each batch */
	p->writing = true;
	while (p->retire_seq < p->take_seq) {
		struct qcow2_job *j = &p->jobs[p->retire_seq % p->depth];
		bool failed = p->err < 0;
		int r = 0;

		if (!j->done)
			break;
		pthread_mutex_unlock(&p->lock);
		if (!failed && !p->cancel)
			r = job_write(p->sink, j);
		pthread_mutex_lock(&p->lock);
		if (r < 0)
			p->err = r;
		j->n = 0;
		j->done = false;
		p->retire_seq++;
		pthread_cond_signal(&p->done); /* only the sink's thread waits on it */
	}
	p->writing = false;
}

static void *pool_worker(void *arg)
{
	struct qcow2_pool *p = arg;
	struct qcow2_codec *c = qcow2_codec_new(p->type);
	uint8_t *scratch = xmalloc(p->cs);

	qcow2_codec_set_level(c, p->level);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct qcow2_job *j;

		while (p->take_seq == p->submit_seq && !p->quit)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->take_seq == p->submit_seq || p->cancel)
			break;
		j = &p->jobs[p->take_seq++ % p->depth];
		pthread_mutex_unlock(&p->lock);
		job_compress(c, scratch, j, p->cs);
		pthread_mutex_lock(&p->lock);
		j->done = true;
		pool_write_finished(p);
	}
	pthread_mutex_unlock(&p->lock);
	free(scratch);
	qcow2_codec_free(c);
	return NULL;
}

static struct qcow2_pool *pool_free(struct qcow2_pool *p)
{
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_started; i++)
		pthread_join(p->threads[i], NULL);
	for (uint64_t i = 0; i < p->depth; i++) {
		free(p->jobs[i].buf);
		free(p->jobs[i].guest_clus);
		free(p->jobs[i].out_len);
		free(p->jobs[i].kind);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->jobs);
	free(p->threads);
	free(p);
	return NULL;
}

static int pool_new(struct qcow2_sink *s, unsigned n_threads, enum qcow2_compression_type type,
		    int level, size_t cs, struct qcow2_pool **ret)
{
	struct qcow2_pool *p = xcalloc(1, sizeof(*p));
	int r;

	p->sink = s;
	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = n > 0 ? (unsigned)n : 1;
	}
	p->n_threads = MIN(n_threads, QCOW2_MAX_THREADS);
	p->type = type;
	p->level = level;
	p->cs = cs;
	p->batch = MAX((size_t)1, QCOW2_BATCH_BYTES / cs);
	/* two batches per worker (one compressing, one queued so that a worker never waits while
	 * the sink's thread reads), one being filled, one waiting to be written */
	p->depth = 2 * (uint64_t)p->n_threads + 2;
	p->jobs = xcalloc(p->depth, sizeof(*p->jobs));
	for (uint64_t i = 0; i < p->depth; i++) {
		p->jobs[i].buf = xmalloc(p->batch * cs);
		p->jobs[i].guest_clus = xcalloc(p->batch, sizeof(uint64_t));
		p->jobs[i].out_len = xcalloc(p->batch, sizeof(uint32_t));
		p->jobs[i].kind = xcalloc(p->batch, 1);
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->threads = xcalloc(p->n_threads, sizeof(*p->threads));
	for (unsigned i = 0; i < p->n_threads; i++) {
		sigset_t old;

		/* workers start with SIGINT & co blocked: they reach the main thread */
		interrupt_block(&old);
		r = pthread_create(&p->threads[i], NULL, pool_worker, p);
		interrupt_unblock(&old);
		if (r != 0) {
			pool_free(p);
			return -r;
		}
		p->n_started++;
	}
	*ret = p;
	return 0;
}

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
static int job_write(struct qcow2_sink *s, const struct qcow2_job *j)
{
	int r = 0;

	for (size_t i = 0; i < j->n && r >= 0; i++) {
		if (j->kind[i] == QCOW2_JOB_PLAIN)
			r = put_plain(s, j->guest_clus[i], j->buf + i * s->cs);
		else if (j->kind[i] == QCOW2_JOB_COMPRESSED)
			r = put_compressed(s, j->guest_clus[i], j->buf + i * s->cs, j->out_len[i]);
	}
	return r;
}

/* Hands the filling batch to the workers. With every slot taken, the slot to fill still holds
 * the oldest batch, not yet written and so nothing filled: compressing it again would compress
 * its compressed clusters in place. */
static void pool_dispatch(struct qcow2_pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->submit_seq - p->retire_seq < p->depth && p->jobs[p->submit_seq % p->depth].n > 0) {
		p->submit_seq++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Waits until the workers wrote out every batch but the newest max_pending, or failed. */
static int pool_wait(struct qcow2_sink *s, uint64_t max_pending, struct diag *d)
{
	struct qcow2_pool *p = s->pool;
	int r;

	pthread_mutex_lock(&p->lock);
	while (p->submit_seq - p->retire_seq > max_pending && p->err == 0)
		pthread_cond_wait(&p->done, &p->lock);
	r = p->err;
	pthread_mutex_unlock(&p->lock);
	return r < 0 ? write_fail(s, d, r) : 0;
}

/* The batch being filled, with room for at least one cluster: its slot no longer holds the
 * oldest batch. */
static int pool_room(struct qcow2_sink *s, struct qcow2_job **ret, struct diag *d)
{
	struct qcow2_pool *p = s->pool;
	int r = pool_wait(s, p->depth - 1, d);

	*ret = &p->jobs[p->submit_seq % p->depth];
	return r;
}

/* The next n clusters of the filling batch, from guest_clus on, hold their data. */
static void pool_commit(struct qcow2_pool *p, uint64_t guest_clus, size_t n)
{
	struct qcow2_job *j = &p->jobs[p->submit_seq % p->depth];

	for (size_t i = 0; i < n; i++)
		j->guest_clus[j->n++] = guest_clus + i;
	if (j->n == p->batch)
		pool_dispatch(p);
}

static int pool_submit(struct qcow2_sink *s, uint64_t guest_clus, const uint8_t *data,
		       struct diag *d)
{
	struct qcow2_job *j;
	int r = pool_room(s, &j, d);

	if (r < 0)
		return r;
	memcpy(j->buf + j->n * s->cs, data, s->cs);
	pool_commit(s->pool, guest_clus, 1);
	return 0;
}

/* Everything submitted, written in order. */
static int pool_drain(struct qcow2_sink *s, struct diag *d)
{
	pool_dispatch(s->pool);
	return pool_wait(s, 0, d);
}

static int emit_cluster(struct qcow2_sink *s, uint64_t guest_clus, const uint8_t *data,
			struct diag *d)
{
	int r;

	if (s->compressed)
		return pool_submit(s, guest_clus, data, d); /* the workers test for zeros */
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
		struct qcow2_job *j = NULL;
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
			r = pool_room(s, &j, d);
			if (r < 0)
				return r;
			whole = MIN(whole, s->pool->batch - j->n);
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

			pool_commit(s->pool, clus, full);
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
	s->pool = pool_free(s->pool);
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

	/* the workers stop first (the writing one may still be at the file): queued batches are
	 * neither compressed nor written */
	if (s->pool) {
		pthread_mutex_lock(&s->pool->lock);
		s->pool->cancel = true;
		pthread_mutex_unlock(&s->pool->lock);
	}
	s->pool = pool_free(s->pool);
	outfile_abort(s->out);
	sink_free(s);
}

static int qcow2_finish(struct sink *base, struct diag *d)
{
	struct qcow2_sink *s = (struct qcow2_sink *)base;
	int r;

	r = flush_cur(s, d);
	if (r >= 0 && s->pool)
		r = pool_drain(s, d);
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
		r = pool_new(s, p->n_threads, s->ctype, p->compression_level, cs, &s->pool);
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
