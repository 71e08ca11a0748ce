# Thin driver over meson: `make demo` and `make check` are the two commands
# a new user needs (see README.md).
BUILD     ?= build
SANBUILD  ?= build-san
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON     ?= meson

.PHONY: all bootstrap build check check-plain check-san demo samples bench clean install fuzz

all: build

bootstrap:
	@./.ci/bootstrap build

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

build: bootstrap $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

$(SANBUILD)/build.ninja:
	$(MESON) setup $(SANBUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

check-plain: build
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2

# The same suite under ASan and UBSan: any report fails the test.  An
# unoptimised sanitizer build runs 3-5x slower, so its time limits are
# three times the plain ones (cli-svy-tab's 115 cases took 550-600 s there
# on a loaded 2-core machine).
check-san: bootstrap $(SANBUILD)/build.ninja
	$(MESON) compile -C $(SANBUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MESON) test -C $(SANBUILD) --print-errorlogs --num-processes 2 --timeout-multiplier 3

check: check-plain check-san
	@./.ci/summary $(BUILD) $(SANBUILD)

demo: build
	@./samples/demo.sh $(BUILD)

# Regenerate the sample study (byte for byte what is committed).
# .dta and .sav headers carry the time of writing: pinned, as the
# samples-reproducible test does.
samples: build
	SOURCE_DATE_EPOCH=1735689600 TZ=UTC $(BUILD)/samples/gen/nsfe-gen samples

install: build
	$(MESON) install -C $(BUILD)

# libFuzzer targets (clang, ASan+UBSan): FUZZ_SECONDS per target, default 60.
$(FUZZBUILD)/build.ninja:
	CC=clang CXX=clang++ $(MESON) setup $(FUZZBUILD) --buildtype=debugoptimized -Dfuzz=true -Dtests=false \
	  -Db_sanitize=address,undefined -Db_lundef=false

fuzz:
	@./.ci/bootstrap fuzz
	@$(MAKE) --no-print-directory $(FUZZBUILD)/build.ninja
	$(MESON) compile -C $(FUZZBUILD)
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/run-fuzz $(FUZZBUILD)

clean:
	rm -rf $(BUILD) $(SANBUILD) $(FUZZBUILD)
