#include "fs/fat/probe.h"

#include <errno.h>
#include <string.h>

#include "fs/fat/fat-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

/* FAT12/16 FATs are at most 4085 / 65525 entries: small enough to read whole for the free
 * count. FAT32 trusts FSInfo's free count when it is set (as Linux does). */
static int count_free(fat_probe_read_fn read, void *ctx, uint64_t fat_off,
		      const struct fat_probe_info *info, struct diag *d, uint32_t *ret)
{
	size_t bytes = info->type == FAT_TYPE_12 ? ((size_t)info->n_clus + 2) * 3 / 2 + 1
						  : ((size_t)info->n_clus + 2) * 2;
	_cleanup_free_ uint8_t *fat = xmalloc(bytes + 1);
	uint32_t n = 0;
	int r;

	r = read(ctx, fat_off, fat, bytes, d);
	if (r < 0)
		return r;
	fat[bytes] = 0;
	for (uint32_t c = 2; c < info->n_clus + 2; c++) {
		uint32_t v;

		if (info->type == FAT_TYPE_12) {
			uint16_t w = le16_get(fat + c * 3 / 2);

			v = c & 1 ? w >> 4 : w & 0xfff;
		} else
			v = le16_get(fat + c * 2);
		n += v == 0;
	}
	*ret = n;
	return 0;
}

int fat_probe(fat_probe_read_fn read, void *ctx, uint64_t size, struct diag *d,
	      struct fat_probe_info *ret)
{
	struct fat_probe_info info = { 0 };
	uint8_t bs[512], fsi[512];
	uint32_t bps, spc, rsvd, nfats, root_ent, tot, fat_sz, data_sect, lab;
	int r;

	if (size < sizeof(bs))
		return -ENOENT;
	r = read(ctx, 0, bs, sizeof(bs), d);
	if (r < 0)
		return r;
	if (bs[FAT_BS_SIGNATURE] != 0x55 || bs[FAT_BS_SIGNATURE + 1] != 0xaa ||
	    (bs[FAT_BS_JMP] != 0xeb && bs[FAT_BS_JMP] != 0xe9))
		return -ENOENT;
	bps = le16_get(bs + FAT_BS_BYTES_PER_SEC);
	spc = bs[FAT_BS_SEC_PER_CLUS];
	rsvd = le16_get(bs + FAT_BS_RSVD_SEC);
	nfats = bs[FAT_BS_NUM_FATS];
	root_ent = le16_get(bs + FAT_BS_ROOT_ENT);
	tot = le16_get(bs + FAT_BS_TOT_SEC16);
	if (!tot)
		tot = le32_get(bs + FAT_BS_TOT_SEC32);
	fat_sz = le16_get(bs + FAT_BS_FAT_SZ16);
	if (!fat_sz)
		fat_sz = le32_get(bs + FAT_BS32_FAT_SZ32);
	if (bps != 512 && bps != 1024 && bps != 2048 && bps != 4096)
		return -ENOENT; /* not a FAT boot sector at all */
	if (!spc || (spc & (spc - 1)) || !rsvd || !nfats || nfats > 2 || !fat_sz || !tot)
		return diag_fail(d, -EBADMSG, "FAT boot sector: inconsistent BPB fields");
	if ((uint64_t)tot * bps > size)
		return diag_fail(d, -EBADMSG, "FAT boot sector: %u sectors exceed the partition",
				 tot);
	data_sect = rsvd + nfats * fat_sz + DIV_ROUND_UP(root_ent * 32, bps);
	if (data_sect >= tot)
		return diag_fail(d, -EBADMSG, "FAT boot sector: no room for data clusters");
	info.n_clus = (tot - data_sect) / spc;
	/* the FAT width follows from the cluster count alone (Microsoft's rule) */
	info.type = info.n_clus < 4085	  ? FAT_TYPE_12 :
		    info.n_clus < 65525 ? FAT_TYPE_16 :
					  FAT_TYPE_32;
	if ((uint64_t)fat_sz * bps * 8 < ((uint64_t)info.n_clus + 2) * info.type)
		return diag_fail(d, -EBADMSG,
				 "FAT boot sector: the FAT is too short for %u clusters",
				 info.n_clus);
	info.size_bytes = (uint64_t)tot * bps;
	info.cluster_bytes = spc * bps;
	if (info.type == FAT_TYPE_32) {
		info.volume_id = le32_get(bs + FAT_BS32_VOL_ID);
		lab = FAT_BS32_VOL_LAB;
	} else {
		info.volume_id = le32_get(bs + FAT_BS16_VOL_ID);
		lab = FAT_BS16_VOL_LAB;
	}
	memcpy(info.label, bs + lab, 11);
	for (int i = 10; i >= 0 && info.label[i] == ' '; i--)
		info.label[i] = '\0';

	info.free_clus = UINT32_MAX;
	if (info.type == FAT_TYPE_32) {
		uint32_t fsi_sect = le16_get(bs + FAT_BS32_FS_INFO);

		if (fsi_sect && fsi_sect < rsvd) {
			r = read(ctx, (uint64_t)fsi_sect * bps, fsi, sizeof(fsi), d);
			if (r < 0)
				return r;
			if (le32_get(fsi + FAT_FSI_LEAD_SIG) == 0x41615252 &&
			    le32_get(fsi + FAT_FSI_FREE_COUNT) <= info.n_clus)
				info.free_clus = le32_get(fsi + FAT_FSI_FREE_COUNT);
		}
	} else {
		r = count_free(read, ctx, (uint64_t)rsvd * bps, &info, d, &info.free_clus);
		if (r < 0)
			return r;
	}
	*ret = info;
	return 0;
}
