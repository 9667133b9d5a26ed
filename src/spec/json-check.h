/* Strict JSON (RFC 8259) for spec files, checked before json-c reads them: json-c 0.16 accepts
 * single-quoted strings, NaN, Infinity, raw control characters in strings and duplicate keys
 * (the last one silently wins) even with JSON_TOKENER_STRICT. Every error names
 * WHAT:LINE:COLUMN and what was expected there. The check also records where each key is, so
 * errors in values can point at their key (json-c keeps no positions). */
#pragma once

#include <stddef.h>

struct diag;

#define JSON_CHECK_MAX_DEPTH 32 /* json-c's default nesting limit */

/* A key's (or list element's) position: its path as spec messages name it ("diskSize",
 * "partitions[0]", "partitions[0].size"), recorded for the top level and one level inside a
 * top-level list's objects; line and column (in characters) count from 1. */
struct json_key_pos {
	char *path;
	unsigned line, col;
};

struct json_check {
	struct json_key_pos *keys;
	size_t n_keys;
};

/* Check text (len bytes); -EINVAL with "WHAT:LINE:COLUMN: ..." in d when it is not strict
 * JSON or its top level is not an object. On success *ret holds the key positions (free with
 * json_check_free). */
int json_check(const char *text, size_t len, const char *what, struct diag *d,
	       struct json_check *ret);
void json_check_free(struct json_check *c);
/* The position of the key at path, NULL when not recorded. */
const struct json_key_pos *json_check_find(const struct json_check *c, const char *path);
