/* The disk plan: sorted byte ranges of the image, each with the producer of its bytes.
 * Everything not covered by a range is zero (a hole). Filesystems, partition tables and boot
 * code add ranges; image_emit() walks them in ascending order and feeds one sink. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

struct diag;
struct tree_node;

/* Produces bytes [off, off + len) of a range (off relative to the range start). The output
 * buffer is zeroed by the caller. May be called in any chunking, but in ascending order. */
typedef int (*image_fill_fn)(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf,
			     size_t len, struct diag *d);

/* One per file extent and per metadata run: 130k of them for a Nix store, so a range is 32
 * bytes: a file range holds its tree node, a fill range the index of its (fill, ctx) pair in
 * the plan's filler table, told apart by the low bit (nodes are 8-byte aligned). Read them
 * through the accessors below. */
struct image_range {
	uint64_t off, len; /* on the disk, in bytes */
	uint64_t arg;      /* fill: the producer's argument; file: offset in the node's source */
	uintptr_t src;     /* file: the tree node; fill: filler index << 1 | 1 */
};

struct image_filler {
	image_fill_fn fill;
	const void *ctx;
};

struct image_plan {
	struct image_range *ranges;
	size_t n_ranges, cap_ranges;
	struct image_filler *fillers; /* distinct (fill, ctx) pairs: a few dozen */
	size_t n_fillers, cap_fillers;
	uint64_t size; /* the disk's virtual size in bytes */
};

static inline bool image_range_is_file(const struct image_range *r)
{
	return !(r->src & 1);
}

/* A file range's node; its bytes are [arg, arg + len) of the node's source. */
static inline const struct tree_node *image_range_node(const struct image_range *r)
{
	return (const struct tree_node *)r->src;
}

/* Produce bytes [off, off + len) of fill range r (as image_fill_fn). */
int image_range_fill(const struct image_plan *p, const struct image_range *r, uint64_t off,
		     uint8_t *buf, size_t len, struct diag *d);

struct image_plan *image_plan_new(uint64_t size);
struct image_plan *image_plan_free(struct image_plan *p);
DEFINE_CLEANUP_FUNC(struct image_plan, image_plan_free)
void image_plan_add_fill(struct image_plan *p, uint64_t off, uint64_t len, image_fill_fn fill,
			 const void *ctx, uint64_t arg);
void image_plan_add_file(struct image_plan *p, uint64_t off, uint64_t len,
			 const struct tree_node *node, uint64_t file_off);
/* Sort ranges by offset; overlapping ranges or ranges past the end are -EINVAL (a bug). */
int image_plan_seal(struct image_plan *p, struct diag *d);
