/* gce: the disk as disk.raw in a gzip'd GNU tar, the layout Google Compute Engine imports
 * ("tar --format=oldgnu -Sczf image.tar.gz disk.raw"): one oldgnu sparse member whose map lists
 * the written ranges, the holes left out (docs/formats/pack.md).
 *
 * The map precedes the data in the archive, and the sink learns it only as writes arrive: the
 * data goes to an unnamed temporary file beside the output (sparse, at the disk's offsets), the
 * map to memory (one extent per run of written 512-byte blocks); finish streams headers, data
 * and the end-of-archive blocks through the chunked gzip compressor (compress-stream.c). */
#include "format/format-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/compress-stream.h"
#include "format/tar.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/xalloc.h"

/* GNU tar pads an archive to whole records of 20 blocks (its default blocking factor). */
#define GCE_RECORD (20u * TAR_BLOCK)
#define GCE_COPY_BUF (1u << 20)

struct gce_sink {
	struct sink base;
	struct outfile *out;
	struct format_params p;
	int data_fd; /* the written bytes at their disk offsets */
	struct tar_extent *map;
	size_t n_map, cap_map;
};

static int gce_fail(struct gce_sink *s, int r, struct diag *d)
{
	return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
}

/* Adds [off, off + len) to the map, widened to whole blocks (as tar -S finds data). */
static void gce_map_add(struct gce_sink *s, uint64_t off, uint64_t len)
{
	uint64_t start = off / TAR_BLOCK * TAR_BLOCK;
	uint64_t end = MIN(ROUND_UP(off + len, (uint64_t)TAR_BLOCK), s->base.virtual_size);
	struct tar_extent *last = s->n_map ? &s->map[s->n_map - 1] : NULL;

	if (last && start <= last->off + last->len) {
		last->len = MAX(last->off + last->len, end) - last->off;
		return;
	}
	if (s->n_map == s->cap_map) {
		s->cap_map = s->cap_map ? 2 * s->cap_map : 64;
		s->map = xreallocarray(s->map, s->cap_map, sizeof(*s->map));
	}
	s->map[s->n_map++] = (struct tar_extent){ .off = start, .len = end - start };
}

static int gce_write(struct sink *base, uint64_t off, const void *buf, size_t len,
		     struct diag *d)
{
	struct gce_sink *s = (struct gce_sink *)base;
	int r;

	if (len == 0)
		return 0;
	r = pwrite_full(s->data_fd, buf, len, off);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot write the temporary data file: %s",
				 s->out->path, strerror(-r));
	gce_map_add(s, off, len);
	return 0;
}

static void gce_free(struct gce_sink *s)
{
	if (s->data_fd >= 0)
		close(s->data_fd);
	free(s->map);
	free(s);
}

static void gce_abort(struct sink *base)
{
	struct gce_sink *s = (struct gce_sink *)base;

	outfile_abort(s->out);
	gce_free(s);
}

/* The member's data: each extent's bytes from the data file, then padding to a block. */
static int gce_stream_data(struct gce_sink *s, struct compress_stream *cs, struct diag *d)
{
	_cleanup_free_ uint8_t *buf = xmalloc(GCE_COPY_BUF);
	uint64_t total = 0;
	struct stat st;
	int r;

	/* the map's last block may end past the last byte written: zeros there, as on the disk */
	if (s->n_map) {
		uint64_t end = s->map[s->n_map - 1].off + s->map[s->n_map - 1].len;

		if (fstat(s->data_fd, &st) < 0 ||
		    ((uint64_t)st.st_size < end && ftruncate(s->data_fd, (off_t)end) < 0))
			return diag_fail(d, -errno, "%s: cannot extend the temporary data file: %s",
					 s->out->path, strerror(errno));
	}
	for (size_t i = 0; i < s->n_map; i++) {
		for (uint64_t done = 0; done < s->map[i].len;) {
			size_t n = (size_t)MIN((uint64_t)GCE_COPY_BUF, s->map[i].len - done);

			r = interrupt_check(d);
			if (r < 0)
				return r;
			r = pread_full(s->data_fd, buf, n, s->map[i].off + done);
			if (r < 0)
				return diag_fail(d, r, "%s: cannot read the temporary data file: %s",
						 s->out->path, strerror(-r));
			r = compress_stream_write(cs, buf, n);
			if (r < 0)
				return gce_fail(s, r, d);
			done += n;
		}
		total += s->map[i].len;
	}
	r = compress_stream_zeros(cs, ROUND_UP(total, (uint64_t)TAR_BLOCK) - total);
	return r < 0 ? gce_fail(s, r, d) : 0;
}

static int gce_write_archive(struct gce_sink *s, struct diag *d)
{
	_cleanup_(compress_stream_freep) struct compress_stream *cs = NULL;
	struct tar_member m = {
		.name = "disk.raw",
		.size = s->base.virtual_size,
		.mtime = s->p.timestamp,
		.mode = 0644,
		.extents = s->map ? s->map : (const struct tar_extent[]){ { 0, 0 } },
		.n_extents = s->n_map,
	};
	size_t n_hdr = tar_header_blocks(&m);
	_cleanup_free_ uint8_t *hdr = xmalloc(n_hdr * TAR_BLOCK);
	uint64_t end;
	int r;

	r = compress_stream_new(FORMAT_FILE_COMPRESS_GZIP, s->p.compression_level, s->p.n_threads,
				s->out->fd, 0, &cs);
	if (r == -EINVAL)
		return diag_fail(d, r, "gzip compression level %d is out of range (1-12)",
				 s->p.compression_level);
	if (r < 0)
		return diag_fail(d, r, "cannot start compression threads: %s", strerror(-r));
	tar_header_encode(hdr, &m);
	r = compress_stream_write(cs, hdr, n_hdr * TAR_BLOCK);
	if (r < 0)
		return gce_fail(s, r, d);
	r = gce_stream_data(s, cs, d);
	if (r < 0)
		return r;
	/* two zero blocks end the archive; records of 20 blocks, as GNU tar writes */
	r = compress_stream_zeros(cs, 2 * TAR_BLOCK);
	if (r >= 0)
		r = compress_stream_zeros(cs, ROUND_UP(compress_stream_pos(cs), (uint64_t)GCE_RECORD) -
						      compress_stream_pos(cs));
	if (r >= 0)
		r = compress_stream_finish(cs, &end);
	if (r >= 0 && !s->out->in_place && ftruncate(s->out->fd, (off_t)end) < 0)
		r = -errno;
	return r < 0 ? gce_fail(s, r, d) : 0;
}

static int gce_finish(struct sink *base, struct diag *d)
{
	struct gce_sink *s = (struct gce_sink *)base;
	int r = gce_write_archive(s, d);

	if (r < 0) {
		gce_abort(base);
		return r;
	}
	r = outfile_commit(s->out, d);
	gce_free(s);
	return r;
}

/* An unnamed temporary file in the output's directory (the data may be large: beside the
 * output, not in a tmpfs /tmp). */
static int gce_data_open(const char *path, struct diag *d, int *ret)
{
	_cleanup_free_ char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	int fd = tmpfile_open(dir, "gce");

	if (fd < 0)
		return diag_fail(d, fd, "%s: cannot create a temporary file: %s", dir,
				 strerror(-fd));
	*ret = fd;
	return 0;
}

static int gce_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	struct gce_sink *s = xcalloc(1, sizeof(*s));
	int r = gce_data_open(out->path, d, &s->data_fd);

	if (r < 0) {
		free(s);
		return r;
	}
	s->out = out;
	s->p = *p;
	*ret = &s->base;
	return 0;
}

const struct format_ops format_gce = {
	.name = "gce",
	.extension = "tar.gz",
	.options = FORMAT_OPT_COMPRESSION_LEVEL | FORMAT_OPT_THREADS,
	.open = gce_open,
	.write = gce_write,
	.finish = gce_finish,
	.abort = gce_abort,
};
