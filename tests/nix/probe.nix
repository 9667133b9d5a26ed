# A trivial /bin/sh derivation: can real Nix build here at all (and, given `hidden`, a path
# outside the build that a sandboxed builder must not see, is the sandbox on)?
{ hidden ? "" }:
derivation {
  name = "mkdiskimage-probe";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  inherit hidden;
  args = [ "-c" ''[ -z "$hidden" ] || [ ! -e "$hidden" ] || exit 1; echo ok >$out'' ];
}
