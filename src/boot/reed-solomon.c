/* GRUB's Reed-Solomon parity for core.img, from the format's facts (grub-core/lib/reed_solomon.c
 * and util/setup.c describe it; this is our own encoder). docs/formats/grub-embed.md. */
#include "boot/reed-solomon.h"

#include <errno.h>
#include <string.h>

#define GF_POLY	 0x1d /* x^8 + x^4 + x^3 + x^2 + 1, the x^8 term implied */
#define GF_ORDER 255

/* Powers of the generator 2 (twice over, so a sum of two logs needs no modulo) and their logs. */
struct gf {
	uint8_t exp[2 * GF_ORDER];
	uint8_t log[256];
};

static void gf_init(struct gf *f)
{
	unsigned v = 1;

	f->log[0] = 0; /* unused: zero has no log, callers test for it */
	for (unsigned i = 0; i < GF_ORDER; i++) {
		f->exp[i] = f->exp[i + GF_ORDER] = (uint8_t)v;
		f->log[v] = (uint8_t)i;
		v <<= 1;
		if (v & 0x100)
			v = (v ^ GF_POLY) & 0xff;
	}
}

static uint8_t gf_mul(const struct gf *f, uint8_t a, uint8_t b)
{
	if (!a || !b)
		return 0;
	return f->exp[f->log[a] + f->log[b]];
}

/* g(x) = (x - 2^0)(x - 2^1)...(x - 2^(n-1)), g[0] the x^n coefficient (1). */
static void rs_generator(const struct gf *f, uint8_t *g, size_t n)
{
	memset(g, 0, n + 1);
	g[0] = 1;
	for (size_t j = 0; j < n; j++) {
		uint8_t root = f->exp[j % GF_ORDER];

		/* multiply by (x + root): every coefficient takes root times itself plus
		 * the next-higher one; degree grows by one at the end */
		for (size_t i = j + 1; i > 0; i--)
			g[i] ^= gf_mul(f, g[i - 1], root);
	}
}

/* Parity of one column: the remainder of data(x) * x^n divided by g(x), shifted out as a
 * linear feedback register. */
static void rs_encode_column(const struct gf *f, const uint8_t *g, const uint8_t *data, size_t ds,
			     uint8_t *par, size_t n)
{
	memset(par, 0, n);
	for (size_t j = 0; j < ds; j++) {
		uint8_t fb = data[j] ^ par[0];

		memmove(par, par + 1, n - 1);
		par[n - 1] = 0;
		if (fb)
			for (size_t i = 0; i < n; i++)
				par[i] ^= gf_mul(f, g[i + 1], fb);
	}
}

/* One block: byte i of each sector is a codeword of ceil((s - i) / 512) data and
 * ceil((rs - i) / 512) parity bytes. */
static void rs_encode_block(const struct gf *f, const uint8_t *ptr, size_t s, uint8_t *rptr,
			    size_t rs)
{
	uint8_t data[REED_SOLOMON_MAX_BLOCK / REED_SOLOMON_SECTOR];
	uint8_t par[REED_SOLOMON_MAX_BLOCK / REED_SOLOMON_SECTOR];
	uint8_t g[REED_SOLOMON_MAX_BLOCK / REED_SOLOMON_SECTOR + 1];
	size_t g_len = 0;

	for (size_t i = 0; i < REED_SOLOMON_SECTOR; i++) {
		size_t ds = (s + REED_SOLOMON_SECTOR - 1 - i) / REED_SOLOMON_SECTOR;
		size_t rr = (rs + REED_SOLOMON_SECTOR - 1 - i) / REED_SOLOMON_SECTOR;

		if (!ds || !rr)
			continue;
		if (rr != g_len) {
			rs_generator(f, g, rr);
			g_len = rr;
		}
		for (size_t j = 0; j < ds; j++)
			data[j] = ptr[REED_SOLOMON_SECTOR * j + i];
		rs_encode_column(f, g, data, ds, par, rr);
		for (size_t j = 0; j < rr; j++)
			rptr[REED_SOLOMON_SECTOR * j + i] = par[j];
	}
}

int reed_solomon_add(uint8_t *buf, size_t data_len, size_t red_len)
{
	const uint8_t *ptr = buf;
	uint8_t *rptr = buf + data_len;
	size_t s = data_len, rs = red_len;
	struct gf f;

	if (!rs)
		return 0;
	gf_init(&f);
	while (s > 0) {
		size_t cs = s, crs = rs, tt = s + rs;

		/* split both in proportion, in whole sectors, so a block stays below 255
		 * bytes per column */
		if (tt > REED_SOLOMON_MAX_BLOCK) {
			size_t per = REED_SOLOMON_MAX_BLOCK / REED_SOLOMON_SECTOR;

			cs = cs * per / tt * REED_SOLOMON_SECTOR;
			crs = crs * per / tt * REED_SOLOMON_SECTOR;
		}
		if (!cs)
			return -EINVAL;
		rs_encode_block(&f, ptr, cs, rptr, crs);
		ptr += cs;
		rptr += crs;
		s -= cs;
		rs -= crs;
	}
	return 0;
}

uint8_t reed_solomon_eval(const uint8_t *word, size_t n, unsigned k)
{
	struct gf f;
	uint8_t x, v = 0;

	gf_init(&f);
	x = f.exp[k % GF_ORDER];
	/* Horner, highest-degree coefficient first */
	for (size_t i = 0; i < n; i++)
		v = gf_mul(&f, v, x) ^ word[i];
	return v;
}
