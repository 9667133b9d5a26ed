/* efivars-format.c: an erased AAVMF template comes out as the bytes AAVMF itself wrote when it
 * first booted with Debian's all-zero AAVMF_VARS.fd (captured from QEMU's flash file). */
#include "boot/efivars.h"

#include <stdlib.h>

#include "util/diag.h"
#include "util/test.h"

#define T_SIZE (64u << 20)

/* The firmware's bytes: volume header (0..0x48), store header, FTW working block header. */
static const uint8_t t_fv[72] = {
	[16] = 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c, 0xa9, 0x85, 0x27, 0x47, 0x07,
	0x5b, 0x4f, 0x50, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5f, 0x46, 0x56,
	0x48, 0x36, 0x0e, 0x00, 0x00, 0x48, 0x00, 0xf8, 0xf8, 0x00, 0x00, 0x00, 0x02, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
};
static const uint8_t t_store[28] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43, 0xa1, 0x80,
				     0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92, 0xb8, 0xff, 0x03, 0x00,
				     0x5a, 0xfe };
static const uint8_t t_ftw[32] = { 0x2b, 0x29, 0x58, 0x9e, 0x68, 0x7c, 0x7d, 0x49,
				   0xa0, 0xce, 0x65, 0x00, 0xfd, 0x9f, 0x1b, 0x95,
				   0x5b, 0xe7, 0xc6, 0x86, 0xfe, 0xff, 0xff, 0xff,
				   0xe0, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 };

static size_t t_count(const uint8_t *b, size_t from, size_t to, uint8_t v)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++)
		n += b[i] == v;
	return n;
}

static void t_formats(int *_failed, uint8_t fill)
{
	uint8_t *b = malloc(T_SIZE);
	struct efivars *v = NULL;
	struct diag d = { 0 };

	ASSERT_TRUE(b);
	memset(b, fill, T_SIZE);
	ASSERT_TRUE(efivars_is_erased(b, T_SIZE));
	ASSERT_OK(efivars_format_erased(b, T_SIZE, &d));
	ASSERT_MEM_EQ(b, t_fv, sizeof(t_fv));
	ASSERT_MEM_EQ(b + 0x48, t_store, sizeof(t_store));
	ASSERT_MEM_EQ(b + 0x40000, t_ftw, sizeof(t_ftw));
	/* the rest of the NV range erased, the rest of the file as it was */
	ASSERT_EQ(t_count(b, 0x48 + 28, 0x40000, 0xff), 0x40000 - 0x48 - 28);
	ASSERT_EQ(t_count(b, 0x40000 + 32, 0xc0000, 0xff), 0x80000 - 32);
	ASSERT_EQ(t_count(b, 0xc0000, T_SIZE, fill), T_SIZE - 0xc0000);
	ASSERT_OK(efivars_decode(b, T_SIZE, &d, &v));
	ASSERT_TRUE(v->authenticated && v->has_ftw);
	ASSERT_EQ(v->ftw_off, 0x40000);
	ASSERT_EQ(v->n_vars, 0);
	ASSERT_EQ(v->free_off, 0x64);
	ASSERT_EQ(v->store_end, 0x40000);
	efivars_free(v);
	free(b);
}

TEST(zeroed_aavmf_template_is_formatted_as_the_firmware_does)
{
	t_formats(_failed, 0x00);
}

TEST(erased_aavmf_template_is_formatted_as_the_firmware_does)
{
	t_formats(_failed, 0xff);
}

TEST(erased_means_every_byte_the_same_zero_or_ff)
{
	uint8_t b[4096];
	struct diag d = { 0 };

	memset(b, 0, sizeof(b));
	ASSERT_TRUE(efivars_is_erased(b, sizeof(b)));
	b[4095] = 1;
	ASSERT_TRUE(!efivars_is_erased(b, sizeof(b)));
	memset(b, 0xff, sizeof(b));
	b[0] = 0;
	ASSERT_TRUE(!efivars_is_erased(b, sizeof(b)));
	memset(b, 0x5a, sizeof(b));
	ASSERT_TRUE(!efivars_is_erased(b, sizeof(b)));
	ASSERT_TRUE(!efivars_is_erased(b, 0));
	/* erased, but no known layout has this size */
	memset(b, 0, sizeof(b));
	ASSERT_ERR(efivars_format_erased(b, sizeof(b), &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "4096 bytes") && strstr(d.msg, "AAVMF"));
}
