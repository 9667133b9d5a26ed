/* Fuzzing the GPT/MBR probe (src/part/probe.c): the input is a disk of its own size; reads
 * past it fail as a short image's would. Inputs of odd size get their GPT CRCs (both headers
 * and arrays) recomputed first, so mutations reach the entries; even ones keep them as they
 * are, for the CRC checks themselves. */
#include "fuzz.h"

#include <errno.h>

#include "part/part.h"
#include "util/crc.h"
#include "util/endian.h"

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

/* GPT header fields (UEFI 2.10 §5.3.2) */
static void fix_gpt_crcs(uint8_t *p, size_t len, uint64_t off)
{
	uint64_t entries, bytes;
	uint32_t hsize;

	if (off > len || len - off < 92)
		return;
	hsize = le32_get(p + off + 12);
	if (hsize < 92 || hsize > 512 || hsize > len - off)
		return;
	entries = le64_get(p + off + 72);
	bytes = (uint64_t)le32_get(p + off + 80) * le32_get(p + off + 84);
	if (entries <= len / 512 && bytes <= len - entries * 512)
		le32_put(p + off + 88, crc32_ieee(0, p + entries * 512, bytes));
	le32_put(p + off + 16, 0);
	le32_put(p + off + 16, crc32_ieee(0, p + off, hsize));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = { data, size };
	struct part_probe *l = NULL;
	struct diag d = { 0 };
	uint8_t *fixed = NULL;
	int r;

	fuzz_begin(data, size);
	if (size % 2 && size >= 1024) {
		fixed = malloc(size);
		if (!fixed)
			abort();
		memcpy(fixed, data, size);
		fix_gpt_crcs(fixed, size, 512);
		fix_gpt_crcs(fixed, size, (size / 512 - 1) * 512);
		b.p = fixed;
	}
	r = part_probe_io(&(struct part_probe_io){ buf_read, &b }, size, &d, &l);
	fuzz_check_error(&d, r);
	if (r == 0)
		for (size_t i = 0; i < l->n_parts; i++)
			(void)part_type_name(l->parts[i].type_uuid);
	part_probe_free(l);
	free(fixed);
	return 0;
}
