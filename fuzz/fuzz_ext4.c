/* Fuzzing the ext4 superblock probe (src/fs/ext4/probe.c): the input is the superblock,
 * zero-padded or cut to its 1024 bytes. */
#include "fuzz.h"

#include "fs/ext4/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sb[EXT4_PROBE_SB_SIZE] = { 0 };
	struct ext4_probe_info info;
	struct diag d = { 0 };

	fuzz_begin(data, size);
	memcpy(sb, data, size < sizeof(sb) ? size : sizeof(sb));
	fuzz_check_error(&d, ext4_probe(sb, &d, &info));
	return 0;
}
