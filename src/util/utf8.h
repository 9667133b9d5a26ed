/* UTF-8 decoding (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Decode the sequence at s (len >= 1 bytes left): its length (1-4), or -EILSEQ. */
int utf8_next(const uint8_t *s, size_t len, uint32_t *ret_cp);
/* len when s[0..len) is valid UTF-8, else the offset of the first invalid sequence. */
size_t utf8_valid_prefix(const char *s, size_t len);
