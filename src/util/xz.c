#include "util/xz.h"

#include <errno.h>
#include <lzma.h>

#include "util/diag.h"

int xz_lzma1_decode(const struct xz_lzma1 *o, const uint8_t *in, size_t in_len, uint8_t *out,
		    size_t out_len, struct diag *d)
{
	lzma_options_lzma opt = { 0 };
	lzma_filter filters[2];
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret ret;

	if (o->dict_size > (64u << 20) || o->lc > 4 || o->lp > 4 || o->pb > 4)
		return diag_fail(d, -EINVAL, "LZMA: unsupported properties");
	if (lzma_lzma_preset(&opt, 0))
		return diag_fail(d, -EINVAL, "LZMA: no preset");
	opt.dict_size = o->dict_size < LZMA_DICT_SIZE_MIN ? LZMA_DICT_SIZE_MIN : o->dict_size;
	opt.lc = o->lc;
	opt.lp = o->lp;
	opt.pb = o->pb;
	filters[0] = (lzma_filter){ .id = LZMA_FILTER_LZMA1, .options = &opt };
	filters[1] = (lzma_filter){ .id = LZMA_VLI_UNKNOWN };
	if (lzma_raw_decoder(&s, filters) != LZMA_OK)
		return diag_fail(d, -EINVAL, "LZMA: cannot start the decoder");
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = out;
	s.avail_out = out_len;
	/* no end marker: run until the output is full; every call consumes input or produces
	 * output, or reports an error, so this ends */
	do
		ret = lzma_code(&s, LZMA_RUN);
	while (ret == LZMA_OK && s.avail_out > 0 && s.avail_in > 0);
	if (s.avail_out > 0 && ret == LZMA_OK)
		ret = lzma_code(&s, LZMA_FINISH);
	lzma_end(&s);
	if (s.avail_out > 0)
		return diag_fail(d, -EBADMSG, "LZMA stream %s after %zu of %zu bytes",
				 ret == LZMA_OK || ret == LZMA_STREAM_END || ret == LZMA_BUF_ERROR
					 ? "ends" : "is corrupt",
				 out_len - s.avail_out, out_len);
	return 0;
}
