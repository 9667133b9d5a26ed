/* Fuzzing the FAT probe (src/fs/fat/probe.c): the input is the start of a filesystem whose
 * size is given by the BPB's total sectors (so the probe reaches the FAT and FSInfo), reads
 * past the input return zeros as an image's holes do. */
#include "fuzz.h"

#include "fs/fat/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_buf b = { data, size };
	struct fat_probe_info info;
	struct diag d = { 0 };
	uint64_t fs_size = size;

	fuzz_begin(data, size);
	/* BPB_TotSec16 at 19, BPB_TotSec32 at 32, BPB_BytsPerSec at 11 */
	if (size >= 36) {
		uint64_t sec = data[19] | data[20] << 8;

		if (!sec)
			sec = data[32] | data[33] << 8 | data[34] << 16 | (uint64_t)data[35] << 24;
		fs_size = sec * (uint64_t)(data[11] | data[12] << 8);
	}
	fuzz_check_error(&d, fat_probe(fuzz_buf_read, &b, fs_size, &d, &info));
	return 0;
}
