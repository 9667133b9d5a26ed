/* Reading files from a FAT filesystem (see read.h). Microsoft FAT specification 1.03: BPB
 * (section 3), FAT entries (4), directory entries (6), long names (7). */
#include "fs/fat/read.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "fs/fat/fat-internal.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

struct fat_vol {
	fat_probe_read_fn read;
	void *ctx;
	struct fat_probe_info info;
	uint32_t bps;
	uint64_t fat_off;       /* the first FAT */
	uint64_t root_off;      /* FAT12/16 fixed root directory */
	uint32_t root_entries;  /* FAT12/16 */
	uint32_t root_clus;     /* FAT32 */
	uint64_t data_off;      /* cluster 2 */
};

int fat_vol_open(fat_probe_read_fn read, void *ctx, uint64_t size, struct diag *d,
		 struct fat_vol **ret)
{
	struct fat_vol v = { .read = read, .ctx = ctx };
	uint8_t bs[512];
	uint32_t rsvd, nfats, fat_sz;
	int r;

	r = fat_probe(read, ctx, size, d, &v.info);
	if (r < 0)
		return r;
	r = read(ctx, 0, bs, sizeof(bs), d);
	if (r < 0)
		return r;
	v.bps = le16_get(bs + FAT_BS_BYTES_PER_SEC);
	rsvd = le16_get(bs + FAT_BS_RSVD_SEC);
	nfats = bs[FAT_BS_NUM_FATS];
	fat_sz = le16_get(bs + FAT_BS_FAT_SZ16);
	if (!fat_sz)
		fat_sz = le32_get(bs + FAT_BS32_FAT_SZ32);
	v.root_entries = le16_get(bs + FAT_BS_ROOT_ENT);
	v.fat_off = (uint64_t)rsvd * v.bps;
	v.root_off = v.fat_off + (uint64_t)nfats * fat_sz * v.bps;
	v.data_off = v.root_off + ROUND_UP((uint64_t)v.root_entries * FAT_DIRENT_SIZE, v.bps);
	if (v.info.type == FAT_TYPE_32) {
		v.root_clus = le32_get(bs + FAT_BS32_ROOT_CLUS);
		if (v.root_clus < 2 || v.root_clus > v.info.n_clus + 1)
			return diag_fail(d, -EBADMSG, "FAT boot sector: root cluster %u is not a "
					 "data cluster", v.root_clus);
	} else if (v.root_entries == 0)
		return diag_fail(d, -EBADMSG, "FAT boot sector: no root directory entries");
	*ret = xmemdup(&v, sizeof(v));
	return 0;
}

struct fat_vol *fat_vol_free(struct fat_vol *v)
{
	free(v);
	return NULL;
}

void fat_vol_root(const struct fat_vol *v, struct fat_dirent *ret)
{
	*ret = (struct fat_dirent){ .name = "/", .attr = FAT_ATTR_DIRECTORY, .is_dir = true,
				    .first_clus = v->info.type == FAT_TYPE_32 ? v->root_clus : 0 };
}

/* The FAT entry of cluster c (a data cluster): the next cluster, or 0 at the end of the
 * chain; -EBADMSG for a free, bad or out-of-range link. */
static int fat_next(struct fat_vol *v, uint32_t c, struct diag *d, uint32_t *ret)
{
	uint8_t b[4] = { 0 };
	uint32_t n, eoc;
	int r;

	switch (v->info.type) {
	case FAT_TYPE_12:
		r = v->read(v->ctx, v->fat_off + (uint64_t)c * 3 / 2, b, 2, d);
		n = le16_get(b);
		n = c & 1 ? n >> 4 : n & 0xfff;
		eoc = 0xff8;
		break;
	case FAT_TYPE_16:
		r = v->read(v->ctx, v->fat_off + (uint64_t)c * 2, b, 2, d);
		n = le16_get(b);
		eoc = 0xfff8;
		break;
	default:
		r = v->read(v->ctx, v->fat_off + (uint64_t)c * 4, b, 4, d);
		n = le32_get(b) & 0x0fffffff;
		eoc = 0x0ffffff8;
		break;
	}
	if (r < 0)
		return r;
	if (n >= eoc) {
		*ret = 0;
		return 0;
	}
	if (n < 2 || n > v->info.n_clus + 1)
		return diag_fail(d, -EBADMSG, "FAT: cluster %u links to %u, not a data cluster", c,
				 n);
	*ret = n;
	return 0;
}

static uint64_t clus_off(const struct fat_vol *v, uint32_t c)
{
	return v->data_off + (uint64_t)(c - 2) * v->info.cluster_bytes;
}

/* Long-name assembly (section 7): the entries come last-first, with ordinals n..1. */
struct lfn_state {
	uint16_t units[20 * FAT_LFN_CHARS];
	int next; /* the ordinal expected next; 0: none in progress */
	int count;
	uint8_t chksum;
};

static uint8_t short_chksum(const uint8_t *name)
{
	uint8_t s = 0;

	for (int i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + name[i]);
	return s;
}

static void lfn_add(struct lfn_state *l, const uint8_t *e)
{
	static const uint8_t pos[FAT_LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
	int ord = e[FAT_LFN_ORD] & 0x3f;

	if (e[FAT_LFN_ORD] & FAT_LFN_LAST) {
		if (ord < 1 || ord > 20) {
			l->next = 0;
			return;
		}
		memset(l->units, 0xff, sizeof(l->units));
		l->count = ord;
		l->next = ord;
		l->chksum = e[FAT_LFN_CHKSUM];
	}
	if (l->next == 0 || ord != l->next || e[FAT_LFN_CHKSUM] != l->chksum) {
		l->next = 0;
		return;
	}
	for (unsigned i = 0; i < FAT_LFN_CHARS; i++)
		l->units[(ord - 1) * FAT_LFN_CHARS + i] = le16_get(e + pos[i]);
	l->next = ord - 1 ? ord - 1 : -1; /* -1: complete */
}

static void name_from_entry(const struct lfn_state *l, const uint8_t *e, char *out)
{
	size_t n = 0;

	if (l->next == -1 && short_chksum(e) == l->chksum) {
		for (int i = 0; i < l->count * (int)FAT_LFN_CHARS && n + 1 < FAT_READ_NAME_MAX; i++) {
			uint16_t u = l->units[i];

			if (u == 0 || u == 0xffff)
				break;
			out[n++] = u < 0x80 && u >= 0x20 ? (char)u : '?';
		}
		out[n] = '\0';
		if (n)
			return;
	}
	for (int i = 0; i < 8 && e[i] != ' '; i++)
		out[n++] = i == 0 && e[i] == 0x05 ? '?' : (e[i] >= 0x20 && e[i] < 0x7f ? (char)e[i] : '?');
	if (e[8] != ' ') {
		out[n++] = '.';
		for (int i = 8; i < 11 && e[i] != ' '; i++)
			out[n++] = e[i] >= 0x20 && e[i] < 0x7f ? (char)e[i] : '?';
	}
	out[n] = '\0';
}

/* Walk the entries of one buffer; 1 at the end-of-directory mark. */
static int list_buf(const uint8_t *buf, size_t len, struct lfn_state *l, uint32_t *seen,
		    int (*fn)(void *ctx, const struct fat_dirent *e), void *ctx, bool *ret_end)
{
	for (size_t o = 0; o + FAT_DIRENT_SIZE <= len; o += FAT_DIRENT_SIZE) {
		const uint8_t *e = buf + o;
		struct fat_dirent de = { 0 };
		int r;

		if (++*seen > FAT_READ_DIR_MAX || e[0] == 0) {
			*ret_end = true;
			return 0;
		}
		if (e[0] == 0xe5) {
			l->next = 0;
			continue;
		}
		if ((e[FAT_DE_ATTR] & 0x3f) == FAT_ATTR_LONG_NAME) {
			lfn_add(l, e);
			continue;
		}
		if (e[FAT_DE_ATTR] & FAT_ATTR_VOLUME_ID || e[0] == '.') {
			l->next = 0;
			continue;
		}
		name_from_entry(l, e, de.name);
		l->next = 0;
		de.attr = e[FAT_DE_ATTR];
		de.is_dir = de.attr & FAT_ATTR_DIRECTORY;
		de.first_clus = (uint32_t)le16_get(e + FAT_DE_FST_CLUS_HI) << 16 |
				le16_get(e + FAT_DE_FST_CLUS_LO);
		de.size = le32_get(e + FAT_DE_FILE_SIZE);
		r = fn(ctx, &de);
		if (r)
			return r;
	}
	return 0;
}

int fat_vol_list(struct fat_vol *v, const struct fat_dirent *dir,
		 int (*fn)(void *ctx, const struct fat_dirent *e), void *ctx, struct diag *d)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct lfn_state l = { 0 };
	uint32_t seen = 0, c = dir->first_clus;
	bool end = false;
	int r;

	if (!dir->is_dir)
		return diag_fail(d, -ENOTDIR, "FAT: %s is not a directory", dir->name);
	if (c == 0) {
		/* the FAT12/16 root (a ".." entry of 0 names it too) */
		size_t len = (size_t)MIN(v->root_entries, FAT_READ_DIR_MAX) * FAT_DIRENT_SIZE;

		if (v->info.type == FAT_TYPE_32)
			return diag_fail(d, -EBADMSG, "FAT: directory %s has no cluster",
					 dir->name);
		buf = xmalloc(len);
		r = v->read(v->ctx, v->root_off, buf, len, d);
		if (r < 0)
			return r;
		return list_buf(buf, len, &l, &seen, fn, ctx, &end);
	}
	buf = xmalloc(v->info.cluster_bytes);
	for (uint32_t steps = 0; c && !end; steps++) {
		if (c < 2 || c > v->info.n_clus + 1)
			return diag_fail(d, -EBADMSG, "FAT: directory %s starts at cluster %u, not "
					 "a data cluster", dir->name, c);
		if (steps > v->info.n_clus)
			return diag_fail(d, -EBADMSG, "FAT: directory %s: its cluster chain loops",
					 dir->name);
		r = v->read(v->ctx, clus_off(v, c), buf, v->info.cluster_bytes, d);
		if (r < 0)
			return r;
		r = list_buf(buf, v->info.cluster_bytes, &l, &seen, fn, ctx, &end);
		if (r)
			return r;
		if (!end) {
			r = fat_next(v, c, d, &c);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct lookup {
	const char *name;
	size_t len;
	struct fat_dirent *out;
};

static int lookup_one(void *ctx, const struct fat_dirent *e)
{
	struct lookup *k = ctx;

	if (strlen(e->name) != k->len || strncasecmp(e->name, k->name, k->len) != 0)
		return 0;
	*k->out = *e;
	return 1;
}

int fat_vol_lookup(struct fat_vol *v, const char *path, struct diag *d, struct fat_dirent *ret)
{
	struct fat_dirent cur;
	int r;

	fat_vol_root(v, &cur);
	while (*path) {
		struct lookup k = { .name = path, .len = strcspn(path, "/"), .out = &cur };
		struct fat_dirent dir = cur;

		if (k.len == 0) {
			path++;
			continue;
		}
		if (!dir.is_dir)
			return 0;
		r = fat_vol_list(v, &dir, lookup_one, &k, d);
		if (r <= 0)
			return r;
		path += k.len;
	}
	*ret = cur;
	return 1;
}

int fat_vol_read_file(struct fat_vol *v, const struct fat_dirent *e, size_t max, struct diag *d,
		      uint8_t **ret, size_t *ret_len)
{
	size_t want = MIN((size_t)e->size, max), got = 0;
	_cleanup_free_ uint8_t *buf = xmalloc(want + 1);
	uint32_t c = e->first_clus;
	int r;

	if (e->is_dir)
		return diag_fail(d, -EISDIR, "FAT: %s is a directory", e->name);
	for (uint32_t steps = 0; got < want; steps++) {
		size_t k = MIN(want - got, (size_t)v->info.cluster_bytes);

		if (c < 2 || c > v->info.n_clus + 1 || steps > v->info.n_clus)
			return diag_fail(d, -EBADMSG, "FAT: file %s: its cluster chain is shorter "
					 "than its size (%u bytes)", e->name, e->size);
		r = v->read(v->ctx, clus_off(v, c), buf + got, k, d);
		if (r < 0)
			return r;
		got += k;
		if (got < want) {
			r = fat_next(v, c, d, &c);
			if (r < 0)
				return r;
		}
	}
	buf[want] = '\0';
	*ret = buf;
	buf = NULL;
	*ret_len = want;
	return 0;
}
