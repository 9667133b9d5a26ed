#include "util/sort.h"

#include <stdlib.h>
#include <string.h>

#include "util/test.h"

struct rec {
	uint32_t key;
	char pad[37]; /* 44 bytes in all: not a multiple of 8 */
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Same order as qsort for distinct keys, at every size around the heap's shape changes. */
TEST(matches_qsort)
{
	uint32_t state = 12345;

	for (size_t n = 0; n < 300; n++) {
		struct rec *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));

		for (size_t i = 0; i < n; i++) {
			state = state * 1103515245u + 12345u;
			a[i].key = (uint32_t)(i * 2654435761u) ^ (state >> 16); /* distinct-ish */
			a[i].key = a[i].key * 1024 + (uint32_t)i;                /* distinct */
			memset(a[i].pad, (int)(a[i].key & 0xff), sizeof(a[i].pad));
		}
		memcpy(b, a, n * sizeof(*a));
		sort_in_place(a, n, sizeof(*a), rec_cmp);
		qsort(b, n, sizeof(*b), rec_cmp);
		ASSERT_MEM_EQ(a, b, n * sizeof(*a));
		free(a);
		free(b);
	}
}

TEST(duplicates_end_up_adjacent_and_sorted)
{
	uint32_t v[] = { 5, 1, 5, 3, 1, 9, 0, 3, 5 }, want[] = { 0, 1, 1, 3, 3, 5, 5, 5, 9 };

	sort_in_place(v, 9, sizeof(v[0]), u32_cmp);
	ASSERT_MEM_EQ(v, want, sizeof(v));
}

TEST(large_elements)
{
	uint8_t v[3][100];

	memset(v[0], 3, 100);
	memset(v[1], 1, 100);
	memset(v[2], 2, 100);
	sort_in_place(v, 3, 100, (int (*)(const void *, const void *))u32_cmp);
	ASSERT_EQ(v[0][99], 1);
	ASSERT_EQ(v[1][0], 2);
	ASSERT_EQ(v[2][50], 3);
}
