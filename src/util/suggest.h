/* "did you mean ...?": the nearest of a list of names to a mistyped one. Used for unknown
 * commands, flags and spec keys alike. */
#pragma once

#include <stddef.h>

/* Edit distance (insertions, deletions, substitutions; a change of case alone is free), or
 * SIZE_MAX for names of 64 bytes or more. */
size_t suggest_distance(const char *a, const char *b);

/* The name nearest to word among names[0..n) (NULL entries skipped), or NULL when none is
 * close: within 2 edits, and within a third of the word's length for short words. */
const char *suggest_nearest(const char *word, const char *const *names, size_t n);

/* The same over a table: name_at(table, i) gives entry i's name (NULL: skip it). */
const char *suggest_nearest_in(const char *word, const void *table, size_t n,
			       const char *(*name_at)(const void *table, size_t i));
