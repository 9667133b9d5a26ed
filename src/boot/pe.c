#include "boot/pe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"

enum {
	PE_DOS_MAGIC = 0,     /* "MZ" */
	PE_DOS_LFANEW = 0x3c, /* le32: offset of the PE signature */
	PE_SIG_LEN = 4,       /* "PE\0\0", then the COFF header */
	PE_COFF_MACHINE = 4,  /* le16, after the signature */
	PE_HEADERS_MAX = 4096, /* real images put the PE header in the first few hundred bytes */
};

int pe_machine(const uint8_t *buf, size_t len, uint16_t *ret)
{
	uint32_t off;

	if (len < PE_DOS_LFANEW + 4 || memcmp(buf + PE_DOS_MAGIC, "MZ", 2) != 0)
		return -EBADMSG;
	off = le32_get(buf + PE_DOS_LFANEW);
	if (off > len || len - off < PE_COFF_MACHINE + 2 || memcmp(buf + off, "PE\0\0", 4) != 0)
		return -EBADMSG;
	*ret = le16_get(buf + off + PE_COFF_MACHINE);
	return 0;
}

int pe_file_machine(const char *path, struct diag *d, uint16_t *ret)
{
	/* without blocking: a FIFO put in the loader's place must not hang the build */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	uint8_t head[PE_HEADERS_MAX];
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return diag_fail(d, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return diag_fail(d, -errno, "%s: cannot stat: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return diag_fail(d, -EBADMSG, "%s: not a regular file; give an EFI binary", path);
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		return diag_fail(d, -errno, "%s: cannot read: %s", path, strerror(errno));
	if (pe_machine(head, (size_t)n, ret) < 0)
		return diag_fail(d, -EBADMSG, "%s: not an EFI (PE/COFF) binary", path);
	return 0;
}

const char *pe_machine_name(uint16_t machine)
{
	switch (machine) {
	case PE_MACHINE_X86_64:
		return "x86-64";
	case PE_MACHINE_AARCH64:
		return "aarch64";
	case PE_MACHINE_I386:
		return "i386";
	default:
		return "unknown";
	}
}
