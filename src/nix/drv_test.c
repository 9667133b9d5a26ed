#include "nix/nix.h"

#include "util/test.h"

TEST(nix_drv_outputs_sorted_with_paths_only)
{
	/* shaped as nix-bin 2.8 writes a .drv; "doc" is a floating content-addressed output */
	static const char drv[] =
		"Derive([(\"out\",\"/nix/store/iabj54fp0sajvfc7f0bk296cl4xbvxk9-p\",\"\",\"\"),"
		"(\"dev\",\"/nix/store/0a0w4hkc0v3vfd0afhz4crsj7a48sx3l-p-dev\",\"\",\"\"),"
		"(\"doc\",\"\",\"r:sha256\",\"\")],"
		"[(\"/nix/store/m79z44n5d47bqxzkdymd10r8kj3hmi9y-q.drv\",[\"out\"])],[],"
		"\"x86_64-linux\",\"/bin/sh\",[\"-c\",\"echo \\\"hi\\\"\\n\"],[(\"out\",\"x\")])";
	struct nix_drv_output *o = NULL;
	size_t n = 0;

	ASSERT_OK(nix_drv_parse_outputs(drv, sizeof(drv) - 1, &o, &n));
	ASSERT_EQ(n, 2);
	ASSERT_STR_EQ(o[0].name, "dev");
	ASSERT_STR_EQ(o[0].path, "/nix/store/0a0w4hkc0v3vfd0afhz4crsj7a48sx3l-p-dev");
	ASSERT_STR_EQ(o[1].name, "out");
	nix_drv_outputs_free(o, n);
}

TEST(nix_drv_escapes_in_output_names)
{
	static const char drv[] = "Derive([(\"o\\\"u\\\\t\",\"/nix/store/x-p\",\"\",\"\")],[])";
	struct nix_drv_output *o = NULL;
	size_t n = 0;

	ASSERT_OK(nix_drv_parse_outputs(drv, sizeof(drv) - 1, &o, &n));
	ASSERT_EQ(n, 1);
	ASSERT_STR_EQ(o[0].name, "o\"u\\t");
	nix_drv_outputs_free(o, n);
}

TEST(nix_drv_rejects_malformed)
{
	static const char *const bad[] = {
		"",
		"Derive(",
		"Derive([(\"out\",\"/nix/store/x\",\"\")])",
		"Derive([(\"out\",\"/nix/store/x\",\"\",\"\")",
		"Derive([(\"out\",\"/nix/store/x\",\"\",\"\")(\"a\",\"/b\",\"\",\"\")])",
		"Derive([(\"out\",\"/nix/store/x\",\"\",\"\"),"
		"(\"out\",\"/nix/store/y\",\"\",\"\")])",
		"Derive([(\"out\",\"/nix/store/x\\",
		"{\"out\": 1}",
	};
	struct nix_drv_output *o = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ERR(nix_drv_parse_outputs(bad[i], strlen(bad[i]), &o, &n), -EBADMSG);
}
