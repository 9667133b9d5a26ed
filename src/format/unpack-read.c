/* Reading compressed raw images (.img.zst, .img.gz, .img.xz: reader "raw-compressed") and gce
 * tar.gz images (reader "gce"): decompressed (and for gce the sparse disk.raw extracted) into
 * an unnamed temporary file under $TMPDIR (else /tmp), zero blocks left as holes, which is then
 * read as raw. The output is bounded (UNPACK_MAX_SIZE, and gce's declared size). */
#include "format/format-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/decompress-stream.h"
#include "format/gce-read.h"
#include "format/tar.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/* No disk we read is larger (the temporary file keeps holes: zeros cost no space, only the
 * time to decompress them). */
#define UNPACK_MAX_SIZE (1ull << 46) /* 64 TiB */
#define UNPACK_BLOCK 4096u

struct unpack_reader {
	struct image_reader base;
	int tmp_fd;
	struct image_reader *raw;
};

/* The decompressed bytes at the file's end, zero blocks skipped (holes). */
struct unpack_raw_out {
	int fd;
	uint64_t pos;
};

static int unpack_raw_put(void *ctx, const uint8_t *buf, size_t len, struct diag *d)
{
	struct unpack_raw_out *o = ctx;

	while (len > 0) {
		size_t n = MIN(len, UNPACK_BLOCK - (size_t)(o->pos % UNPACK_BLOCK));

		if (!mem_is_zero(buf, n)) {
			int r = pwrite_full(o->fd, buf, n, o->pos);

			if (r < 0)
				return diag_fail(d, r, "cannot write the temporary file: %s",
						 strerror(-r));
		}
		o->pos += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int unpack_tmpfile(struct diag *d, int *ret)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		_cleanup_free_ char *tmpl = xasprintf("%s/mkdiskimage-unpack-XXXXXX", dir);

		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			(void)unlink(tmpl);
	}
	if (fd < 0)
		return diag_fail(d, -errno, "cannot create a temporary file in %s (TMPDIR): %s", dir,
				 strerror(errno));
	*ret = fd;
	return 0;
}

static int unpack_decode(int fd, uint64_t file_size, bool gce, int tmp_fd, struct diag *d,
			 uint64_t *ret_size)
{
	uint8_t head[16] = { 0 };
	enum format_file_compress type;
	int r = pread_full(fd, head, MIN((uint64_t)sizeof(head), file_size), 0);

	if (r < 0)
		return diag_fail(d, r, "cannot read: %s", strerror(-r));
	type = decompress_stream_probe(head, (size_t)MIN((uint64_t)sizeof(head), file_size));
	if (type == FORMAT_FILE_COMPRESS_NONE)
		return diag_fail(d, -EBADMSG, "not zstd, gzip or xz compressed");
	if (gce) {
		struct gce_extract *x = gce_extract_new(tmp_fd, UNPACK_MAX_SIZE);

		r = decompress_stream(fd, file_size, type, UINT64_MAX, gce_extract_put, x, d);
		if (r >= 0)
			r = gce_extract_done(x, ret_size, d);
		gce_extract_free(x);
		return r;
	}
	struct unpack_raw_out o = { .fd = tmp_fd };

	r = decompress_stream(fd, file_size, type, UNPACK_MAX_SIZE, unpack_raw_put, &o, d);
	if (r < 0)
		return r;
	if (o.pos == 0)
		return diag_fail(d, -EBADMSG, "decompresses to nothing");
	if (ftruncate(tmp_fd, (off_t)o.pos) < 0)
		return diag_fail(d, -errno, "cannot size the temporary file: %s", strerror(errno));
	*ret_size = o.pos;
	return 0;
}

static void unpack_close(struct image_reader *base)
{
	struct unpack_reader *u = (struct unpack_reader *)base;

	if (u->raw)
		reader_raw.close(u->raw);
	if (u->tmp_fd >= 0)
		close(u->tmp_fd);
	free(u);
}

static int unpack_open(int fd, uint64_t file_size, bool gce, struct diag *d,
		       struct image_reader **ret)
{
	struct unpack_reader *u = xcalloc(1, sizeof(*u));
	uint64_t size = 0;
	int r;

	u->tmp_fd = -1;
	r = unpack_tmpfile(d, &u->tmp_fd);
	if (r >= 0)
		r = unpack_decode(fd, file_size, gce, u->tmp_fd, d, &size);
	if (r >= 0)
		r = reader_raw.open(u->tmp_fd, size, d, &u->raw);
	if (r < 0) {
		unpack_close(&u->base);
		return r;
	}
	u->raw->ops = &reader_raw;
	u->base.virtual_size = size;
	*ret = &u->base;
	return 0;
}

static int unpack_open_raw(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	return unpack_open(fd, file_size, /* gce= */ false, d, ret);
}

static int unpack_open_gce(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	return unpack_open(fd, file_size, /* gce= */ true, d, ret);
}

static int unpack_read(struct image_reader *base, uint64_t off, void *buf, size_t len,
		       struct diag *d)
{
	struct unpack_reader *u = (struct unpack_reader *)base;

	return reader_raw.read(u->raw, off, buf, len, d);
}

static int unpack_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			    uint64_t *ret_len, struct diag *d)
{
	struct unpack_reader *u = (struct unpack_reader *)base;

	return reader_raw.next_data(u->raw, off, ret_start, ret_len, d);
}

/* A gzip stream whose first block is a tar header. */
static int gce_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	uint8_t out[TAR_BLOCK];

	if (decompress_stream_probe(head, len) != FORMAT_FILE_COMPRESS_GZIP)
		return 0;
	return decompress_stream_head(FORMAT_FILE_COMPRESS_GZIP, head, len, out, sizeof(out)) ==
		       sizeof(out) &&
	       gce_extract_probe(out, sizeof(out));
}

static int compressed_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	return decompress_stream_probe(head, len) != FORMAT_FILE_COMPRESS_NONE;
}

const struct reader_ops reader_gce = {
	.name = "gce",
	.probe = gce_probe,
	.open = unpack_open_gce,
	.read = unpack_read,
	.next_data = unpack_next_data,
	.close = unpack_close,
};

const struct reader_ops reader_raw_compressed = {
	.name = "raw-compressed",
	.probe = compressed_probe,
	.open = unpack_open_raw,
	.read = unpack_read,
	.next_data = unpack_next_data,
	.close = unpack_close,
};
