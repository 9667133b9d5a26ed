/* VFAT long names: UTF-8 input to UTF-16LE units, the short-name checksum, and long-name
 * directory entries. Microsoft FAT specification 1.03, section 7; docs/formats/fat.md. */
#include "fs/fat/fat-internal.h"

#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/endian.h"
#include "util/utf8.h"

int fat_utf16_from_utf8(const char *s, size_t len, uint16_t out[FAT_NAME_MAX], size_t *ret_n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;

	while (len) {
		uint32_t cp;
		int k = utf8_next(p, len, &cp);

		if (k < 0)
			return k;
		p += k;
		len -= (size_t)k;
		if (cp >= 0x10000) {
			if (n + 2 > FAT_NAME_MAX)
				return -ENAMETOOLONG;
			cp -= 0x10000;
			out[n++] = (uint16_t)(0xd800 | cp >> 10);
			out[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			if (n + 1 > FAT_NAME_MAX)
				return -ENAMETOOLONG;
			out[n++] = (uint16_t)cp;
		}
	}
	*ret_n = n;
	return 0;
}

/* Section 7.2: rotate right, add. */
uint8_t fat_lfn_checksum(const uint8_t short_name[11])
{
	uint8_t sum = 0;

	for (size_t i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + short_name[i]);
	return sum;
}

size_t fat_lfn_count(size_t n_units)
{
	return DIV_ROUND_UP(n_units, FAT_LFN_CHARS);
}

void fat_lfn_encode(uint8_t out[FAT_DIRENT_SIZE], const uint16_t *units, size_t n_units,
		    size_t k, uint8_t checksum)
{
	static const uint8_t pos[FAT_LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

	memset(out, 0, FAT_DIRENT_SIZE);
	out[FAT_LFN_ORD] = (uint8_t)((k + 1) | (k + 1 == fat_lfn_count(n_units) ? FAT_LFN_LAST : 0));
	out[FAT_LFN_ATTR] = FAT_ATTR_LONG_NAME;
	out[FAT_LFN_CHKSUM] = checksum;
	/* after the name: one 0x0000 terminator (unless it fills the entry), then 0xffff */
	for (size_t i = 0; i < FAT_LFN_CHARS; i++) {
		size_t u = k * FAT_LFN_CHARS + i;

		le16_put(out + pos[i], u < n_units ? units[u] : u == n_units ? 0x0000 : 0xffff);
	}
}
