/* Sizes as `numfmt --from=iec` reads them: "512M", "1G", "1024K", "1.5G", ".5K", "123".
 *
 * numfmt computes in long double and rounds away from zero; we compute exactly and round up,
 * which gives numfmt's answers wherever its 64-bit mantissa is exact ("1.1K" = 1127; for
 * "1.999E" numfmt loses the last unit, we do not). A fraction without a suffix, which numfmt
 * prints unchanged, rounds up to whole bytes. Like numfmt --from=iec we refuse lower-case
 * suffixes, "Ki", "KB", signs, blanks and exponents; Z and Y are -ERANGE. */
#include "spec/spec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define SIZE_MAX_FRAC_DIGITS 64 /* more cannot change the rounded result of a 2^60 multiple */

static int size_suffix_shift(char c, unsigned *ret)
{
	static const char suffixes[] = "KMGTPEZY";
	const char *p;

	if (c == '\0') {
		*ret = 0;
		return 0;
	}
	p = strchr(suffixes, c);
	if (!p)
		return -EINVAL;
	*ret = 10u * (unsigned)(p - suffixes + 1);
	return 0;
}

/* floor(0.FRAC * 2^shift) and whether a remainder is left, by doubling the decimal fraction
 * shift times (each doubling carries at most one unit out of the fraction). */
static void size_fraction(const char *frac, size_t n, unsigned shift, uint64_t *ret_whole,
			  bool *ret_rest)
{
	uint8_t dig[SIZE_MAX_FRAC_DIGITS];
	uint64_t whole = 0;
	bool rest = false;

	for (size_t i = 0; i < n; i++)
		dig[i] = (uint8_t)(frac[i] - '0');
	for (unsigned k = 0; k < shift; k++) {
		unsigned carry = 0;

		for (size_t i = n; i-- > 0;) {
			unsigned v = dig[i] * 2u + carry;

			dig[i] = (uint8_t)(v % 10);
			carry = v / 10;
		}
		whole = whole * 2 + carry; /* < 2^shift <= 2^60: no overflow */
	}
	for (size_t i = 0; i < n; i++)
		if (dig[i])
			rest = true;
	*ret_whole = whole;
	*ret_rest = rest;
}

int size_parse(const char *s, uint64_t *ret)
{
	const char *p = s, *frac = NULL;
	size_t n_int = 0, n_frac = 0;
	uint64_t v = 0, fwhole;
	unsigned shift;
	bool frest;

	if (!s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, n_int++) {
		uint64_t digit = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	if (*p == '.') {
		frac = ++p;
		for (; *p >= '0' && *p <= '9'; p++)
			n_frac++;
		if (n_frac == 0) /* "5." and "5.K" are not numbers to numfmt */
			return -EINVAL;
	}
	if (n_int == 0 && n_frac == 0)
		return -EINVAL;
	if (size_suffix_shift(*p, &shift) < 0 || (*p && p[1] != '\0'))
		return -EINVAL;
	if (shift > 60)
		return -ERANGE; /* Z, Y: valid to numfmt, but past 64 bits */

	/* Trailing zeros of the fraction change nothing; bound what is left. */
	while (n_frac > 0 && frac[n_frac - 1] == '0')
		n_frac--;
	if (n_frac > SIZE_MAX_FRAC_DIGITS) {
		n_frac = SIZE_MAX_FRAC_DIGITS;
		frest = true; /* a non-zero digit lies past the cut: round up */
	} else
		frest = false;

	if (shift > 0 && v > (UINT64_MAX >> shift))
		return -ERANGE;
	v <<= shift;
	if (n_frac > 0) {
		bool rest;

		size_fraction(frac, n_frac, shift, &fwhole, &rest);
		frest = frest || rest;
		if (v > UINT64_MAX - fwhole)
			return -ERANGE;
		v += fwhole;
	}
	if (frest) {
		if (v == UINT64_MAX)
			return -ERANGE;
		v++;
	}
	*ret = v;
	return 0;
}

int size_parse_mib(const char *s, uint64_t *ret)
{
	char buf[96];
	size_t n;

	if (!s)
		return -EINVAL;
	n = strlen(s);
	/* a suffix, or not a number at all: size_parse() judges it as given */
	if (n == 0 || s[n - 1] < '0' || s[n - 1] > '9')
		return size_parse(s, ret);
	if (n + 2 > sizeof(buf))
		return -ERANGE; /* more digits than 2^64 MiB has, whatever the fraction */
	memcpy(buf, s, n);
	buf[n] = 'M';
	buf[n + 1] = '\0';
	return size_parse(buf, ret);
}
