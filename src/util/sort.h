/* In-place sorting for large arrays where qsort's temporary copy (glibc's merge sort
 * allocates n * size bytes) would raise the peak memory. */
#pragma once

#include <stddef.h>

/* Heap sort: O(n log n), no allocation, not stable (use it when no two elements compare
 * equal, or when their order does not matter). */
void sort_in_place(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
