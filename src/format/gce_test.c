#include "format/format-internal.h"
#include "format/format-test.h"
#include "util/cleanup.h"
#include "util/test.h"

#define MIB (1u << 20)
#define VSIZE (2 * MIB)

/* The last write ends inside a 512-byte block: the map widens it to the whole block, which the
 * temporary data file must hold as zeros (a NixOS store's last file did not, issue #16). */
static const struct ftest_range unaligned_end[] = {
	{ 0, 1000, false },
	{ MIB + 10, 1000, false },
};

TEST(gce_last_write_ending_inside_a_block)
{
	char *dir = ftest_tmpdir("gce");
	char path[256], raw[256], out[256];
	struct format_params p = { .virtual_size = VSIZE, .seed = "s", .timestamp = 1234 };
	struct diag d = { 0 };

	snprintf(path, sizeof(path), "%s/x.raw.tar.gz", dir);
	snprintf(raw, sizeof(raw), "%s/x.raw", dir);
	ASSERT_OK(ftest_write(&format_gce, &p, path, raw, unaligned_end,
			      ARRAY_SIZE(unaligned_end), &d));
	ASSERT_OK(ftest_reader_equals_raw(&reader_gce, path, raw, VSIZE, &d));
	/* GNU tar, the independent reader: disk.raw is the raw image */
	char *tar[] = { "tar", "-xzf", path, "-C", dir, NULL };
	int r = ftest_run(tar, NULL, 0);

	if (r != -ENOENT) {
		ASSERT_EQ(r, 0);
		snprintf(out, sizeof(out), "%s/disk.raw", dir);
		char *cmp[] = { "cmp", raw, out, NULL };
		ASSERT_EQ(ftest_run(cmp, NULL, 0), 0);
	}
	char *rm[] = { "rm", "-rf", dir, NULL };
	(void)ftest_run(rm, NULL, 0);
}
