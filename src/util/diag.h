/* Diagnostics: the one-line user-facing message travels with the error code. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct diag {
	int err;
	char msg[1024];
};

/* s into out (cap bytes with the NUL): as is when it fits, else with its middle replaced by
 * "…": taken from the longest space-free word (a path: "/very/long/…/tail"), so a message
 * keeps its end (the reason) whatever the length of the path it names. */
void diag_elide(const char *s, char *out, size_t cap);
/* Messages longer than msg are shortened by diag_elide. */
/* Record msg (replacing any earlier one) and return err (a negative errno). */
int diag_fail(struct diag *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the recorded message with "context: " and return err. */
int diag_prepend(struct diag *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The message, or strerror(-err) when none was recorded. */
const char *diag_message(const struct diag *d, int err);
