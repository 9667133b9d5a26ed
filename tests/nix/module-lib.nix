# A stand-in for the part of nixpkgs' lib.modules/lib.options/lib.types that nix/module.nix
# uses (nixpkgs is not available offline): evalModules over imports, option declarations with
# defaults, definitions with mkIf/mkDefault/mkOverride priorities, and the types' checks and
# merges. Not nixpkgs' module system: no freeform types, no _module.args, no mkMerge/mkOrder.
let
  isOption = v: builtins.isAttrs v && (v._type or null) == "option";
  showLoc = builtins.concatStringsSep ".";

  mkType = { name, check ? (_: true), merge ? mergeEqual }: { _type = "option-type"; inherit name check merge; };
  # one value, or several equal ones (nixpkgs' mergeEqualOption)
  mergeEqual = loc: defs:
    let v = (builtins.head defs).value; in
    if builtins.all (d: d.value == v) defs then v
    else throw "The option `${showLoc loc}' has conflicting definition values.";

  types = rec {
    str = mkType { name = "string"; check = builtins.isString; };
    bool = mkType { name = "boolean"; check = builtins.isBool; };
    int = mkType { name = "signed integer"; check = builtins.isInt; };
    path = mkType {
      name = "path";
      check = v: builtins.isPath v || (builtins.isString v && builtins.substring 0 1 v == "/")
        || (builtins.isAttrs v && v ? outPath);
    };
    package = mkType {
      name = "package";
      check = v: builtins.isAttrs v && (v.type or null) == "derivation";
    };
    attrs = mkType {
      name = "attribute set";
      check = builtins.isAttrs;
      merge = loc: defs: builtins.foldl' (a: d: a // d.value) { } defs;
    };
    unspecified = mkType {
      name = "unspecified value";
      merge = loc: defs:
        if builtins.length defs == 1 then (builtins.head defs).value
        else if builtins.all (d: builtins.isAttrs d.value) defs
        then attrs.merge loc defs else mergeEqual loc defs;
    };
    lines = mkType {
      name = "strings concatenated with \"\\n\"";
      check = builtins.isString;
      merge = loc: defs: builtins.concatStringsSep "\n" (map (d: d.value) defs);
    };
    enum = values: mkType {
      name = "one of ${builtins.concatStringsSep ", " (map builtins.toJSON values)}";
      check = v: builtins.elem v values;
    };
    nullOr = t: mkType {
      name = "null or ${t.name}";
      check = v: v == null || t.check v;
      merge = loc: defs:
        if builtins.all (d: d.value == null) defs then null
        else t.merge loc (builtins.filter (d: d.value != null) defs);
    };
    either = a: b: mkType {
      name = "${a.name} or ${b.name}";
      check = v: a.check v || b.check v;
      merge = loc: defs:
        if builtins.all (d: a.check d.value) defs then a.merge loc defs
        else if builtins.all (d: b.check d.value) defs then b.merge loc defs
        else mergeEqual loc defs;
    };
    listOf = t: mkType {
      name = "list of ${t.name}";
      check = builtins.isList;
      merge = loc: defs: builtins.concatLists (map
        (d: builtins.genList
          (i: checked (loc ++ [ "[${toString i}]" ]) t [{ value = builtins.elemAt d.value i; }])
          (builtins.length d.value))
        defs);
    };
    attrsOf = t: mkType {
      name = "attribute set of ${t.name}";
      check = builtins.isAttrs;
      merge = loc: defs:
        let names = builtins.attrNames (builtins.foldl' (a: d: a // d.value) { } defs); in
        builtins.listToAttrs (map
          (n: {
            name = n;
            value = checked (loc ++ [ n ]) t
              (map (d: { value = d.value.${n}; }) (builtins.filter (d: d.value ? ${n}) defs));
          })
          names);
    };
    # a submodule of option declarations: { options = { ... }; }
    submodule = m: mkType {
      name = "submodule";
      check = builtins.isAttrs;
      merge = loc: defs: evalOptions loc m.options (map (d: d.value) defs);
    };
  };

  # the value of one option from its definitions: the highest priority wins, then the type merges
  # and checks
  checked = loc: type: defs:
    let
      v = type.merge loc defs;
      bad = builtins.filter (d: !(type.check d.value)) defs;
    in
    if bad != [ ] then
      throw ("A definition for option `${showLoc loc}' is not of type `${type.name}'. "
        + "Definition value: ${builtins.toJSON (builtins.head bad).value}")
    else v;

  # definitions of loc in one config attrset, through mkIf and mkOverride
  defsAt = loc: prio: v:
    if builtins.isAttrs v && (v._type or null) == "if" then
      (if v.condition then defsAt loc prio v.content else [ ])
    else if builtins.isAttrs v && (v._type or null) == "override" then
      defsAt loc v.priority v.content
    else if loc == [ ] then [{ value = v; priority = prio; }]
    else if builtins.isAttrs v && v ? ${builtins.head loc}
    then defsAt (builtins.tail loc) prio v.${builtins.head loc}
    else [ ];

  # loc: the option's full name; rel: its path in configs
  optionValue = loc: rel: opt: configs:
    let
      all = builtins.concatMap (c: defsAt rel 100 c) configs;
      best = builtins.foldl' (m: d: if d.priority < m then d.priority else m) 1500 all;
      defs = builtins.filter (d: d.priority == best) all;
    in
    if defs != [ ] then checked loc opt.type defs
    else if opt ? default then checked loc opt.type [{ value = opt.default; }]
    else throw "The option `${showLoc loc}' is used but not defined.";

  # an options tree's values; configs: definition attrsets rooted at the tree
  evalOptions = loc: options: configs:
    let
      undeclared = builtins.concatMap
        (c: builtins.filter (n: !(options ? ${n})) (builtins.attrNames (strip c))) configs;
      strip = c:
        if builtins.isAttrs c && (c._type or null) == "if" then (if c.condition then strip c.content else { })
        else if builtins.isAttrs c && (c._type or null) == "override" then strip c.content
        else c;
      rel = map strip configs;
    in
    if undeclared != [ ] then
      throw "The option `${showLoc (loc ++ [ (builtins.head undeclared) ])}' does not exist."
    else
      builtins.mapAttrs
        (n: o:
          if isOption o then optionValue (loc ++ [ n ]) [ n ] o rel
          else evalOptions (loc ++ [ n ]) o
            (map (c: c.${n}) (builtins.filter (c: c ? ${n}) rel)))
        options;

  # nixpkgs' recursive update of option declaration trees
  mergeDecls = a: b: a // builtins.mapAttrs
    (n: v: if a ? ${n} && !(isOption v) && !(isOption a.${n}) then mergeDecls a.${n} v else v)
    b;

  lib = {
    inherit types;
    mkOption = attrs: attrs // { _type = "option"; type = attrs.type or types.unspecified; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkDefault = lib.mkOverride 1000;
    mkForce = lib.mkOverride 50;
    literalExpression = text: { _type = "literalExpression"; inherit text; };

    # modules: functions of { config, options, lib, pkgs, ... } or attrsets, with imports
    evalModules = { modules, specialArgs ? { } }:
      let
        args = { inherit config lib; options = decls; } // specialArgs;
        load = m:
          let
            m1 = if builtins.isPath m || builtins.isString m then import m else m;
            m2 = if builtins.isFunction m1 then m1 args else m1;
          in
          [ m2 ] ++ builtins.concatMap load (m2.imports or [ ]);
        all = builtins.concatMap load modules;
        decls = builtins.foldl' mergeDecls { } (map (m: m.options or { }) all);
        configs = map
          (m: if m ? options || m ? config then m.config or { }
          else builtins.removeAttrs m [ "imports" "_file" "key" ])
          all;
        config = evalOptions [ ] decls configs;
      in
      { inherit config; options = decls; };
  };
in
lib
