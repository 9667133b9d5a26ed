#include "util/sort.h"

#include <stdint.h>
#include <string.h>

static void swap_bytes(uint8_t *a, uint8_t *b, size_t size)
{
	uint8_t tmp[64];

	while (size) {
		size_t k = size < sizeof(tmp) ? size : sizeof(tmp);

		memcpy(tmp, a, k);
		memcpy(a, b, k);
		memcpy(b, tmp, k);
		a += k, b += k, size -= k;
	}
}

/* Move element i down the max-heap of the first n elements. */
static void sift_down(uint8_t *base, size_t i, size_t n, size_t size,
		      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * i + 1, top = i;

		if (child < n && cmp(base + child * size, base + top * size) > 0)
			top = child;
		if (child + 1 < n && cmp(base + (child + 1) * size, base + top * size) > 0)
			top = child + 1;
		if (top == i)
			return;
		swap_bytes(base + i * size, base + top * size, size);
		i = top;
	}
}

void sort_in_place(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	uint8_t *b = base;

	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}
