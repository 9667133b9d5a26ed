/* The read/write view of a disk being resized (view.h). */
#include "resize/view.h"

#include <errno.h>
#include <string.h>

#include "format/reader.h"
#include "fs/fs-io.h"
#include "util/cleanup.h"
#include "util/diag.h"

void resize_view_init(struct resize_view *v, struct image_input *in, uint64_t new_size)
{
	*v = (struct resize_view){ .in = in, .old_size = in->reader->virtual_size,
				   .new_size = new_size };
	resize_overlay_init(&v->ov);
}

void resize_view_done(struct resize_view *v)
{
	resize_overlay_done(&v->ov);
}

static int view_check(const struct resize_view *v, uint64_t off, size_t len, struct diag *d)
{
	if (off > v->new_size || len > v->new_size - off)
		return diag_fail(d, -ERANGE, "access to bytes %llu..%llu past the end of the "
				 "%llu-byte disk", (unsigned long long)off,
				 (unsigned long long)(off + len), (unsigned long long)v->new_size);
	return 0;
}

int resize_view_read(struct resize_view *v, uint64_t off, void *buf, size_t len, struct diag *d)
{
	size_t below = 0;
	int r = view_check(v, off, len, d);

	if (r < 0)
		return r;
	if (off < v->old_size) {
		below = (size_t)MIN((uint64_t)len, v->old_size - off);
		r = image_input_read(v->in, off, buf, below, d);
		if (r < 0)
			return r;
	}
	memset((uint8_t *)buf + below, 0, len - below);
	resize_overlay_apply(&v->ov, off, buf, len);
	return 0;
}

int resize_view_write(struct resize_view *v, uint64_t off, const void *buf, size_t len,
		      struct diag *d)
{
	int r = view_check(v, off, len, d);

	if (r < 0)
		return r;
	resize_overlay_write(&v->ov, off, buf, len);
	return 0;
}

static int part_io_check(const struct resize_part_io *p, uint64_t off, size_t len,
			 struct diag *d)
{
	if (off > p->size || len > p->size - off)
		return diag_fail(d, -ERANGE, "access to bytes %llu..%llu past the end of the "
				 "%llu-byte partition", (unsigned long long)off,
				 (unsigned long long)(off + len), (unsigned long long)p->size);
	return 0;
}

static int part_io_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	struct resize_part_io *p = ctx;
	int r = part_io_check(p, off, len, d);

	return r < 0 ? r : resize_view_read(p->view, p->base + off, buf, len, d);
}

static int part_io_write(void *ctx, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct resize_part_io *p = ctx;
	int r = part_io_check(p, off, len, d);

	return r < 0 ? r : resize_view_write(p->view, p->base + off, buf, len, d);
}

void resize_part_io_init(struct resize_part_io *p, struct resize_view *v, uint64_t base,
			 uint64_t size, struct fs_io *ret)
{
	*p = (struct resize_part_io){ .view = v, .base = base, .size = size };
	*ret = (struct fs_io){ .ctx = p, .read = part_io_read, .write = part_io_write };
}
