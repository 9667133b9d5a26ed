/* Fuzzing the swap probe (src/fs/swap/swap.c) and the filesystem probes in inspect's order
 * (fs_probe_any: ext4, vfat, swap): the input is the start of a partition of 4 MiB (or of the
 * input's length when longer), reads past the input return zeros as an image's holes do. */
#include "fuzz.h"

#include "fs/fs.h"
#include "fs/swap/swap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_buf b = { data, size };
	uint64_t part = size > (4u << 20) ? size : 4u << 20;
	struct swap_header h;
	struct fs_probe p;
	struct diag d = { 0 };
	int r;

	fuzz_begin(data, size);
	r = swap_header_probe(fuzz_buf_read, &b, part, &d, &h);
	fuzz_check_error(&d, r);
	if (r == 1 && ((uint64_t)h.last_page + 1) * h.page_size > part)
		abort(); /* the probe promised the area fits */
	d = (struct diag){ 0 };
	r = fs_probe_any(fuzz_buf_read, &b, part, &d, &p);
	fuzz_check_error(&d, r);
	if (r == 1 && (!p.ops || !p.stats.type || strcmp(p.ops->name, p.stats.type) != 0))
		abort(); /* what was found names itself */
	return 0;
}
