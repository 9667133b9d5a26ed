#include "spec/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/test.h"

/* Expected values printed by `numfmt --from=iec VALUE` (GNU coreutils 9.1). */
static const struct {
	const char *in;
	uint64_t out;
} size_good[] = {
	{ "512M", 536870912ull },
	{ "1G", 1073741824ull },
	{ "1024K", 1048576ull },
	{ "123", 123 },
	{ "0", 0 },
	{ "007", 7 },
	{ "1.5G", 1610612736ull },
	{ "1.1K", 1127 },  /* 1126.4 rounded away from zero */
	{ ".5K", 512 },
	{ "1.0000000000000000001K", 1025 },
	{ "8E", 9223372036854775808ull },
	{ "256M", 268435456ull },
	{ "1T", 1099511627776ull },
	{ "1P", 1125899906842624ull },
	{ "15E", 17293822569102704640ull },
	{ "18446744073709551615", 18446744073709551615ull },
	{ "1.5", 2 }, /* numfmt prints 1.5; a byte count rounds up */
	{ "0.0001", 1 },
	{ "2.000", 2 },
	{ "15.999999999999999999E", 18446744073709551615ull }, /* 2^64 - 1.15 rounds up */
	/* numfmt says ...105: its long double loses the .024 of 1.999 * 2^60 */
	{ "1.999E", 2304690087709087106ull },
};

static const struct {
	const char *in;
	int err;
} size_bad[] = {
	{ "", -EINVAL },	 { "K", -EINVAL },	{ "1k", -EINVAL },     { "1Ki", -EINVAL },
	{ "1KB", -EINVAL },	 { " 5M", -EINVAL },	{ "5M ", -EINVAL },    { "-5", -EINVAL },
	{ "+5", -EINVAL },	 { "1e3", -EINVAL },	{ "5.", -EINVAL },     { "5.K", -EINVAL },
	{ ".", -EINVAL },	 { "1,5K", -EINVAL },	{ "0x10", -EINVAL },   { "12X", -EINVAL },
	{ "1MM", -EINVAL },	 { "16E", -ERANGE },	{ "1Z", -ERANGE },     { "1Y", -ERANGE },
	{ "18446744073709551616", -ERANGE },		{ "99999999999999999999999", -ERANGE },
	{ "15.9999999999999999999E", -ERANGE }, /* 2^64 - 0.115 rounds up to 2^64 */	{ "17179869184G", -ERANGE },
};

TEST(size_parse_good)
{
	for (size_t i = 0; i < ARRAY_SIZE(size_good); i++) {
		uint64_t v = 0;
		int r = size_parse(size_good[i].in, &v);

		if (r < 0)
			TEST_FAIL_("%s: %s", size_good[i].in, strerror(-r));
		if (v != size_good[i].out)
			TEST_FAIL_("%s: got %llu, want %llu", size_good[i].in, (unsigned long long)v,
				   (unsigned long long)size_good[i].out);
	}
}

TEST(size_parse_bad_leaves_result)
{
	for (size_t i = 0; i < ARRAY_SIZE(size_bad); i++) {
		uint64_t v = 42;
		int r = size_parse(size_bad[i].in, &v);

		if (r != size_bad[i].err)
			TEST_FAIL_("\"%s\": got %d, want %d", size_bad[i].in, r, size_bad[i].err);
		ASSERT_EQ(v, 42);
	}
}

TEST(size_parse_long_fraction)
{
	char buf[200];
	uint64_t v;

	/* 0.5 followed by 150 zeros and a 1: far past any digit that could matter, but the 1
	 * still rounds the result up. */
	memset(buf, '0', sizeof(buf));
	memcpy(buf, "0.5", 3);
	buf[sizeof(buf) - 3] = '1';
	buf[sizeof(buf) - 2] = 'K';
	buf[sizeof(buf) - 1] = '\0';
	ASSERT_OK(size_parse(buf, &v));
	ASSERT_EQ(v, 513);
	buf[sizeof(buf) - 3] = '0';
	ASSERT_OK(size_parse(buf, &v));
	ASSERT_EQ(v, 512);
}

/* Run numfmt --from=iec ARG; 0 and the number, 1 when numfmt refused it, -1 when missing. */
static int numfmt(const char *arg, uint64_t *ret)
{
	char *argv[] = { "numfmt", "--from=iec", "--", (char *)arg, NULL };
	posix_spawn_file_actions_t fa;
	char out[128] = "";
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "numfmt", &fa, NULL, argv, NULL) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return -1;
	if (WEXITSTATUS(status) != 0 || n <= 0)
		return 1;
	*ret = strtoull(out, NULL, 10);
	return 0;
}

/* Live cross-check against numfmt for inputs whose answer it prints as an integer. */
TEST(size_parse_matches_numfmt)
{
	static const char *const in[] = { "1", "512M", "3G", "1.25M", "0.3K", "7.77G", "1024K",
					  "2T", "1.5E", "4P", "12X", "1Ki", "1k", "5.K" };
	int checked = 0;

	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		uint64_t want = 0, got = 0;
		int r = numfmt(in[i], &want);

		if (r < 0) {
			TEST_SKIP("numfmt not found: cross-check not run");
		}
		if (r == 1) {
			ASSERT_TRUE(size_parse(in[i], &got) < 0);
			continue;
		}
		r = size_parse(in[i], &got);
		if (r < 0)
			TEST_FAIL_("%s: %s, numfmt says %llu", in[i], strerror(-r),
				   (unsigned long long)want);
		if (got != want)
			TEST_FAIL_("%s: got %llu, numfmt says %llu", in[i], (unsigned long long)got,
				   (unsigned long long)want);
		checked++;
	}
	ASSERT_TRUE(checked >= 9);
}

TEST(size_parse_mib_bare_numbers)
{
	uint64_t v;

	ASSERT_OK(size_parse_mib("512", &v));
	ASSERT_EQ(v, 512ull << 20);
	ASSERT_OK(size_parse_mib("0.5", &v));
	ASSERT_EQ(v, 512ull << 10);
	ASSERT_OK(size_parse_mib("0", &v));
	ASSERT_EQ(v, 0);
	ASSERT_OK(size_parse_mib("64K", &v)); /* a suffix is read as size_parse() does */
	ASSERT_EQ(v, 64ull << 10);
	ASSERT_OK(size_parse_mib("1.5G", &v));
	ASSERT_EQ(v, 1536ull << 20);
	ASSERT_EQ(size_parse_mib("", &v), -EINVAL);
	ASSERT_EQ(size_parse_mib("5.", &v), -EINVAL);
	ASSERT_EQ(size_parse_mib("-1", &v), -EINVAL);
	ASSERT_EQ(size_parse_mib("17592186044416", &v), -ERANGE); /* 2^44 MiB = 2^64 */
	ASSERT_OK(size_parse_mib("17592186044415", &v));
	ASSERT_EQ(v, 17592186044415ull << 20);
	ASSERT_EQ(size_parse_mib("99999999999999999999999999999999999999999999999999999999999999"
				 "99999999999999999999999999999999999999999", &v), -ERANGE);
}
