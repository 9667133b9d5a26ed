/* The OVF 1.0 descriptor of an OVA (DMTF DSP0243 1.0.0, schema dsp8023_1.0.0.xsd), shaped as
 * VirtualBox exports it, with what VMware needs to import it too (docs/formats/pack.md). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ovf_params {
	const char *name;      /* the machine (and file base) name: ovf_safe_name() */
	const char *disk_file; /* the vmdk's name in the archive */
	uint64_t disk_file_size;
	uint64_t capacity;  /* the disk's virtual size, bytes */
	uint64_t populated; /* bytes of data in it */
	unsigned cpus;
	uint64_t memory_mib;
	bool efi;
};

/* The descriptor text (UTF-8, LF line ends), to free. */
char *ovf_descriptor(const struct ovf_params *p);
/* A name usable as a file base and XML text: [A-Za-z0-9._-] kept, anything else '_', at most
 * 64 bytes, "nixos" when empty or NULL. To free. */
char *ovf_safe_name(const char *name);
