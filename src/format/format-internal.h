/* The formats' ops tables, listed in format.c. */
#pragma once

#include "format/format.h"

extern const struct format_ops format_raw;

/* Readers, listed in reader.c. */
extern const struct reader_ops reader_raw;
