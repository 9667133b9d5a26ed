/* The streaming copy loop of `convert`: reader ranges → non-zero runs → sink_write. */
#include "format/copy.h"

#include "format/format.h"
#include "format/reader.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

int format_copy_nonzero(struct sink *s, uint64_t off, const uint8_t *buf, size_t len,
			struct diag *d)
{
	size_t i = 0;

	while (i < len) {
		size_t start, n;

		for (; i < len; i += n) {
			n = len - i < FORMAT_COPY_BLOCK ? len - i : FORMAT_COPY_BLOCK;
			if (!mem_is_zero(buf + i, n))
				break;
		}
		start = i;
		for (; i < len; i += n) {
			n = len - i < FORMAT_COPY_BLOCK ? len - i : FORMAT_COPY_BLOCK;
			if (mem_is_zero(buf + i, n))
				break;
		}
		if (i > start) {
			int r = sink_write(s, off + start, buf + start, i - start, d);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

int format_copy(struct image_input *in, struct sink *out, const struct format_copy_progress *prog,
		struct diag *d)
{
	_cleanup_free_ uint8_t *buf = xmalloc(FORMAT_COPY_CHUNK);
	uint64_t size = in->reader->virtual_size, off = 0, start, len;
	int r;

	for (;;) {
		r = image_input_next_data(in, off, &start, &len, d);
		if (r < 0)
			return r;
		if (len == 0)
			break;
		for (uint64_t pos = start; pos < start + len;) {
			/* chunks end on 1 MiB boundaries, so clusters see whole writes */
			uint64_t end = (pos / FORMAT_COPY_CHUNK + 1) * FORMAT_COPY_CHUNK;
			size_t n;

			if (end > start + len)
				end = start + len;
			n = (size_t)(end - pos);
			r = interrupt_check(d); /* zero chunks reach no sink_write */
			if (r < 0)
				return r;
			r = image_input_read(in, pos, buf, n, d);
			if (r < 0)
				return r;
			r = format_copy_nonzero(out, pos, buf, n, d);
			if (r < 0)
				return r;
			pos = end;
			if (prog && prog->update)
				prog->update(prog->ctx, pos, size, 0);
		}
		off = start + len;
	}
	return 0;
}
