/* Growing the filesystem of a grown partition (fs.h). */
#include "resize/fs.h"

#include <errno.h>
#include <string.h>

#include "fs/fs-io.h"
#include "fs/fs.h"
#include "fs/swap/swap.h"
#include "resize/table.h"
#include "resize/view.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"

static int probe_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	const struct fs_io *io = ctx;

	return io->read(io->ctx, off, buf, len, d);
}

/* A swap area's header says how many pages it has: point it at the new end. */
static int grow_swap(const struct fs_io *io, const struct fs_probe *fs, uint64_t new_bytes,
		     struct diag *d, struct resize_fs *ret)
{
	uint8_t f[8];
	uint64_t pages;
	int r;

	if (fs->stats.block_size == 0)
		return 0;
	r = io->read(io->ctx, SWAP_HDR_VERSION, f, sizeof(f), d);
	if (r < 0)
		return r;
	if (le32_get(f) != 1) /* a big-endian header (another machine's swap): left alone */
		return 0;
	pages = MIN(new_bytes / fs->stats.block_size, (uint64_t)UINT32_MAX + 1);
	ret->swap_old_pages = (uint64_t)le32_get(f + 4) + 1;
	if (pages <= ret->swap_old_pages)
		return 0;
	ret->swap_new_pages = pages;
	le32_put(f + 4, (uint32_t)(pages - 1));
	r = io->write(io->ctx, SWAP_HDR_LAST_PAGE, f + 4, 4, d);
	if (r < 0)
		return r;
	ret->action = RESIZE_FS_SWAP;
	return 0;
}

int resize_fs_grow(struct resize_view *v, const struct resize_part *p, struct diag *d,
		   struct resize_fs *ret)
{
	struct resize_part_io pio;
	struct fs_probe fs = { 0 };
	struct fs_io io;
	int r;

	*ret = (struct resize_fs){ .action = RESIZE_FS_UNKNOWN };
	/* probe within the old size: the new space reads as zeros */
	resize_part_io_init(&pio, v, p->off, p->old_bytes, &io);
	r = fs_probe_any(probe_read, &io, p->old_bytes, d, &fs);
	if (r < 0)
		return diag_prepend(d, r, "the filesystem to grow");
	if (!fs.ops)
		return 0;
	ret->type = fs.stats.type;
	if (p->new_bytes <= p->old_bytes) {
		ret->action = RESIZE_FS_UNCHANGED;
		return 0;
	}
	pio.size = p->new_bytes;
	if (strcmp(fs.ops->name, "ext4") == 0) {
		r = ext4_grow(&io, p->new_bytes, &ret->ext4, d);
		if (r < 0)
			return diag_prepend(d, r, "ext4");
		ret->action = RESIZE_FS_EXT4;
		return 0;
	}
	if (strcmp(fs.ops->name, "vfat") == 0) {
		ret->action = RESIZE_FS_FAT;
		return 0;
	}
	if (strcmp(fs.ops->name, "swap") == 0) {
		ret->action = RESIZE_FS_UNCHANGED;
		return grow_swap(&io, &fs, p->new_bytes, d, ret);
	}
	ret->action = RESIZE_FS_UNKNOWN;
	return 0;
}
