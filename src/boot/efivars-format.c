/* An erased variable-store template formatted as the firmware formats it on first boot.
 * Debian ships AAVMF_VARS.fd as 64 MiB of zeros: ArmVirtQemu's VirtNorFlashDxe finds no valid
 * volume header, erases the NV range (variable store, FTW working block, FTW spare: three
 * 256 KiB flash blocks at the start of the second flash bank) and writes the volume and store
 * headers; FaultTolerantWriteDxe then writes the working block header. The bytes below are
 * what that firmware leaves (checked by booting it: tests/integration/boot-aarch64.sh), past
 * the NV range the template is kept. See docs/formats/efivars.md. */
#include "boot/efivars.h"

#include <errno.h>
#include <string.h>

#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/uuid.h"

/* EFI_FVB_ATTRIBUTES_2 of an NV store volume (PI vol. 3 §3.2.1.1). */
#define EFIVARS_FVB_READ_ENABLED_CAP 0x00000002u
#define EFIVARS_FVB_READ_STATUS 0x00000004u
#define EFIVARS_FVB_WRITE_ENABLED_CAP 0x00000010u
#define EFIVARS_FVB_WRITE_STATUS 0x00000020u
#define EFIVARS_FVB_STICKY_WRITE 0x00000200u
#define EFIVARS_FVB_MEMORY_MAPPED 0x00000400u
#define EFIVARS_FVB_ERASE_POLARITY 0x00000800u
#define EFIVARS_FVB_NV_ATTRIBUTES                                                          \
	(EFIVARS_FVB_READ_ENABLED_CAP | EFIVARS_FVB_READ_STATUS |                          \
	 EFIVARS_FVB_WRITE_ENABLED_CAP | EFIVARS_FVB_WRITE_STATUS | EFIVARS_FVB_STICKY_WRITE | \
	 EFIVARS_FVB_MEMORY_MAPPED | EFIVARS_FVB_ERASE_POLARITY)

#define EFIVARS_FTW_VALID 0xfe /* WorkingBlockValid programmed, the rest erased */

/* One platform's NV flash layout: the variable store, working block and spare area sizes. */
struct efivars_layout {
	const char *platform;
	uint64_t file_size;
	uint32_t block, var_size, ftw_working_size, ftw_spare_size;
};

/* ArmVirtQemu (ArmVirtQemu.fdf, VirtNorFlashDxe's 256 KiB QEMU blocks): Debian's AAVMF. */
static const struct efivars_layout efivars_layouts[] = {
	{ "AAVMF (ArmVirtQemu)", 64u << 20, 0x40000, 0x40000, 0x40000, 0x40000 },
};

bool efivars_is_erased(const uint8_t *buf, size_t len)
{
	if (len == 0 || (buf[0] != 0x00 && buf[0] != 0xff))
		return false;
	/* every byte equals the first: compare the buffer with itself shifted by one */
	return memcmp(buf, buf + 1, len - 1) == 0;
}

static void efivars_format_fv(const struct efivars_layout *l, uint8_t *b)
{
	uint32_t fv_len = l->var_size + l->ftw_working_size + l->ftw_spare_size;
	uint16_t sum = 0;

	memset(b, 0, EFIVARS_FV_MIN_SIZE);
	uuid_to_guid(efivars_nv_fv_guid, b + EFIVARS_FV_FS_GUID);
	le64_put(b + EFIVARS_FV_LENGTH, fv_len);
	memcpy(b + EFIVARS_FV_SIGNATURE, "_FVH", 4);
	le32_put(b + EFIVARS_FV_ATTRIBUTES, EFIVARS_FVB_NV_ATTRIBUTES);
	le16_put(b + EFIVARS_FV_HEADER_LENGTH, EFIVARS_FV_MIN_SIZE);
	b[EFIVARS_FV_REVISION] = 2;
	/* VirtNorFlashDxe maps every block of the flash bank, not just the volume's */
	le32_put(b + EFIVARS_FV_BLOCK_MAP, (uint32_t)(l->file_size / l->block));
	le32_put(b + EFIVARS_FV_BLOCK_MAP + 4, l->block);
	for (size_t i = 0; i < EFIVARS_FV_MIN_SIZE; i += 2)
		sum = (uint16_t)(sum + le16_get(b + i));
	le16_put(b + EFIVARS_FV_CHECKSUM, (uint16_t)(0x10000 - sum));
}

static void efivars_format_store(const struct efivars_layout *l, uint8_t *s)
{
	memset(s, 0, EFIVARS_STORE_HDR_SIZE);
	uuid_to_guid(efivars_auth_store_guid, s + EFIVARS_STORE_SIGNATURE);
	le32_put(s + EFIVARS_STORE_SIZE, l->var_size - EFIVARS_FV_MIN_SIZE);
	s[EFIVARS_STORE_FORMAT] = EFIVARS_STORE_FORMATTED;
	s[EFIVARS_STORE_STATE] = EFIVARS_STORE_HEALTHY;
}

/* The header's CRC is taken with Crc and the flag byte erased, then WorkingBlockValid is
 * programmed: FaultTolerantWriteDxe's InitWorkSpaceHeader order. */
static void efivars_format_ftw(const struct efivars_layout *l, uint8_t *w)
{
	uuid_to_guid(efivars_ftw_guid, w + EFIVARS_FTW_SIGNATURE);
	le64_put(w + EFIVARS_FTW_QUEUE, l->ftw_working_size - EFIVARS_FTW_HEADER);
	le32_put(w + EFIVARS_FTW_CRC, crc32_ieee(0, w, EFIVARS_FTW_HEADER));
	w[EFIVARS_FTW_FLAGS] = EFIVARS_FTW_VALID;
}

int efivars_format_erased(uint8_t *buf, size_t len, struct diag *d)
{
	const struct efivars_layout *l = NULL;

	for (size_t i = 0; i < sizeof(efivars_layouts) / sizeof(efivars_layouts[0]); i++)
		if (efivars_layouts[i].file_size == len)
			l = &efivars_layouts[i];
	if (!l)
		return diag_fail(d, -EBADMSG,
				 "an erased variable store of %zu bytes: the firmware formats it "
				 "on first boot, and only %s's %llu MiB layout is known here (use "
				 "a formatted template, e.g. OVMF_VARS.fd)",
				 len, efivars_layouts[0].platform,
				 (unsigned long long)(efivars_layouts[0].file_size >> 20));
	/* the NV range is erased flash; what lies beyond it is kept */
	memset(buf, 0xff, (size_t)l->var_size + l->ftw_working_size + l->ftw_spare_size);
	efivars_format_fv(l, buf);
	efivars_format_store(l, buf + EFIVARS_FV_MIN_SIZE);
	efivars_format_ftw(l, buf + l->var_size);
	return 0;
}
