/* Fuzzing the GPT/MBR probe (src/part/probe.c): the input is the start of a disk whose size
 * is the input's; reads past it fail as a short image's would. */
#include "fuzz.h"

#include <errno.h>

#include "part/part.h"

struct buf {
	const uint8_t *p;
	size_t len;
};

static int buf_read(void *ctx, void *out, size_t len, uint64_t off, struct diag *d)
{
	const struct buf *b = ctx;

	if (off > b->len || len > b->len - off)
		return diag_fail(d, -EIO, "read of %zu bytes at %llu past the end", len,
				 (unsigned long long)off);
	memcpy(out, b->p + off, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = { data, size };
	struct part_probe *l = NULL;
	struct diag d = { 0 };
	int r;

	fuzz_begin(data, size);
	r = part_probe_io(&(struct part_probe_io){ buf_read, &b }, size, &d, &l);
	fuzz_check_error(&d, r);
	if (r == 0)
		for (size_t i = 0; i < l->n_parts; i++)
			(void)part_type_name(l->parts[i].type_uuid);
	part_probe_free(l);
	return 0;
}
