/* The one PE/COFF fact the bootloader installer checks: which CPU an EFI binary is for, so
 * an x86-64 systemd-boot never lands in an aarch64 image (or the reverse) unnoticed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;

enum {
	PE_MACHINE_I386 = 0x014c,
	PE_MACHINE_X86_64 = 0x8664,
	PE_MACHINE_AARCH64 = 0xaa64,
};

/* The COFF machine field of a PE image held in buf (the whole file or at least its headers).
 * -EBADMSG when there is no "MZ" / "PE\0\0" header within len. */
int pe_machine(const uint8_t *buf, size_t len, uint16_t *ret);
/* The same for a host file; errors name the path. */
int pe_file_machine(const char *path, struct diag *d, uint16_t *ret);
/* "x86-64", "aarch64", "i386", or "unknown". */
const char *pe_machine_name(uint16_t machine);
