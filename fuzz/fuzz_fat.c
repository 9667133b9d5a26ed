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
	uint64_t fs_size = fuzz_fat_size(data, size);

	fuzz_begin(data, size);
	fuzz_check_error(&d, fat_probe(fuzz_buf_read, &b, fs_size, &d, &info));
	return 0;
}
