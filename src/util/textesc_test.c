#include "util/textesc.h"

#include <stdlib.h>

#include "util/cleanup.h"
#include "util/test.h"

#define ASSERT_ESC(in, want)                          \
	do {                                          \
		char *_e = text_escape(in);           \
		int _ok = strcmp(_e, want) == 0;      \
		if (!_ok)                             \
			fprintf(stderr, "  got %s\n", _e); \
		free(_e);                             \
		ASSERT_TRUE(_ok);                     \
	} while (0)

TEST(text_escape_plain_unchanged)
{
	ASSERT_ESC("", "");
	ASSERT_ESC("inspectme", "inspectme");
	ASSERT_ESC("ESP ñ 日本 😀", "ESP ñ 日本 😀");
}

TEST(text_escape_controls)
{
	ASSERT_ESC("\x1b[31mX", "\\x1b[31mX");
	ASSERT_ESC("a\nb\rc\td\x7f", "a\\x0ab\\x0dc\\x09d\\x7f");
	ASSERT_ESC("q\"b\\", "q\\\"b\\\\");
	ASSERT_ESC("\xc2\x9b" "2J", "\\u009b2J"); /* C1 CSI */
	ASSERT_ESC("a\xe2\x80\xae" "b", "a\\u202eb"); /* right-to-left override */
}

TEST(text_escape_invalid_utf8)
{
	ASSERT_ESC("\xff\xfe", "\\xff\\xfe");
	ASSERT_ESC("\xc0\xaf", "\\xc0\\xaf");         /* overlong '/' */
	ASSERT_ESC("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* surrogate */
	ASSERT_ESC("\xe6\x97", "\\xe6\\x97");          /* truncated */
	ASSERT_ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
}

TEST(utf8_seq_len_bounds)
{
	uint32_t cp = 0;

	ASSERT_EQ(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	ASSERT_EQ(cp, 0x1f600);
	ASSERT_EQ(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 3, &cp), 0);
	ASSERT_EQ(utf8_seq_len((const unsigned char *)"\x80", 1, &cp), 0);
}
