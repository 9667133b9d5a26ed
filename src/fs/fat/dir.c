/* FAT directories: which names FAT can hold, 8.3 basis names and numeric tails, DOS
 * timestamps, and the entries of a directory encoded on demand. Microsoft FAT specification
 * 1.03, sections 6 and 7; docs/formats/fat.md, "Names" and "Directories". */
#include "fs/fat/fat-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/endian.h"

int fat_name_check(const char *name, size_t len, const char **ret_why)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)name[i];

		if (c < 0x20 || c == 0x7f) {
			*ret_why = "a control character";
			return -EINVAL;
		}
		if (strchr("\"*/:<>?\\|", c) && c) {
			*ret_why = "one of \"*/:<>?\\|";
			return -EINVAL;
		}
	}
	if (len && (name[len - 1] == '.' || name[len - 1] == ' ')) {
		*ret_why = "a trailing dot or space";
		return -EINVAL;
	}
	return 0;
}

int fat_label_make(const char *label, char out[12], const char **ret_why)
{
	size_t n = strlen(label);

	if (n > 11) {
		*ret_why = "longer than 11 bytes";
		return -EINVAL;
	}
	if (label[0] == ' ') {
		*ret_why = "starts with a space";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)label[i];

		if (c < 0x20 || c > 0x7e) {
			*ret_why = "holds a control or non-ASCII character (ASCII letters, digits, "
				   "space and !#$%&'()-@^_`{}~ are allowed)";
			return -EINVAL;
		}
		if (strchr("\"*+,./:;<=>?[\\]|", c)) {
			*ret_why = "holds one of \"*+,./:;<=>?[\\]|, which mkfs.fat refuses";
			return -EINVAL;
		}
		out[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (char)c;
	}
	out[n] = '\0';
	return 0;
}

static bool short_char_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"*+,./:;<=>?[\\]|", c);
}

static uint8_t ascii_upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

/* Copy name[from, to) into out (at most max characters) as short-name characters. Returns
 * true when the copy is exact (nothing replaced, dropped or truncated, case aside). */
static bool copy_part(const char *name, size_t from, size_t to, uint8_t *out, size_t max)
{
	bool exact = true;
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		uint8_t c = (uint8_t)name[i];

		if (c >= 0x80 && (c & 0xc0) == 0x80)
			continue; /* UTF-8 continuation: one '_' per character */
		if (c == ' ' || c == '.') {
			exact = false;
			continue;
		}
		if (n == max) {
			exact = false;
			break;
		}
		if (!short_char_ok(c)) {
			exact = false;
			c = '_';
		}
		out[n++] = ascii_upper(c);
	}
	return exact;
}

void fat_short_basis(const char *name, size_t len, uint8_t out[11], bool *ret_lossy,
		     bool *ret_tail)
{
	size_t start = 0, dot = len;
	bool exact;

	memset(out, ' ', 11);
	while (start < len && (name[start] == '.' || name[start] == ' '))
		start++;
	for (size_t i = len; i > start; i--)
		if (name[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	exact = start == 0;
	exact &= copy_part(name, start, dot, out, 8);
	if (dot < len)
		exact &= copy_part(name, dot + 1, len, out + 8, 3) && dot + 1 < len;
	if (out[0] == ' ') {
		out[0] = '_';
		exact = false;
	}
	*ret_tail = !exact;
	*ret_lossy = true;
	if (exact) {
		/* no long name when the name is already its own upper-case 8.3 form */
		bool upper = true;

		for (size_t i = 0; i < len; i++)
			upper &= !(name[i] >= 'a' && name[i] <= 'z');
		*ret_lossy = !upper;
	}
}

void fat_short_tail(uint8_t name[11], uint32_t n)
{
	char tail[12];
	int k = snprintf(tail, sizeof(tail), "~%u", n);
	size_t base = 0;

	while (base < 8 && name[base] != ' ')
		base++;
	base = MIN(base, (size_t)(8 - k));
	memcpy(name + base, tail, (size_t)k);
	memset(name + base + k, ' ', 8 - base - (size_t)k);
}

void fat_dos_time(int64_t t, uint16_t *ret_date, uint16_t *ret_time)
{
	const int64_t min = 315532800;   /* 1980-01-01 00:00:00 UTC */
	const int64_t max = 4354819198; /* 2107-12-31 23:59:58 UTC */
	time_t tt = (time_t)(t < min ? min : t > max ? max : t);
	struct tm tm;

	gmtime_r(&tt, &tm);
	*ret_date = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
	*ret_time = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
}

void fat_dirent_encode(uint8_t out[FAT_DIRENT_SIZE], const uint8_t name[11], uint8_t attr,
		       int64_t mtime, uint32_t clus, uint32_t size)
{
	uint16_t date, time;

	fat_dos_time(mtime, &date, &time);
	memset(out, 0, FAT_DIRENT_SIZE);
	memcpy(out + FAT_DE_NAME, name, 11);
	out[FAT_DE_ATTR] = attr;
	le16_put(out + FAT_DE_CRT_TIME, time);
	le16_put(out + FAT_DE_CRT_DATE, date);
	le16_put(out + FAT_DE_LST_ACC_DATE, date);
	le16_put(out + FAT_DE_FST_CLUS_HI, (uint16_t)(clus >> 16));
	le16_put(out + FAT_DE_WRT_TIME, time);
	le16_put(out + FAT_DE_WRT_DATE, date);
	le16_put(out + FAT_DE_FST_CLUS_LO, (uint16_t)clus);
	le32_put(out + FAT_DE_FILE_SIZE, size);
}

/* Entry j (0..n_lfn) of a child: its long-name entries in reverse order, then the short one. */
static void child_entry(const struct fat_plan *pl, const struct tree_node *c, uint32_t j,
			uint8_t out[FAT_DIRENT_SIZE])
{
	const struct fat_node *fn = &pl->nodes[c->index];

	if (j < fn->n_lfn) {
		uint16_t units[FAT_NAME_MAX];
		size_t n = 0;

		/* checked by the planner */
		(void)fat_utf16_from_utf8(c->name, c->name_len, units, &n);
		fat_lfn_encode(out, units, n, fn->n_lfn - 1 - j, fat_lfn_checksum(fn->short_name));
		return;
	}
	fat_dirent_encode(out, fn->short_name,
			  c->type == TREE_DIR ? FAT_ATTR_DIRECTORY : FAT_ATTR_ARCHIVE, c->mtime_sec,
			  fn->first_clus,
			  c->type == TREE_DIR ? 0 : (uint32_t)(c->hardlink ? c->hardlink : c)->size);
}

/* The directory's own leading entries: the volume label in the root, '.' and '..' elsewhere. */
static bool head_entry(const struct fat_plan *pl, const struct tree_node *dir, uint32_t s,
		       uint8_t out[FAT_DIRENT_SIZE])
{
	static const uint8_t dot[11] = ".          ", dotdot[11] = "..         ";
	uint8_t label[11];

	if (!dir->parent) {
		size_t n = strlen(pl->p.label);

		if (s != 0 || !n)
			return false;
		memset(label, ' ', sizeof(label));
		memcpy(label, pl->p.label, MIN(n, sizeof(label)));
		fat_dirent_encode(out, label, FAT_ATTR_VOLUME_ID, pl->p.fs_time, 0, 0);
		return true;
	}
	if (s == 0)
		fat_dirent_encode(out, dot, FAT_ATTR_DIRECTORY, dir->mtime_sec,
				  pl->nodes[dir->index].first_clus, 0);
	else if (s == 1)
		fat_dirent_encode(out, dotdot, FAT_ATTR_DIRECTORY, dir->parent->mtime_sec,
				  dir->parent->parent ? pl->nodes[dir->parent->index].first_clus : 0,
				  0);
	else
		return false;
	return true;
}

void fat_dir_fill(const struct fat_plan *pl, const struct tree_node *dir, uint64_t off,
		  uint8_t *buf, size_t len)
{
	uint64_t first = off / FAT_DIRENT_SIZE, end = DIV_ROUND_UP(off + len, FAT_DIRENT_SIZE);
	size_t lo = 0, hi = dir->n_children, ci;
	uint8_t e[FAT_DIRENT_SIZE];

	end = MIN(end, (uint64_t)pl->nodes[dir->index].n_slots);
	/* the first child whose entries end after `first` */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fat_node *fn = &pl->nodes[dir->children[mid]->index];

		if (fn->slot + fn->n_lfn < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	ci = lo;
	for (uint64_t s = first; s < end; s++) {
		uint64_t eoff = s * FAT_DIRENT_SIZE, a = MAX(eoff, off);
		uint64_t b = MIN(eoff + FAT_DIRENT_SIZE, off + len);
		const struct fat_node *fn;

		while (ci < dir->n_children) {
			fn = &pl->nodes[dir->children[ci]->index];
			if (fn->slot + fn->n_lfn >= s)
				break;
			ci++;
		}
		if (ci < dir->n_children && s >= pl->nodes[dir->children[ci]->index].slot) {
			fn = &pl->nodes[dir->children[ci]->index];
			child_entry(pl, dir->children[ci], (uint32_t)(s - fn->slot), e);
		} else if (!head_entry(pl, dir, (uint32_t)s, e)) {
			continue;
		}
		memcpy(buf + (a - off), e + (a - eoff), (size_t)(b - a));
	}
}
