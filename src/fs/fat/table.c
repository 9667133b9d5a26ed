/* The file allocation table: every allocation is one contiguous run, so an entry is the next
 * cluster, an end-of-chain mark or free. Both FATs are identical. Microsoft FAT specification
 * 1.03, section 4; docs/formats/fat.md, "FAT". */
#include "fs/fat/fat-internal.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/endian.h"

static uint32_t eoc(enum fat_type t)
{
	return t == FAT_TYPE_12 ? 0xfff : t == FAT_TYPE_16 ? 0xffff : 0x0fffffff;
}

uint32_t fat_table_entry(const struct fat_plan *pl, uint32_t clus)
{
	uint32_t lo = 0, hi = pl->n_runs;

	if (clus == 0)
		return (eoc(pl->g.type) & ~0xffu) | 0xf8; /* media byte */
	if (clus == 1)
		return eoc(pl->g.type);
	if (clus >= pl->used_clus + 2)
		return 0;
	/* the last run starting at or before clus */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (pl->nodes[pl->runs[mid]].first_clus <= clus)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	{
		const struct fat_node *fn = &pl->nodes[pl->runs[lo - 1]];

		if (clus >= fn->first_clus + fn->n_clus)
			return 0;
		return clus + 1 == fn->first_clus + fn->n_clus ? eoc(pl->g.type) : clus + 1;
	}
}

static void put_byte(uint8_t *buf, uint64_t off, size_t len, uint64_t at, uint8_t v)
{
	if (at >= off && at < off + len)
		buf[at - off] |= v;
}

void fat_table_fill(const struct fat_plan *pl, uint64_t off, uint8_t *buf, size_t len)
{
	uint64_t n_entries = (uint64_t)pl->g.n_clus + 2;

	if (pl->g.type == FAT_TYPE_12) {
		uint64_t first = off * 2 / 3, last = MIN(DIV_ROUND_UP((off + len) * 2, 3), n_entries);

		for (uint64_t i = first ? first - 1 : 0; i < last; i++) {
			uint32_t v = fat_table_entry(pl, (uint32_t)i);
			uint64_t at = i * 3 / 2;

			if (i & 1) {
				put_byte(buf, off, len, at, (uint8_t)((v & 0xf) << 4));
				put_byte(buf, off, len, at + 1, (uint8_t)(v >> 4));
			} else {
				put_byte(buf, off, len, at, (uint8_t)v);
				put_byte(buf, off, len, at + 1, (uint8_t)(v >> 8 & 0xf));
			}
		}
		return;
	}
	{
		uint32_t w = pl->g.type == FAT_TYPE_16 ? 2 : 4;
		uint64_t first = off / w, last = MIN(DIV_ROUND_UP(off + len, w), n_entries);

		for (uint64_t i = first; i < last; i++) {
			uint32_t v = fat_table_entry(pl, (uint32_t)i);
			uint8_t e[4];

			le32_put(e, v);
			for (uint32_t k = 0; k < w; k++)
				put_byte(buf, off, len, i * w + k, e[k]);
		}
	}
}
