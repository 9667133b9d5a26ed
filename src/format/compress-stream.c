/* Chunked parallel whole-file compression (compress-stream.h). The only user of zstd's, lzma's
 * and libdeflate's encoders outside qcow2's cluster codecs. */
#include "format/compress-stream.h"

#include <errno.h>
#include <libdeflate.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/ordered-pool.h"
#include "util/xalloc.h"

#define COMPRESS_STREAM_MAX_THREADS 16u

struct cs_job {
	uint8_t *in;
	size_t in_len;
	bool zero; /* a whole chunk of zeros: in is not used */
	uint8_t *out;
	size_t out_len;
	uint64_t unpadded; /* xz: the block's unpadded size, for the index */
};

struct compress_stream {
	enum format_file_compress type;
	int level;
	int fd;
	uint64_t out_off; /* where the next compressed bytes go (written by the emitting worker) */
	uint64_t pos;     /* uncompressed bytes appended */
	size_t out_cap;
	struct ordered_pool *pool;
	struct cs_job *cur; /* the job being filled, NULL: none open */
	/* a whole chunk of zeros, compressed once */
	uint8_t *zero_out;
	size_t zero_len;
	uint64_t zero_unpadded;
	lzma_index *index; /* xz: a record per block, appended in emit (one worker at a time) */
};

static const struct {
	const char *name;
	int def, max;
} cs_types[] = {
	[FORMAT_FILE_COMPRESS_ZSTD] = { "zstd", 3, 22 },
	[FORMAT_FILE_COMPRESS_GZIP] = { "gzip", 6, 12 },
	[FORMAT_FILE_COMPRESS_XZ] = { "xz", 6, 9 },
};

const char *compress_stream_name(enum format_file_compress type)
{
	return type == FORMAT_FILE_COMPRESS_NONE ? "none" : cs_types[type].name;
}

int compress_stream_max_level(enum format_file_compress type)
{
	return type == FORMAT_FILE_COMPRESS_NONE ? 0 : cs_types[type].max;
}

int compress_stream_default_level(enum format_file_compress type)
{
	return type == FORMAT_FILE_COMPRESS_NONE ? 0 : cs_types[type].def;
}

/* A worker's encoder state. */
struct cs_worker {
	ZSTD_CCtx *zstd;
	struct libdeflate_compressor *deflate;
};

static void *cs_worker_new(void *ctx)
{
	struct compress_stream *c = ctx;
	struct cs_worker *w = xcalloc(1, sizeof(*w));

	if (c->type == FORMAT_FILE_COMPRESS_ZSTD) {
		w->zstd = ZSTD_createCCtx();
		if (!w->zstd ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_compressionLevel, c->level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_checksumFlag, 1)))
			abort(); /* only fails for lack of memory */
	} else if (c->type == FORMAT_FILE_COMPRESS_GZIP) {
		w->deflate = libdeflate_alloc_compressor(c->level);
		if (!w->deflate)
			abort();
	}
	return w;
}

static void cs_worker_free(void *ctx, void *worker)
{
	struct cs_worker *w = worker;

	ZSTD_freeCCtx(w->zstd);
	if (w->deflate)
		libdeflate_free_compressor(w->deflate);
	free(w);
}

/* One xz block of in (CRC64 check, LZMA2 at the preset with a dictionary no larger than the
 * chunk: a larger one only costs memory). */
static void cs_xz_block(int level, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
			size_t *ret_len, uint64_t *ret_unpadded)
{
	lzma_options_lzma opt;
	lzma_filter filters[2];
	lzma_block block = { 0 };
	size_t pos = 0;

	if (lzma_lzma_preset(&opt, (uint32_t)level))
		abort();
	if (opt.dict_size > COMPRESS_STREAM_CHUNK)
		opt.dict_size = COMPRESS_STREAM_CHUNK;
	filters[0] = (lzma_filter){ .id = LZMA_FILTER_LZMA2, .options = &opt };
	filters[1] = (lzma_filter){ .id = LZMA_VLI_UNKNOWN };
	block.version = 0;
	block.check = LZMA_CHECK_CRC64;
	block.filters = filters;
	/* out holds lzma_block_buffer_bound(len): only a lack of memory fails */
	if (lzma_block_buffer_encode(&block, NULL, in, len, out, &pos, cap) != LZMA_OK)
		abort();
	*ret_len = pos;
	*ret_unpadded = lzma_block_unpadded_size(&block);
}

static void cs_compress(struct compress_stream *c, struct cs_worker *w, const uint8_t *in,
			size_t len, uint8_t *out, size_t *ret_len, uint64_t *ret_unpadded)
{
	size_t n = 0;

	*ret_unpadded = 0;
	switch (c->type) {
	case FORMAT_FILE_COMPRESS_ZSTD:
		n = ZSTD_compress2(w->zstd, out, c->out_cap, in, len);
		if (ZSTD_isError(n))
			abort(); /* out holds ZSTD_compressBound */
		break;
	case FORMAT_FILE_COMPRESS_GZIP:
		n = libdeflate_gzip_compress(w->deflate, in, len, out, c->out_cap);
		if (n == 0)
			abort(); /* out holds the bound */
		break;
	case FORMAT_FILE_COMPRESS_XZ:
		cs_xz_block(c->level, in, len, out, c->out_cap, &n, ret_unpadded);
		break;
	case FORMAT_FILE_COMPRESS_NONE:
		abort();
	}
	*ret_len = n;
}

static void cs_work(void *ctx, void *worker, void *job)
{
	struct compress_stream *c = ctx;
	struct cs_job *j = job;

	if (!j->zero && j->in_len == COMPRESS_STREAM_CHUNK && mem_is_zero(j->in, j->in_len))
		j->zero = true;
	if (!j->zero)
		cs_compress(c, worker, j->in, j->in_len, j->out, &j->out_len, &j->unpadded);
}

static int cs_emit(void *ctx, void *job, bool discard)
{
	struct compress_stream *c = ctx;
	struct cs_job *j = job;
	const uint8_t *out = j->zero ? c->zero_out : j->out;
	size_t len = j->zero ? c->zero_len : j->out_len;
	uint64_t unpadded = j->zero ? c->zero_unpadded : j->unpadded;
	int r = 0;

	if (!discard && (j->in_len > 0 || j->zero)) {
		r = pwrite_full(c->fd, out, len, c->out_off);
		if (r >= 0)
			c->out_off += len;
		if (r >= 0 && c->index &&
		    lzma_index_append(c->index, NULL, unpadded,
				      j->zero ? COMPRESS_STREAM_CHUNK : j->in_len) != LZMA_OK)
			r = -EOVERFLOW;
	}
	j->in_len = 0;
	j->zero = false;
	return r;
}

static void *cs_job_new(void *ctx)
{
	struct compress_stream *c = ctx;
	struct cs_job *j = xcalloc(1, sizeof(*j));

	j->in = xmalloc(COMPRESS_STREAM_CHUNK);
	j->out = xmalloc(c->out_cap);
	return j;
}

static void cs_job_free(void *ctx, void *job)
{
	struct cs_job *j = job;

	free(j->in);
	free(j->out);
	free(j);
}

static const struct ordered_pool_ops cs_pool_ops = {
	.job_new = cs_job_new,
	.job_free = cs_job_free,
	.worker_new = cs_worker_new,
	.worker_free = cs_worker_free,
	.work = cs_work,
	.emit = cs_emit,
};

static size_t cs_bound(enum format_file_compress type, int level)
{
	size_t n = 0;

	if (type == FORMAT_FILE_COMPRESS_ZSTD)
		n = ZSTD_compressBound(COMPRESS_STREAM_CHUNK);
	else if (type == FORMAT_FILE_COMPRESS_XZ)
		n = lzma_block_buffer_bound(COMPRESS_STREAM_CHUNK);
	else {
		struct libdeflate_compressor *d = libdeflate_alloc_compressor(level);

		if (!d)
			abort();
		n = libdeflate_gzip_compress_bound(d, COMPRESS_STREAM_CHUNK);
		libdeflate_free_compressor(d);
	}
	return n;
}

struct compress_stream *compress_stream_free(struct compress_stream *c)
{
	if (!c)
		return NULL;
	ordered_pool_cancel(c->pool);
	c->pool = ordered_pool_free(c->pool);
	if (c->index)
		lzma_index_end(c->index, NULL);
	free(c->zero_out);
	free(c);
	return NULL;
}

int compress_stream_new(enum format_file_compress type, int level, unsigned n_threads, int fd,
			uint64_t off, struct compress_stream **ret)
{
	_cleanup_(compress_stream_freep) struct compress_stream *c = NULL;
	struct cs_worker *w;
	uint8_t *zeros;
	int r;

	if (type == FORMAT_FILE_COMPRESS_NONE || level < 0 || level > cs_types[type].max)
		return -EINVAL;
	c = xcalloc(1, sizeof(*c));
	c->type = type;
	c->level = level ? level : cs_types[type].def;
	c->fd = fd;
	c->out_off = off;
	c->out_cap = cs_bound(type, c->level);
	if (type == FORMAT_FILE_COMPRESS_XZ) {
		uint8_t hdr[LZMA_STREAM_HEADER_SIZE];
		lzma_stream_flags flags = { .version = 0, .check = LZMA_CHECK_CRC64 };

		c->index = lzma_index_init(NULL);
		if (!c->index || lzma_stream_header_encode(&flags, hdr) != LZMA_OK)
			abort();
		r = pwrite_full(fd, hdr, sizeof(hdr), c->out_off);
		if (r < 0)
			return r;
		c->out_off += sizeof(hdr);
	}
	/* the compressed chunk of zeros every all-zero chunk becomes */
	zeros = xcalloc(1, COMPRESS_STREAM_CHUNK);
	c->zero_out = xmalloc(c->out_cap);
	w = cs_worker_new(c);
	cs_compress(c, w, zeros, COMPRESS_STREAM_CHUNK, c->zero_out, &c->zero_len,
		    &c->zero_unpadded);
	cs_worker_free(c, w);
	free(zeros);
	/* memory is about 2 * (8 MiB of chunk buffers + an encoder, ~45 MiB for xz -6) a thread:
	 * more than 16 threads would rarely run faster and cost gigabytes */
	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = n > 0 ? (unsigned)n : 1;
	}
	r = ordered_pool_new(MIN(n_threads, COMPRESS_STREAM_MAX_THREADS), &cs_pool_ops, c,
			     &c->pool);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* The job being filled, opened if needed. */
static int cs_open(struct compress_stream *c)
{
	void *j;
	int r;

	if (c->cur)
		return 0;
	r = ordered_pool_room(c->pool, &j);
	if (r < 0)
		return r;
	c->cur = j;
	return 0;
}

static void cs_submit(struct compress_stream *c)
{
	ordered_pool_submit(c->pool);
	c->cur = NULL;
}

int compress_stream_write(struct compress_stream *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		size_t n;
		int r = cs_open(c);

		if (r < 0)
			return r;
		n = MIN(len, COMPRESS_STREAM_CHUNK - c->cur->in_len);
		memcpy(c->cur->in + c->cur->in_len, p, n);
		c->cur->in_len += n;
		c->pos += n;
		p += n;
		len -= n;
		if (c->cur->in_len == COMPRESS_STREAM_CHUNK)
			cs_submit(c);
	}
	return 0;
}

int compress_stream_zeros(struct compress_stream *c, uint64_t len)
{
	while (len > 0) {
		size_t n;
		int r = cs_open(c);

		if (r < 0)
			return r;
		if (c->cur->in_len == 0 && len >= COMPRESS_STREAM_CHUNK) {
			c->cur->zero = true; /* no buffer to clear, nothing to compress */
			n = COMPRESS_STREAM_CHUNK;
		} else {
			n = (size_t)MIN(len, (uint64_t)(COMPRESS_STREAM_CHUNK - c->cur->in_len));
			memset(c->cur->in + c->cur->in_len, 0, n);
		}
		c->cur->in_len += n;
		c->pos += n;
		len -= n;
		if (c->cur->in_len == COMPRESS_STREAM_CHUNK)
			cs_submit(c);
	}
	return 0;
}

static int cs_xz_trailer(struct compress_stream *c)
{
	lzma_vli size = lzma_index_size(c->index);
	lzma_stream_flags flags = { .version = 0, .check = LZMA_CHECK_CRC64,
				    .backward_size = size };
	uint8_t footer[LZMA_STREAM_HEADER_SIZE];
	_cleanup_free_ uint8_t *buf = xmalloc((size_t)size);
	size_t pos = 0;
	int r;

	if (lzma_index_buffer_encode(c->index, buf, &pos, (size_t)size) != LZMA_OK ||
	    lzma_stream_footer_encode(&flags, footer) != LZMA_OK)
		return -EOVERFLOW;
	r = pwrite_full(c->fd, buf, pos, c->out_off);
	if (r >= 0)
		r = pwrite_full(c->fd, footer, sizeof(footer), c->out_off + pos);
	if (r >= 0)
		c->out_off += pos + sizeof(footer);
	return r;
}

int compress_stream_finish(struct compress_stream *c, uint64_t *ret_end)
{
	int r;

	if (c->cur)
		cs_submit(c);
	r = ordered_pool_drain(c->pool);
	if (r >= 0 && c->index)
		r = cs_xz_trailer(c);
	if (r < 0)
		return r;
	*ret_end = c->out_off;
	return 0;
}

uint64_t compress_stream_pos(const struct compress_stream *c)
{
	return c->pos;
}
