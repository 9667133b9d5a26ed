#include "util/jsonw.h"

#include <inttypes.h>
#include <string.h>

#include "util/textesc.h"

void jsonw_init(struct jsonw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->need_comma[0] = false;
}

/* Always valid JSON: controls (C0, DEL, C1) as \u00XX, bytes that are not UTF-8 as U+FFFD.
 * Runs of bytes that need no escape are written at once. */
static void jsonw_raw_string(struct jsonw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), run = 0;

	fputc('"', w->f);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k;

		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
			i++;
			continue;
		}
		k = utf8_seq_len(p + i, n - i, &cp);
		if (k > 1 && cp >= 0xa0) {
			i += k;
			continue;
		}
		fwrite(p + run, 1, i - run, w->f);
		if (k == 0)
			fputs("\\ufffd", w->f);
		else if (cp == '"' || cp == '\\')
			fprintf(w->f, "\\%c", (char)cp);
		else
			fprintf(w->f, "\\u%04x", (unsigned)cp);
		i += k ? k : 1;
		run = i;
	}
	fwrite(p + run, 1, n - run, w->f);
	fputc('"', w->f);
}

static void jsonw_key(struct jsonw *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	w->need_comma[w->depth] = true;
	if (key) {
		jsonw_raw_string(w, key);
		fputc(':', w->f);
	}
}

static void jsonw_open(struct jsonw *w, const char *key, char c)
{
	jsonw_key(w, key);
	fputc(c, w->f);
	if (w->depth < 31)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void jsonw_close(struct jsonw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->f);
	if (w->depth == 0)
		fputc('\n', w->f);
}

void jsonw_object_begin(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, '{');
}

void jsonw_object_end(struct jsonw *w)
{
	jsonw_close(w, '}');
}

void jsonw_array_begin(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, '[');
}

void jsonw_array_end(struct jsonw *w)
{
	jsonw_close(w, ']');
}

void jsonw_string(struct jsonw *w, const char *key, const char *value)
{
	jsonw_key(w, key);
	jsonw_raw_string(w, value);
}

void jsonw_uint(struct jsonw *w, const char *key, uint64_t value)
{
	jsonw_key(w, key);
	fprintf(w->f, "%" PRIu64, value);
}

void jsonw_double(struct jsonw *w, const char *key, double value)
{
	jsonw_key(w, key);
	fprintf(w->f, "%.3f", value);
}

void jsonw_bool(struct jsonw *w, const char *key, bool value)
{
	jsonw_key(w, key);
	fputs(value ? "true" : "false", w->f);
}
