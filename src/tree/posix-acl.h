/* The kernel's POSIX ACL xattr value (include/uapi/linux/posix_acl_xattr.h), the form the tree
 * keeps system.posix_acl_access/_default in, whether read from a directory or a tar (tar.c):
 * le32 version 2, then entries of le16 tag, le16 perm, le32 id, sorted by tag then id. ext4
 * converts it to its own on-disk form (fs/ext4/xattr.c). */
#pragma once

enum {
	POSIX_ACL_XATTR_VERSION = 2,
	POSIX_ACL_HEADER_SIZE = 4,
	POSIX_ACL_ENTRY_SIZE = 8,
	ACL_USER_OBJ = 0x01,
	ACL_USER = 0x02,
	ACL_GROUP_OBJ = 0x04,
	ACL_GROUP = 0x08,
	ACL_MASK = 0x10,
	ACL_OTHER = 0x20,
	ACL_UNDEFINED_ID = -1,
};
