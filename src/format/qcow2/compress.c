/* Compressed-cluster codecs: raw deflate (libdeflate writes it, zlib's raw inflate with windowBits
 * -12 reads it, as qemu does) and zstd frames for compression_type 1 (docs/formats/qcow2.md).
 * The only file that includes the compression libraries' headers. One codec per thread. */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/xalloc.h"

/* 64 KiB clusters of the bench corpora (docs/formats/qcow2.md): level 2 is 3-4% smaller than
 * qemu-img -c (zlib level 6) and takes 10-15% less CPU than level 4, which is only 0.5-1.5%
 * smaller; level 1 is 20% faster again but larger than qemu's output. */
#define QCOW2_DEFLATE_LEVEL 2
/* zstd level 1: up to 1.6 times as fast as the default 3, 2-5% larger */
#define QCOW2_ZSTD_LEVEL 1

struct qcow2_codec {
	enum qcow2_compression_type type;
	int level;
	bool inflate_ready;
	struct libdeflate_compressor *def;
	z_stream inf;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
};

struct qcow2_codec *qcow2_codec_new(enum qcow2_compression_type type)
{
	struct qcow2_codec *c = xcalloc(1, sizeof(*c));

	c->type = type;
	return c;
}

void qcow2_codec_set_level(struct qcow2_codec *c, int level)
{
	c->level = level;
}

struct qcow2_codec *qcow2_codec_free(struct qcow2_codec *c)
{
	if (!c)
		return NULL;
	if (c->def)
		libdeflate_free_compressor(c->def);
	if (c->inflate_ready)
		(void)inflateEnd(&c->inf);
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c);
	return NULL;
}

/* Raw deflate with libdeflate's 32 KiB window. qemu inflates a cluster in one call with
 * windowBits -12 and zlib checks distances against the output of that call, not the window, so
 * every distance within the cluster decodes (our reader and the tests do the same). */
static int deflate_cluster(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			   size_t out_cap, size_t *ret_len)
{
	size_t n;

	if (!c->def) {
		c->def = libdeflate_alloc_compressor(c->level ? c->level : QCOW2_DEFLATE_LEVEL);
		if (!c->def)
			abort(); /* only fails for lack of memory */
	}
	if (c->type == QCOW2_COMPRESSION_ZLIB_STREAM)
		n = libdeflate_zlib_compress(c->def, in, in_len, out, out_cap);
	else
		n = libdeflate_deflate_compress(c->def, in, in_len, out, out_cap);
	if (n == 0)
		return -ENOSPC;
	*ret_len = n;
	return 0;
}

static int inflate_cluster(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			   size_t out_len)
{
	int z;

	if (!c->inflate_ready) {
		/* a zlib stream carries its window size in its header */
		if (inflateInit2(&c->inf, c->type == QCOW2_COMPRESSION_ZLIB_STREAM ? 15 : -12) !=
		    Z_OK)
			abort();
		c->inflate_ready = true;
	} else if (inflateReset(&c->inf) != Z_OK)
		abort();
	c->inf.next_in = (Bytef *)in;
	c->inf.avail_in = (uInt)in_len;
	c->inf.next_out = out;
	c->inf.avail_out = (uInt)out_len;
	z = inflate(&c->inf, Z_FINISH);
	/* a full cluster is success even when the end-of-stream mark lies past our input */
	if ((z != Z_STREAM_END && z != Z_BUF_ERROR) || c->inf.avail_out != 0)
		return -EBADMSG;
	return 0;
}

static int zstd_cluster(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			size_t out_cap, size_t *ret_len)
{
	size_t n;

	if (!c->cctx) {
		c->cctx = ZSTD_createCCtx();
		if (!c->cctx ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel,
							c->level ? c->level
								 : QCOW2_ZSTD_LEVEL)))
			abort();
	}
	n = ZSTD_compress2(c->cctx, out, out_cap, in, in_len);
	if (ZSTD_isError(n))
		return -ENOSPC;
	*ret_len = n;
	return 0;
}

static int unzstd_cluster(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			  size_t out_len)
{
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };

	if (!c->dctx) {
		c->dctx = ZSTD_createDCtx();
		if (!c->dctx)
			abort();
	}
	(void)ZSTD_DCtx_reset(c->dctx, ZSTD_reset_session_only);
	/* trailing bytes after a full cluster are sector padding, as qemu ignores them */
	while (ob.pos < ob.size) {
		size_t before_in = ib.pos, before_out = ob.pos;
		size_t z = ZSTD_decompressStream(c->dctx, &ob, &ib);

		if (ZSTD_isError(z))
			return -EBADMSG;
		if (ib.pos == before_in && ob.pos == before_out)
			return -EBADMSG;
	}
	return 0;
}

int qcow2_codec_compress(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			 size_t out_cap, size_t *ret_len)
{
	if (c->type == QCOW2_COMPRESSION_ZSTD)
		return zstd_cluster(c, in, in_len, out, out_cap, ret_len);
	return deflate_cluster(c, in, in_len, out, out_cap, ret_len);
}

int qcow2_codec_decompress(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			   size_t out_len)
{
	if (c->type == QCOW2_COMPRESSION_ZSTD)
		return unzstd_cluster(c, in, in_len, out, out_len);
	return inflate_cluster(c, in, in_len, out, out_len);
}
