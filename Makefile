# zerovm toolchain — the one entry point.
#   make            build libzvm.a, zvm, zvsh, zpm (and the test tools) into build/
#   make deps       install Debian packages the build, tests and images need (root), or print the command
#   make check      unit tests (cmocka, also under ASan+UBSan), spec tests, CLI tests (bats); last line "N passed, M failed"
#   make bench      benchmarks (ratios against native code and node), printed as a table
#   make fuzz       run the libFuzzer targets for a fixed time each
#   make images     build guest images (build/images/python.tar, lua.tar)
#   make format     rewrite the C sources in the house style (.clang-format, clang-format-19)
#   make format-check  list the C files that differ from the house style, and fail if any does
#   make install PREFIX=/usr/local
#   make clean

PREFIX  ?= /usr/local
CC      := clang-19
B       := build
VERSION := 0.1.0

# SAN=1: ASan+UBSan, explicit bounds checks, and the translator's invariants checked on every
# function it emits (verify.c).  CHECK=1: the invariant checks alone, at full speed otherwise.
ifeq ($(SAN),1)
B      := build/asan
CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
          -DZVM_EXPLICIT_BOUNDS -DZVM_CHECK_TRANSLATION
endif
ifeq ($(CHECK),1)
B      := build/check
CFLAGS := -O2 -g -DZVM_CHECK_TRANSLATION
endif

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -DZVM_VERSION='"$(VERSION)"' \
             -Ilibzvm -fno-strict-aliasing -MMD -MP
# What each binary links: only what it calls (docs/Architecture.md, "Start-up").  libarchive
# (tar images) and libedit (zvsh's line editor) are never linked: libzvm loads them on first use
# (libzvm/dynlib.h), so a plain session maps only libc and libm.  zpm adds the cluster client's
# libraries, the spec runner jansson; the unit tests add cmocka, those and libcrypto (an
# independent MD5 to check ours).
LIBS      := -Wl,--as-needed -lm -lpthread
JSON_LIBS := $(shell pkg-config --libs jansson 2>/dev/null)
ZPM_LIBS  := $(shell pkg-config --libs libcurl jansson yaml-0.1 2>/dev/null)
TEST_LIBS := -lcmocka $(ZPM_LIBS) $(shell pkg-config --libs libcrypto 2>/dev/null)

LIB_SRCS := $(shell find libzvm -name '*.c' | sort)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
CMDS     := zvm zvsh zpm
TOOLS    := zvm-spec zvm-run zvm-fuzz-exec

.PHONY: fixtures unit-bin all deps check unit bats spec bench fuzz images install clean demo demo-c format format-check
all: $(CMDS:%=$(B)/%) $(TOOLS:%=$(B)/%)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libzvm.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# One folder per binary: every .c in cmd/NAME/ links with libzvm.a.
.SECONDEXPANSION:
$(CMDS:%=$(B)/%): $(B)/%: $$(addprefix $(B)/obj/,$$(subst .c,.o,$$(wildcard cmd/$$*/*.c))) $(B)/libzvm.a
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(B)/libzvm.a $(if $(filter zpm,$*),$(ZPM_LIBS)) $(LIBS)

# zvm-run: the engine alone with a minimal WASI, for measuring and debugging it.
$(B)/zvm-run: $(B)/obj/test/tools/zvm-run.o $(B)/libzvm.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/libzvm.a $(LIBS)

# zvm-fuzz-exec: the engine's side of the differential fuzzer (test/fuzz/diff.py).
$(B)/zvm-fuzz-exec: $(B)/obj/test/tools/zvm-fuzz-exec.o $(B)/libzvm.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/libzvm.a $(LIBS)

# The zvm-spec runner lives under test/ (it is a test tool, not a product command).
$(B)/zvm-spec: $(addprefix $(B)/obj/,$(subst .c,.o,$(wildcard test/spec/runner/*.c))) $(B)/libzvm.a
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(B)/libzvm.a $(JSON_LIBS) $(LIBS)

# Unit tests: one cmocka program per test/unit/*.c.  "make SAN=1" builds everything
# into build/asan with ASan+UBSan and the engine's explicit bounds checks.
UNIT_SRCS := $(wildcard test/unit/*.c)
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(B)/test/unit/%)
unit-bin: $(UNIT_BINS)
$(UNIT_BINS): $(B)/test/unit/%: $(B)/obj/test/unit/%.o $(B)/libzvm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libzvm.a $(TEST_LIBS) $(LIBS)


# Wasm fixtures, built at test time from their sources (never committed as binaries).
FIX_WAT  := $(wildcard test/fixtures/*.wat)
FIX_C    := $(wildcard test/fixtures/*.c)
FIX_CXX  := $(wildcard test/fixtures/*.cpp)
FIX_RS   := $(wildcard test/fixtures/*.rs)
FIXTURES := $(FIX_WAT:test/fixtures/%.wat=$(B)/fixtures/%.wasm) $(FIX_C:test/fixtures/%.c=$(B)/fixtures/%.wasm) \
            $(FIX_CXX:test/fixtures/%.cpp=$(B)/fixtures/%.wasm) $(FIX_RS:test/fixtures/%.rs=$(B)/fixtures/%.wasm)
fixtures: $(FIXTURES)
$(B)/fixtures/%.wasm: test/fixtures/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --enable-all $< -o $@
$(B)/fixtures/%.wasm: test/fixtures/%.c pkg/sdk/zvm-cc $(wildcard pkg/sdk/include/*.h)
	@mkdir -p $(dir $@)
	pkg/sdk/zvm-cc -O2 $< -o $@
$(B)/fixtures/%.wasm: test/fixtures/%.cpp pkg/sdk/zvm-c++ pkg/sdk/zvm-cc $(wildcard pkg/sdk/include/*.h)
	@mkdir -p $(dir $@)
	pkg/sdk/zvm-c++ -O2 $< -o $@
# Rust guests: Debian's rustc by its path, whatever rustc (rustup's, say) comes first on PATH:
# only Debian's has the wasm32-wasi std that libstd-rust-dev-wasm32 installs.
RUSTC_WASI := /usr/bin/rustc
$(B)/fixtures/%.wasm: test/fixtures/%.rs
	@mkdir -p $(dir $@)
	$(RUSTC_WASI) --edition 2021 -O --target wasm32-wasi $< -o $@

$(B)/zvm-loadtime: $(B)/obj/test/bench/loadtime.o $(B)/libzvm.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/libzvm.a $(LIBS)

deps:
	@sh pkg/deps.sh

# The main job: python.tar built from Debian's CPython source, run through zvsh.
demo: all images
	@echo "\$$ build/zvsh --zvm-image build/images/python.tar python -c \"print('Hello from ZeroVM!')\""
	@$(B)/zvsh --zvm-image build/images/python.tar python -c "print('Hello from ZeroVM!')"

# The same idea with no image: a C hello world from the guest compiler, run by zvm from a manifest.
DEMO_WASM := $(B)/fixtures/hello.wasm
demo-c: all $(DEMO_WASM)
	@mkdir -p $(B)/demo
	@printf '%s\n' 'Version = 20130611' 'Program = $(abspath $(DEMO_WASM))' 'Memory = 67108864,0' 'Timeout = 10' \
	    'Channel = /dev/stdin,/dev/stdin,0,0,1000,1048576,0,0' \
	    'Channel = /dev/stdout,/dev/stdout,0,0,0,0,1000,1048576' \
	    'Channel = /dev/stderr,/dev/stderr,0,0,0,0,1000,1048576' > $(B)/demo/hello.manifest
	@echo "zvm $(B)/demo/hello.manifest:"
	@$(B)/zvm $(B)/demo/hello.manifest

check: all fixtures unit-bin images
	@sh test/run-all.sh

bench: all $(B)/zvm-loadtime
	@sh test/bench/run.sh

fuzz:
	@sh test/fuzz/run.sh

# The house style is .clang-format; every .c and .h of cmd/ libzvm/ test/ pkg/ follows it.
CLANG_FORMAT ?= clang-format-19
format:
	$(CLANG_FORMAT) --style=file -i $(shell find cmd libzvm test pkg -name '*.[ch]' | sort)

format-check:
	@CLANG_FORMAT=$(CLANG_FORMAT) sh test/format-check.sh

images: all
	@$(MAKE) -f pkg/images/python/Makefile
	@$(MAKE) -f pkg/images/lua/Makefile

# ZeroCloud (the Swift middleware) goes where Debian's python3, which runs Swift, finds packages.
ZC_PYVER := $(shell /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ZC_PYDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(ZC_PYVER)/dist-packages)

# The images built so far (make images), where zvsh looks for an image given by name (zvsh(1), IMAGES).
IMAGES_BUILT = $(wildcard $(B)/images/*.tar)
define install-images
install -d $(DESTDIR)$(PREFIX)/share/zvm/images
$(if $(IMAGES_BUILT),install -m 644 $(IMAGES_BUILT) $(DESTDIR)$(PREFIX)/share/zvm/images/,@echo "install: no image built yet (make images), none installed")
endef

# zvm-cc's setjmp runtime, prebuilt for an installed zvm-cc (in-tree it builds its own, cached)
$(B)/sdk/libzvm-setjmp.a: pkg/sdk/runtime/setjmp.c pkg/sdk/zvm-cc
	@mkdir -p $(dir $@)
	pkg/sdk/zvm-cc -O2 -c $< -o $(B)/sdk/setjmp.o
	rm -f $@ && llvm-ar-19 rcs $@ $(B)/sdk/setjmp.o

install: all $(B)/sdk/libzvm-setjmp.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	           $(DESTDIR)$(PREFIX)/include/zvm $(DESTDIR)$(PREFIX)/lib/zvm/sysroot/lib $(DESTDIR)$(PREFIX)/share/zvm
	install -m 755 $(CMDS:%=$(B)/%) pkg/sdk/zvm-cc pkg/sdk/zvm-c++ $(DESTDIR)$(PREFIX)/bin/
	install -m 644 pkg/sdk/include/*.h $(DESTDIR)$(PREFIX)/include/zvm/
	install -m 644 $(B)/sdk/libzvm-setjmp.a $(DESTDIR)$(PREFIX)/lib/zvm/
	ln -sfn /usr/include/wasm32-wasi $(DESTDIR)$(PREFIX)/lib/zvm/sysroot/include
	ln -sfn /usr/lib/wasm32-wasi $(DESTDIR)$(PREFIX)/lib/zvm/sysroot/lib/wasm32-wasi
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	ln -sf zvm-cc.1 $(DESTDIR)$(PREFIX)/share/man/man1/zvm-c++.1
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	cp -R share/. $(DESTDIR)$(PREFIX)/share/zvm/
	$(install-images)
	install -d $(DESTDIR)$(ZC_PYDIR)/zerocloud
	install -m 644 share/zerocloud/zerocloud/*.py $(DESTDIR)$(ZC_PYDIR)/zerocloud/

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
