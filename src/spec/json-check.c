/* Strict JSON (RFC 8259, section 2-7) for spec files: a recursive-descent check of the
 * grammar, without building values (json-c does that afterwards), that names LINE:COLUMN and
 * what was expected, refuses what json-c 0.16 lets through in strict mode (single quotes,
 * NaN/Infinity, control characters in strings) and duplicate keys, naming both places. */
#include "spec/json-check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

#define JSON_CHECK_RECORD_DEPTH 3 /* "key", "key[i].sub": what spec messages name */

struct jc {
	const char *t;
	size_t len, i;
	const char *what;
	struct diag *d;
	size_t pos_off; /* jc_pos()'s cache: line and column at pos_off */
	unsigned pos_line, pos_col;
	struct json_check *out;
};

/* Line and column (in characters: UTF-8 continuation bytes do not count) of offset off. */
static void jc_pos(struct jc *c, size_t off, unsigned *line, unsigned *col)
{
	if (off < c->pos_off) {
		c->pos_off = 0;
		c->pos_line = c->pos_col = 1;
	}
	for (; c->pos_off < off && c->pos_off < c->len; c->pos_off++) {
		unsigned char ch = (unsigned char)c->t[c->pos_off];

		if (ch == '\n') {
			c->pos_line++;
			c->pos_col = 1;
		} else if ((ch & 0xc0) != 0x80)
			c->pos_col++;
	}
	*line = c->pos_line;
	*col = c->pos_col;
}

static int jc_fail_at(struct jc *c, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int jc_fail_at(struct jc *c, size_t off, const char *fmt, ...)
{
	char msg[256];
	unsigned line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jc_pos(c, off, &line, &col);
	return diag_fail(c->d, -EINVAL, "%s:%u:%u: not valid JSON: %s", c->what, line, col, msg);
}

static bool jc_is_word(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

/* What is at c->i, for "expected X, got Y". */
static const char *jc_got(const struct jc *c, char buf[48])
{
	unsigned char ch;

	if (c->i >= c->len)
		return "the end of the file";
	ch = (unsigned char)c->t[c->i];
	if (ch == '\'')
		return "a single quote (JSON strings take double quotes)";
	if (ch == '/')
		return "'/' (JSON has no comments)";
	if (jc_is_word((char)ch)) {
		size_t n = 0;

		while (c->i + n < c->len && n < 20 && jc_is_word(c->t[c->i + n]))
			n++;
		snprintf(buf, 48, "%.*s%s", (int)n, c->t + c->i,
			 c->i + n < c->len && jc_is_word(c->t[c->i + n]) ? "..." : "");
		return buf;
	}
	if (ch < 0x20 || ch >= 0x7f)
		snprintf(buf, 48, "byte 0x%02x", ch);
	else
		snprintf(buf, 48, "'%c'", ch);
	return buf;
}

static void jc_ws(struct jc *c)
{
	while (c->i < c->len && c->t[c->i] && strchr(" \t\n\r", c->t[c->i]))
		c->i++;
}

static bool jc_at(const struct jc *c, char ch)
{
	return c->i < c->len && c->t[c->i] == ch;
}

struct jc_buf {
	char *p;
	size_t n, cap;
};

static void jc_buf_add(struct jc_buf *b, const char *s, size_t n)
{
	if (!b)
		return;
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void jc_buf_utf8(struct jc_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	jc_buf_add(b, u, n);
}

/* Four hex digits at c->i. */
static int jc_hex4(struct jc *c, uint32_t *ret)
{
	uint32_t v = 0;

	for (int k = 0; k < 4; k++) {
		char ch = c->i + (size_t)k < c->len ? c->t[c->i + (size_t)k] : '\0';
		unsigned dgt;

		if (ch >= '0' && ch <= '9')
			dgt = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			dgt = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			dgt = (unsigned)(ch - 'A' + 10);
		else
			return jc_fail_at(c, c->i - 2, "\\u needs four hex digits (\\u00e9)");
		v = v * 16 + dgt;
	}
	c->i += 4;
	*ret = v;
	return 0;
}

/* A string at c->i (a '"'); its decoded bytes into b when b is set (keys). */
static int jc_string(struct jc *c, struct jc_buf *b)
{
	size_t start = c->i;
	int r;

	c->i++;
	for (;;) {
		unsigned char ch;

		if (c->i >= c->len)
			return jc_fail_at(c, start, "a string without its closing '\"'");
		ch = (unsigned char)c->t[c->i];
		if (ch == '"') {
			c->i++;
			return 0;
		}
		if (ch < 0x20)
			return jc_fail_at(c, c->i, "a control character (0x%02x) in a string (write "
					  "it as \\n, \\t or \\u00%02x)", ch, ch);
		if (ch != '\\') {
			jc_buf_add(b, (const char *)&ch, 1);
			c->i++;
			continue;
		}
		c->i++;
		if (c->i >= c->len)
			return jc_fail_at(c, start, "a string without its closing '\"'");
		ch = (unsigned char)c->t[c->i];
		const char *esc = strchr("\"\\/bfnrt", ch);

		if (ch && esc) {
			static const char out[] = "\"\\/\b\f\n\r\t";

			jc_buf_add(b, &out[esc - "\"\\/bfnrt"], 1);
			c->i++;
			continue;
		}
		if (ch != 'u')
			return jc_fail_at(c, c->i - 1, "unknown escape '\\%c' in a string (use \\\", "
					  "\\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)",
					  ch >= 0x20 && ch < 0x7f ? ch : '?');
		c->i++;
		uint32_t cp, lo;

		r = jc_hex4(c, &cp);
		if (r < 0)
			return r;
		/* a surrogate pair is one character; a lone surrogate stays as it is (json-c
		 * does the same), it only has to be compared as a key */
		if (cp >= 0xd800 && cp < 0xdc00 && c->i + 1 < c->len && c->t[c->i] == '\\' &&
		    c->t[c->i + 1] == 'u') {
			size_t save = c->i;

			c->i += 2;
			r = jc_hex4(c, &lo);
			if (r < 0)
				return r;
			if (lo >= 0xdc00 && lo < 0xe000)
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			else
				c->i = save;
		}
		jc_buf_utf8(b, cp);
	}
}

static int jc_digits(struct jc *c, const char *after)
{
	if (c->i >= c->len || c->t[c->i] < '0' || c->t[c->i] > '9') {
		char g[48];

		return jc_fail_at(c, c->i, "expected a digit after %s, got %s", after, jc_got(c, g));
	}
	while (c->i < c->len && c->t[c->i] >= '0' && c->t[c->i] <= '9')
		c->i++;
	return 0;
}

static int jc_number(struct jc *c)
{
	int r;

	if (jc_at(c, '-'))
		c->i++;
	if (jc_at(c, '0')) {
		c->i++;
		if (c->i < c->len && c->t[c->i] >= '0' && c->t[c->i] <= '9')
			return jc_fail_at(c, c->i - 1, "a number with a leading zero (write 8, not "
					  "08; octal is not JSON)");
	} else {
		r = jc_digits(c, "'-'");
		if (r < 0)
			return r;
	}
	if (jc_at(c, '.')) {
		c->i++;
		r = jc_digits(c, "'.'");
		if (r < 0)
			return r;
	}
	if (jc_at(c, 'e') || jc_at(c, 'E')) {
		c->i++;
		if (jc_at(c, '+') || jc_at(c, '-'))
			c->i++;
		r = jc_digits(c, "the exponent's 'e'");
		if (r < 0)
			return r;
	}
	return 0;
}

static void jc_record(struct jc *c, char *path, size_t off)
{
	struct json_check *o = c->out;
	struct json_key_pos *k;

	o->keys = xreallocarray(o->keys, o->n_keys + 1, sizeof(*o->keys));
	k = &o->keys[o->n_keys++];
	k->path = path;
	jc_pos(c, off, &k->line, &k->col);
}

static int jc_value(struct jc *c, unsigned depth, const char *rec);

struct jc_key {
	char *k;
	size_t n, off;
};

static int jc_key_cmp(const void *a, const void *b)
{
	const struct jc_key *x = a, *y = b;
	int r = memcmp(x->k, y->k, x->n < y->n ? x->n : y->n);

	if (r)
		return r;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Duplicate keys of one object: the second place named, with the first one's line. */
static int jc_check_dups(struct jc *c, struct jc_key *keys, size_t n)
{
	size_t best = SIZE_MAX;
	unsigned line, col;

	if (n < 2)
		return 0;
	qsort(keys, n, sizeof(*keys), jc_key_cmp);
	for (size_t j = 1; j < n; j++)
		if (keys[j].n == keys[j - 1].n && memcmp(keys[j].k, keys[j - 1].k, keys[j].n) == 0 &&
		    (best == SIZE_MAX || keys[j].off < keys[best].off))
			best = j;
	if (best == SIZE_MAX)
		return 0;
	jc_pos(c, keys[best - 1].off, &line, &col);
	return jc_fail_at(c, keys[best].off, "duplicate key \"%.64s\" (also at line %u, column %u; "
			  "give each key once)", keys[best].k, line, col);
}

static int jc_object(struct jc *c, unsigned depth, const char *rec)
{
	struct jc_key *keys = NULL;
	size_t n = 0, comma = SIZE_MAX;
	char g[48];
	int r = 0;

	c->i++; /* '{' */
	jc_ws(c);
	if (jc_at(c, '}')) {
		c->i++;
		return 0;
	}
	for (;;) {
		struct jc_buf b = { 0 };
		size_t off;

		jc_ws(c);
		if (!jc_at(c, '"')) {
			if (jc_at(c, '}') && comma != SIZE_MAX)
				r = jc_fail_at(c, comma, "a trailing comma before '}'");
			else
				r = jc_fail_at(c, c->i, "expected a key in double quotes%s, got %s",
					       comma == SIZE_MAX ? " or '}'" : "", jc_got(c, g));
			break;
		}
		off = c->i;
		r = jc_string(c, &b);
		if (r < 0) {
			free(b.p);
			break;
		}
		if (!b.p)
			b.p = xstrdup("");
		keys = xreallocarray(keys, n + 1, sizeof(*keys));
		keys[n++] = (struct jc_key){ b.p, b.n, off };
		jc_ws(c);
		if (!jc_at(c, ':')) {
			r = jc_fail_at(c, c->i, "expected ':' after the key \"%.64s\", got %s", b.p,
				       jc_got(c, g));
			break;
		}
		c->i++;
		_cleanup_free_ char *path = NULL;

		if (rec && depth <= JSON_CHECK_RECORD_DEPTH) {
			path = *rec ? xasprintf("%s.%s", rec, b.p) : xstrdup(b.p);
			jc_record(c, xstrdup(path), off);
		}
		r = jc_value(c, depth, path);
		if (r < 0)
			break;
		jc_ws(c);
		if (jc_at(c, ',')) {
			comma = c->i++;
			continue;
		}
		if (jc_at(c, '}')) {
			c->i++;
			r = jc_check_dups(c, keys, n);
			break;
		}
		r = jc_fail_at(c, c->i, "expected ',' or '}' after the value of \"%.64s\", got %s",
			       b.p, jc_got(c, g));
		break;
	}
	for (size_t j = 0; j < n; j++)
		free(keys[j].k);
	free(keys);
	return r;
}

static int jc_array(struct jc *c, unsigned depth, const char *rec)
{
	size_t comma = SIZE_MAX;
	char g[48];
	int r;

	c->i++; /* '[' */
	jc_ws(c);
	if (jc_at(c, ']')) {
		c->i++;
		return 0;
	}
	for (size_t n = 0;; n++) {
		_cleanup_free_ char *path = NULL;

		jc_ws(c);
		if (jc_at(c, ']') && comma != SIZE_MAX)
			return jc_fail_at(c, comma, "a trailing comma before ']'");
		if (rec && depth <= JSON_CHECK_RECORD_DEPTH) {
			path = xasprintf("%s[%zu]", rec, n);
			jc_record(c, xstrdup(path), c->i);
		}
		r = jc_value(c, depth, path);
		if (r < 0)
			return r;
		jc_ws(c);
		if (jc_at(c, ',')) {
			comma = c->i++;
			continue;
		}
		if (jc_at(c, ']')) {
			c->i++;
			return 0;
		}
		return jc_fail_at(c, c->i, "expected ',' or ']' after element %zu of the list, got %s",
				  n, jc_got(c, g));
	}
}

static int jc_literal(struct jc *c, const char *word)
{
	size_t n = strlen(word);
	char g[48];

	if (c->len - c->i >= n && memcmp(c->t + c->i, word, n) == 0 &&
	    (c->i + n >= c->len || !jc_is_word(c->t[c->i + n]))) {
		c->i += n;
		return 0;
	}
	return jc_fail_at(c, c->i, "expected a value (a string in double quotes, a number, {...}, "
			  "[...], true, false or null), got %s", jc_got(c, g));
}

/* A value at c->i (after blanks); rec: where its keys are recorded (NULL: nowhere). */
static int jc_value(struct jc *c, unsigned depth, const char *rec)
{
	char g[48];

	jc_ws(c);
	if (c->i >= c->len)
		return jc_fail_at(c, c->i, "expected a value, got the end of the file");
	switch (c->t[c->i]) {
	case '{':
	case '[':
		if (depth >= JSON_CHECK_MAX_DEPTH)
			return jc_fail_at(c, c->i, "nested more than %d deep", JSON_CHECK_MAX_DEPTH);
		return c->t[c->i] == '{' ? jc_object(c, depth + 1, rec)
					 : jc_array(c, depth + 1, rec);
	case '"':
		return jc_string(c, NULL);
	case '-':
	case '0' ... '9':
		return jc_number(c);
	case 't':
		return jc_literal(c, "true");
	case 'f':
		return jc_literal(c, "false");
	case 'n':
		return jc_literal(c, "null");
	default:
		return jc_fail_at(c, c->i, "expected a value (a string in double quotes, a number, "
				  "{...}, [...], true, false or null), got %s", jc_got(c, g));
	}
}

void json_check_free(struct json_check *c)
{
	for (size_t i = 0; i < c->n_keys; i++)
		free(c->keys[i].path);
	free(c->keys);
	c->keys = NULL;
	c->n_keys = 0;
}

int json_check(const char *text, size_t len, const char *what, struct diag *d,
	       struct json_check *ret)
{
	struct json_check out = { 0 };
	struct jc c = {
		.t = text, .len = len, .what = what, .d = d, .pos_line = 1, .pos_col = 1,
		.out = &out,
	};
	char g[48];
	int r;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		return jc_fail_at(&c, 0, "a UTF-8 byte-order mark (save the file without it)");
	jc_ws(&c);
	if (!jc_at(&c, '{'))
		r = jc_fail_at(&c, c.i, "expected '{' (the file holds one JSON object { \"key\": "
			       "value, ... }), got %s", jc_got(&c, g));
	else
		r = jc_value(&c, 0, "");
	if (r >= 0) {
		jc_ws(&c);
		if (c.i < c.len)
			r = jc_fail_at(&c, c.i, "text after the closing '}': %s", jc_got(&c, g));
	}
	if (r < 0) {
		json_check_free(&out);
		return r;
	}
	*ret = out;
	return 0;
}

const struct json_key_pos *json_check_find(const struct json_check *c, const char *path)
{
	if (!path)
		return NULL;
	for (size_t i = 0; i < c->n_keys; i++)
		if (strcmp(c->keys[i].path, path) == 0)
			return &c->keys[i];
	return NULL;
}
