/* A random-access read/write view of a virtual disk being resized: reads come from the image's
 * reader below its old end, zeros past it, with the changes recorded so far laid over them;
 * writes go to the overlay only (nothing reaches the file until resize/commit.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "resize/overlay.h"

struct diag;
struct fs_io;
struct image_input;

struct resize_view {
	struct image_input *in; /* borrowed */
	uint64_t old_size, new_size;
	struct resize_overlay ov;
};

void resize_view_init(struct resize_view *v, struct image_input *in, uint64_t new_size);
void resize_view_done(struct resize_view *v);
/* Bytes [off, off + len) of the new disk; -ERANGE past its end. */
int resize_view_read(struct resize_view *v, uint64_t off, void *buf, size_t len, struct diag *d);
int resize_view_write(struct resize_view *v, uint64_t off, const void *buf, size_t len,
		      struct diag *d);

/* One partition of the view as a filesystem's fs_io (offsets from its first byte, reads and
 * writes checked against its size). */
struct resize_part_io {
	struct resize_view *view;
	uint64_t base, size;
};
void resize_part_io_init(struct resize_part_io *p, struct resize_view *v, uint64_t base,
			 uint64_t size, struct fs_io *ret);
