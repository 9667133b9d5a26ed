/* FAT geometry (mkfs.fat 4.2's choices), the boot sector (BPB) and the FAT32 FSInfo sector.
 * Microsoft FAT specification 1.03, sections 3 and 5; docs/formats/fat.md, "Geometry". */
#include "fs/fat/fat.h"

#include <errno.h>
#include <string.h>

#include "fs/fat/fat-internal.h"
#include "util/cleanup.h"
#include "util/endian.h"

/* dosfstools' limits (mkfs.fat.c) */
#define MAX_CLUST_12 4084u
#define MAX_CLUST_16 65524u
#define MIN_CLUST_32 65525u
#define MAX_CLUST_32 ((1u << 28) - 16)
#define FAT12_THRESHOLD 4085u
#define ROOT_ENTRIES 512u
#define FAT_PLAIN_FAT32_BYTES (512ull << 20)

static uint32_t align_to(uint32_t v, uint32_t clus, bool align)
{
	return align ? (v + clus - 1) & ~(clus - 1) : v;
}

/* Clusters and FAT length of one FAT width for a candidate cluster size (mkfs.fat's
 * setup_tables): a first estimate, then a recount with the FAT's real length. */
static void try_width(uint32_t bits, uint32_t fatdata, uint32_t cs, bool align,
		      uint32_t *ret_clus, uint32_t *ret_fat)
{
	uint64_t clus, maxclus;
	uint32_t fat;

	if (bits == 12) {
		clus = 2 * ((uint64_t)fatdata * FAT_SECT + 2 * 3) / (2 * cs * FAT_SECT + 2 * 3);
		fat = (uint32_t)DIV_ROUND_UP((((clus + 2) * 3 + 1) >> 1), FAT_SECT);
	} else {
		uint32_t w = bits / 8;

		clus = ((uint64_t)fatdata * FAT_SECT + 2 * 2 * w) / (cs * FAT_SECT + 2 * w);
		fat = (uint32_t)DIV_ROUND_UP((clus + 2) * w, FAT_SECT);
	}
	fat = align_to(fat, cs, align);
	clus = fatdata >= 2 * fat ? (fatdata - 2 * fat) / cs : 0;
	if (bits == 12)
		maxclus = (uint64_t)fat * 2 * FAT_SECT / 3;
	else
		maxclus = (uint64_t)fat * FAT_SECT / (bits / 8);
	if (bits == 12) {
		maxclus = MIN(maxclus, (uint64_t)MAX_CLUST_12);
		if (clus > maxclus - 2)
			clus = 0;
	} else if (bits == 16) {
		maxclus = MIN(maxclus, (uint64_t)MAX_CLUST_16);
		if (clus > maxclus - 2 || clus < FAT12_THRESHOLD)
			clus = 0;
	} else {
		maxclus = MIN(maxclus, (uint64_t)MAX_CLUST_32);
		if (clus && clus < MIN_CLUST_32)
			clus = 0;
		if (clus > maxclus)
			clus = 0;
	}
	*ret_clus = (uint32_t)clus;
	*ret_fat = fat;
}

/* The geometry mkfs.fat would choose with (fat32) or without (FAT12/16) `-F 32`. */
static int geom_for(uint64_t n_sect, bool fat32, struct fat_geom *ret)
{
	bool align = n_sect > 8192;
	uint32_t cs, rsvd = fat32 ? 32 : 1, root_sect = fat32 ? 0 : ROOT_ENTRIES * 32 / FAT_SECT;
	uint32_t c12 = 0, c16 = 0, c32 = 0, f12 = 0, f16 = 0, f32 = 0;
	struct fat_geom g = { 0 };

	if (n_sect > UINT32_MAX || n_sect < 16)
		return -ENOSPC;
	if (fat32) {
		/* mkfs.fat's establish_params, in sectors (the same for whole MiB) */
		cs = n_sect > 32ull * 1024 * 1024 * 2 ? 64 :
		     n_sect > 16ull * 1024 * 1024 * 2 ? 32 :
		     n_sect > 8ull * 1024 * 1024 * 2  ? 16 :
		     n_sect > 260ull * 1024 * 2       ? 8 :
							 1;
	} else {
		cs = 4;
	}
	for (; cs <= 128; cs <<= 1) {
		uint32_t r = align_to(rsvd, cs, align), rs = align_to(root_sect, cs, align);
		uint32_t fatdata32, fatdata16;

		if ((uint64_t)r + rs >= n_sect)
			continue;
		fatdata32 = (uint32_t)n_sect - r;
		fatdata16 = fatdata32 - rs;
		if (fat32) {
			try_width(32, fatdata32, cs, align, &c32, &f32);
			if (c32)
				break;
		} else {
			try_width(12, fatdata16, cs, align, &c12, &f12);
			try_width(16, fatdata16, cs, align, &c16, &f16);
			if (c12 || c16)
				break;
		}
	}
	if (cs > 128)
		return -ENOSPC;
	g.n_sect = (uint32_t)n_sect;
	g.sect_per_clus = cs;
	g.reserved_sect = align_to(rsvd, cs, align);
	if (fat32) {
		g.type = FAT_TYPE_32;
		g.n_clus = c32;
		g.fat_sect = f32;
	} else if (c16 > c12) {
		g.type = FAT_TYPE_16;
		g.n_clus = c16;
		g.fat_sect = f16;
	} else {
		g.type = FAT_TYPE_12;
		g.n_clus = c12;
		g.fat_sect = f12;
	}
	if (!fat32)
		g.root_entries = align_to(root_sect, cs, align) * (FAT_SECT / 32);
	g.data_sect = g.reserved_sect + 2 * g.fat_sect + g.root_entries * 32 / FAT_SECT;
	*ret = g;
	return 0;
}

/* FAT32 whenever the partition holds the 65525 clusters FAT32 needs (issue #3: the ESP is
 * FAT32, as `mkfs.fat -F 32` makes it, and as the UEFI spec expects on fixed disks); smaller
 * partitions get what plain mkfs.fat picks, FAT16 or FAT12. */
int fat_geom_choose(uint64_t n_sect, struct fat_geom *ret)
{
	if (geom_for(n_sect, /* fat32= */ true, ret) == 0)
		return 0;
	return geom_for(n_sect, /* fat32= */ false, ret);
}

/* Plain mkfs.fat (no -F): FAT32 from 512 MiB (establish_params' "Auto-selecting FAT32 for
 * large filesystem"), below it FAT16 when that gives more clusters than FAT12, else FAT12. */
int fat_geom_choose_plain(uint64_t n_sect, struct fat_geom *ret)
{
	return geom_for(n_sect, /* fat32= */ n_sect * FAT_SECT >= FAT_PLAIN_FAT32_BYTES, ret);
}

/* A boot-code stub: print nothing, ask the BIOS for the next boot device (int 18h), halt. */
static const uint8_t boot_stub[] = { 0xcd, 0x18, 0xf4, 0xeb, 0xfd };

void fat_boot_sector_encode(const struct fat_plan *pl, uint8_t out[FAT_SECT])
{
	const struct fat_geom *g = &pl->g;
	bool fat32 = g->type == FAT_TYPE_32;
	uint32_t code = fat32 ? FAT_BS32_CODE : FAT_BS16_CODE;
	uint32_t ext = fat32 ? FAT_BS32_DRV_NUM : FAT_BS16_DRV_NUM;
	char label[11];
	const char *fs = g->type == FAT_TYPE_32 ? "FAT32   " :
			 g->type == FAT_TYPE_16 ? "FAT16   " : "FAT12   ";
	size_t n = strlen(pl->p.label);

	memset(out, 0, FAT_SECT);
	out[FAT_BS_JMP] = 0xeb;
	out[FAT_BS_JMP + 1] = (uint8_t)(code - 2);
	out[FAT_BS_JMP + 2] = 0x90;
	memcpy(out + FAT_BS_OEM, "mkfs.fat", 8);
	le16_put(out + FAT_BS_BYTES_PER_SEC, FAT_SECT);
	out[FAT_BS_SEC_PER_CLUS] = (uint8_t)g->sect_per_clus;
	le16_put(out + FAT_BS_RSVD_SEC, (uint16_t)g->reserved_sect);
	out[FAT_BS_NUM_FATS] = 2;
	le16_put(out + FAT_BS_ROOT_ENT, (uint16_t)g->root_entries);
	if (g->n_sect < 65536)
		le16_put(out + FAT_BS_TOT_SEC16, (uint16_t)g->n_sect);
	else
		le32_put(out + FAT_BS_TOT_SEC32, g->n_sect);
	out[FAT_BS_MEDIA] = 0xf8;
	if (!fat32)
		le16_put(out + FAT_BS_FAT_SZ16, (uint16_t)g->fat_sect);
	/* virtio-blk's fake geometry, which mkfs.vfat reads in make-disk-image's VM; whole-MiB
	 * partitions are whole tracks of it, so mkfs.fat would not trim the size */
	le16_put(out + FAT_BS_SEC_PER_TRK, 32);
	le16_put(out + FAT_BS_NUM_HEADS, 64);
	le32_put(out + FAT_BS_HIDD_SEC, pl->p.hidden_sect);
	if (fat32) {
		le32_put(out + FAT_BS32_FAT_SZ32, g->fat_sect);
		le32_put(out + FAT_BS32_ROOT_CLUS, 2);
		le16_put(out + FAT_BS32_FS_INFO, 1);
		le16_put(out + FAT_BS32_BK_BOOT, 6);
	}
	memset(label, ' ', sizeof(label));
	memcpy(label, n ? pl->p.label : "NO NAME", n ? MIN(n, sizeof(label)) : 7);
	out[ext] = 0x80; /* drive number for media 0xf8 */
	out[ext + 2] = 0x29;
	le32_put(out + ext + 3, pl->p.volume_id);
	memcpy(out + ext + 7, label, 11);
	memcpy(out + ext + 18, fs, 8);
	memcpy(out + code, boot_stub, sizeof(boot_stub));
	out[FAT_BS_SIGNATURE] = 0x55;
	out[FAT_BS_SIGNATURE + 1] = 0xaa;
}

void fat_fsinfo_encode(const struct fat_plan *pl, uint8_t out[FAT_SECT])
{
	memset(out, 0, FAT_SECT);
	le32_put(out + FAT_FSI_LEAD_SIG, 0x41615252);
	le32_put(out + FAT_FSI_STRUC_SIG, 0x61417272);
	le32_put(out + FAT_FSI_FREE_COUNT, fat_plan_free_clusters(pl));
	/* The last allocated cluster, where the next search starts: what mkfs.fat writes (2, the
	 * root, on an empty FAT32) and how Linux reads it (prev_free); 0xffffffff when full. */
	le32_put(out + FAT_FSI_NXT_FREE,
		 pl->used_clus < pl->g.n_clus ? pl->used_clus + 1 : 0xffffffffu);
	le32_put(out + FAT_FSI_TRAIL_SIG, 0xaa550000);
}
