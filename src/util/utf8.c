/* UTF-8 decoding, shared by FAT long names and spec text checks (labels). RFC 3629. */
#include "util/utf8.h"

#include <errno.h>

int utf8_next(const uint8_t *s, size_t len, uint32_t *ret_cp)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return -EILSEQ;
	if (len < n)
		return -EILSEQ;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EILSEQ;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -EILSEQ;
	*ret_cp = cp;
	return (int)n;
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t off = 0;

	while (off < len) {
		uint32_t cp;
		int k = utf8_next(p + off, len - off, &cp);

		if (k < 0)
			break;
		off += (size_t)k;
	}
	return off;
}
