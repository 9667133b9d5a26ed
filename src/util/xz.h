/* LZMA1 raw streams (liblzma), for GRUB's i386-pc core.img, whose kernel and modules
 * grub-mkimage compresses with the LZMA SDK as a raw stream without an end marker. The only
 * file that includes <lzma.h>. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;

struct xz_lzma1 {
	uint32_t dict_size;
	unsigned lc, lp, pb;
};

/* Decode exactly out_len bytes from a raw LZMA1 stream in[0, in_len). -EBADMSG (with a message)
 * when the stream is malformed or ends early. Memory is bounded by dict_size (at most 64 MiB,
 * else -EINVAL). */
int xz_lzma1_decode(const struct xz_lzma1 *o, const uint8_t *in, size_t in_len, uint8_t *out,
		    size_t out_len, struct diag *d);
