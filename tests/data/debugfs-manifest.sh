#!/usr/bin/env bash
# debugfs-manifest.sh IMG: the manifest of an ext4 image file, read with debugfs (no root, no
# mount), in manifest.sh's format.
exec python3 "$(dirname "$0")/manifest.py" debugfs "$1"
