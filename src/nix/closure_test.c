#include "nix/nix.h"

#include <stdlib.h>

#include "util/diag.h"
#include "util/test.h"

#define A "/nix/store/0a0w4hkc0v3vfd0afhz4crsj7a48sx3l-a"
#define B "/nix/store/1b1lnw2vgv79dgwrbmghxlbh6ybwlryh-b c"
#define DRV "/nix/store/9kgc4kbilwricwa5g0y66zbnxkz66hkr-a.drv"
#define H32 "sha256:000zvdhrgyfq1ghj1v9sp80x97vzgbc2a33zrwx4dn6ysxzgjd7j"
#define H16 "1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13"

static const char store_paths[] = B "\n" A "\n";
/* as closureInfo writes it: deriver empty, a self-reference, records in path order */
static const char registration[] = A "\n" H32 "\n120\n\n1\n" A "\n"
				   B "\n" H16 "\n4096\n" DRV "\n2\n" B "\n" A "\n";

static int parse(const char *sp, const char *reg, struct diag *d, struct nix_closure **ret)
{
	return nix_closure_parse(sp, strlen(sp), reg, strlen(reg), "ci", d, ret);
}

TEST(nix_closure_parses_closure_info)
{
	struct nix_closure *c = NULL;
	struct diag d = { 0 };

	ASSERT_OK(parse(store_paths, registration, &d, &c));
	ASSERT_EQ(c->n_paths, 2);
	ASSERT_STR_EQ(c->paths[0].path, A);
	ASSERT_STR_EQ(c->paths[1].path, B);
	ASSERT_EQ(c->paths[0].nar_size, 120);
	ASSERT_EQ(c->paths[0].nar_hash[0], 0xf2);
	ASSERT_EQ(c->paths[1].nar_hash[0], 0x1c);
	ASSERT_TRUE(c->paths[0].deriver == NULL);
	ASSERT_STR_EQ(c->paths[1].deriver, DRV);
	ASSERT_EQ(c->paths[0].n_refs, 1);
	ASSERT_EQ(c->paths[0].refs[0], 0);
	ASSERT_EQ(c->paths[1].n_refs, 2);
	ASSERT_EQ(c->paths[1].refs[0], 0); /* sorted by index */
	ASSERT_EQ(c->paths[1].refs[1], 1);
	ASSERT_EQ(nix_closure_find(c, B, strlen(B)), 1);
	ASSERT_ERR(nix_closure_find(c, A "x", strlen(A) + 1), -ENOENT);
	ASSERT_STR_EQ(nix_path_name(A), "0a0w4hkc0v3vfd0afhz4crsj7a48sx3l-a");
	nix_closure_free(c);
}

TEST(nix_closure_empty)
{
	struct nix_closure *c = NULL;
	struct diag d = { 0 };

	ASSERT_OK(parse("", "", &d, &c));
	ASSERT_EQ(c->n_paths, 0);
	nix_closure_free(c);
}

static void expect_fail(int *_failed, const char *sp, const char *reg, const char *msg)
{
	struct nix_closure *c = NULL;
	struct diag d = { 0 };

	ASSERT_ERR(parse(sp, reg, &d, &c), -EBADMSG);
	ASSERT_TRUE(c == NULL);
	if (!strstr(diag_message(&d, -EBADMSG), msg))
		TEST_FAIL_("message \"%s\" lacks \"%s\"", diag_message(&d, -EBADMSG), msg);
}

TEST(nix_closure_rejects_bad_input)
{
	/* truncated after the reference count */
	expect_fail(_failed, store_paths,
		    A "\n" H32 "\n120\n\n1\n" A "\n" B "\n" H16 "\n4096\n\n2\n" B "\n",
		    "ci/registration: truncated in the record of " B);
	expect_fail(_failed, A "\n", A "\n" H32 "\n1\n\n0\n" B "\n" H32 "\n1\n\n0\n",
		    "registers " B ", which store-paths does not list");
	expect_fail(_failed, A "\n" A "\n", "", "ci/store-paths: " A " is listed twice");
	expect_fail(_failed, store_paths, A "\n" H32 "\n120\n\n0\n" A "\n" H32 "\n120\n\n0\n",
		    A " is registered twice");
	expect_fail(_failed, store_paths, A "\n" H32 "\n120\n\n0\n", B " (in store-paths) is not "
		    "registered");
	expect_fail(_failed, A "\n", A "\nsha256:xyz\n1\n\n0\n", "narHash \"sha256:xyz\"");
	expect_fail(_failed, A "\n", A "\n" H32 "\n1x\n\n0\n", "narSize \"1x\"");
	expect_fail(_failed, A "\n", A "\n" H32 "\n1\n\n1\n" B "\n", "references " B);
	expect_fail(_failed, "/usr/bin\n", "", "\"/usr/bin\" is not a path in /nix/store");
	expect_fail(_failed, "/nix/store/..\n", "", "is not a path");
}
