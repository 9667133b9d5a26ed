/* The bytes a resize changes, held in memory until they are committed: a sorted map of
 * non-overlapping byte ranges of the virtual disk, each remembering when it was written, so
 * that an in-place commit can replay the writes in the order they were made (the GPT backup
 * before the primary, an ext4 superblock last). Memory is the changed metadata only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct resize_extent {
	uint64_t off;
	size_t len;
	uint64_t seq; /* the write that made these bytes: later writes have larger numbers */
	uint8_t *data;
};

struct resize_overlay {
	struct resize_extent *v; /* sorted by off, non-overlapping */
	size_t n, cap;
	uint64_t next_seq;
};

void resize_overlay_init(struct resize_overlay *o);
void resize_overlay_done(struct resize_overlay *o);
/* Record bytes [off, off + len): they replace whatever earlier writes said of that range. */
void resize_overlay_write(struct resize_overlay *o, uint64_t off, const void *buf, size_t len);
/* Copy the recorded bytes inside [off, off + len) over buf (which holds disk bytes off..). */
void resize_overlay_apply(const struct resize_overlay *o, uint64_t off, void *buf, size_t len);
/* The first recorded byte at or after off: true and *ret_off, or false when there is none. */
bool resize_overlay_next(const struct resize_overlay *o, uint64_t off, uint64_t *ret_off);
/* The extents in the order they were written (a new array of pointers into o; free it). */
const struct resize_extent **resize_overlay_by_seq(const struct resize_overlay *o);
/* Total bytes recorded. */
uint64_t resize_overlay_bytes(const struct resize_overlay *o);
