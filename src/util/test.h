/* Minimal unit-test harness: TEST(name) { ... } with ASSERT_* macros. Link with test_main.c.
 * The runner prints "N passed, N failed, N skipped" as its last line; each skipped test also
 * gets a line "SKIP BINARY/NAME: REASON" (tests/run-unit.sh lists them). */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(int *failed);
	struct test_case *next;
};

void test_register(struct test_case *t);

/* The running test did not run all its checks (a missing tool, not root): it counts as skipped,
 * not passed, with REASON listed in the summary. May be called more than once (the reasons
 * are joined) and from helpers; TEST_SKIP() also returns from the test. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST_SKIP(...)                  \
	do {                            \
		test_skip(__VA_ARGS__); \
		return;                 \
	} while (0)

#define TEST(name)                                                              \
	static void test_##name(int *_failed);                                  \
	static struct test_case test_case_##name = { #name, test_##name, NULL }; \
	__attribute__((constructor)) static void test_register_##name(void)     \
	{                                                                       \
		test_register(&test_case_##name);                               \
	}                                                                       \
	static void test_##name(int *_failed)

#define TEST_FAIL_(fmt, ...)                                                             \
	do {                                                                             \
		fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
		*_failed = 1;                                                            \
		return;                                                                  \
	} while (0)

#define ASSERT_TRUE(c)                                   \
	do {                                             \
		if (!(c))                                \
			TEST_FAIL_("assertion %s", #c);  \
	} while (0)

#define ASSERT_EQ(a, b)                                                                     \
	do {                                                                                \
		long long _a = (long long)(a), _b = (long long)(b);                         \
		if (_a != _b)                                                               \
			TEST_FAIL_("%s == %s: %lld != %lld (0x%llx != 0x%llx)", #a, #b, _a, _b, \
				   (unsigned long long)_a, (unsigned long long)_b);         \
	} while (0)

#define ASSERT_OK(r)                                                       \
	do {                                                               \
		long long _r = (long long)(r);                             \
		if (_r < 0)                                                \
			TEST_FAIL_("%s failed: %s", #r, strerror((int)-_r)); \
	} while (0)

#define ASSERT_ERR(r, e)                                                        \
	do {                                                                    \
		long long _r = (long long)(r);                                  \
		if (_r != (e))                                                  \
			TEST_FAIL_("%s: got %lld, want %s", #r, _r, #e);        \
	} while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                       \
	do {                                                                         \
		if (memcmp((a), (b), (n)) != 0)                                      \
			TEST_FAIL_("%s and %s differ in %zu bytes", #a, #b, (size_t)(n)); \
	} while (0)

#define ASSERT_STR_EQ(a, b)                                                    \
	do {                                                                   \
		const char *_a = (a), *_b = (b);                               \
		if (strcmp(_a, _b) != 0)                                       \
			TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, _a, _b); \
	} while (0)
