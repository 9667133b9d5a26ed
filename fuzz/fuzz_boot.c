/* Fuzzing what inspect and boot-test read to say what an image boots with (src/boot/detect.c,
 * src/fs/fat/read.c): the input is an ESP (a FAT filesystem, as fuzz_fat) at sector 0 of a
 * one-partition GPT disk, so its boot sector is also the MBR that detect_bios reads; reads past
 * the input return zeros. The module-area, LoaderInfo, config and core.img-prefix parsers
 * also get the raw input (the corpus has a grub-mkimage i386-pc core.img). */
#include "fuzz.h"

#include <stdlib.h>

#include "boot/detect.h"
#include "part/part.h"
#include "part/types.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_buf b = { data, size };
	struct part_probe_entry e = { .number = 1 };
	struct part_probe p = { .kind = PART_PROBE_GPT, .parts = &e, .n_parts = 1 };
	struct boot_info *info = xcalloc(1, sizeof(*info));
	struct diag d = { 0 };
	uint64_t fs_size = fuzz_fat_size(data, size);
	char out[128];

	fuzz_begin(data, size);
	part_type_uuid(PART_ROLE_ESP, PART_ARCH_X86_64, false, e.type_uuid);
	e.n_lba = (fs_size + 511) / 512;
	p.disk_bytes = e.n_lba * 512 + 512;
	fuzz_check_error(&d, boot_detect(fuzz_buf_read, &b, p.disk_bytes, &p, &d, info));
	(void)boot_detect_check(info, "fuzz.img", true, false, NULL, &p, &d);
	for (size_t i = 0; i < info->n_entries; i++)
		(void)boot_entry_is_default(info, i);
	(void)boot_detect_check(info, "fuzz.img", false, false, NULL, &p, &d);
	(void)boot_grub_prefix(data, size, out, sizeof(out));
	(void)boot_sdboot_version(data, size, out, sizeof(out));
	(void)boot_conf_value((const char *)data, size, "title", out, sizeof(out));
	(void)boot_grub_root_uuid(data, size, out, sizeof(out));
	{
		char uuid[64];

		(void)boot_grub_core_prefix(data, size, out, sizeof(out), uuid, sizeof(uuid), &d);
	}
	free(info);
	return 0;
}
