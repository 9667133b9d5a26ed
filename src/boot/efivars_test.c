#include "boot/efivars.h"

#include <stdlib.h>

#include "boot/efiboot.h"
#include "boot/loadopt.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"

/* A 64 KiB authenticated store built here by hand (not by efivars.c): FV header at 0 with one
 * block-map entry of 16 x 4 KiB, the store header at 72 (Size 0x8000 - 72), then variables,
 * and an FTW working block at 0x9000. Offsets from VariableFormat.h and PI vol. 3 §3.2.1. */
#define T_LEN 0x10000u
#define T_STORE 72u
#define T_STORE_END 0x8000u
#define T_FIRST_VAR 100u /* ALIGN4(72 + 28) */

static const uint8_t t_global_disk[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					   0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };

static void t_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void t_le32(uint8_t *p, uint32_t v)
{
	t_le16(p, v & 0xffff);
	t_le16(p + 2, v >> 16);
}

static unsigned t_get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t t_get32(const uint8_t *p)
{
	return t_get16(p) | (uint32_t)t_get16(p + 2) << 16;
}

static void t_checksum(uint8_t *b)
{
	unsigned sum = 0;

	t_le16(b + 50, 0);
	for (unsigned i = 0; i < 72; i += 2)
		sum += t_get16(b + i);
	t_le16(b + 50, (0x10000 - (sum & 0xffff)) & 0xffff);
}

/* Append an authenticated variable (ASCII name) at *off; returns its header offset. */
static unsigned t_var(uint8_t *b, unsigned *off, uint8_t state, const char *name,
		      const void *data, unsigned len)
{
	unsigned at = *off, ns = 2 * ((unsigned)strlen(name) + 1);

	memset(b + at, 0, 60);
	t_le16(b + at, 0x55aa);
	b[at + 2] = state;
	t_le32(b + at + 4, 7);
	t_le32(b + at + 36, ns);
	t_le32(b + at + 40, len);
	memcpy(b + at + 44, t_global_disk, 16);
	for (unsigned i = 0; i < ns; i += 2)
		t_le16(b + at + 60 + i, i / 2 < strlen(name) ? (uint8_t)name[i / 2] : 0);
	memcpy(b + at + 60 + ns, data, len);
	*off = (at + 60 + ns + len + 3) & ~3u;
	return at;
}

static uint8_t *t_template(unsigned *ret_end)
{
	static const uint8_t fv_guid[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
					     0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
	static const uint8_t auth_guid[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
					       0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
	static const uint8_t ftw_guid[16] = { 0x2b, 0x29, 0x58, 0x9e, 0x68, 0x7c, 0x7d, 0x49,
					      0xa0, 0xce, 0x65, 0x00, 0xfd, 0x9f, 0x1b, 0x95 };
	uint8_t *b = malloc(T_LEN);
	unsigned off = T_FIRST_VAR;

	memset(b, 0xff, T_LEN);
	memset(b, 0, 72);
	memcpy(b + 16, fv_guid, 16);
	t_le32(b + 32, T_LEN);
	memcpy(b + 40, "_FVH", 4);
	t_le32(b + 44, 0x0004feff);
	t_le16(b + 48, 72);
	b[55] = 2;
	t_le32(b + 56, 16);
	t_le32(b + 60, 0x1000);
	t_checksum(b);
	memset(b + T_STORE, 0, 28);
	memcpy(b + T_STORE, auth_guid, 16);
	t_le32(b + T_STORE + 16, T_STORE_END - T_STORE);
	b[T_STORE + 20] = 0x5a;
	b[T_STORE + 21] = 0xfe;
	t_var(b, &off, 0x3c, "Lang", "fra", 3); /* deleted */
	t_var(b, &off, 0x3f, "Lang", "eng", 3);
	t_var(b, &off, 0x3f, "BootOrder", "\x03\x00\x00\x00", 4);
	memset(b + 0x9000, 0, 32);
	memcpy(b + 0x9000, ftw_guid, 16);
	t_le32(b + 0x9000 + 24, 0xfe0);
	*ret_end = off;
	return b;
}

TEST(template_parses)
{
	struct diag d = { 0 };
	struct efivars *v = NULL;
	const struct efivars_var *x;
	unsigned end;
	uint8_t *b = t_template(&end);

	ASSERT_OK(efivars_decode(b, T_LEN, &d, &v));
	ASSERT_TRUE(v->authenticated);
	ASSERT_EQ(v->store_off, T_STORE);
	ASSERT_EQ(v->store_end, T_STORE_END);
	ASSERT_EQ(v->free_off, end);
	ASSERT_EQ(v->n_vars, 3);
	ASSERT_TRUE(!v->vars[0].live && v->vars[1].live && v->vars[2].live);
	ASSERT_TRUE(v->has_ftw);
	ASSERT_EQ(v->ftw_off, 0x9000);
	x = efivars_find(v, efivars_global_guid, "Lang");
	ASSERT_TRUE(x != NULL);
	ASSERT_EQ(x->data_size, 3);
	ASSERT_MEM_EQ(v->buf + x->data_off, "eng", 3);
	ASSERT_STR_EQ(x->name, "Lang");
	efivars_free(v);
	free(b);
}

/* Walk the result with this file's own reader: live variables by name. */
static const uint8_t *t_find(const uint8_t *b, const char *name, unsigned *ret_len,
			     unsigned *ret_n_copies)
{
	const uint8_t *found = NULL;
	unsigned off = T_FIRST_VAR, n = 0;

	while (off + 60 <= T_STORE_END && t_get16(b + off) == 0x55aa) {
		unsigned ns = t_get32(b + off + 36), ds = t_get32(b + off + 40);
		bool match = ns == 2 * (strlen(name) + 1);

		for (unsigned i = 0; match && i < strlen(name); i++)
			match = b[off + 60 + 2 * i] == (uint8_t)name[i];
		if (match && b[off + 2] == 0x3f) {
			found = b + off + 60 + ns;
			*ret_len = ds;
			n++;
		}
		off = (off + 60 + ns + ds + 3) & ~3u;
	}
	*ret_n_copies = n;
	return found;
}

TEST(boot_entry_is_appended_and_old_boot_order_deleted)
{
	struct devpath_hd hd = { .part_number = 1, .start_lba = 16384, .n_lba = 507904 };
	struct diag d = { 0 };
	struct efivars *v = NULL, *w = NULL;
	struct loadopt o;
	const uint8_t *p;
	unsigned end, len, n;
	uint8_t *b = t_template(&end);

	(void)uuid_parse("11111111-2222-3333-4444-555555555555", hd.part_uuid);
	ASSERT_OK(efivars_decode(b, T_LEN, &d, &v));
	uint16_t num = 0xffff;

	ASSERT_OK(efiboot_add(v, &hd, "/EFI/systemd/systemd-bootx64.efi", &d, &num));
	ASSERT_EQ(num, 0);
	ASSERT_EQ(v->len, T_LEN);
	/* the template's bytes before the appended variables: only State bytes change */
	ASSERT_MEM_EQ(v->buf, b, T_FIRST_VAR);
	ASSERT_MEM_EQ(v->buf + T_STORE_END, b + T_STORE_END, T_LEN - T_STORE_END);

	p = t_find(v->buf, "BootOrder", &len, &n);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(n, 1);
	ASSERT_EQ(len, 4);
	ASSERT_MEM_EQ(p, "\x00\x00\x03\x00", 4); /* 0000 first, then the template's 0003 */
	p = t_find(v->buf, "Lang", &len, &n);
	ASSERT_TRUE(p != NULL && n == 1);
	p = t_find(v->buf, "Boot0000", &len, &n);
	ASSERT_TRUE(p != NULL && n == 1);
	ASSERT_OK(loadopt_decode(p, len, &d, &o));
	ASSERT_STR_EQ(o.description, "Linux Boot Manager");
	ASSERT_EQ(o.path_len, 42 + 4 + 2 * 33 + 4);
	ASSERT_EQ(o.path[0], 4);
	ASSERT_EQ(o.path[1], 1);
	ASSERT_EQ(t_get32(o.path + 8), 16384);
	ASSERT_MEM_EQ(o.path + 24, "\x11\x11\x11\x11\x22\x22\x33\x33\x44\x44\x55", 11);
	loadopt_done(&o);

	/* round trip through the parser, then a second touch replaces both variables */
	ASSERT_OK(efivars_decode(v->buf, v->len, &d, &w));
	ASSERT_EQ(w->n_vars, 5);
	ASSERT_EQ(w->free_off, v->free_off);
	ASSERT_OK(efiboot_add(w, &hd, "/EFI/systemd/systemd-bootx64.efi", &d, &num));
	ASSERT_EQ(num, 0); /* the same device path: replaced, as bootctl's find_slot */
	p = t_find(w->buf, "BootOrder", &len, &n);
	ASSERT_TRUE(p != NULL && n == 1);
	ASSERT_MEM_EQ(p, "\x00\x00\x03\x00", 4);
	p = t_find(w->buf, "Boot0000", &len, &n);
	ASSERT_TRUE(p != NULL && n == 1);
	ASSERT_EQ(w->buf[w->vars[3].off + 2], 0x3c); /* the first Boot0000: deleted */
	efivars_free(w);
	efivars_free(v);
	free(b);
}

TEST(another_boot0000_is_kept_and_the_next_free_number_used)
{
	static const uint8_t ui_app[] = { 1, 0, 0, 0, 4, 0, 'U', 0, 0, 0, 0x7f, 0xff, 4, 0 };
	struct devpath_hd hd = { .part_number = 1, .start_lba = 2048, .n_lba = 4096 };
	struct diag d = { 0 };
	struct efivars *v = NULL;
	const uint8_t *p;
	unsigned end, len, n;
	uint16_t num = 0;
	uint8_t *b = t_template(&end);

	t_var(b, &end, 0x3f, "Boot0000", ui_app, sizeof(ui_app));
	ASSERT_OK(efivars_decode(b, T_LEN, &d, &v));
	ASSERT_OK(efiboot_add(v, &hd, "/EFI/systemd/systemd-bootx64.efi", &d, &num));
	ASSERT_EQ(num, 1);
	p = t_find(v->buf, "Boot0000", &len, &n);
	ASSERT_TRUE(p != NULL && n == 1 && len == sizeof(ui_app));
	ASSERT_MEM_EQ(p, ui_app, sizeof(ui_app));
	ASSERT_TRUE(t_find(v->buf, "Boot0001", &len, &n) != NULL && n == 1);
	p = t_find(v->buf, "BootOrder", &len, &n);
	ASSERT_TRUE(p != NULL && n == 1 && len == 6); /* ours first, then the old 0003, 0000 */
	ASSERT_MEM_EQ(p, "\x01\x00\x03\x00\x00\x00", 6);
	efivars_free(v);
	free(b);
}

TEST(full_store_is_enospc)
{
	struct devpath_hd hd = { .part_number = 1 };
	struct diag d = { 0 };
	struct efivars *v = NULL;
	unsigned end;
	uint8_t *b = t_template(&end);

	/* shrink the store to end right after the template's variables */
	t_le32(b + T_STORE + 16, end - T_STORE);
	ASSERT_OK(efivars_decode(b, T_LEN, &d, &v));
	ASSERT_ERR(efiboot_add(v, &hd, "/x.efi", &d, NULL), -ENOSPC);
	ASSERT_TRUE(strstr(d.msg, "do not fit") != NULL);
	efivars_free(v);
	free(b);
}

/* Damage one thing; the decoder must say -EBADMSG and name it. */
static void t_bad(int *_failed, void (*damage)(uint8_t *b, unsigned end), size_t len,
		  const char *field)
{
	struct diag d = { 0 };
	struct efivars *v = NULL;
	unsigned end;
	uint8_t *b = t_template(&end);

	damage(b, end);
	ASSERT_ERR(efivars_decode(b, len, &d, &v), -EBADMSG);
	if (!strstr(d.msg, field))
		TEST_FAIL_("message \"%s\" does not name %s", d.msg, field);
	free(b);
}

static void d_none(uint8_t *b, unsigned end)
{
}
static void d_signature(uint8_t *b, unsigned end)
{
	b[40] = 'X';
	t_checksum(b);
}
static void d_checksum(uint8_t *b, unsigned end)
{
	b[44] ^= 1;
}
static void d_fv_length(uint8_t *b, unsigned end)
{
	t_le32(b + 32, T_LEN + 0x1000);
	t_le32(b + 56, 17);
	t_checksum(b);
}
static void d_block_map(uint8_t *b, unsigned end)
{
	t_le32(b + 56, 15);
	t_checksum(b);
}
static void d_header_length(uint8_t *b, unsigned end)
{
	t_le16(b + 48, 74); /* not a multiple of 4 */
	t_checksum(b);
}
static void d_store_guid(uint8_t *b, unsigned end)
{
	b[T_STORE] ^= 1;
}
static void d_store_size(uint8_t *b, unsigned end)
{
	t_le32(b + T_STORE + 16, T_LEN);
}
static void d_store_state(uint8_t *b, unsigned end)
{
	b[T_STORE + 21] = 0xff;
}
static void d_name_size(uint8_t *b, unsigned end)
{
	t_le32(b + T_FIRST_VAR + 36, 0x7fffffff);
}
static void d_data_size(uint8_t *b, unsigned end)
{
	t_le32(b + T_FIRST_VAR + 40, 0xffffffff);
}
static void d_name_nul(uint8_t *b, unsigned end)
{
	unsigned second = (T_FIRST_VAR + 60 + 10 + 3 + 3) & ~3u;

	b[second + 60 + 8] = 'x'; /* the live "Lang" loses its NUL */
}
static void d_free_space(uint8_t *b, unsigned end)
{
	b[end + 100] = 0;
}
static void d_ftw(uint8_t *b, unsigned end)
{
	t_le32(b + 0x9000 + 24, 0x10000);
}

TEST(hostile_templates_are_refused_naming_the_field)
{
	t_bad(_failed, d_none, 71, "too short");
	t_bad(_failed, d_none, 0x8000, "FvLength");
	t_bad(_failed, d_signature, T_LEN, "Signature is not \"_FVH\"");
	t_bad(_failed, d_checksum, T_LEN, "Checksum");
	t_bad(_failed, d_fv_length, T_LEN, "FvLength");
	t_bad(_failed, d_block_map, T_LEN, "BlockMap");
	t_bad(_failed, d_header_length, T_LEN, "HeaderLength");
	t_bad(_failed, d_store_guid, T_LEN, "variable store: Signature");
	t_bad(_failed, d_store_size, T_LEN, "Size");
	t_bad(_failed, d_store_state, T_LEN, "State");
	t_bad(_failed, d_name_size, T_LEN, "NameSize");
	t_bad(_failed, d_data_size, T_LEN, "DataSize");
	t_bad(_failed, d_name_nul, T_LEN, "NUL-terminated");
	t_bad(_failed, d_free_space, T_LEN, "not erased");
	t_bad(_failed, d_ftw, T_LEN, "WriteQueueSize");
}

TEST(every_truncation_is_refused_or_parsed)
{
	unsigned end;
	uint8_t *b = t_template(&end);

	/* no length may read out of bounds (ASan) or succeed with a cut volume */
	for (size_t len = 0; len < T_LEN; len += 509) {
		struct diag d = { 0 };
		struct efivars *v = NULL;

		ASSERT_ERR(efivars_decode(b, len, &d, &v), -EBADMSG);
	}
	free(b);
}

/* A copy in deleted transition is dead when a completed copy of the same variable exists
 * (before or after it), live otherwise; vendor and name both count. */
TEST(transition_copies_resolve_against_completed_ones)
{
	static const uint8_t other_vendor[16] = { 1, 2, 3 };
	struct diag d = { 0 };
	struct efivars *v = NULL;
	unsigned end, off = T_FIRST_VAR, at;
	uint8_t *b = t_template(&end);

	memset(b + T_FIRST_VAR, 0xff, T_STORE_END - T_FIRST_VAR);
	t_var(b, &off, 0x3e, "A", "1", 1); /* completed copy after it: dead */
	t_var(b, &off, 0x3e, "B", "1", 1); /* none: live */
	t_var(b, &off, 0x3f, "A", "2", 1);
	t_var(b, &off, 0x3f, "C", "2", 1);
	t_var(b, &off, 0x3e, "C", "1", 1); /* completed copy before it: dead */
	at = t_var(b, &off, 0x3e, "B", "2", 1); /* "B" of another vendor: live */
	memcpy(b + at + 44, other_vendor, 16);
	t_var(b, &off, 0x3f, "BB", "2", 1); /* another name */
	ASSERT_OK(efivars_decode(b, T_LEN, &d, &v));
	ASSERT_EQ(v->n_vars, 7);
	ASSERT_TRUE(!v->vars[0].live && v->vars[1].live && v->vars[2].live && v->vars[3].live);
	ASSERT_TRUE(!v->vars[4].live && v->vars[5].live && v->vars[6].live);
	efivars_free(v);
	free(b);
}
