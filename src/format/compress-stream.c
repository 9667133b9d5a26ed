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

#include "format/pool.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define COMPRESS_STREAM_MAX_THREADS 16u

/* A unit of the pool is one chunk: its buffer holds the chunk, its unit_idx the chunk's length
 * (only the last one is shorter), its kind whether it is all zeros, and its output slot the
 * compressed chunk, then (xz) the block's unpadded size for the index. */
enum cs_kind {
	CS_DATA,
	CS_ZERO, /* a whole chunk of zeros: buf is not used, zero_out is written */
};

struct compress_stream {
	enum format_file_compress type;
	int level;
	int fd;
	uint64_t out_off; /* where the next compressed bytes go (written by the emitting worker) */
	uint64_t pos;     /* uncompressed bytes appended */
	size_t out_cap;   /* the compressors' bound for a chunk */
	struct format_pool *pool;
	struct format_job *cur; /* the batch being filled, NULL: none open */
	size_t fill;            /* bytes of the chunk in cur */
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
	struct compress_stream *c;
	ZSTD_CCtx *zstd;
	struct libdeflate_compressor *deflate;
};

static void *cs_worker_new(void *ctx)
{
	struct compress_stream *c = ctx;
	struct cs_worker *w = xcalloc(1, sizeof(*w));

	w->c = c;
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

static void cs_worker_free(void *worker)
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

/* The output slot of a chunk: the compressed bytes, then the xz block's unpadded size. */
static size_t cs_slot(const struct compress_stream *c)
{
	return c->out_cap + sizeof(uint64_t);
}

static void cs_work(void *worker, struct format_job *j)
{
	struct cs_worker *w = worker;
	struct compress_stream *c = w->c;
	size_t len = (size_t)j->unit_idx[0], n = 0;
	uint8_t *out = j->out;
	uint64_t unpadded = 0;

	/* one chunk a batch: the pool's batches are 512 KiB, a chunk is more */
	if (j->kind[0] == CS_DATA && len == COMPRESS_STREAM_CHUNK && mem_is_zero(j->buf, len))
		j->kind[0] = CS_ZERO;
	if (j->kind[0] == CS_ZERO)
		return;
	cs_compress(c, w, j->buf, len, out, &n, &unpadded);
	j->out_len[0] = (uint32_t)n;
	memcpy(out + c->out_cap, &unpadded, sizeof(unpadded));
}

static int cs_write(void *ctx, const struct format_job *j)
{
	struct compress_stream *c = ctx;
	bool zero = j->kind[0] == CS_ZERO;
	const uint8_t *out = zero ? c->zero_out : j->out;
	size_t len = zero ? c->zero_len : j->out_len[0];
	uint64_t unpadded = c->zero_unpadded;
	int r;

	if (!zero)
		memcpy(&unpadded, j->out + c->out_cap, sizeof(unpadded));
	r = pwrite_full(c->fd, out, len, c->out_off);
	if (r < 0)
		return r;
	c->out_off += len;
	if (c->index && lzma_index_append(c->index, NULL, unpadded, j->unit_idx[0]) != LZMA_OK)
		return -EOVERFLOW;
	return 0;
}

static const struct format_pool_ops cs_pool_ops = {
	.worker_new = cs_worker_new,
	.worker_free = cs_worker_free,
	.compress = cs_work,
	.write = cs_write,
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
	c->pool = format_pool_cancel(c->pool);
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
	cs_worker_free(w);
	free(zeros);
	/* memory is about 2 * (8 MiB of chunk buffers + an encoder, ~45 MiB for xz -6) a thread:
	 * more than 16 threads would rarely run faster and cost gigabytes */
	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = n > 0 ? (unsigned)n : 1;
	}
	r = format_pool_new(&cs_pool_ops, c, MIN(n_threads, COMPRESS_STREAM_MAX_THREADS),
			    COMPRESS_STREAM_CHUNK, cs_slot(c), &c->pool);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* The batch being filled, opened if needed. */
static int cs_open(struct compress_stream *c)
{
	int r;

	if (c->cur)
		return 0;
	r = format_pool_room(c->pool, &c->cur);
	if (r < 0) {
		c->cur = NULL;
		return r;
	}
	c->fill = 0;
	return 0;
}

/* Hands the open chunk (fill bytes, or a whole chunk of zeros) to the workers. */
static void cs_submit(struct compress_stream *c, enum cs_kind kind)
{
	c->cur->kind[0] = (uint8_t)kind;
	format_pool_commit(c->pool, c->fill, 1);
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
		n = MIN(len, COMPRESS_STREAM_CHUNK - c->fill);
		memcpy(c->cur->buf + c->fill, p, n);
		c->fill += n;
		c->pos += n;
		p += n;
		len -= n;
		if (c->fill == COMPRESS_STREAM_CHUNK)
			cs_submit(c, CS_DATA);
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
		if (c->fill == 0 && len >= COMPRESS_STREAM_CHUNK) {
			/* no buffer to clear, nothing to compress */
			c->fill = COMPRESS_STREAM_CHUNK;
			c->pos += COMPRESS_STREAM_CHUNK;
			len -= COMPRESS_STREAM_CHUNK;
			cs_submit(c, CS_ZERO);
			continue;
		}
		n = (size_t)MIN(len, (uint64_t)(COMPRESS_STREAM_CHUNK - c->fill));
		memset(c->cur->buf + c->fill, 0, n);
		c->fill += n;
		c->pos += n;
		len -= n;
		if (c->fill == COMPRESS_STREAM_CHUNK)
			cs_submit(c, CS_DATA);
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

	if (c->cur && c->fill > 0)
		cs_submit(c, CS_DATA);
	r = format_pool_drain(c->pool);
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
