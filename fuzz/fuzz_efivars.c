/* Fuzzing the UEFI variable store (src/boot/efivars.c, efivars-value.c, loadopt.c, devpath.c):
 * decode the store as a touchEFIVars template or an inspected efi-vars.fd, render every live
 * variable as inspect does, then add the systemd-boot entry as a build does. Inputs of odd
 * size get the volume header checksum recomputed first, so mutations of the header reach the
 * store; even ones keep it as it is. */
#include "fuzz.h"

#include "boot/efiboot.h"
#include "boot/efivars.h"
#include "util/endian.h"

static const struct devpath_hd esp = {
	.part_number = 1,
	.start_lba = 2048,
	.n_lba = 204800,
	.part_uuid = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x81, 0x23, 0x45, 0x67,
		       0x89, 0xab, 0xcd, 0xef },
};

static void fix_fv_checksum(uint8_t *p, size_t len)
{
	uint32_t hlen;
	uint16_t sum = 0;

	if (len < EFIVARS_FV_MIN_SIZE)
		return;
	hlen = le16_get(p + EFIVARS_FV_HEADER_LENGTH);
	if (hlen < EFIVARS_FV_MIN_SIZE || hlen % 2 || hlen > len)
		return;
	le16_put(p + EFIVARS_FV_CHECKSUM, 0);
	for (uint32_t i = 0; i < hlen; i += 2)
		sum = (uint16_t)(sum + le16_get(p + i));
	le16_put(p + EFIVARS_FV_CHECKSUM, (uint16_t)-sum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct efivars *v = NULL;
	struct diag d = { 0 };
	uint8_t *fixed = NULL;
	int r;

	fuzz_begin(data, size);
	if (size % 2) {
		fixed = malloc(size);
		if (!fixed)
			abort();
		memcpy(fixed, data, size);
		fix_fv_checksum(fixed, size);
		data = fixed;
	}
	(void)efivars_probe(data, size);
	r = efivars_decode(data, size, &d, &v);
	free(fixed); /* decode copied it */
	fuzz_check_error(&d, r);
	if (r < 0)
		return 0;
	for (size_t i = 0; i < v->n_vars; i++) {
		struct efivars_value val;
		struct diag vd = { 0 };

		if (!v->vars[i].live)
			continue;
		r = efivars_value_decode(v, &v->vars[i], &vd, &val);
		fuzz_check_error(&vd, r);
		efivars_value_done(&val); /* as inspect does, on success and failure */
	}
	r = efiboot_add(v, &esp, "/EFI/systemd/systemd-bootx64.efi", &d, NULL);
	fuzz_check_error(&d, r);
	efivars_free(v);
	return 0;
}
