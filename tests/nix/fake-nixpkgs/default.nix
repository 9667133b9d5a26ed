# a stand-in for nixpkgs (the channel of tests/nix/minimal.nix)
{ ... }: { }
