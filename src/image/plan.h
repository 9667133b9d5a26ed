/* The disk plan: sorted byte ranges of the image, each with the producer of its bytes.
 * Everything not covered by a range is zero (a hole). Filesystems, partition tables and boot
 * code add ranges; image_emit() walks them in ascending order and feeds one sink. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;
struct tree_node;

/* Produces bytes [off, off + len) of a range (off relative to the range start). The output
 * buffer is zeroed by the caller. May be called in any chunking, but in ascending order. */
typedef int (*image_fill_fn)(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf,
			     size_t len, struct diag *d);

enum image_range_kind {
	IMAGE_RANGE_FILL, /* bytes from fill(ctx, arg, ...) */
	IMAGE_RANGE_FILE, /* bytes [file_off, file_off + len) of a tree node's source */
};

/* One per file extent and per metadata run: 200k of them for a Nix store, so the two kinds
 * share their storage (48 bytes instead of 64). Read only the kind's own fields. */
struct image_range {
	uint64_t off, len; /* on the disk, in bytes */
	enum image_range_kind kind;
	union {
		struct { /* IMAGE_RANGE_FILL */
			image_fill_fn fill;
			const void *ctx;
			uint64_t arg;
		};
		struct { /* IMAGE_RANGE_FILE */
			const struct tree_node *node;
			uint64_t file_off;
		};
	};
};

struct image_plan {
	struct image_range *ranges;
	size_t n_ranges, cap_ranges;
	uint64_t size; /* the disk's virtual size in bytes */
};

struct image_plan *image_plan_new(uint64_t size);
struct image_plan *image_plan_free(struct image_plan *p);
void image_plan_add_fill(struct image_plan *p, uint64_t off, uint64_t len, image_fill_fn fill,
			 const void *ctx, uint64_t arg);
void image_plan_add_file(struct image_plan *p, uint64_t off, uint64_t len,
			 const struct tree_node *node, uint64_t file_off);
/* Sort ranges by offset; overlapping ranges or ranges past the end are -EINVAL (a bug). */
int image_plan_seal(struct image_plan *p, struct diag *d);
