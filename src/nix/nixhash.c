/* sha256 hashes as Nix prints them (libutil's hash.cc: base16, Nix's own base32, base64, with an
 * optional "sha256:" prefix, or SRI "sha256-"). Nix base32 uses the alphabet below and emits
 * the 5-bit groups from the last byte down; see docs/formats/nix-db.md. */
#include "nix/nix.h"

#include <errno.h>
#include <string.h>

#include "util/hex.h"

static const char nix_base32_chars[] = "0123456789abcdfghijklmnpqrsvwxyz";

void nix_hash_base32(const uint8_t h[NIX_HASH_LEN], char out[53])
{
	size_t len = 52, k = 0;

	for (size_t n = len; n-- > 0;) {
		size_t b = n * 5, i = b / 8, j = b % 8;
		unsigned c = h[i] >> j;

		if (i + 1 < NIX_HASH_LEN)
			c |= (unsigned)h[i + 1] << (8 - j);
		out[k++] = nix_base32_chars[c & 0x1f];
	}
	out[k] = '\0';
}

static int hash_base32_decode(const char *s, uint8_t out[NIX_HASH_LEN])
{
	size_t len = strlen(s);

	memset(out, 0, NIX_HASH_LEN);
	for (size_t n = 0; n < len; n++) {
		const char *p = strchr(nix_base32_chars, s[len - n - 1]);
		size_t b = n * 5, i = b / 8, j = b % 8;
		unsigned digit;

		if (!p || !*p)
			return -EINVAL;
		digit = (unsigned)(p - nix_base32_chars);
		out[i] |= (uint8_t)(digit << j);
		if (i + 1 < NIX_HASH_LEN)
			out[i + 1] |= (uint8_t)(digit >> (8 - j));
		else if (digit >> (8 - j))
			return -EINVAL; /* bits past the hash */
	}
	return 0;
}

static int hash_base16_decode(const char *s, uint8_t out[NIX_HASH_LEN])
{
	for (size_t i = 0; i < NIX_HASH_LEN; i++) {
		int hi = hex_digit_value(s[2 * i]), lo = hex_digit_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* The value of a base64 digit (RFC 4648 §4), or -EINVAL. */
static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -EINVAL;
}

/* 44 characters: 43 digits carrying 258 bits (the last 2 must be zero) and one '='. */
static int hash_base64_decode(const char *s, uint8_t out[NIX_HASH_LEN])
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t k = 0;

	if (s[43] != '=')
		return -EINVAL;
	for (size_t i = 0; i < 43; i++) {
		int v = base64_value(s[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc == 0 ? 0 : -EINVAL;
}

int nix_hash_parse(const char *s, uint8_t out[NIX_HASH_LEN])
{
	uint8_t h[NIX_HASH_LEN];
	size_t len;
	int r;

	if (strncmp(s, "sha256-", 7) == 0) {
		s += 7;
		if (strlen(s) != 44)
			return -EINVAL;
		r = hash_base64_decode(s, h);
	} else {
		if (strncmp(s, "sha256:", 7) == 0)
			s += 7;
		len = strlen(s);
		if (len == 64)
			r = hash_base16_decode(s, h);
		else if (len == 52)
			r = hash_base32_decode(s, h);
		else if (len == 44)
			r = hash_base64_decode(s, h);
		else
			r = -EINVAL;
	}
	if (r < 0)
		return r;
	memcpy(out, h, NIX_HASH_LEN);
	return 0;
}
