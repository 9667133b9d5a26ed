#include "boot/reed-solomon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/test.h"
#include "util/xalloc.h"

/* A synthetic core.img of raw bytes (an LCG, top byte of each step) followed by red zero bytes;
 * its protected data starts at 1024 (diskboot's sector, then a 0x200-byte unprotected head). The
 * known answers below come from Debian's grub-bios-setup 2.06-13+deb12u2 embedding the same
 * bytes (sector 0 zeroed, le16 0x200 at 0x214) into an MBR gap: it wrote red bytes of parity after
 * the core, whose SHA-256 and first 16 bytes are listed. */
#define CORE_HEAD 1024

static uint8_t *synthetic_core(size_t raw, size_t red)
{
	uint8_t *b = xcalloc(1, raw + red);
	uint32_t x = 1;

	for (size_t i = 0; i < raw; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 24);
	}
	return b;
}

static void sha256_hex(const uint8_t *buf, size_t len, char out[2 * SHA256_LEN + 1])
{
	uint8_t md[SHA256_LEN];

	sha256(buf, len, md);
	for (size_t i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct kat {
	size_t raw, red;
	const char *sha256;
	uint8_t first[16];
};

static const struct kat kats[] = {
    /* 4 sectors, doubled to 8: one block, columns of 3 or 4 data and 4 or 5 parity bytes */
    {2024,
     2072,
     "53023762fea2d95930c03d76a42c42b465a3df0b3e08ed2c136645988373bc38",
     {0x78, 0xca, 0xa0, 0x91, 0x42, 0xe0, 0xc3, 0xc1, 0x33, 0x25, 0x94, 0xe5, 0xda, 0x3d, 0xf3,
      0x58}},
    /* the size of Debian 12's core.img for our module list: 287 sectors doubled to 574,
     * three blocks */
    {146831,
     147057,
     "320bf3cf107906b33111ed4567e0e748689471c86a1f1b85a918055dbf8c2353",
     {0xf5, 0x8a, 0xb5, 0x59, 0x81, 0xe1, 0x46, 0x21, 0x5d, 0x9e, 0x44, 0xd6, 0x97, 0xbf, 0x12,
      0x3b}},
    /* 501 sectors, capped at 888 (below 0x78000 in memory): less parity than data */
    {256100,
     198556,
     "1ba3838bdeacfa234ae351ee2f4bf8f3ea31b73655c81e52e1612f2930dc8843",
     {0xfd, 0xe0, 0xcc, 0x45, 0x2a, 0xa2, 0xcf, 0xd5, 0x9b, 0x4f, 0xac, 0xf4, 0x0b, 0x49, 0x3b,
      0x1f}},
};

TEST(parity_matches_grub_bios_setup)
{
	for (size_t k = 0; k < sizeof(kats) / sizeof(kats[0]); k++) {
		const struct kat *v = &kats[k];
		uint8_t *b = synthetic_core(v->raw, v->red);
		uint8_t *orig = synthetic_core(v->raw, 0);
		char hex[2 * SHA256_LEN + 1];

		ASSERT_OK(reed_solomon_add(b + CORE_HEAD, v->raw - CORE_HEAD, v->red));
		ASSERT_MEM_EQ(b + v->raw, v->first, sizeof(v->first));
		sha256_hex(b + v->raw, v->red, hex);
		ASSERT_STR_EQ(hex, v->sha256);
		ASSERT_MEM_EQ(b, orig, v->raw); /* systematic: the data is left alone */
		free(orig);
		free(b);
	}
}

/* In a single block every column (byte i of each sector) is a codeword: data then parity,
 * evaluating to zero at 2^0 .. 2^(r-1); a changed byte shows. */
TEST(columns_are_codewords_and_a_changed_byte_shows)
{
	size_t s = 3 * 512 + 100, rs = 2 * 512 + 7;
	uint8_t *b = synthetic_core(s, rs);

	ASSERT_OK(reed_solomon_add(b, s, rs));
	for (size_t i = 0; i < 512; i++) {
		uint8_t w[8];
		size_t ds = (s + 511 - i) / 512, rr = (rs + 511 - i) / 512, n = 0;

		for (size_t j = 0; j < ds; j++)
			w[n++] = b[512 * j + i];
		for (size_t j = 0; j < rr; j++)
			w[n++] = b[s + 512 * j + i];
		for (unsigned k = 0; k < rr; k++)
			ASSERT_EQ(reed_solomon_eval(w, n, k), 0);
		w[1] ^= 0x40;
		ASSERT_TRUE(reed_solomon_eval(w, n, 0) != 0);
	}
	free(b);
}

/* A whole damaged sector is one error per column, which two parity symbols already locate: the
 * error value is the column's value at 2^0, its place the one where removing it leaves a
 * codeword (a brute-force single-error decoder over the public evaluation). */
TEST(a_damaged_sector_is_one_correctable_error_per_column)
{
	size_t s = 4 * 512 + 30, rs = 3 * 512;
	uint8_t *b = synthetic_core(s, rs), *orig;

	ASSERT_OK(reed_solomon_add(b, s, rs));
	orig = xmalloc(s + rs);
	memcpy(orig, b, s + rs);
	for (size_t i = 0; i < 512; i++)
		b[2 * 512 + i] ^= (uint8_t)(i % 255 + 1); /* data sector 2: every byte changed */
	for (size_t i = 0; i < 512; i++) {
		uint8_t w[8];
		size_t ds = (s + 511 - i) / 512, rr = (rs + 511 - i) / 512, n = 0, fixed = 0;
		uint8_t e;

		for (size_t j = 0; j < ds; j++)
			w[n++] = b[512 * j + i];
		for (size_t j = 0; j < rr; j++)
			w[n++] = b[s + 512 * j + i];
		e = reed_solomon_eval(w, n, 0);
		ASSERT_TRUE(e != 0);
		for (size_t j = 0; j < n; j++) {
			unsigned k;

			w[j] ^= e;
			for (k = 0; k < rr && reed_solomon_eval(w, n, k) == 0; k++)
				;
			if (k == rr) {
				ASSERT_EQ(j, 2); /* found where the damage is, and only there */
				fixed++;
				b[2 * 512 + i] = w[j];
			}
			w[j] ^= e;
		}
		ASSERT_EQ(fixed, 1);
	}
	ASSERT_MEM_EQ(b, orig, s + rs);
	free(orig);
	free(b);
}

TEST(no_parity_writes_nothing)
{
	uint8_t b[1024];

	memset(b, 0xab, sizeof(b));
	ASSERT_OK(reed_solomon_add(b, 512, 0));
	for (size_t i = 0; i < sizeof(b); i++)
		ASSERT_EQ(b[i], 0xab);
}

/* Parity hundreds of times the data leaves a block without data: refused, not a loop. */
TEST(parity_far_beyond_the_data_is_refused)
{
	size_t s = 1, rs = 400 * 512;
	uint8_t *b = xcalloc(1, s + rs);

	ASSERT_ERR(reed_solomon_add(b, s, rs), -EINVAL);
	free(b);
}
