/* The formats' ops tables, listed in format.c. */
#pragma once

#include "format/format.h"

extern const struct format_ops format_raw;
extern const struct format_ops format_qcow2;
extern const struct format_ops format_qcow2_compressed;
extern const struct format_ops format_vdi;
extern const struct format_ops format_vpc;
extern const struct format_ops format_vmdk;
extern const struct format_ops format_vhdx;
extern const struct format_ops format_gce;
extern const struct format_ops format_ova;

/* ova.c: an OVA whose disk disk_format writes (vmdk; another in the unit tests). */
int ova_open_with(const struct format_ops *disk_format, const struct format_params *p,
		  struct outfile *out, struct diag *d, struct sink **ret);

/* raw --compress (raw-compress.c): a sink with ops of its own, which sink_open keeps. */
int raw_compress_open(const struct format_params *p, struct outfile *out, struct diag *d,
		      struct sink **ret);

/* Readers, listed in reader.c. */
extern const struct reader_ops reader_raw;
extern const struct reader_ops reader_qcow2;
extern const struct reader_ops reader_vdi;
/* A fixed VHD has its footer at the end only: the probe recognises dynamic VHDs alone. */
extern const struct reader_ops reader_vpc;
extern const struct reader_ops reader_vmdk;
extern const struct reader_ops reader_vhdx;
/* unpack-read.c: decompressed into a temporary file, read as raw. gce probes before
 * raw-compressed (both may be gzip). */
extern const struct reader_ops reader_gce;
extern const struct reader_ops reader_raw_compressed;
/* an ova's vmdk member, copied out and read by the vmdk reader */
extern const struct reader_ops reader_ova;
