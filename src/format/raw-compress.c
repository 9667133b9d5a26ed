/* raw --compress zstd|gzip|xz: the raw disk as one compressed file (nixos.img.zst, .img.gz,
 * .img.xz), for platforms that take a compressed raw image (DigitalOcean, Linode, flashing
 * tools). Holes become compressed zeros: the stream is the whole virtual size. The compression
 * is compress-stream.c's, chunked and parallel (docs/formats/pack.md). */
#include "format/format-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/compress-stream.h"
#include "util/diag.h"
#include "util/outfile.h"
#include "util/xalloc.h"

struct rawz_sink {
	struct sink base;
	struct outfile *out;
	struct compress_stream *cs;
};

static int rawz_fail(struct rawz_sink *s, int r, struct diag *d)
{
	return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
}

static int rawz_write(struct sink *base, uint64_t off, const void *buf, size_t len,
		      struct diag *d)
{
	struct rawz_sink *s = (struct rawz_sink *)base;
	int r = compress_stream_zeros(s->cs, off - compress_stream_pos(s->cs));

	if (r >= 0)
		r = compress_stream_write(s->cs, buf, len);
	return r < 0 ? rawz_fail(s, r, d) : 0;
}

static void rawz_abort(struct sink *base)
{
	struct rawz_sink *s = (struct rawz_sink *)base;

	compress_stream_free(s->cs); /* the workers stop before the file goes */
	outfile_abort(s->out);
	free(s);
}

static int rawz_finish(struct sink *base, struct diag *d)
{
	struct rawz_sink *s = (struct rawz_sink *)base;
	uint64_t end = 0;
	int r = compress_stream_zeros(s->cs, base->virtual_size - compress_stream_pos(s->cs));

	if (r >= 0)
		r = compress_stream_finish(s->cs, &end);
	if (r >= 0 && !s->out->in_place && ftruncate(s->out->fd, (off_t)end) < 0)
		r = -errno;
	if (r < 0) {
		r = rawz_fail(s, r, d);
		rawz_abort(base);
		return r;
	}
	s->cs = compress_stream_free(s->cs);
	r = outfile_commit(s->out, d);
	free(s);
	return r;
}

static const struct format_ops format_raw_compressed = {
	.name = "raw",
	.extension = "img",
	.write = rawz_write,
	.finish = rawz_finish,
	.abort = rawz_abort,
};

int raw_compress_open(const struct format_params *p, struct outfile *out, struct diag *d,
		      struct sink **ret)
{
	struct rawz_sink *s = xcalloc(1, sizeof(*s));
	int r = compress_stream_new(p->file_compress, p->compression_level, p->n_threads, out->fd,
				    0, &s->cs);

	if (r < 0) {
		free(s);
		if (r == -EINVAL)
			return diag_fail(d, r, "%s compression level %d is out of range (1-%d)",
					 compress_stream_name(p->file_compress),
					 p->compression_level,
					 compress_stream_max_level(p->file_compress));
		return diag_fail(d, r, "cannot start compression threads: %s", strerror(-r));
	}
	s->out = out;
	s->base.ops = &format_raw_compressed; /* sink_open keeps it */
	*ret = &s->base;
	return 0;
}
