#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

void log_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mkdiskimage: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	fputs("mkdiskimage: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
