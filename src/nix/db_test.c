/* db.sqlite bytes: a SQLite 3 file with 4096-byte pages, the same for the same closure. Real
 * Nix reading it back is tests/integration/nix-store.sh. */
#include "nix/nix.h"

#include <stdlib.h>

#include "util/diag.h"
#include "util/endian.h"
#include "util/test.h"

#define A "/nix/store/0a0w4hkc0v3vfd0afhz4crsj7a48sx3l-a"
#define B "/nix/store/1b1lnw2vgv79dgwrbmghxlbh6ybwlryh-b"
#define H "sha256:000zvdhrgyfq1ghj1v9sp80x97vzgbc2a33zrwx4dn6ysxzgjd7j"

static const char sp[] = A "\n" B "\n";
static const char reg[] = A "\n" H "\n120\n\n0\n" B "\n" H "\n8\n\n2\n" A "\n" B "\n";

static void build(int *_failed, const char *s, const char *r, uint8_t **ret, size_t *ret_len)
{
	struct nix_closure *c = NULL;
	struct diag d = { 0 };

	ASSERT_OK(nix_closure_parse(s, strlen(s), r, strlen(r), "t", &d, &c));
	ASSERT_OK(nix_db_build(c, &d, ret, ret_len));
	nix_closure_free(c);
}

TEST(nix_db_is_sqlite_with_4k_pages)
{
	uint8_t *db = NULL;
	size_t len = 0;

	build(_failed, sp, reg, &db, &len);
	ASSERT_TRUE(len >= 4096 && len % 4096 == 0);
	ASSERT_MEM_EQ(db, "SQLite format 3\0", 16);
	ASSERT_EQ(be16_get(db + 16), 4096);
	/* rollback-journal file format (1), not WAL (2) */
	ASSERT_EQ(db[18], 1);
	ASSERT_EQ(db[19], 1);
	ASSERT_EQ(be32_get(db + 28), len / 4096); /* in-header database size */
	free(db);
}

TEST(nix_db_is_deterministic)
{
	uint8_t *a = NULL, *b = NULL, *c = NULL;
	size_t alen = 0, blen = 0, clen = 0;

	build(_failed, sp, reg, &a, &alen);
	build(_failed, B "\n" A "\n", reg, &b, &blen); /* store-paths order does not matter */
	build(_failed, sp, A "\n" H "\n121\n\n0\n" B "\n" H "\n8\n\n2\n" A "\n" B "\n", &c, &clen);
	ASSERT_EQ(alen, blen);
	ASSERT_MEM_EQ(a, b, alen);
	ASSERT_TRUE(alen != clen || memcmp(a, c, alen) != 0);
	free(a);
	free(b);
	free(c);
}
