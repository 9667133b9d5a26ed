/* Fuzzing the erofs probe (src/fs/erofs/probe.c, super.c): the input is the start of a
 * partition of 4 MiB (or of the input's length when longer); reads past the input return
 * zeros as an image's holes do. */
#include "fuzz.h"

#include "fs/erofs/erofs.h"
#include "fs/erofs/probe.h"
#include "fs/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_buf b = { data, size };
	uint64_t part = size > (4u << 20) ? size : 4u << 20;
	struct erofs_super s;
	struct fs_probe p;
	struct diag d = { 0 };
	int r;

	fuzz_begin(data, size);
	r = erofs_probe(fuzz_buf_read, &b, part, &d, &s);
	fuzz_check_error(&d, r);
	if (r == 1 && ((uint64_t)s.blocks << s.blkszbits) > part)
		abort(); /* the probe promised the filesystem fits */
	if (r == 1 && strlen(s.volume_name) > 16)
		abort();
	d = (struct diag){ 0 };
	r = fs_probe_any(fuzz_buf_read, &b, part, &d, &p);
	fuzz_check_error(&d, r);
	if (r == 1 && (!p.ops || !p.stats.type || strcmp(p.ops->name, p.stats.type) != 0))
		abort();
	return 0;
}
