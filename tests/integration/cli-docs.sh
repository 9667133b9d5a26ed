#!/usr/bin/env bash
# The man page and the shell completions `make` generates from the option tables (issue #13),
# and `make install`:
#   man page      renders with `man -l` without a groff warning; names every command, every
#                 flag of every command's --help, every spec key, EXIT STATUS (0, 1, 2),
#                 ENVIRONMENT (each variable the code reads with getenv), FILES, EXAMPLES
#   bash          `complete -p` registers _mkdiskimage; compgen offers commands, flags per
#                 command, enum values (--format, --partition-table, --firmware), directories
#                 for --root, file names for operands
#   zsh, fish     parse (zsh -n, fish -n); fish offers the flags and values
#   install       DESTDIR + PREFIX: bin/, share/man/man1, bash-completion, zsh site-functions,
#                 fish vendor_completions.d; the installed binary runs
# quick
. "$(dirname "$0")/../lib.sh"
require man bash zsh fish make

B=$(dirname "$MKDISKIMAGE")
MAN=$B/man/mkdiskimage.1
BASH_C=$B/completions/mkdiskimage.bash
ZSH_C=$B/completions/_mkdiskimage
FISH_C=$B/completions/mkdiskimage.fish
for f in "$MAN" "$BASH_C" "$ZSH_C" "$FISH_C"; do
	[ -s "$f" ] || fail "$f missing: make builds it next to $MKDISKIMAGE"
done
COMMANDS=(build inspect convert resize boot-test help version)

# --- man page
warn=$(MANWIDTH=80 man --warnings -l "$MAN" 2>&1 >/dev/null)
[ -z "$warn" ] || fail "man -l: warnings: $warn"
MANWIDTH=250 man -l "$MAN" 2>/dev/null >"$T/man.txt"
[ "$(wc -l <"$T/man.txt")" -gt 150 ] || fail "the man page is short: $(wc -l <"$T/man.txt") lines"
for s in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
	grep -q "^$s" "$T/man.txt" || fail "man page: no $s section"
done
for c in "${COMMANDS[@]}"; do
	grep -q "^   mkdiskimage $c\$" "$T/man.txt" || fail "man page: no section for $c"
	"$MKDISKIMAGE" "$c" --help >"$T/help"
	for f in $(grep -oE -- '(^|[ ,])--[a-z0-9][a-z0-9-]*' "$T/help" | tr -d ' ,' | sort -u); do
		grep -qE -- "$f([^a-z0-9-]|\$)" "$T/man.txt" || fail "man page lacks $c's $f"
	done
done
# the spec keys (build --help's [key]s, and the keys without a flag)
for k in $("$MKDISKIMAGE" build --help | grep -oE '\[[a-zA-Z]+[],:]' | tr -d '[],:' | sort -u); do
	grep -qw -- "$k" "$T/man.txt" || fail "man page lacks spec key $k"
done
sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p' "$T/man.txt" >"$T/exit.txt"
for rc in 0 1 2; do
	grep -qE "^ +$rc +[A-Z]" "$T/exit.txt" || fail "EXIT STATUS lacks $rc: $(cat "$T/exit.txt")"
done
# every variable the code reads
for v in $(grep -rhoE 'getenv\("[A-Z_]+"\)' "$REPO/src" | sed 's/getenv("\(.*\)")/\1/' | sort -u); do
	sed -n '/^ENVIRONMENT/,/^FILES/p' "$T/man.txt" | grep -qE "^ +$v( |\$)" ||
		fail "man page ENVIRONMENT lacks $v (read by the code)"
done
# FILES: the default places of boot/find.c, in order
sed -n '/^FILES/,/^EXAMPLES/p' "$T/man.txt" >"$T/files.txt"
for p in /usr/lib/systemd/boot/efi/systemd-bootx64.efi /usr/lib/grub/i386-pc \
	/usr/lib/grub/arm64-efi /usr/share/OVMF/OVMF_VARS_4M.fd /usr/share/AAVMF/AAVMF_VARS.fd; do
	grep -qF -- "$p" "$T/files.txt" || fail "man page FILES lacks $p"
done
log "man page: renders cleanly, every flag, key, exit status and variable"

# --- bash
bash -c '. "$1"; complete -p mkdiskimage' _ "$BASH_C" | grep -q -- '-F _mkdiskimage mkdiskimage$' ||
	fail "complete -p: _mkdiskimage not registered"
mkdir -p "$T/cwd/somedir" && touch "$T/cwd/disk.img"
comp() # WORDS...: what bash completes for the last word
{
	(cd "$T/cwd" && bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_mkdiskimage; printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_C" "$@")
}
offers() # WANT WORDS...: comp WORDS offers WANT
{
	local want=$1 got
	shift
	got=$(comp "$@")
	grep -qxF -- "$want" <<<"$got" || fail "bash: '$*' does not offer '$want': $(tr '\n' ' ' <<<"$got")"
}
for c in "${COMMANDS[@]}"; do
	offers "$c" mkdiskimage ""
done
offers --version mkdiskimage --v
offers --partition-table mkdiskimage build --part
[ "$(comp mkdiskimage build --part)" = --partition-table ] || fail "bash: build --part: $(comp mkdiskimage build --part)"
for v in raw qcow2 qcow2-compressed vdi vpc; do
	offers "$v" mkdiskimage build --format ""
	offers "$v" mkdiskimage convert --format ""
done
offers efi mkdiskimage build --partition-table ""
offers hybrid mkdiskimage build --partition-table h
offers zstd mkdiskimage convert --compression ""
offers --compression-level mkdiskimage convert --compression-l
offers bios mkdiskimage boot-test --firmware ""
offers tcg mkdiskimage boot-test --accel ""
offers somedir mkdiskimage build --root s
got=$(comp mkdiskimage build --root d)
! grep -q disk.img <<<"$got" || fail "bash: --root offers a file"
offers disk.img mkdiskimage build --spec d
offers disk.img mkdiskimage inspect d
offers disk.img mkdiskimage convert --compression zstd d
offers convert mkdiskimage help co
[ -z "$(comp mkdiskimage build --label "")" ] || fail "bash: --label offers something"
log "bash: commands, flags, values, directories and files"

# --- zsh, fish
zsh -n "$ZSH_C" || fail "zsh -n $ZSH_C"
head -n1 "$ZSH_C" | grep -qx '#compdef mkdiskimage' || fail "zsh: no #compdef line"
grep -q "'--partition-table\[.*\]:TYPE:(none legacy" "$ZSH_C" || fail "zsh: --partition-table values"
# compinit finds it on $fpath and binds it to mkdiskimage (#compdef), and it defines a function
# per command
got=$(zsh -fc 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D
	autoload -Uz _mkdiskimage; print -r -- ${_comps[mkdiskimage]}' _ "$(dirname "$ZSH_C")")
[ "$got" = _mkdiskimage ] || fail "zsh: compinit does not bind _mkdiskimage: '$got'"
for c in "${COMMANDS[@]}"; do
	grep -q "^_mkdiskimage_$c()" "$ZSH_C" || fail "zsh: no function for $c"
done
fish -n "$FISH_C" || fail "fish -n $FISH_C"
fish_offers() # WANT LINE: fish completes LINE with WANT
{
	local got
	got=$(fish --no-config -c "source $FISH_C; complete -C '$2'" | cut -f1)
	grep -qxF -- "$1" <<<"$got" || fail "fish: '$2' does not offer '$1': $(tr '\n' ' ' <<<"$got")"
}
fish_offers build "mkdiskimage b"
fish_offers --partition-table "mkdiskimage build --part"
fish_offers qcow2 "mkdiskimage build --format "
fish_offers --compression-level "mkdiskimage convert --compression-"
fish_offers uefi "mkdiskimage boot-test --firmware "
log "zsh and fish: parse; fish completes flags and values"

# --- make install, into a DESTDIR, with a PREFIX
# VERSION as the binary under test says: a tree edited since the build must not relink it
# under the tests running beside this one (JOBS).
mk=(make -s -C "$REPO" BUILD="$B" VERSION="$("$MKDISKIMAGE" --version | sed 's/^mkdiskimage //')")
[ "$(basename "$B")" != build-san ] || mk+=(SANITIZE=1)
"${mk[@]}" install DESTDIR="$T/dest" PREFIX=/usr >"$T/install.out" 2>&1 ||
	fail "make install: $(tail -n 5 "$T/install.out")"
for f in usr/bin/mkdiskimage usr/share/man/man1/mkdiskimage.1 \
	usr/share/bash-completion/completions/mkdiskimage usr/share/zsh/site-functions/_mkdiskimage \
	usr/share/fish/vendor_completions.d/mkdiskimage.fish; do
	[ -s "$T/dest/$f" ] || fail "make install: no $f"
done
[ -x "$T/dest/usr/bin/mkdiskimage" ] || fail "make install: the binary is not executable"
"$T/dest/usr/bin/mkdiskimage" --version | grep -q '^mkdiskimage ' || fail "the installed binary does not run"
cmp -s "$T/dest/usr/share/man/man1/mkdiskimage.1" "$MAN" || fail "installed man page differs"
[ "$(find "$T/dest" -type f | wc -l)" = 5 ] || fail "make install: $(find "$T/dest" -type f)"
# the default PREFIX
"${mk[@]}" install DESTDIR="$T/dest2" >"$T/install.out" 2>&1 || fail "make install (default PREFIX)"
[ -x "$T/dest2/usr/local/bin/mkdiskimage" ] && [ -s "$T/dest2/usr/local/share/man/man1/mkdiskimage.1" ] ||
	fail "make install: PREFIX is not /usr/local by default: $(find "$T/dest2" -type f)"
MANPATH=$T/dest/usr/share/man man -w mkdiskimage >/dev/null || fail "man cannot find the installed page"
log "make install: binary, man page, three completions"
log "ok"
