# mkdiskimage build. `make` builds build/mkdiskimage; `make check` runs every test;
# `make SANITIZE=1` builds into build-san/ with AddressSanitizer and UBSan.

PKGS := zlib nettle json-c libzstd sqlite3 libdeflate
CC ?= cc
ifeq ($(SANITIZE),1)
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

.SECONDARY:
.PHONY: all check unit integration integration-quick clean bench example property
all: $(BUILD)/mkdiskimage

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libmkdiskimage.a: $(LIB_O)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/mkdiskimage: $(CLI_O) $(BUILD)/libmkdiskimage.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/src/%.o $(BUILD)/src/util/test_main.o $(BUILD)/libmkdiskimage.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

unit: $(TEST_BIN)
	@tests/run-unit.sh $(TEST_BIN)

integration: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage tests/run-integration.sh

# The README's test command: everything, then the unit tests and the quick integration tests
# again under AddressSanitizer + UBSan.
check: unit integration
	$(MAKE) SANITIZE=1 unit
	$(MAKE) SANITIZE=1 integration-quick

integration-quick: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage QUICK=1 tests/run-integration.sh

example: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage examples/run.sh

bench: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage bench/run

# Property tests, the long run: PROPERTY_SEEDS random trees, layouts and formats, each judged
# by e2fsck, fsck.fat, sgdisk, qemu-img and a full round trip (tests/property/run.sh).
PROPERTY_SEEDS ?= 200
property: $(BUILD)/mkdiskimage
	@MKDISKIMAGE=$(CURDIR)/$(BUILD)/mkdiskimage tests/property/run.sh --seeds $(PROPERTY_SEEDS)

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
