# mkdiskimage build. `make` builds build/mkdiskimage; `make check` runs every test;
# `make SANITIZE=1` builds into build-san/ with AddressSanitizer and UBSan; `make fuzz` builds
# the libFuzzer harnesses of fuzz/ with clang into build-fuzz/ and runs each (fuzz/README.md).

PKGS := zlib nettle json-c libzstd sqlite3 libdeflate libarchive liblzma liblz4
# The version `--version` and the man page show: `git describe` in a git checkout of this tree,
# else (a release tarball, a Nix source) RELEASE. Override with `make VERSION=...`.
RELEASE := 0.1.0
VERSION ?= $(shell test -e .git && git describe --tags --always --dirty 2>/dev/null || echo $(RELEASE))
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
CC ?= cc
ifeq ($(FUZZ),1)
CC := clang
BUILD ?= build-fuzz
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
OPT := -O1 -g
else ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT := -O2 -g
endif

CFLAGS_ALL := -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-Isrc $(shell pkg-config --cflags $(PKGS)) $(SANFLAGS) $(CFLAGS)
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS)) -lpthread $(LDLIBS)
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

ALL_C := $(shell find src -name '*.c' | sort)
TEST_C := $(filter %_test.c,$(ALL_C))
CLI_C := $(filter src/cli/%,$(ALL_C))
LIB_C := $(filter-out $(TEST_C) $(CLI_C) src/util/test_main.c,$(ALL_C))

LIB_O := $(LIB_C:%.c=$(BUILD)/%.o)
CLI_O := $(CLI_C:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_C:src/%.c=$(BUILD)/tests/%)

FUZZ_C := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS := $(FUZZ_C:fuzz/%.c=%)
FUZZ_SECONDS ?= 30
# Integration tests run at once (tests/run-integration.sh); `make check` runs two.
JOBS ?= 1

# The man page and completions, generated from the option tables by $(BUILD)/gen-docs.
DOCS := $(BUILD)/man/mkdiskimage.1 $(BUILD)/completions/mkdiskimage.bash \
	$(BUILD)/completions/_mkdiskimage $(BUILD)/completions/mkdiskimage.fish

.SECONDARY:
.PHONY: all check unit integration integration-quick clean bench example mutation property \
	fuzz fuzz-smoke fuzz-regress fuzz-build docs install print-version FORCE
all: $(BUILD)/mkdiskimage docs
docs: $(DOCS)
print-version:
	@echo $(VERSION)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# version.h changes only when VERSION does (then only version.o is rebuilt)
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@echo '#define MKDISKIMAGE_VERSION "$(VERSION)"' >$@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@
	@rm -f $@.tmp
$(BUILD)/src/cli/version.o: $(BUILD)/version.h
$(BUILD)/src/cli/version.o: CFLAGS_ALL += -I$(BUILD)

$(BUILD)/gen-docs: $(BUILD)/tools/gen-docs.o $(filter-out $(BUILD)/src/cli/main.o,$(CLI_O)) \
		$(BUILD)/libmkdiskimage.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/man/mkdiskimage.1: $(BUILD)/gen-docs
	@mkdir -p $(dir $@)
	$(BUILD)/gen-docs man >$@.tmp && mv $@.tmp $@
$(BUILD)/completions/mkdiskimage.bash: $(BUILD)/gen-docs
	@mkdir -p $(dir $@)
	$(BUILD)/gen-docs bash >$@.tmp && mv $@.tmp $@
$(BUILD)/completions/_mkdiskimage: $(BUILD)/gen-docs
	@mkdir -p $(dir $@)
	$(BUILD)/gen-docs zsh >$@.tmp && mv $@.tmp $@
$(BUILD)/completions/mkdiskimage.fish: $(BUILD)/gen-docs
	@mkdir -p $(dir $@)
	$(BUILD)/gen-docs fish >$@.tmp && mv $@.tmp $@

# `make install PREFIX=/usr DESTDIR=/tmp/stage`: the binary, the man page, the completions
install: $(BUILD)/mkdiskimage $(DOCS)
	install -Dm755 $(BUILD)/mkdiskimage $(DESTDIR)$(BINDIR)/mkdiskimage
	install -Dm644 $(BUILD)/man/mkdiskimage.1 $(DESTDIR)$(MANDIR)/man1/mkdiskimage.1
	install -Dm644 $(BUILD)/completions/mkdiskimage.bash \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/mkdiskimage
	install -Dm644 $(BUILD)/completions/_mkdiskimage \
		$(DESTDIR)$(DATADIR)/zsh/site-functions/_mkdiskimage
	install -Dm644 $(BUILD)/completions/mkdiskimage.fish \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/mkdiskimage.fish

$(BUILD)/libmkdiskimage.a: $(LIB_O)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/mkdiskimage: $(CLI_O) $(BUILD)/libmkdiskimage.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/src/%.o $(BUILD)/src/util/test_main.o $(BUILD)/libmkdiskimage.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h fuzz/fuzz-reader.h $(BUILD)/libmkdiskimage.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(BUILD)/libmkdiskimage.a $(LDLIBS_ALL)

unit: $(TEST_BIN)
	@tests/run-unit.sh $(TEST_BIN)

integration: $(BUILD)/mkdiskimage $(DOCS)
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage JOBS=$(JOBS) tests/run-integration.sh

# The README's test command: everything, then the unit tests and the quick integration tests
# again under AddressSanitizer + UBSan.
# Under STRICT_SKIPS=1 a skipped test or sub-case fails unless tests/skips-allowed allows it.
check: export STRICT_SKIPS = 1
check: JOBS = 2
check: unit integration
	$(MAKE) fuzz-smoke
	$(MAKE) SANITIZE=1 unit
	$(MAKE) SANITIZE=1 JOBS=2 integration-quick
	$(MAKE) mutation

# Key tests against deliberately broken builds (tests/mutation/mutants): each must fail.
mutation: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage tests/mutation/run.sh

integration-quick: $(BUILD)/mkdiskimage $(DOCS)
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage QUICK=1 JOBS=$(JOBS) tests/run-integration.sh

example: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage examples/run.sh

bench: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage bench/run

# Fuzzing: FUZZ_SECONDS per harness on a copy of fuzz/corpus/<target> (the tree is not
# modified), after replaying fuzz/regress/<target>; fails on the first crash, leak or timeout.
# fuzz-regress only replays corpus and regression inputs; fuzz-smoke (CI, in `check`) is both,
# at 20 seconds a harness, two at a time.
fuzz-build:
	$(MAKE) FUZZ=1 $(FUZZ_TARGETS:%=build-fuzz/fuzz/%)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh fuzz build-fuzz/fuzz $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	@fuzz/run.sh regress build-fuzz/fuzz $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@FUZZ_SECONDS=20 FUZZ_JOBS=2 fuzz/run.sh fuzz build-fuzz/fuzz $(FUZZ_TARGETS)

# Property tests, the long run: PROPERTY_SEEDS random trees, layouts and formats, each judged
# by e2fsck, fsck.fat, sgdisk, qemu-img and a full round trip (tests/property/run.sh).
PROPERTY_SEEDS ?= 200
property: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage tests/property/run.sh --seeds $(PROPERTY_SEEDS)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
