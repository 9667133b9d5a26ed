/* FAT emission: the boot sectors, FSInfo, both FATs and directory entries are encoded on
 * demand by fill callbacks; file contents are file ranges. docs/formats/fat.md, "Emission". */
#include "fs/fat/fat.h"

#include <string.h>

#include "fs/fat/fat-internal.h"
#include "image/plan.h"
#include "tree/tree.h"
#include "util/cleanup.h"

enum { FILL_BOOT, FILL_FSINFO };

static int fill_sector(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		       struct diag *d)
{
	uint8_t s[FAT_SECT];

	(void)d;
	if (arg == FILL_BOOT)
		fat_boot_sector_encode(ctx, s);
	else
		fat_fsinfo_encode(ctx, s);
	memcpy(buf, s + off, len);
	return 0;
}

static int fill_fat(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		    struct diag *d)
{
	(void)arg;
	(void)d;
	fat_table_fill(ctx, off, buf, len);
	return 0;
}

static int fill_dir(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		    struct diag *d)
{
	const struct fat_plan *pl = ctx;

	(void)d;
	fat_dir_fill(pl, pl->t->nodes[arg], off, buf, len);
	return 0;
}

static void add_file(const struct fat_plan *pl, const struct tree_node *n, uint64_t at,
		     struct image_plan *ip)
{
	const struct tree_node *src = n->hardlink ? n->hardlink : n;
	const struct tree_extent *data;
	size_t n_data;

	if (!src->size)
		return;
	if (!src->sparse) {
		image_plan_add_file(ip, at, src->size, src, 0);
		return;
	}
	/* holes stay holes: the partition reads as zeros there */
	data = tree_node_sparse_data(src, &n_data);
	for (size_t i = 0; i < n_data; i++)
		image_plan_add_file(ip, at + data[i].off, data[i].len, src, data[i].off);
	(void)pl;
}

void fat_plan_ranges(const struct fat_plan *pl, uint64_t base, struct image_plan *ip)
{
	const struct fat_geom *g = &pl->g;
	uint64_t cb = (uint64_t)g->sect_per_clus * FAT_SECT;
	uint64_t data = base + (uint64_t)g->data_sect * FAT_SECT;
	uint64_t n_ent = (uint64_t)pl->used_clus + 2, fat_bytes;

	image_plan_add_fill(ip, base, FAT_SECT, fill_sector, pl, FILL_BOOT);
	if (g->type == FAT_TYPE_32) {
		image_plan_add_fill(ip, base + FAT_SECT, FAT_SECT, fill_sector, pl, FILL_FSINFO);
		image_plan_add_fill(ip, base + 6 * FAT_SECT, FAT_SECT, fill_sector, pl, FILL_BOOT);
		image_plan_add_fill(ip, base + 7 * FAT_SECT, FAT_SECT, fill_sector, pl, FILL_FSINFO);
	}
	/* only the used head of each FAT is non-zero */
	fat_bytes = g->type == FAT_TYPE_12 ? DIV_ROUND_UP(n_ent * 3, 2) :
					     n_ent * (g->type == FAT_TYPE_16 ? 2 : 4);
	fat_bytes = MIN(ROUND_UP(fat_bytes, FAT_SECT), (uint64_t)g->fat_sect * FAT_SECT);
	for (uint32_t i = 0; i < 2; i++)
		image_plan_add_fill(ip,
				    base + ((uint64_t)g->reserved_sect + i * g->fat_sect) * FAT_SECT,
				    fat_bytes, fill_fat, pl, i);
	for (size_t i = 0; i < pl->t->n_nodes; i++) {
		const struct tree_node *n = pl->t->nodes[i];
		const struct fat_node *fn = &pl->nodes[n->index];
		uint64_t at = data + (uint64_t)(fn->first_clus - 2) * cb;

		if (n->type == TREE_DIR) {
			uint64_t len = ROUND_UP((uint64_t)fn->n_slots * FAT_DIRENT_SIZE, FAT_SECT);

			if (!len)
				continue;
			if (!fn->first_clus) /* the FAT12/16 root directory region */
				at = data - (uint64_t)g->root_entries * FAT_DIRENT_SIZE;
			image_plan_add_fill(ip, at, len, fill_dir, pl, i);
		} else if (fn->first_clus) {
			add_file(pl, n, at, ip);
		}
	}
}
