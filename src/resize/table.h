/* Growing a partition table for a larger disk (resize): which partition grows and to where,
 * then the new GPT (backup copy at the new end first, primary last) or MBR entry, written into
 * the resize view. Every field we do not change stays byte for byte: the headers and entry
 * arrays are patched in place, never re-encoded. See docs/resize.md. */
#pragma once

#include <stdint.h>

struct diag;
struct part_probe;
struct resize_view;

struct resize_part {
	uint32_t number; /* 1-based; 0: no partition table, the filesystem is the whole disk */
	char name[112];  /* GPT name ("" for MBR) */
	uint64_t off, old_bytes, new_bytes;
	uint64_t last_usable_lba; /* GPT: the new header's LastUsableLBA */
};

/* Grow partition number want (0: the one that ends last) of table pp into the view's new size
 * and write the new table into the view (nothing reaches the file here). The partition grows to
 * the new end (GPT: the last whole MiB before the backup copy; MBR: the last whole MiB) or, when
 * another partition follows it with a gap, up to that one. Refusals (-EINVAL, one line): a
 * partition followed directly by another (naming it), no such partition, an MBR partition
 * past 2 TiB, a damaged primary GPT. GPT: the backup entries and header at the new end, the
 * protective MBR's size, the primary entries and header, then zeros over the old backup copy.
 * MBR: the entry's sector count. No table: the whole disk (*ret number 0). new_bytes ==
 * old_bytes when the partition cannot grow (the table is still moved to the new end). */
int resize_table_grow(struct resize_view *v, const struct part_probe *pp, uint32_t want,
		      struct diag *d, struct resize_part *ret);
