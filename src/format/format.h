/* Output formats behind one small vtable. A sink receives a monotonic stream of writes:
 * offsets never go backwards, gaps are holes (zeros). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;
struct outfile;
struct sink;

struct format_params {
	uint64_t virtual_size; /* bytes */
};

struct format_ops {
	const char *name;      /* spec value: "raw", "qcow2", "vdi", "vpc" */
	const char *extension; /* file name in an output directory: "img", "qcow2", ... */
	int (*open)(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret);
	int (*write)(struct sink *s, uint64_t off, const void *buf, size_t len, struct diag *d);
	int (*finish)(struct sink *s, struct diag *d); /* trailing metadata, flush, commit */
	void (*abort)(struct sink *s);                 /* discard: no output file remains */
};

/* Every sink starts with this header. */
struct sink {
	const struct format_ops *ops;
	uint64_t end;          /* end of the previous write */
	uint64_t virtual_size;
	uint64_t bytes_written;
};

/* NULL when unknown. */
const struct format_ops *format_find(const char *name);
/* Comma-separated list of supported names, for messages. */
const char *format_names(void);

int sink_open(const struct format_ops *ops, const struct format_params *p, struct outfile *out,
	      struct diag *d, struct sink **ret);
/* -ESPIPE for a write below the previous end, -ERANGE past the virtual size: caller bugs. */
int sink_write(struct sink *s, uint64_t off, const void *buf, size_t len, struct diag *d);
int sink_finish(struct sink *s, struct diag *d);
void sink_abort(struct sink *s);
