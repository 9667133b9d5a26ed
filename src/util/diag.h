/* Diagnostics: the one-line user-facing message travels with the error code. */
#pragma once

#include <stddef.h>

struct diag {
	int err;
	char msg[1024];
};

/* Record msg (replacing any earlier one) and return err (a negative errno). */
int diag_fail(struct diag *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the recorded message with "context: " and return err. */
int diag_prepend(struct diag *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The message, or strerror(-err) when none was recorded. */
const char *diag_message(const struct diag *d, int err);
