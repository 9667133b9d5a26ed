#include "format/format.h"

#include <errno.h>
#include <string.h>

#include "format/format-internal.h"
#include "util/diag.h"
#include "util/interrupt.h"



/* Every output format; later formats join this table. */
static const struct format_ops *const formats[] = {
	&format_raw,
	&format_qcow2,
	&format_qcow2_compressed,
	&format_vdi,
	&format_vpc,
};

const struct format_ops *format_find(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

const char *format_names(void)
{
	return "raw, qcow2, qcow2-compressed, vdi, vpc";
}

int sink_open(const struct format_ops *ops, const struct format_params *p, struct outfile *out,
	      struct diag *d, struct sink **ret)
{
	struct sink *s;
	int r;

	r = ops->open(p, out, d, &s);
	if (r < 0)
		return r;
	s->ops = ops;
	s->end = 0;
	s->virtual_size = p->virtual_size;
	s->bytes_written = 0;
	*ret = s;
	return 0;
}

/* Writes go up, inside the disk: anything else is a caller bug. */
static int sink_check(const struct sink *s, uint64_t off, size_t len, struct diag *d)
{
	if (off < s->end)
		return diag_fail(d, -ESPIPE, "internal error: write at %llu below %llu",
				 (unsigned long long)off, (unsigned long long)s->end);
	if (off + len < off || off + len > s->virtual_size)
		return diag_fail(d, -ERANGE, "internal error: write at %llu+%zu past the end %llu",
				 (unsigned long long)off, len,
				 (unsigned long long)s->virtual_size);
	return 0;
}

int sink_write(struct sink *s, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	int r = sink_check(s, off, len, d);

	/* every write is a point where a SIGINT or SIGTERM stops the build (util/interrupt.h) */
	if (r >= 0)
		r = interrupt_check(d);
	if (r < 0)
		return r;
	r = s->ops->write(s, off, buf, len, d);
	if (r < 0)
		return r;
	s->end = off + len;
	s->bytes_written += len;
	return 0;
}

ssize_t sink_copy_from_fd(struct sink *s, uint64_t off, int fd, uint64_t src_off, size_t len,
			  struct diag *d)
{
	ssize_t n;
	int r;

	if (!s->ops->copy_from_fd)
		return -EOPNOTSUPP;
	r = sink_check(s, off, len, d);
	if (r >= 0)
		r = interrupt_check(d);
	if (r < 0)
		return r;
	n = s->ops->copy_from_fd(s, off, fd, src_off, len, d);
	if (n <= 0)
		return n;
	s->end = off + (uint64_t)n;
	s->bytes_written += (uint64_t)n;
	return n;
}

int sink_copy_unsupported(ssize_t err)
{
	return err == -EXDEV || err == -EINVAL || err == -ENOSYS || err == -EOPNOTSUPP;
}

int sink_finish(struct sink *s, struct diag *d)
{
	return s->ops->finish(s, d);
}

void sink_abort(struct sink *s)
{
	if (s)
		s->ops->abort(s);
}
