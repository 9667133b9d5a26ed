/* Reading compressed raw images (.img.zst, .img.gz, .img.xz: reader "raw-compressed") and gce
 * tar.gz images (reader "gce"): decompressed (and for gce the sparse disk.raw extracted) into
 * an unnamed temporary file under $TMPDIR (else /tmp), zero blocks left as holes, which is then
 * read as raw. The output is bounded (UNPACK_MAX_SIZE, and gce's declared size). */
#include "format/format-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/compress-stream.h"
#include "format/decompress-stream.h"
#include "format/reader.h"
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
	const struct reader_ops *inner_ops; /* raw; vmdk for an ova */
	struct image_reader *inner;
	enum format_file_compress type; /* raw-compressed and gce: the file's compression */
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
	fd = tmpfile_open(dir, "unpack");
	if (fd < 0)
		return diag_fail(d, fd, "cannot create a temporary file in %s (TMPDIR): %s", dir,
				 strerror(-fd));
	*ret = fd;
	return 0;
}

static int unpack_decode(int fd, uint64_t file_size, bool gce, int tmp_fd, struct diag *d,
			 enum format_file_compress *ret_type, uint64_t *ret_size)
{
	uint8_t head[16] = { 0 };
	enum format_file_compress type;
	int r = pread_full(fd, head, MIN((uint64_t)sizeof(head), file_size), 0);

	if (r < 0)
		return diag_fail(d, r, "cannot read: %s", strerror(-r));
	type = decompress_stream_probe(head, (size_t)MIN((uint64_t)sizeof(head), file_size));
	if (type == FORMAT_FILE_COMPRESS_NONE)
		return diag_fail(d, -EBADMSG, "not zstd, gzip or xz compressed");
	*ret_type = type;
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

	if (u->inner)
		u->inner_ops->close(u->inner);
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
	u->inner_ops = &reader_raw;
	r = unpack_tmpfile(d, &u->tmp_fd);
	if (r >= 0)
		r = unpack_decode(fd, file_size, gce, u->tmp_fd, d, &u->type, &size);
	if (r >= 0)
		r = reader_raw.open(u->tmp_fd, size, d, &u->inner);
	if (r < 0) {
		unpack_close(&u->base);
		return r;
	}
	u->inner->ops = &reader_raw;
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

	return u->inner_ops->read(u->inner, off, buf, len, d);
}

static int unpack_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			    uint64_t *ret_len, struct diag *d)
{
	struct unpack_reader *u = (struct unpack_reader *)base;

	return u->inner_ops->next_data(u->inner, off, ret_start, ret_len, d);
}

/* ova: the first member ending in .vmdk (ovf.c's archives have one), found by walking the
 * headers (each checked, the walk linear in the members), copied into the temporary file and
 * read by the vmdk reader. */
static int ova_find_disk(int fd, uint64_t file_size, uint64_t *ret_off, uint64_t *ret_size,
			 struct diag *d)
{
	uint8_t b[TAR_BLOCK];
	uint64_t off = 0;

	while (off + TAR_BLOCK <= file_size) {
		struct tar_entry e;
		size_t n;
		int r = pread_full(fd, b, sizeof(b), off);

		if (r < 0)
			return diag_fail(d, r, "cannot read: %s", strerror(-r));
		r = tar_header_decode(b, &e, d);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		off += TAR_BLOCK;
		if (e.size > file_size - off)
			return diag_fail(d, -EBADMSG, "tar: member %.100s passes the end of the file",
					 e.name);
		e.name[100] = '\0';
		n = strlen(e.name);
		if (n > 5 && strcmp(e.name + n - 5, ".vmdk") == 0 &&
		    (e.typeflag == '0' || e.typeflag == '\0')) {
			*ret_off = off;
			*ret_size = e.size;
			return 0;
		}
		off += ROUND_UP(e.size, (uint64_t)TAR_BLOCK);
	}
	return diag_fail(d, -EBADMSG, "no .vmdk member in the ova");
}

static int ova_copy(int fd, uint64_t off, uint64_t size, int out_fd, struct diag *d)
{
	loff_t in = (loff_t)off, out = 0;

	while (size > 0) {
		ssize_t n = copy_file_range(fd, &in, out_fd, &out, (size_t)MIN(size, 1ull << 30), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			_cleanup_free_ uint8_t *buf = xmalloc(1u << 20);

			/* no copy_file_range between these files: read and write */
			while (size > 0) {
				size_t k = (size_t)MIN(size, (uint64_t)(1u << 20));
				int r = pread_full(fd, buf, k, (uint64_t)in);

				if (r >= 0)
					r = pwrite_full(out_fd, buf, k, (uint64_t)out);
				if (r < 0)
					return diag_fail(d, r, "cannot copy the vmdk out: %s",
							 strerror(-r));
				in += (loff_t)k;
				out += (loff_t)k;
				size -= k;
			}
			break;
		}
		size -= (uint64_t)n;
	}
	return 0;
}

static int ova_open(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	const struct reader_ops *vmdk = image_reader_find("vmdk");
	struct unpack_reader *u;
	uint64_t off = 0, size = 0;
	int r;

	if (!vmdk)
		return diag_fail(d, -ENOTSUP, "reading an ova needs the vmdk reader, which this build "
				 "does not have yet");
	r = ova_find_disk(fd, file_size, &off, &size, d);
	if (r < 0)
		return r;
	u = xcalloc(1, sizeof(*u));
	u->tmp_fd = -1;
	u->inner_ops = vmdk;
	r = unpack_tmpfile(d, &u->tmp_fd);
	if (r >= 0)
		r = ova_copy(fd, off, size, u->tmp_fd, d);
	if (r >= 0)
		r = vmdk->open(u->tmp_fd, size, d, &u->inner);
	if (r < 0) {
		unpack_close(&u->base);
		return diag_prepend(d, r, "the ova's vmdk");
	}
	u->inner->ops = vmdk;
	u->base.virtual_size = u->inner->virtual_size;
	*ret = &u->base;
	return 0;
}

/* A ustar archive whose first member is an .ovf descriptor. */
static int ova_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	struct tar_entry e;
	size_t n;

	if (len < TAR_BLOCK || tar_header_decode(head, &e, NULL) != 1)
		return 0;
	e.name[100] = '\0';
	n = strlen(e.name);
	return n > 4 && strcmp(e.name + n - 4, ".ovf") == 0;
}

/* resize: an ova again (a streamOptimized vmdk). The OVF's CPUs, memory, firmware and name are
 * not read back: the rewritten ova has the defaults. */
static int ova_write_params(struct image_reader *base, const char **ret_format,
			    struct format_params *p, char *kept, size_t kept_cap, struct diag *d)
{
	*ret_format = "ova";
	snprintf(kept, kept_cap, "the OVF's CPUs, memory, firmware and name reset to the defaults");
	return 0;
}

const struct reader_ops reader_ova = {
	.write_params = ova_write_params,
	.name = "ova",
	.probe = ova_probe,
	.open = ova_open,
	.read = unpack_read,
	.next_data = unpack_next_data,
	.close = unpack_close,
};

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

/* resize: gce stays gce (its compression is always gzip). */
static int gce_write_params(struct image_reader *base, const char **ret_format,
			    struct format_params *p, char *kept, size_t kept_cap, struct diag *d)
{
	*ret_format = "gce";
	snprintf(kept, kept_cap, "gzip (level not recorded: the default)");
	return 0;
}

/* resize: a compressed raw again with the compression of its magic (the level is not
 * recorded: the default). */
static int compressed_write_params(struct image_reader *base, const char **ret_format,
				   struct format_params *p, char *kept, size_t kept_cap,
				   struct diag *d)
{
	const struct unpack_reader *u = (const struct unpack_reader *)base;

	*ret_format = "raw";
	p->file_compress = u->type;
	snprintf(kept, kept_cap, "%s compression (level not recorded: the default)",
		 compress_stream_name(u->type));
	return 0;
}

const struct reader_ops reader_gce = {
	.write_params = gce_write_params,
	.name = "gce",
	.probe = gce_probe,
	.open = unpack_open_gce,
	.read = unpack_read,
	.next_data = unpack_next_data,
	.close = unpack_close,
};

const struct reader_ops reader_raw_compressed = {
	.write_params = compressed_write_params,
	.name = "raw-compressed",
	.probe = compressed_probe,
	.open = unpack_open_raw,
	.read = unpack_read,
	.next_data = unpack_next_data,
	.close = unpack_close,
};
