/* GRUB's Reed-Solomon redundancy for an embedded i386-pc core.img (what grub-bios-setup adds and
 * GRUB's startup code uses to repair a damaged core). The code: GF(2^8) with the polynomial
 * x^8+x^4+x^3+x^2+1 (0x11d) and generator 2; a systematic code whose generator polynomial has the
 * roots 2^0 .. 2^(r-1), the highest-degree coefficient first. The data is cut into blocks of at
 * most 200 sectors (data and parity together), and inside a block byte i of every 512-byte sector
 * forms one codeword column (interleaving: a damaged sector is one error per column).
 * docs/formats/grub-embed.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum {
	REED_SOLOMON_SECTOR = 512,
	REED_SOLOMON_MAX_BLOCK = 200 * REED_SOLOMON_SECTOR, /* data + parity per block */
};

/* Write red_len parity bytes at buf + data_len for the data_len bytes at buf (the buffer holds
 * data_len + red_len bytes); the data is left as it is. -EINVAL when the parity is so much larger
 * than the data that a block would hold no data (GRUB would loop forever there). */
int reed_solomon_add(uint8_t *buf, size_t data_len, size_t red_len);

/* Evaluate one codeword (data then parity, n bytes, highest-degree coefficient first) at 2^k:
 * zero for k < parity length when the codeword is valid. For tests and checks. */
uint8_t reed_solomon_eval(const uint8_t *word, size_t n, unsigned k);
