#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/test.h"

static struct test_case *tests, **tests_tail = &tests;
static char skip_reason[512];

void test_register(struct test_case *t)
{
	*tests_tail = t;
	tests_tail = &t->next;
}

void test_skip(const char *fmt, ...)
{
	size_t len = strlen(skip_reason);
	va_list ap;

	if (len && len + 2 < sizeof(skip_reason)) {
		memcpy(skip_reason + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(skip_reason + len, sizeof(skip_reason) - len, fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	const char *self = argc > 0 ? argv[0] : "", *base = strrchr(self, '/');
	int passed = 0, failed = 0, skipped = 0;

	base = base ? base + 1 : self;
	for (struct test_case *t = tests; t; t = t->next) {
		int f = 0;

		skip_reason[0] = '\0';
		t->fn(&f);
		if (f) {
			fprintf(stderr, "FAIL %s: %s\n", self, t->name);
			failed++;
		} else if (skip_reason[0]) {
			fprintf(stderr, "SKIP %s/%s: %s\n", base, t->name, skip_reason);
			skipped++;
		} else {
			fprintf(stderr, "ok   %s: %s\n", self, t->name);
			passed++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
