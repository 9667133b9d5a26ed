#include "format/format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "format/format-internal.h"
#include "util/diag.h"
#include "util/interrupt.h"
#include "util/cleanup.h"



/* Every output format, the one list of their names (the spec's "format", `convert --format`,
 * `build --help`, messages); later formats join this table. */
static const struct format_ops *const formats[] = {
	&format_raw,
	&format_qcow2,
	&format_qcow2_compressed,
	&format_vdi,
	&format_vpc,
	&format_vmdk,
	&format_vhdx,
};

const struct format_ops *const *format_list(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(formats);
	return formats;
}

const struct format_ops *format_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

const struct format_ops *format_from_file_name(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (!dot || (slash && dot < slash))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (strcasecmp(dot + 1, formats[i]->extension) == 0 ||
		    strcasecmp(dot + 1, formats[i]->name) == 0)
			return formats[i];
	return NULL;
}

bool format_accepts(const struct format_ops *f, enum format_option o)
{
	return (f->options & o) != 0;
}

/* The names of the formats accepting want (0: all), joined by ", " and `last` before the
 * last one. */
static const char *format_join(char *buf, size_t size, const char *last, unsigned want)
{
	size_t n = 0, k = 0, len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		n += !want || format_accepts(formats[i], (enum format_option)want);
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		if (want && !format_accepts(formats[i], (enum format_option)want))
			continue;
		len += (size_t)snprintf(buf + len, size - MIN(len, size), "%s%s",
					k == 0 ? "" : k + 1 == n ? last : ", ", formats[i]->name);
		k++;
	}
	return buf;
}

const char *format_names(void)
{
	static char buf[128];

	return format_join(buf, sizeof(buf), ", ", 0);
}

const char *format_names_or(void)
{
	static char buf[128];

	return format_join(buf, sizeof(buf), " or ", 0);
}

const char *format_names_accepting(enum format_option o)
{
	static char buf[128];

	return format_join(buf, sizeof(buf), " or ", o);
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
