/* The environment a build depends on, read in one place: SOURCE_DATE_EPOCH (file-time clamp and
 * the sinks' timestamp), TMPDIR (grub-mkimage's files), MKDISKIMAGE_SEARCH_ROOT (a tree the
 * default places of loaders and firmware files are looked up in instead of /: tests) and whether
 * stderr is a terminal. */
#include "build/build.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/diag.h"

int build_env_read(struct build_env *ret, struct diag *d)
{
	const char *s = getenv("SOURCE_DATE_EPOCH"), *tmp = getenv("TMPDIR");
	const char *root = getenv("MKDISKIMAGE_SEARCH_ROOT");
	struct build_env env = {
		.stderr_is_tty = isatty(STDERR_FILENO),
		.tmp_dir = tmp && *tmp ? tmp : "/tmp",
		.search_root = root && *root ? root : NULL,
	};
	char *end;

	if (s && *s) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end || v < 0)
			return diag_fail(d, -EINVAL,
					 "SOURCE_DATE_EPOCH=%s: not a number of seconds since 1970", s);
		env.has_epoch = true;
		env.source_date_epoch = v;
	}
	*ret = env;
	return 0;
}
