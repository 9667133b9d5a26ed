#include "util/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	va_list ap;

	if (!d)
		return err;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	diag_one_line(d);
	d->err = err;
	return err;
}

int diag_prepend(struct diag *d, int err, const char *fmt, ...)
{
	char prefix[256], old[sizeof(d->msg)];
	int n;
	va_list ap;

	if (!d)
		return err;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (d->msg[0] == '\0')
		snprintf(d->msg, sizeof(d->msg), "%s: %s", prefix, strerror(-err));
	else {
		memcpy(old, d->msg, sizeof(old));
		n = snprintf(d->msg, sizeof(d->msg), "%s: ", prefix);
		if (n > 0 && (size_t)n < sizeof(d->msg))
			snprintf(d->msg + n, sizeof(d->msg) - (size_t)n, "%.*s",
				 (int)(sizeof(d->msg) - (size_t)n - 1), old);
	}
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
