/* Output formats behind one small vtable. A sink receives a monotonic stream of writes:
 * offsets never go backwards, gaps are holes (zeros). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct diag;
struct outfile;
struct sink;

enum format_compression {
	FORMAT_COMPRESSION_NONE,
	FORMAT_COMPRESSION_DEFLATE, /* qcow2 compression_type 0: raw deflate, as qemu-img -c */
	FORMAT_COMPRESSION_ZSTD,    /* qcow2 compression_type 1 */
};

enum format_vpc_subformat {
	FORMAT_VPC_DYNAMIC,
	FORMAT_VPC_FIXED,
};

enum format_vmdk_subformat {
	FORMAT_VMDK_MONOLITHIC_SPARSE, /* what qemu-img -O vmdk writes */
	FORMAT_VMDK_STREAM_OPTIMIZED,  /* deflated grains, as VMware and OVA imports want */
};

/* The whole output file compressed (raw --compress: nixos.img.zst, ...). */
enum format_file_compress {
	FORMAT_FILE_COMPRESS_NONE,
	FORMAT_FILE_COMPRESS_ZSTD,
	FORMAT_FILE_COMPRESS_GZIP,
	FORMAT_FILE_COMPRESS_XZ,
};

/* The virtual machine an OVA's OVF descriptor describes. */
struct format_vm {
	unsigned cpus;       /* 0: the sink's default */
	uint64_t memory_mib; /* 0: the sink's default */
	bool efi;            /* the layout boots by UEFI only: firmware EFI, else BIOS */
	const char *name;    /* the machine's name (the image label) */
};

struct format_params {
	uint64_t virtual_size; /* bytes */
	uint32_t cluster_size; /* qcow2; 0 = default 64 KiB */
	enum format_compression compression; /* qcow2-compressed: DEFLATE unless ZSTD */
	int compression_level; /* 0: the sink's default (deflate 2, zstd 1) */
	unsigned n_threads;    /* compression workers; 0 = one per core. Output is identical for
				* any value. */
	enum format_vpc_subformat vpc_subformat;
	const char *seed;      /* VDI/VHD identifiers: uuid_derive(seed, "vdi-uuid"), ... */
	int64_t timestamp;     /* VHD creation time (SOURCE_DATE_EPOCH or a fixed constant) */
	bool raw_buffered;     /* raw: through the page cache even where O_DIRECT works (tests) */
	enum format_vmdk_subformat vmdk_subformat;
	uint32_t vhdx_block_size; /* bytes; 0 = 1 MiB */
	enum format_file_compress file_compress; /* raw */
	struct format_vm vm;      /* ova */
	/* resize: the identifier of the image being rewritten (VDI image UUID, VHD UUID), kept
	 * instead of one derived from seed so that hypervisors still know the disk; all zero:
	 * derived. */
	uint8_t keep_uuid[16];
};

/* The options a format accepts (struct format_ops.options): the spec and `convert` refuse an
 * option the chosen format would ignore. */
enum format_option {
	FORMAT_OPT_CLUSTER_SIZE = 1u << 0,      /* clusterSize, --cluster-size */
	FORMAT_OPT_COMPRESSION = 1u << 1,       /* compression, --compression */
	FORMAT_OPT_COMPRESSION_LEVEL = 1u << 2, /* compressionLevel */
	FORMAT_OPT_THREADS = 1u << 3,           /* threads, --threads */
	FORMAT_OPT_VPC_SUBFORMAT = 1u << 4,     /* vpcSubformat, --vpc-subformat */
	FORMAT_OPT_VMDK_SUBFORMAT = 1u << 5,    /* vmdkSubformat, --vmdk-subformat */
	FORMAT_OPT_VHDX_BLOCK_SIZE = 1u << 6,   /* vhdxBlockSize, --vhdx-block-size */
	FORMAT_OPT_FILE_COMPRESS = 1u << 7,     /* compress, --compress */
	FORMAT_OPT_VM = 1u << 8,                /* vmCpus, vmMemory (--vm-cpus, --vm-memory) */
};

struct format_ops {
	const char *name;      /* spec value: "raw", "qcow2", "qcow2-compressed", "vdi", "vpc" */
	const char *extension; /* file name in an output directory: "img", "qcow2", ... */
	unsigned options;      /* enum format_option bits it accepts */
	const char *compressed; /* the format compression turns it into (qcow2: qcow2-compressed),
				 * as qemu-img -c; NULL: none */
	int (*open)(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret);
	int (*write)(struct sink *s, uint64_t off, const void *buf, size_t len, struct diag *d);
	/* Optional (NULL: unsupported): copy up to len bytes of fd from src_off to off without
	 * the caller's buffer (raw: copy_file_range, or a read into its own direct-I/O window;
	 * zeros are taken as data too). Returns the bytes copied, fewer than len when the source
	 * ended or the kernel stopped early (the caller writes the rest), or a negative errno:
	 * -EXDEV, -EINVAL, -ENOSYS or -EOPNOTSUPP when nothing was copied and this pair of files
	 * cannot be copied so (no message; the caller falls back to write), any other with a
	 * message. */
	ssize_t (*copy_from_fd)(struct sink *s, uint64_t off, int fd, uint64_t src_off, size_t len,
				struct diag *d);
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

/* Reading images of every format (for `convert` and `inspect`): the input is hostile, every
 * field is checked before use (-EBADMSG naming the field). */
struct image_reader;

struct reader_ops {
	const char *name; /* "raw", "qcow2", "vdi", "vpc" */
	/* > 0 when the first bytes of a file (len >= 4096 unless the file is shorter) are this
	 * format's; raw is the fallback and never probes. */
	int (*probe)(const uint8_t *head, size_t len, uint64_t file_size);
	int (*open)(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret);
	/* Bytes [off, off + len) of the virtual disk (holes read as zeros). */
	int (*read)(struct image_reader *r, uint64_t off, void *buf, size_t len, struct diag *d);
	/* The first range at or after off that may hold data: *ret_start >= off, and everything
	 * in [off, *ret_start) reads as zeros. *ret_len == 0 at the end of the disk. */
	int (*next_data)(struct image_reader *r, uint64_t off, uint64_t *ret_start,
			 uint64_t *ret_len, struct diag *d);
	void (*close)(struct image_reader *r);
	/* Optional (NULL: the sink of the reader's name, default options): the sink and the
	 * options that write this image again as it is (`resize` rewrites an image through its
	 * own format), as far as the file records them: e.g. qcow2's cluster size and
	 * compression. Sets *ret_format to a format name and the fields of p it knows; appends
	 * what it kept to kept ("cluster size 65536, deflate-compressed"; may stay empty). */
	int (*write_params)(struct image_reader *r, const char **ret_format,
			    struct format_params *p, char *kept, size_t kept_cap, struct diag *d);
};

/* Every reader starts with this header. */
struct image_reader {
	const struct reader_ops *ops;
	uint64_t virtual_size;
};

/* The output formats, in the order messages list them: format_list(&n)[0 .. n). The one
 * list of format names: the spec, `build --help` and `convert` all read it. */
const struct format_ops *const *format_list(size_t *ret_n);
/* NULL when unknown. */
const struct format_ops *format_find(const char *name);
/* The format a file name's extension names ("disk.vhd": vpc; case-insensitive; the first
 * format with that extension or name), NULL when none does. */
const struct format_ops *format_from_file_name(const char *path);
/* The whole-file compression a name's last extension asks for ("nixos.img.zst": zstd, also
 * .gz and .xz) when the rest names a format that takes it (raw); else NONE. */
enum format_file_compress format_file_compress_from_name(const char *path);
/* "zst", "gz", "xz"; NULL for NONE. */
const char *format_file_compress_ext(enum format_file_compress c);
/* Comma-separated list of supported names, for messages: "raw, qcow2, ..., vpc". */
const char *format_names(void);
/* The same list ending in "or": "raw, qcow2, qcow2-compressed, vdi or vpc". */
const char *format_names_or(void);
/* Whether f accepts the option (an enum format_option bit). */
bool format_accepts(const struct format_ops *f, enum format_option o);
/* The formats that accept o, as "qcow2 or qcow2-compressed" (in a static buffer). */
const char *format_names_accepting(enum format_option o);

int sink_open(const struct format_ops *ops, const struct format_params *p, struct outfile *out,
	      struct diag *d, struct sink **ret);
/* -ESPIPE for a write below the previous end, -ERANGE past the virtual size: caller bugs. */
int sink_write(struct sink *s, uint64_t off, const void *buf, size_t len, struct diag *d);
/* copy_from_fd through the same checks and bookkeeping as sink_write; -EOPNOTSUPP (no
 * message) when the format has no copy_from_fd. */
ssize_t sink_copy_from_fd(struct sink *s, uint64_t off, int fd, uint64_t src_off, size_t len,
			  struct diag *d);
/* True for the errors of copy_from_fd that mean "not possible here, use write". */
int sink_copy_unsupported(ssize_t err);
int sink_finish(struct sink *s, struct diag *d);
void sink_abort(struct sink *s);
