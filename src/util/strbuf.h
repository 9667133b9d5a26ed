/* A growing string: appends cost amortised O(length appended), so building a text of n pieces
 * is linear in its length (not quadratic, as re-formatting the whole string each time is). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *s; /* NUL-terminated; NULL until the first append */
	size_t len, cap;
};

void strbuf_appendf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_append(struct strbuf *b, const char *s);
/* The string (an empty one when nothing was appended); b is reset. Free it. */
char *strbuf_steal(struct strbuf *b);
void strbuf_done(struct strbuf *b);
/* words (split at spaces) wrapped into lines from column indent to width, the first starting
 * at column col (where the line is now); ends with a newline. --help texts and the man page. */
void strbuf_wrap(struct strbuf *b, const char *words, size_t col, size_t indent, size_t width);

/* Bytes written and moved by growing, over the process: a work counter for the unit tests
 * that check rendering is linear. */
extern uint64_t strbuf_bytes_moved;
