#include "util/textesc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/xalloc.h"

size_t utf8_seq_len(const unsigned char *p, size_t n, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t len;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*ret_cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, cp = p[0] & 0x1fu, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, cp = p[0] & 0x0fu, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, cp = p[0] & 0x07u, min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		return 0;
	*ret_cp = cp;
	return len;
}

/* Code points a terminal or a bidi-aware viewer acts on. */
static bool cp_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0x200e || cp == 0x200f;
}

char *text_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(n * 4 + 1); /* an escape is at most 4 bytes per input byte */

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_seq_len(p + i, n - i, &cp);

		if (k == 0) {
			o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (cp == '\\' || cp == '"') {
			out[o++] = '\\';
			out[o++] = (char)cp;
		} else if (cp < 0x80 && cp_is_control(cp))
			o += (size_t)sprintf(out + o, "\\x%02x", cp);
		else if (cp_is_control(cp)) /* 2 or 3 bytes as 6 */
			o += (size_t)sprintf(out + o, "\\u%04x", cp);
		else {
			memcpy(out + o, p + i, k);
			o += k;
		}
		i += k;
	}
	out[o] = '\0';
	return out;
}
