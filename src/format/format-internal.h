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

/* Readers, listed in reader.c. */
extern const struct reader_ops reader_raw;
extern const struct reader_ops reader_qcow2;
extern const struct reader_ops reader_vdi;
/* A fixed VHD has its footer at the end only: the probe recognises dynamic VHDs alone. */
extern const struct reader_ops reader_vpc;
extern const struct reader_ops reader_vmdk;
extern const struct reader_ops reader_vhdx;
