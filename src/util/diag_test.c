#include "util/diag.h"

#include <errno.h>

#include "util/test.h"

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
