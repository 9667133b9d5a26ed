/* The reader table, format probing and the checks every caller relies on: a reader's answers
 * are bounded by the virtual size before they leave this file (the image is hostile, and so,
 * for safety's sake, is a reader with a bug). */
#include "format/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/* Every format that probes; raw, the fallback, is last and never probes. */
static const struct reader_ops *const readers[] = {
	&reader_qcow2,
	&reader_vdi,
	&reader_vpc,
	&reader_vmdk,
	&reader_vhdx,
	&reader_gce,
	&reader_ova,
	&reader_raw_compressed,
	&reader_raw,
};

const struct reader_ops *image_reader_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(readers); i++)
		if (strcmp(readers[i]->name, name) == 0)
			return readers[i];
	return NULL;
}

const struct reader_ops *image_reader_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	for (size_t i = 0; i < ARRAY_SIZE(readers); i++)
		if (readers[i]->probe && readers[i]->probe(head, len, file_size) > 0)
			return readers[i];
	return &reader_raw;
}

struct image_input *image_input_free(struct image_input *in)
{
	if (!in)
		return NULL;
	if (in->reader)
		in->reader->ops->close(in->reader);
	if (in->fd >= 0)
		(void)close(in->fd);
	free(in->path);
	free(in);
	return NULL;
}

/* A fixed VHD is raw data followed by its only footer, whose cookie "conectix" is the one
 * magic it has (VHD specification 1.0, "Hard Disk Footer Format"): qemu-img needs -f vpc for
 * it, we look at the last sector. */
static int image_input_probe_tail(struct image_input *in, struct diag *d,
				  const struct reader_ops **ret)
{
	const struct reader_ops *vpc = image_reader_find("vpc");
	uint8_t tail[512];
	int r;

	if (!vpc || in->file_size < 2 * sizeof(tail) || in->file_size % sizeof(tail) != 0)
		return 0;
	r = pread_full(in->fd, tail, sizeof(tail), in->file_size - sizeof(tail));
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read: %s", in->path, strerror(-r));
	if (memcmp(tail, "conectix", 8) == 0)
		*ret = vpc;
	return 0;
}

static int image_input_probe(struct image_input *in, struct diag *d,
			     const struct reader_ops **ret)
{
	uint8_t head[IMAGE_READER_PROBE_BYTES] = { 0 };
	size_t len = in->file_size < sizeof(head) ? (size_t)in->file_size : sizeof(head);
	int r = pread_full(in->fd, head, len, 0);

	if (r < 0)
		return diag_fail(d, r, "%s: cannot read: %s", in->path, strerror(-r));
	*ret = image_reader_probe(head, len, in->file_size);
	if (*ret == &reader_raw)
		return image_input_probe_tail(in, d, ret);
	return 0;
}

int image_reader_open(const char *path, const char *format, struct diag *d,
		      struct image_input **ret)
{
	_cleanup_(image_input_freep) struct image_input *in = xcalloc(1, sizeof(*in));
	const struct reader_ops *ops = NULL;
	struct image_reader *rd;
	struct stat st;
	int r;

	in->path = xstrdup(path);
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below, and the
	 * flag is cleared for what stays (a regular file or a block device). */
	in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (in->fd < 0)
		return diag_fail(d, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(in->fd, &st) < 0)
		return diag_fail(d, -errno, "%s: cannot stat: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return diag_fail(d, -EISDIR, "%s: is a directory, not a disk image", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return diag_fail(d, -EINVAL,
				 "%s: not a regular file or block device (a FIFO, socket or "
				 "character device cannot be read as a disk image)",
				 path);
	if (fcntl(in->fd, F_SETFL, fcntl(in->fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return diag_fail(d, -errno, "%s: cannot open: %s", path, strerror(errno));
	/* block devices report size 0 through stat */
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(in->fd, 0, SEEK_END);

		if (end < 0)
			return diag_fail(d, -errno, "%s: cannot get the size: %s", path,
					 strerror(errno));
		in->file_size = (uint64_t)end;
	} else
		in->file_size = (uint64_t)st.st_size;

	if (format) {
		ops = image_reader_find(format);
		if (!ops)
			return diag_fail(d, -EINVAL, "%s: cannot read format \"%s\"", path, format);
	} else {
		r = image_input_probe(in, d, &ops);
		if (r < 0)
			return r;
	}
	r = ops->open(in->fd, in->file_size, d, &rd);
	if (r < 0)
		return diag_prepend(d, r, "%s (%s)", path, ops->name);
	rd->ops = ops;
	in->reader = rd;
	*ret = TAKE_PTR(in);
	return 0;
}

int image_input_read(struct image_input *in, uint64_t off, void *buf, size_t len, struct diag *d)
{
	uint64_t size = in->reader->virtual_size;
	int r;

	if (off > size || len > size - off)
		return diag_fail(d, -ERANGE, "%s: read of %zu bytes at %llu is past the end of the "
				 "%llu-byte disk", in->path, len, (unsigned long long)off,
				 (unsigned long long)size);
	if (len == 0)
		return 0;
	r = in->reader->ops->read(in->reader, off, buf, len, d);
	if (r < 0)
		return diag_prepend(d, r, "%s (%s)", in->path, in->reader->ops->name);
	return 0;
}

int image_input_next_data(struct image_input *in, uint64_t off, uint64_t *ret_start,
			  uint64_t *ret_len, struct diag *d)
{
	uint64_t size = in->reader->virtual_size, start = 0, len = 0;
	int r;

	if (off >= size) {
		*ret_start = size;
		*ret_len = 0;
		return 0;
	}
	r = in->reader->ops->next_data(in->reader, off, &start, &len, d);
	if (r < 0)
		return diag_prepend(d, r, "%s (%s)", in->path, in->reader->ops->name);
	if (len == 0) {
		*ret_start = size;
		*ret_len = 0;
		return 0;
	}
	if (start < off || start > size || len > size - start)
		return diag_fail(d, -EBADMSG,
				 "%s (%s): internal error: data range %llu+%llu outside %llu..%llu",
				 in->path, in->reader->ops->name, (unsigned long long)start,
				 (unsigned long long)len, (unsigned long long)off,
				 (unsigned long long)size);
	*ret_start = start;
	*ret_len = len;
	return 0;
}
