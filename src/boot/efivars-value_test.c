/* efivars-value.c: Boot#### and BootOrder decoded from a store efiboot_add filled (an erased
 * AAVMF template, formatted), and every malformed value refused naming it, never read past. */
#include "boot/efivars.h"

#include <stdlib.h>

#include "boot/efiboot.h"
#include "boot/loadopt.h"
#include "util/diag.h"
#include "util/test.h"

#define T_SIZE (64u << 20)

static void t_store(int *_failed, struct efivars **ret)
{
	uint8_t *b = calloc(1, T_SIZE);
	struct efivars *v = NULL;
	struct diag d = { 0 };
	struct devpath_hd hd = { .part_number = 1, .start_lba = 0x800, .n_lba = 0x7c000 };

	for (int i = 0; i < 16; i++)
		hd.part_uuid[i] = (uint8_t)(0x10 + i);
	ASSERT_TRUE(b);
	ASSERT_OK(efivars_format_erased(b, T_SIZE, &d));
	ASSERT_OK(efivars_decode(b, T_SIZE, &d, &v));
	free(b);
	ASSERT_OK(efiboot_add(v, &hd, "/EFI/systemd/systemd-bootaa64.efi", &d, NULL));
	*ret = v;
}

TEST(boot_entry_and_order_are_decoded)
{
	struct efivars *v = NULL;
	struct efivars_value val;
	struct diag d = { 0 };
	const struct efivars_var *x;

	t_store(_failed, &v);
	ASSERT_TRUE(v != NULL);
	x = efivars_find(v, efivars_global_guid, "Boot0000");
	ASSERT_TRUE(x != NULL);
	ASSERT_OK(efivars_value_decode(v, x, &d, &val));
	ASSERT_EQ(val.kind, EFIVARS_VALUE_LOAD_OPTION);
	ASSERT_STR_EQ(val.description, "Linux Boot Manager");
	ASSERT_STR_EQ(val.path, "HD(1,GPT,10111213-1415-1617-1819-1a1b1c1d1e1f,0x800,0x7c000)/"
				"\\EFI\\systemd\\systemd-bootaa64.efi");
	ASSERT_EQ(val.attributes, 1);
	ASSERT_EQ(val.optional_len, 0);
	efivars_value_done(&val);

	x = efivars_find(v, efivars_global_guid, "BootOrder");
	ASSERT_TRUE(x != NULL);
	ASSERT_OK(efivars_value_decode(v, x, &d, &val));
	ASSERT_EQ(val.kind, EFIVARS_VALUE_ORDER);
	ASSERT_EQ(val.n_order, 1);
	ASSERT_EQ(val.order[0], 0);
	efivars_value_done(&val);
	efivars_free(v);
}

/* Every prefix of a good load option as Boot0001, and odd-sized lists: decoded or refused with
 * -EBADMSG; under ASan nothing is read past the variable's data. */
TEST(malformed_values_are_refused)
{
	struct efivars *v = NULL;
	const struct efivars_var *x;
	uint8_t *good;
	uint32_t len;
	struct efivars_value val;
	struct diag d = { 0 };
	int r;

	t_store(_failed, &v);
	ASSERT_TRUE(v != NULL);
	x = efivars_find(v, efivars_global_guid, "Boot0000");
	len = x->data_size;
	good = malloc(len);
	memcpy(good, v->buf + x->data_off, len);
	for (uint32_t n = 0; n < len; n++) {
		ASSERT_OK(efivars_set(v, efivars_global_guid, "Boot0001", 7, good, n, &d));
		x = efivars_find(v, efivars_global_guid, "Boot0001");
		r = efivars_value_decode(v, x, &d, &val);
		if (r < 0) {
			ASSERT_ERR(r, -EBADMSG);
			ASSERT_TRUE(strstr(d.msg, "load option") != NULL);
		} else
			ASSERT_EQ(val.kind, EFIVARS_VALUE_LOAD_OPTION);
		efivars_value_done(&val);
	}
	free(good);

	ASSERT_OK(efivars_set(v, efivars_global_guid, "BootOrder", 7, "\0\0\1", 3, &d));
	x = efivars_find(v, efivars_global_guid, "BootOrder");
	ASSERT_ERR(efivars_value_decode(v, x, &d, &val), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "BootOrder: 3 bytes") != NULL);
	efivars_value_done(&val);
	ASSERT_OK(efivars_set(v, efivars_global_guid, "Timeout", 7, "\5", 1, &d));
	x = efivars_find(v, efivars_global_guid, "Timeout");
	ASSERT_ERR(efivars_value_decode(v, x, &d, &val), -EBADMSG);
	efivars_value_done(&val);
	/* a Boot0000 under another vendor is just data */
	ASSERT_OK(efivars_set(v, efivars_auth_store_guid, "Boot0000", 7, "x", 1, &d));
	x = efivars_find(v, efivars_auth_store_guid, "Boot0000");
	ASSERT_OK(efivars_value_decode(v, x, &d, &val));
	ASSERT_EQ(val.kind, EFIVARS_VALUE_OTHER);
	efivars_value_done(&val);
	efivars_free(v);
}

/* A device path without an End node: the message names the option by its description, which
 * used to be freed first and printed as "(null)" (seen writing fuzz_efivars, whose message
 * check now refuses "(null)"). */
TEST(bad_device_path_names_the_option)
{
	static const uint8_t path[] = { 0x04, 0x04, 0x06, 0x00, 'A', 0x00 };
	struct efivars *v = NULL;
	const struct efivars_var *x;
	struct efivars_value val;
	struct diag d = { 0 };
	uint8_t *opt = NULL;
	size_t len;

	t_store(_failed, &v);
	ASSERT_TRUE(v != NULL);
	ASSERT_OK(loadopt_encode("Broken", path, sizeof(path), &d, &opt, &len));
	ASSERT_OK(efivars_set(v, efivars_global_guid, "Boot0002", 7, opt, len, &d));
	x = efivars_find(v, efivars_global_guid, "Boot0002");
	ASSERT_ERR(efivars_value_decode(v, x, &d, &val), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "load option \"Broken\": device path") == d.msg);
	efivars_value_done(&val);
	free(opt);
	efivars_free(v);
}

TEST(numbered_names_are_four_uppercase_hex_digits)
{
	ASSERT_EQ(efivars_numbered("Boot0000", "Boot"), 0);
	ASSERT_EQ(efivars_numbered("Boot00A1", "Boot"), 0xa1);
	ASSERT_EQ(efivars_numbered("Driver0010", "Driver"), 0x10);
	ASSERT_EQ(efivars_numbered("Boot00a1", "Boot"), -EINVAL);
	ASSERT_EQ(efivars_numbered("Boot000", "Boot"), -EINVAL);
	ASSERT_EQ(efivars_numbered("Boot00000", "Boot"), -EINVAL);
	ASSERT_EQ(efivars_numbered("BootOrder", "Boot"), -EINVAL);
}
