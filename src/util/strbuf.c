#include "util/strbuf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

uint64_t strbuf_bytes_moved;

/* Room for n more bytes and the NUL, doubling. */
static void strbuf_reserve(struct strbuf *b, size_t n)
{
	size_t need = b->len + n + 1;

	if (need < n) /* overflow: xrealloc aborts on the huge size */
		need = SIZE_MAX;
	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	b->s = xrealloc(b->s, b->cap);
	strbuf_bytes_moved += b->len;
}

void strbuf_append(struct strbuf *b, const char *s)
{
	size_t n = strlen(s);

	strbuf_reserve(b, n);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
	strbuf_bytes_moved += n;
}

void strbuf_appendf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n;

	/* format into the room there is; only when it does not fit, grow and format again */
	va_start(ap, fmt);
	n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if ((size_t)n >= room) {
		strbuf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	strbuf_bytes_moved += (size_t)n;
}

char *strbuf_steal(struct strbuf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	*b = (struct strbuf){ 0 };
	return s;
}

void strbuf_done(struct strbuf *b)
{
	free(b->s);
	*b = (struct strbuf){ 0 };
}

void strbuf_wrap(struct strbuf *b, const char *words, size_t col, size_t indent, size_t width)
{
	const char *p = words;
	bool first = true;

	while (*p) {
		size_t len = strcspn(p, " ");

		if (!first && col + 1 + len > width) {
			strbuf_append(b, "\n");
			col = 0;
			first = true;
		}
		for (; col < indent; col++)
			strbuf_append(b, " ");
		if (!first) {
			strbuf_append(b, " ");
			col++;
		}
		strbuf_appendf(b, "%.*s", (int)len, p);
		col += len;
		first = false;
		p += len;
		p += strspn(p, " ");
	}
	strbuf_append(b, "\n");
}
