/* Streaming decoders for whole-file compressed images (decompress-stream.h): zstd, zlib's
 * inflate for gzip, liblzma for xz. */
#include "format/decompress-stream.h"

#include <errno.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

#define DS_BUF (1u << 20)
/* xz: the decoder's memory (xz -9 needs 65 MiB) */
#define DS_XZ_MEMLIMIT (256ull << 20)

enum format_file_compress decompress_stream_probe(const uint8_t *h, size_t len)
{
	if (len >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0)
		return FORMAT_FILE_COMPRESS_ZSTD;
	if (len >= 3 && memcmp(h, "\x1f\x8b\x08", 3) == 0)
		return FORMAT_FILE_COMPRESS_GZIP;
	if (len >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0)
		return FORMAT_FILE_COMPRESS_XZ;
	return FORMAT_FILE_COMPRESS_NONE;
}

/* The state of one decode: input read in DS_BUF pieces, output handed on in DS_BUF pieces. */
struct ds {
	int fd;
	uint64_t file_size, in_off, out_total, limit;
	uint8_t *in, *out;
	size_t in_len, in_pos;
	decompress_stream_put_fn put;
	void *ctx;
	bool stopped;
};

/* Refills the input when it is used up; false at the end of the file. */
static int ds_fill(struct ds *s, struct diag *d)
{
	size_t n;
	int r;

	if (s->in_pos < s->in_len)
		return 1;
	if (s->in_off >= s->file_size)
		return 0;
	r = interrupt_check(d);
	if (r < 0)
		return r;
	n = (size_t)MIN((uint64_t)DS_BUF, s->file_size - s->in_off);
	r = pread_full(s->fd, s->in, n, s->in_off);
	if (r < 0)
		return diag_fail(d, r, "cannot read: %s", strerror(-r));
	s->in_off += n;
	s->in_len = n;
	s->in_pos = 0;
	return 1;
}

static int ds_emit(struct ds *s, size_t n, struct diag *d)
{
	int r;

	if (n == 0 || s->stopped)
		return 0;
	if (n > s->limit - s->out_total)
		return diag_fail(d, -EFBIG, "decompresses to more than %llu bytes (a decompression "
				 "bomb, or larger than the disk it declares)",
				 (unsigned long long)s->limit);
	s->out_total += n;
	r = s->put(s->ctx, s->out, n, d);
	if (r > 0)
		s->stopped = true;
	return r < 0 ? r : 0;
}

static int ds_zstd(struct ds *s, struct diag *d)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	size_t last = 1;
	int r = 0;

	if (!z)
		abort();
	while (!s->stopped && (r = ds_fill(s, d)) > 0) {
		ZSTD_inBuffer ib = { s->in, s->in_len, s->in_pos };

		/* until the input is used up and the decoder holds nothing more back */
		while (!s->stopped) {
			ZSTD_outBuffer ob = { s->out, DS_BUF, 0 };
			size_t before = ib.pos, z_r = ZSTD_decompressStream(z, &ob, &ib);

			if (ZSTD_isError(z_r)) {
				r = diag_fail(d, -EBADMSG, "zstd: %s", ZSTD_getErrorName(z_r));
				goto out;
			}
			/* 0: a frame ended (a call that did nothing says what the next needs) */
			if (ib.pos > before || ob.pos > 0)
				last = z_r;
			r = ds_emit(s, ob.pos, d);
			if (r < 0)
				goto out;
			if (ib.pos == ib.size && ob.pos < ob.size)
				break;
		}
		s->in_pos = ib.pos;
	}
	if (r >= 0 && !s->stopped && last != 0)
		r = diag_fail(d, -EBADMSG, "zstd: the stream is truncated");
out:
	ZSTD_freeDCtx(z);
	return r < 0 ? r : 0;
}

static int ds_gzip(struct ds *s, struct diag *d)
{
	z_stream z = { 0 };
	bool in_member = false;
	int r = 0, zr;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		abort();
	while (!s->stopped && (r = ds_fill(s, d)) > 0) {
		if (!in_member) {
			/* a member starts with the magic; a tail of zeros is padding, as gzip
			 * takes it */
			if (s->in[s->in_pos] != 0x1f) {
				if (!mem_is_zero(s->in + s->in_pos, s->in_len - s->in_pos)) {
					r = diag_fail(d, -EBADMSG, "gzip: trailing garbage after "
						      "byte %llu", (unsigned long long)(s->in_off -
						      s->in_len + s->in_pos));
					break;
				}
				s->in_pos = s->in_len;
				continue;
			}
			in_member = true;
		}
		z.next_in = s->in + s->in_pos;
		z.avail_in = (uInt)(s->in_len - s->in_pos);
		z.next_out = s->out;
		z.avail_out = DS_BUF;
		zr = inflate(&z, Z_NO_FLUSH);
		s->in_pos = s->in_len - z.avail_in;
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = diag_fail(d, -EBADMSG, "gzip: %s", z.msg ? z.msg : "malformed data");
			break;
		}
		r = ds_emit(s, DS_BUF - z.avail_out, d);
		if (r < 0)
			break;
		if (zr == Z_STREAM_END) {
			in_member = false;
			if (inflateReset(&z) != Z_OK)
				abort();
		}
	}
	if (r >= 0 && !s->stopped && in_member)
		r = diag_fail(d, -EBADMSG, "gzip: the stream is truncated");
	inflateEnd(&z);
	return r < 0 ? r : 0;
}

static int ds_xz(struct ds *s, struct diag *d)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_ret lr = LZMA_OK;
	int r = 0;

	if (lzma_stream_decoder(&z, DS_XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK)
		abort();
	while (!s->stopped && lr != LZMA_STREAM_END) {
		int more = ds_fill(s, d);

		if (more < 0) {
			r = more;
			break;
		}
		z.next_in = s->in + s->in_pos;
		z.avail_in = more ? s->in_len - s->in_pos : 0;
		z.next_out = s->out;
		z.avail_out = DS_BUF;
		lr = lzma_code(&z, more ? LZMA_RUN : LZMA_FINISH);
		s->in_pos = s->in_len - z.avail_in;
		if (lr != LZMA_OK && lr != LZMA_STREAM_END) {
			r = diag_fail(d, -EBADMSG, "xz: %s",
				      lr == LZMA_MEMLIMIT_ERROR ? "needs more than 256 MiB to decode"
				      : lr == LZMA_BUF_ERROR	? "the stream is truncated"
								: "malformed data");
			break;
		}
		r = ds_emit(s, DS_BUF - z.avail_out, d);
		if (r < 0)
			break;
	}
	lzma_end(&z);
	return r < 0 ? r : 0;
}

int decompress_stream(int fd, uint64_t file_size, enum format_file_compress type,
		      uint64_t limit, decompress_stream_put_fn put, void *ctx, struct diag *d)
{
	_cleanup_free_ uint8_t *in = xmalloc(DS_BUF), *out = xmalloc(DS_BUF);
	struct ds s = { .fd = fd, .file_size = file_size, .limit = limit, .in = in, .out = out,
			.put = put, .ctx = ctx };

	switch (type) {
	case FORMAT_FILE_COMPRESS_ZSTD:
		return ds_zstd(&s, d);
	case FORMAT_FILE_COMPRESS_GZIP:
		return ds_gzip(&s, d);
	case FORMAT_FILE_COMPRESS_XZ:
		return ds_xz(&s, d);
	case FORMAT_FILE_COMPRESS_NONE:
		break;
	}
	return -EINVAL;
}

size_t decompress_stream_head(enum format_file_compress type, const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t out_len)
{
	size_t n = 0;

	if (type == FORMAT_FILE_COMPRESS_GZIP) {
		z_stream z = { 0 };
		int zr;

		if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
			abort();
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)in_len;
		z.next_out = out;
		z.avail_out = (uInt)out_len;
		zr = inflate(&z, Z_SYNC_FLUSH);
		if (zr == Z_OK || zr == Z_STREAM_END || zr == Z_BUF_ERROR)
			n = out_len - z.avail_out;
		inflateEnd(&z);
	} else if (type == FORMAT_FILE_COMPRESS_ZSTD) {
		ZSTD_DCtx *z = ZSTD_createDCtx();
		ZSTD_inBuffer ib = { in, in_len, 0 };
		ZSTD_outBuffer ob = { out, out_len, 0 };

		if (!z)
			abort();
		if (!ZSTD_isError(ZSTD_decompressStream(z, &ob, &ib)))
			n = ob.pos;
		ZSTD_freeDCtx(z);
	}
	return n;
}
