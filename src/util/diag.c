#include "util/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, 3 bytes */

static bool is_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

void diag_elide(const char *s, char *out, size_t cap)
{
	size_t len = strlen(s), cut, best = 0, best_len = 0, keep, head, tail, i;

	if (cap == 0)
		return;
	if (len < cap) {
		memcpy(out, s, len + 1);
		return;
	}
	if (cap < 16) {
		snprintf(out, cap, "%s", s);
		return;
	}
	/* Bytes to drop so the rest, an ellipsis and the NUL fit. */
	cut = len - (cap - 1) + strlen(ELLIPSIS);
	/* From the longest space-free word (a path, as a rule) when it is long enough to keep
	 * some of both ends; else from the middle of the whole message. */
	for (i = 0; i < len;) {
		size_t j = i;

		while (j < len && s[j] != ' ')
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j + 1;
	}
	if (best_len < cut + 16) {
		best = 0;
		best_len = len;
	}
	/* Keep a third of what stays of the word at its start, two thirds at its end (a path's
	 * tail names the file). Moving the head back or the tail on only drops more: to a slash
	 * when one is near ("/very/long/…/tail"), and off UTF-8 continuation bytes. */
	keep = best_len - cut;
	head = best + keep / 3;
	tail = head + cut;
	for (i = head; i > best && head - i <= keep / 6; i--)
		if (s[i - 1] == '/') {
			head = i;
			break;
		}
	for (i = tail; i < best + best_len && i - tail <= keep / 6; i++)
		if (s[i] == '/') {
			tail = i;
			break;
		}
	while (head > 0 && is_cont(s[head]))
		head--;
	while (tail < len && is_cont(s[tail]))
		tail++;
	memcpy(out, s, head);
	memcpy(out + head, ELLIPSIS, strlen(ELLIPSIS));
	memcpy(out + head + strlen(ELLIPSIS), s + tail, len - tail + 1);
}

/* A message is one line, whatever the input it quotes holds (a spec key, a GPT name, a path):
 * control characters become '?'. */
static void diag_one_line(struct diag *d)
{
	for (char *p = d->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

int diag_fail(struct diag *d, int err, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	if (!d)
		return err;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		diag_elide(s, d->msg, sizeof(d->msg));
	else
		snprintf(d->msg, sizeof(d->msg), "out of memory formatting a message");
	free(s);
	diag_one_line(d);
	d->err = err;
	return err;
}

int diag_prepend(struct diag *d, int err, const char *fmt, ...)
{
	char *prefix = NULL, *s = NULL;
	va_list ap;
	int n;

	if (!d)
		return err;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	if (!prefix)
		return err;
	if (d->msg[0] == '\0')
		n = asprintf(&s, "%s: %s", prefix, strerror(-err));
	else
		n = asprintf(&s, "%s: %s", prefix, d->msg);
	if (n >= 0)
		diag_elide(s, d->msg, sizeof(d->msg));
	free(s);
	free(prefix);
	diag_one_line(d);
	d->err = err;
	return err;
}

const char *diag_message(const struct diag *d, int err)
{
	if (d && d->msg[0])
		return d->msg;
	return strerror(err < 0 ? -err : err);
}
