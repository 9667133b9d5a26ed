#include "format/format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
	&format_gce,
	&format_ova,
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

/* Whether the file name (after its last slash) ends in "." ext, case-insensitively; the
 * length of the name before that dot in *ret_stem. */
static bool name_has_ext(const char *path, const char *ext, size_t *ret_stem)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	size_t n = strlen(name), e = strlen(ext);

	if (n < e + 2 || name[n - e - 1] != '.' || strcasecmp(name + n - e, ext) != 0)
		return false;
	*ret_stem = (size_t)(name - path) + n - e - 1;
	return true;
}

static const struct {
	const char *ext;
	enum format_file_compress type;
} compress_exts[] = {
	{ "zst", FORMAT_FILE_COMPRESS_ZSTD },
	{ "gz", FORMAT_FILE_COMPRESS_GZIP },
	{ "xz", FORMAT_FILE_COMPRESS_XZ },
};

/* The format whose extension or name ends path ("disk.raw.tar.gz": gce, whose extension is
 * the longest match). */
static const struct format_ops *format_by_ext(const char *path)
{
	const struct format_ops *best = NULL;
	size_t best_len = 0, stem;

	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		const char *names[] = { formats[i]->extension, formats[i]->name };

		for (size_t k = 0; k < ARRAY_SIZE(names); k++)
			if (name_has_ext(path, names[k], &stem) && strlen(names[k]) > best_len) {
				best = formats[i];
				best_len = strlen(names[k]);
			}
	}
	return best;
}

const struct format_ops *format_from_file_name(const char *path)
{
	const struct format_ops *f = format_by_ext(path);
	size_t stem;

	if (f)
		return f;
	/* "nixos.img.zst": a format that takes whole-file compression, compressed */
	for (size_t i = 0; i < ARRAY_SIZE(compress_exts); i++) {
		if (!name_has_ext(path, compress_exts[i].ext, &stem))
			continue;
		_cleanup_free_ char *base = strndup(path, stem);

		if (!base)
			abort();
		f = format_by_ext(base);
		return f && format_accepts(f, FORMAT_OPT_FILE_COMPRESS) ? f : NULL;
	}
	return NULL;
}

enum format_file_compress format_file_compress_from_name(const char *path)
{
	size_t stem;

	for (size_t i = 0; i < ARRAY_SIZE(compress_exts); i++)
		if (name_has_ext(path, compress_exts[i].ext, &stem)) {
			const struct format_ops *f = format_from_file_name(path);

			if (f && format_accepts(f, FORMAT_OPT_FILE_COMPRESS))
				return compress_exts[i].type;
		}
	return FORMAT_FILE_COMPRESS_NONE;
}

const char *format_file_compress_ext(enum format_file_compress c)
{
	for (size_t i = 0; i < ARRAY_SIZE(compress_exts); i++)
		if (compress_exts[i].type == c)
			return compress_exts[i].ext;
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
	if (!s->ops)
		s->ops = ops; /* else the format chose other ops (raw --compress) */
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
