/* A small streaming JSON writer for --json summaries (output only; parsing is spec/json.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jsonw {
	FILE *f;
	int depth;
	bool need_comma[32];
};

void jsonw_init(struct jsonw *w, FILE *f);
void jsonw_object_begin(struct jsonw *w, const char *key); /* key NULL at top level / in arrays */
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w, const char *key);
void jsonw_array_end(struct jsonw *w);
void jsonw_string(struct jsonw *w, const char *key, const char *value);
void jsonw_uint(struct jsonw *w, const char *key, uint64_t value);
void jsonw_double(struct jsonw *w, const char *key, double value);
void jsonw_bool(struct jsonw *w, const char *key, bool value);
