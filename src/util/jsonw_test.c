#include "util/jsonw.h"

#include <stdlib.h>

#include "util/test.h"

/* One string value written by jsonw, as the bytes it prints. */
static char *json_string_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jsonw w;

	jsonw_init(&w, f);
	jsonw_array_begin(&w, NULL);
	jsonw_string(&w, NULL, s);
	jsonw_array_end(&w);
	fclose(f);
	return buf;
}

#define ASSERT_JSON(in, want)                               \
	do {                                                \
		char *_j = json_string_of(in);              \
		int _ok = strcmp(_j, want) == 0;            \
		if (!_ok)                                   \
			fprintf(stderr, "  got %s", _j);    \
		free(_j);                                   \
		ASSERT_TRUE(_ok);                           \
	} while (0)

TEST(jsonw_string_escapes)
{
	ASSERT_JSON("plain ñ 😀", "[\"plain ñ 😀\"]\n");
	ASSERT_JSON("q\"b\\", "[\"q\\\"b\\\\\"]\n");
	ASSERT_JSON("\x1b[31m\n\x7f", "[\"\\u001b[31m\\u000a\\u007f\"]\n");
	ASSERT_JSON("\xc2\x9b", "[\"\\u009b\"]\n");
}

TEST(jsonw_string_invalid_utf8_is_replaced)
{
	ASSERT_JSON("a\xff" "b", "[\"a\\ufffdb\"]\n");
	ASSERT_JSON("\xc0\xaf", "[\"\\ufffd\\ufffd\"]\n");
	ASSERT_JSON("\xed\xa0\x80", "[\"\\ufffd\\ufffd\\ufffd\"]\n");
	ASSERT_JSON("\xe6\x97", "[\"\\ufffd\\ufffd\"]\n");
}
