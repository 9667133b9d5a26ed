/* Growing an ext4 filesystem offline (mkdiskimage resize). */
#include "fs/ext4/ext4.h"

#include <errno.h>

#include "util/diag.h"

int ext4_grow(const struct fs_io *io, uint64_t new_bytes, struct ext4_grow_info *ret,
	      struct diag *d)
{
	(void)io;
	(void)new_bytes;
	(void)ret;
	return diag_fail(d, -EOPNOTSUPP, "growing ext4 is not implemented yet");
}
