/* Nearest-name suggestions (suggest.h). */
#include "util/suggest.h"

#include <stdint.h>
#include <string.h>

#include "util/cleanup.h"

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= ARRAY_SIZE(prev) || lb >= ARRAY_SIZE(prev))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t ins = MIN(prev[j] + 1, cur[j - 1] + 1);

			if ((a[i - 1] | 0x20) == (b[j - 1] | 0x20))
				sub = prev[j - 1]; /* case alone is no real edit */
			cur[j] = MIN(sub, ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *suggest_nearest_in(const char *word, const void *table, size_t n,
			       const char *(*name_at)(const void *table, size_t i))
{
	size_t len = strlen(word);
	/* "ab" is 2 edits from anything of 2 letters: allow fewer edits for short words */
	size_t best_dist = len < 4 ? 2 : 3;
	const char *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *name = name_at(table, i);
		size_t dist;

		if (!name)
			continue;
		dist = suggest_distance(word, name);
		if (dist < best_dist) {
			best = name;
			best_dist = dist;
		}
	}
	return best;
}

static const char *suggest_name_of_list(const void *table, size_t i)
{
	return ((const char *const *)table)[i];
}

const char *suggest_nearest(const char *word, const char *const *names, size_t n)
{
	return suggest_nearest_in(word, names, n, suggest_name_of_list);
}
