#!/usr/bin/env bash
# manifest.sh DIR: print the tree manifest of DIR (see manifest.py): per path, sorted, its type,
# mode, owner, size, mtime in ns, symlink target, rdev, hard-link group, content hash and xattrs.
exec python3 "$(dirname "$0")/manifest.py" tree "$1"
