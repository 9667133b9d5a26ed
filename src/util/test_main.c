#include <stdio.h>

#include "util/test.h"

static struct test_case *tests, **tests_tail = &tests;

void test_register(struct test_case *t)
{
	*tests_tail = t;
	tests_tail = &t->next;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (struct test_case *t = tests; t; t = t->next) {
		int f = 0;

		t->fn(&f);
		fprintf(stderr, "%s %s: %s\n", f ? "FAIL" : "ok  ", argc > 0 ? argv[0] : "", t->name);
		if (f)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
