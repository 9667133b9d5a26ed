/* Known answers from Debian's nix-bin 2.8: `nix-hash --type sha256 --to-base32 HEX`, and
 * python3's base64 for the base64 form. */
#include "nix/nix.h"

#include "util/test.h"

static const uint8_t hash_bin[NIX_HASH_LEN] = {
	0xf2, 0x34, 0xf9, 0x7e, 0xd7, 0xde, 0xd8, 0x46, 0x3a, 0xcf, 0x7f,
	0x0c, 0x25, 0xd8, 0x7a, 0x7f, 0x9f, 0xd4, 0x01, 0xba, 0x3a, 0xed,
	0x20, 0xe1, 0x0b, 0xd8, 0xf9, 0x97, 0x61, 0xdb, 0x1f, 0x00,
};
#define HASH_B16 "f234f97ed7ded8463acf7f0c25d87a7f9fd401ba3aed20e10bd8f99761db1f00"
#define HASH_B32 "000zvdhrgyfq1ghj1v9sp80x97vzgbc2a33zrwx4dn6ysxzgjd7j"
#define HASH_B64 "8jT5ftfe2EY6z38MJdh6f5/UAbo67SDhC9j5l2HbHwA="

TEST(nix_hash_base32_matches_nix_hash)
{
	char s[53];

	nix_hash_base32(hash_bin, s);
	ASSERT_STR_EQ(s, HASH_B32);
}

TEST(nix_hash_parse_every_form)
{
	static const char *const forms[] = {
		HASH_B16, "sha256:" HASH_B16, HASH_B32, "sha256:" HASH_B32,
		HASH_B64, "sha256:" HASH_B64, "sha256-" HASH_B64,
	};
	uint8_t h[NIX_HASH_LEN];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(h, 0xaa, sizeof(h));
		ASSERT_OK(nix_hash_parse(forms[i], h));
		ASSERT_MEM_EQ(h, hash_bin, NIX_HASH_LEN);
	}
}

TEST(nix_hash_parse_rejects_malformed)
{
	uint8_t h[NIX_HASH_LEN];

	ASSERT_ERR(nix_hash_parse("", h), -EINVAL);
	ASSERT_ERR(nix_hash_parse("sha1:" HASH_B16, h), -EINVAL);
	/* 'e' is not in Nix's base32 alphabet */
	ASSERT_ERR(nix_hash_parse("e00zvdhrgyfq1ghj1v9sp80x97vzgbc2a33zrwx4dn6ysxzgjd7j", h),
		   -EINVAL);
	/* the first digit carries bits past 256 */
	ASSERT_ERR(nix_hash_parse("z00zvdhrgyfq1ghj1v9sp80x97vzgbc2a33zrwx4dn6ysxzgjd7j", h),
		   -EINVAL);
	/* 'g' is not a hex digit */
	ASSERT_ERR(nix_hash_parse("g234f97ed7ded8463acf7f0c25d87a7f"
				  "9fd401ba3aed20e10bd8f99761db1f00",
				  h),
		   -EINVAL);
	ASSERT_ERR(nix_hash_parse("sha256-" HASH_B16, h), -EINVAL);
}
