/* Untrusted strings (labels, partition and variable names read from an image) made safe to
 * print: no byte of them can move the cursor, change colours or retitle a terminal. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the well-formed UTF-8 sequence at p (n bytes available), 0 when the
 * bytes there are not one (overlong, surrogate, past U+10FFFF, truncated, stray continuation);
 * the code point in *ret_cp. */
size_t utf8_seq_len(const unsigned char *p, size_t n, uint32_t *ret_cp);

/* A printable copy of s for text output (free it): C0 controls, DEL, C1 controls and bidi
 * overrides escaped as \xNN / \uNNNN, bytes that are not UTF-8 as \xNN, and '\\' and '"' as
 * \\ and \" (so a label printed in quotes stays one token). Plain strings come back equal. */
char *text_escape(const char *s);
