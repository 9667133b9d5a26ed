#include "util/crc.h"

#include "util/test.h"

TEST(crc32c_known_answer)
{
	ASSERT_EQ(crc32c("123456789", 9), 0xE3069283u);
	/* RFC 3720 B.4: 32 bytes of zeros */
	static const uint8_t zeros[32];
	ASSERT_EQ(crc32c(zeros, 32), 0x8A9136AAu);
}

TEST(crc32c_le_is_uninverted_register)
{
	ASSERT_EQ(~crc32c_le(~0u, "123456789", 9), 0xE3069283u);
	/* split updates compose */
	ASSERT_EQ(crc32c_le(crc32c_le(~0u, "1234", 4), "56789", 5), crc32c_le(~0u, "123456789", 9));
}

TEST(crc32_ieee_known_answer)
{
	ASSERT_EQ(crc32_ieee(0, "123456789", 9), 0xCBF43926u);
}
