#include "boot/loadopt.h"

#include <stdlib.h>

#include "boot/devpath.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"

TEST(load_option_layout_and_round_trip)
{
	struct devpath_hd hd = { .part_number = 1, .start_lba = 0x4000, .n_lba = 0x7c000 };
	struct diag d = { 0 };
	struct loadopt o;
	uint8_t *path = NULL, *opt = NULL;
	size_t path_len = 0, len = 0;
	const char *desc = "Linux Boot Manager";
	size_t dlen = 2 * (strlen(desc) + 1);

	ASSERT_OK(uuid_parse("01234567-89ab-cdef-0123-456789abcdef", hd.part_uuid));
	ASSERT_OK(devpath_esp_file(&hd, "/EFI/systemd/systemd-bootx64.efi", &d, &path, &path_len));
	ASSERT_OK(loadopt_encode(desc, path, path_len, &d, &opt, &len));
	ASSERT_EQ(len, 6 + dlen + path_len);
	ASSERT_MEM_EQ(opt, "\x01\x00\x00\x00", 4); /* LOAD_OPTION_ACTIVE */
	ASSERT_EQ(opt[4] | opt[5] << 8, path_len);
	ASSERT_MEM_EQ(opt + 6, "L\0i\0n\0u\0x\0 \0B\0", 14);
	ASSERT_MEM_EQ(opt + 6 + dlen - 2, "\0\0", 2);
	ASSERT_MEM_EQ(opt + 6 + dlen, path, path_len);

	ASSERT_OK(loadopt_decode(opt, len, &d, &o));
	ASSERT_EQ(o.attributes, 1);
	ASSERT_STR_EQ(o.description, desc);
	ASSERT_EQ(o.path_len, path_len);
	ASSERT_EQ(o.optional_len, 0);
	ASSERT_TRUE(o.path == opt + 6 + dlen);
	loadopt_done(&o);

	ASSERT_ERR(loadopt_decode(opt, len - 1, &d, &o), -EBADMSG); /* path past the end */
	ASSERT_TRUE(strstr(d.msg, "FilePathListLength") != NULL);
	ASSERT_ERR(loadopt_decode(opt, 20, &d, &o), -EBADMSG); /* description cut */
	ASSERT_TRUE(strstr(d.msg, "Description") != NULL);
	ASSERT_ERR(loadopt_decode(opt, 3, &d, &o), -EBADMSG);
	free(opt);
	free(path);
}
