#include "util/uuid.h"

#include "util/test.h"

TEST(uuid_parse_format_round_trip)
{
	uint8_t u[UUID_LEN];
	char s[UUID_STR_LEN];

	ASSERT_OK(uuid_parse("F222513B-DED1-49FA-B591-20CE86A2FE7F", u));
	ASSERT_EQ(u[0], 0xf2);
	ASSERT_EQ(u[15], 0x7f);
	uuid_format(u, s);
	ASSERT_STR_EQ(s, "f222513b-ded1-49fa-b591-20ce86a2fe7f");
}

TEST(uuid_parse_rejects_malformed)
{
	uint8_t u[UUID_LEN];

	ASSERT_ERR(uuid_parse("F222513B-DED1-49FA-B591-20CE86A2FE7", u), -EINVAL);
	ASSERT_ERR(uuid_parse("F222513B_DED1-49FA-B591-20CE86A2FE7F", u), -EINVAL);
	ASSERT_ERR(uuid_parse("G222513B-DED1-49FA-B591-20CE86A2FE7F", u), -EINVAL);
}

TEST(uuid_to_guid_swaps_first_three_fields)
{
	uint8_t u[UUID_LEN], g[UUID_LEN];

	/* EFI System Partition: C12A7328-F81F-11D2-BA4B-00A0C93EC93B */
	ASSERT_OK(uuid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", u));
	uuid_to_guid(u, g);
	ASSERT_MEM_EQ(g, "\x28\x73\x2a\xc1\x1f\xf8\xd2\x11\xba\x4b\x00\xa0\xc9\x3e\xc9\x3b", 16);
}

TEST(uuid_derive_is_stable_and_versioned)
{
	uint8_t a[UUID_LEN], b[UUID_LEN], c[UUID_LEN];

	uuid_derive("seed", "gpt-disk", a);
	uuid_derive("seed", "gpt-disk", b);
	uuid_derive("seed", "gpt-partition:esp", c);
	ASSERT_MEM_EQ(a, b, UUID_LEN);
	ASSERT_TRUE(memcmp(a, c, UUID_LEN) != 0);
	ASSERT_EQ(a[6] >> 4, 4);
	ASSERT_EQ(a[8] >> 6, 2);
}
