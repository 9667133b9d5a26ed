#include "util/diag.h"

#include <errno.h>
#include <stdlib.h>

#include "util/test.h"

TEST(diag_short_message_unchanged)
{
	char out[64];

	diag_elide("/a/b: cannot open: No such file", out, sizeof(out));
	ASSERT_STR_EQ(out, "/a/b: cannot open: No such file");
}

TEST(diag_long_path_keeps_reason_and_tail)
{
	char path[3000], msg[3100], out[256];
	size_t n = 0;

	for (int i = 0; n + 12 < sizeof(path) - 20; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/dir%07d", i);
	snprintf(path + n, sizeof(path) - n, "/the-file");
	snprintf(msg, sizeof(msg), "%s: cannot open: File name too long", path);
	diag_elide(msg, out, sizeof(out));
	ASSERT_TRUE(strlen(out) < sizeof(out));
	ASSERT_TRUE(strstr(out, "/the-file: cannot open: File name too long") != NULL);
	ASSERT_TRUE(strncmp(out, "/dir0000000/", 12) == 0);
	ASSERT_TRUE(strstr(out, "/\xe2\x80\xa6/") != NULL); /* cut at slashes */
}

TEST(diag_no_long_word_elides_the_middle)
{
	char msg[600], out[100];

	for (size_t i = 0; i < sizeof(msg) - 1; i++)
		msg[i] = i % 4 == 3 ? ' ' : 'x';
	msg[sizeof(msg) - 1] = '\0';
	msg[0] = 'S';
	msg[sizeof(msg) - 2] = 'E';
	diag_elide(msg, out, sizeof(out));
	ASSERT_TRUE(strlen(out) < sizeof(out));
	ASSERT_EQ(out[0], 'S');
	ASSERT_EQ(out[strlen(out) - 1], 'E');
	ASSERT_TRUE(strstr(out, "\xe2\x80\xa6") != NULL);
}

TEST(diag_elide_never_splits_utf8)
{
	char msg[2000], out[64];
	size_t n = 0;

	while (n + 3 < 1900) { /* "é" is 2 bytes: cuts land anywhere */
		msg[n++] = (char)0xc3;
		msg[n++] = (char)0xa9;
		if (n % 14 == 0)
			msg[n++] = '/';
	}
	msg[n] = '\0';
	for (size_t cap = 20; cap < sizeof(out); cap++) {
		const unsigned char *p;

		diag_elide(msg, out, cap);
		ASSERT_TRUE(strlen(out) < cap);
		for (p = (const unsigned char *)out; *p; p++) /* no orphan continuation byte */
			if ((*p & 0xc0) == 0x80)
				ASSERT_TRUE(p > (const unsigned char *)out && (p[-1] & 0x80));
	}
}

TEST(diag_fail_and_prepend_keep_the_end)
{
	struct diag d = { 0 };
	char *path = malloc(5000);

	memset(path, 'a', 4999);
	path[4999] = '\0';
	for (int i = 0; i < 4999; i += 200)
		path[i] = '/';
	ASSERT_ERR(diag_fail(&d, -ENAMETOOLONG, "%s: cannot open: %s", path, "File name too long"),
		   -ENAMETOOLONG);
	ASSERT_TRUE(strlen(d.msg) < sizeof(d.msg));
	ASSERT_TRUE(strstr(d.msg, ": cannot open: File name too long") != NULL);
	ASSERT_ERR(diag_prepend(&d, -ENAMETOOLONG, "%s", path), -ENAMETOOLONG);
	ASSERT_TRUE(strstr(d.msg, ": cannot open: File name too long") != NULL);
	free(path);
}

TEST(diag_message_is_one_line)
{
	struct diag d = { 0 };

	/* a spec key with a newline and an escape (found by fuzz_spec_json) */
	ASSERT_ERR(diag_fail(&d, -EINVAL, "unknown key \"%s\"", " c\nontents\x1b[2J\x7f"), -EINVAL);
	ASSERT_STR_EQ(diag_message(&d, -EINVAL), "unknown key \" c?ontents?[2J?\"");
	ASSERT_ERR(diag_prepend(&d, -EINVAL, "%s", "spec\tfile"), -EINVAL);
	ASSERT_STR_EQ(diag_message(&d, -EINVAL), "spec?file: unknown key \" c?ontents?[2J?\"");
}

TEST(diag_keeps_utf8)
{
	struct diag d = { 0 };

	diag_fail(&d, -EINVAL, "label \"%s\"", "gr\xc3\xbc\xc3\x9f");
	ASSERT_STR_EQ(diag_message(&d, -EINVAL), "label \"gr\xc3\xbc\xc3\x9f\"");
}
