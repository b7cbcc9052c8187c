# qrposter - the one entry point: build, deps, test, sanitize, bench,
# install. `make help` lists the targets.

SHELL = /bin/bash
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/qrposter
MANDIR = $(PREFIX)/share/man/man1

CC ?= cc
PKGS = cairo pangocairo pangoft2 pango harfbuzz fontconfig libqrencode yaml-0.1 \
       libpng glib-2.0 libqpdf zbar libmicrohttpd gdk-pixbuf-2.0 librsvg-2.0 \
       libexif libjpeg zxing zlib libdeflate
WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wvla
OPT ?= -O2 -g
CFLAGS ?=
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -DQP_DATADIR='"$(DATADIR)"'
QP_CFLAGS = -std=c11 -pthread $(WARN) $(OPT) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
QP_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lm -pthread -lstdc++
# The one C++ file: ZXing-cpp behind a C interface (src/zxread.h).
CXX ?= c++
QP_CXXFLAGS = -std=c++17 -pthread -Wall -Wextra -Werror $(OPT) $(shell pkg-config --cflags zxing 2>/dev/null)

# Debian packages the build, the tests and the benchmark need.
DEPS = build-essential pkg-config libcairo2-dev libpango1.0-dev \
       libfontconfig-dev libqrencode-dev libyaml-dev libpng-dev zlib1g-dev \
       libdeflate-dev libcsv-dev \
       libzbar-dev zbar-tools libcmocka-dev poppler-utils libqpdf-dev \
       fonts-noto-core fonts-noto-cjk clang libclang-rt-14-dev \
       libmicrohttpd-dev chromium nodejs time valgrind \
       qpdf libxml2-utils pngcheck zxing-cpp-tools ghostscript libtiff-dev \
       libgdk-pixbuf-2.0-dev librsvg2-dev libexif-dev libjpeg-dev libzxing-dev \
       parallel zlib1g-dev

# Library modules: every src/*.c but the command-line layer (main.c and
# one cmd_<name>.c per subcommand), so a new module needs no edit here.
CLI_SRC = src/main.c $(sort $(wildcard src/cmd_*.c))
SRC = $(sort $(filter-out $(CLI_SRC),$(wildcard src/*.c)))
BUILD ?= build
CXX_SRC = $(sort $(wildcard src/*.cpp))
OBJ = $(SRC:src/%.c=$(BUILD)/%.o) $(CXX_SRC:src/%.cpp=$(BUILD)/%.o) $(BUILD)/web_assets.o \
      $(BUILD)/link_shorteners.o
CLI_OBJ = $(CLI_SRC:src/%.c=$(BUILD)/%.o)

.PHONY: all deps test golden audit-rate test-browser sanitize tsan memcheck bench install uninstall clean sample help fuzz fuzz-build

all: qrposter

help:
	@echo "make            build ./qrposter"
	@echo "make deps       install the Debian packages it needs (root)"
	@echo "make sample     render the bundled samples into output/"
	@echo "make test       run the test suite"
	@echo "make golden     rewrite tests/golden/ after a deliberate layout change"
	@echo "make test-browser  drive the web editor in headless Chromium"
	@echo "make sanitize   run the test suite under ASan+UBSan"
	@echo "make tsan       run the server tests under ThreadSanitizer"
	@echo "make memcheck   library tests and a few renders under valgrind"
	@echo "make bench      measure pages per second and bytes per page"
	@echo "make audit-rate audit's decode rate by distance and angle"
	@echo "make install    install (PREFIX=$(PREFIX) DESTDIR=...)"

# Install missing Debian packages. Needs root (or sudo).
deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all dependencies are installed"; fi

$(BUILD)/%.o: src/%.c src/*.h | $(BUILD)
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: src/%.cpp src/*.h | $(BUILD)
	$(CXX) $(CPPFLAGS) $(QP_CXXFLAGS) $(CXXFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)

# The web editor's page (src/web/*) is compiled into the binary, so
# `qrposter serve` needs no files at run time and no network: each file
# becomes a byte array and an entry in qp_web_assets[] (src/serve.h).
WEB = $(sort $(wildcard src/web/*))
$(BUILD)/web_assets.c: $(WEB) Makefile | $(BUILD)
	@{ echo '#include "serve.h"'; i=0; \
	  for f in $(WEB); do \
	    echo "static const unsigned char a$$i[] = {"; \
	    od -An -v -tx1 "$$f" | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo "0x00};"; i=$$((i + 1)); \
	  done; \
	  echo "const qp_web_asset qp_web_assets[] = {"; i=0; \
	  for f in $(WEB); do \
	    echo "{\"$$(basename "$$f")\", a$$i, sizeof a$$i - 1},"; i=$$((i + 1)); \
	  done; \
	  echo "{0, 0, 0}};"; \
	  echo "const unsigned long qp_web_nassets = $$i;"; } > $@.tmp && mv $@.tmp $@

$(BUILD)/web_assets.o: $(BUILD)/web_assets.c src/serve.h
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) -Isrc -c -o $@ $<

# The link policy's shortener list (templates/link-shorteners.txt, one
# domain a line, with its sources) is compiled in: qp_link_shorteners[].
$(BUILD)/link_shorteners.c: templates/link-shorteners.txt Makefile | $(BUILD)
	@{ echo '#include "policy.h"'; echo 'const char *const qp_link_shorteners[] = {'; \
	  sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$$/d' -e 's/[^a-z0-9.-]//g' -e 's/.*/"&",/' $<; \
	  echo 'NULL};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/link_shorteners.o: $(BUILD)/link_shorteners.c src/policy.h src/check.h
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/libqrposter.a: $(OBJ)
	rm -f $@
	ar rcs $@ $(OBJ)

QRPOSTER_BIN ?= qrposter
qrposter: $(CLI_OBJ) $(BUILD)/libqrposter.a
	$(CC) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $(QRPOSTER_BIN) $(CLI_OBJ) $(BUILD)/libqrposter.a $(QP_LIBS)

# The README's first command: dependencies if missing, then the samples.
# qrposter is built by a sub-make so pkg-config runs after deps.
sample: deps
	@$(MAKE) --no-print-directory qrposter
	@mkdir -p output
	./qrposter render -t restroom-letter -s code=NYP-R1 -s "name=New York Penn Station, restroom 1" -o output/restroom-letter.pdf
	./qrposter render -t station-tabloid -s code=WAS-C2 -s "name=Washington Union Station, concourse" -o output/station-tabloid.pdf
	./qrposter render -t car-card -s code=ACELA-2150-C3 -s "name=Acela 2150, car 3" -o output/car-card.pdf
	./qrposter render -t restroom-letter -s code=NYP-R1 -s "name=New York Penn Station, restroom 1" --dpi 150 -o output/restroom-letter.png
	@mkdir -p output/posters output/previews
	./qrposter batch -q -d templates/samples/stations.csv -o 'output/posters/{{code}}.pdf'
	./qrposter batch -q -d templates/samples/stations.csv --combine output/print-run.pdf
	./qrposter batch -q -d templates/samples/stations.csv --dpi 50 -o 'output/previews/{{code}}.png'
	@echo "posters written to output/"

# Tests: one cmocka program per tests/test_*.c, linked with the library
# and the shared helpers in tests/helpers.c; tests/run.sh runs them all
# against ./qrposter and ends with the total count.
TEST_SRC = $(sort $(wildcard tests/test_*.c))
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_LIBS = -lcmocka -ltiff

# helpers.c is optional: a test may carry its own static helpers.
TEST_HELPERS = $(wildcard tests/helpers.c)
$(BUILD)/tests/%: tests/%.c $(TEST_HELPERS) $(wildcard tests/*.h) $(BUILD)/libqrposter.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -Itests -o $@ $< $(TEST_HELPERS) $(BUILD)/libqrposter.a $(QP_LIBS) $(TEST_LIBS)

# test_batch carries its own helpers (run a command, decode a QR code with
# libzbar), so it builds with or without tests/helpers.c.
$(BUILD)/tests/test_batch: tests/test_batch.c $(wildcard tests/*.h) $(BUILD)/libqrposter.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -Itests -o $@ $< $(BUILD)/libqrposter.a $(QP_LIBS) $(TEST_LIBS)

# The server tests are plain HTTP clients of `qrposter serve`
# (tests/serve_client.c): they need the library's serve.h, not the shared
# test helpers.
SERVE_TESTS = $(BUILD)/tests/test_serve $(BUILD)/tests/test_serve_safety
$(SERVE_TESTS): $(BUILD)/tests/%: tests/%.c tests/serve_client.c tests/serve_client.h $(BUILD)/libqrposter.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -Itests -o $@ $< tests/serve_client.c $(BUILD)/libqrposter.a $(QP_LIBS) $(TEST_LIBS)

# The value table goes in through -s, a CSV and the web editor: both the
# shared helpers and the HTTP client.
$(BUILD)/tests/test_values: tests/test_values.c $(TEST_HELPERS) tests/serve_client.c $(wildcard tests/*.h) $(BUILD)/libqrposter.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -Itests -o $@ $< $(TEST_HELPERS) tests/serve_client.c $(BUILD)/libqrposter.a $(QP_LIBS) $(TEST_LIBS)

# The audit's simulated phone photos (tests/photosim.c) serve the audit
# test and the measuring program behind its decode-rate table.
$(BUILD)/tests/test_audit: tests/test_audit.c tests/photosim.c tests/photosim.h $(TEST_HELPERS) $(BUILD)/libqrposter.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -Itests -o $@ $< tests/photosim.c $(TEST_HELPERS) $(BUILD)/libqrposter.a $(QP_LIBS) -lz $(TEST_LIBS)

$(BUILD)/audit-rate: tests/audit_rate.c tests/photosim.c tests/photosim.h $(BUILD)/libqrposter.a
	$(CC) $(CPPFLAGS) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -Isrc -Itests -o $@ $< tests/photosim.c $(BUILD)/libqrposter.a $(QP_LIBS)

# Decode rate by distance and angle, and time per photo (minutes; not
# part of make test). AUDIT_REPEATS photos a cell.
AUDIT_REPEATS ?= 3
audit-rate: qrposter $(BUILD)/audit-rate
	QRPOSTER=./$(QRPOSTER_BIN) QRPOSTER_DATADIR=$(CURDIR) $(BUILD)/audit-rate $(AUDIT_REPEATS)

test: deps qrposter $(TEST_BIN)
	@QRPOSTER=./$(QRPOSTER_BIN) sh tests/run.sh $(TEST_BIN)

# Rewrite tests/golden/NAME.txt, the text dump of each bundled template's
# display list that `make test` compares (tests/test_golden.c), after a
# deliberate layout change; review and commit the diff with the change.
golden: $(BUILD)/tests/test_golden
	@mkdir -p tests/golden
	QRPOSTER_DATADIR=$(CURDIR) $(BUILD)/tests/test_golden --regenerate

# The web editor in a real browser: Debian's Chromium driven by
# playwright-core (npm; it never downloads a browser of its own).
test-browser: deps qrposter $(BUILD)/audit-rate
	@command -v npm >/dev/null || { SUDO=; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; }
	@[ -d tests/browser/node_modules/playwright-core ] && [ -d tests/browser/node_modules/axe-core ] || \
	  (cd tests/browser && npm ci --no-audit --no-fund)
	QRPOSTER=$(abspath $(QRPOSTER_BIN)) QRPOSTER_DATADIR=$(CURDIR) node tests/browser/editor.test.mjs
	@d=$$(mktemp -d) && QRPOSTER=$(abspath $(QRPOSTER_BIN)) QRPOSTER_DATADIR=$(CURDIR) \
	  $(BUILD)/audit-rate fixture $$d && AUDIT_DIR=$$d node tests/browser/audit.test.mjs; \
	  rc=$$?; rm -rf "$$d"; exit $$rc

# The same suite, built with AddressSanitizer and UndefinedBehaviorSanitizer.
# Leaks inside fontconfig/Pango/GLib's own caches are suppressed in
# tests/lsan.supp; anything reported from qrposter's code fails the run.
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
sanitize:
	$(MAKE) BUILD=build-san QRPOSTER_BIN=build-san/qrposter OPT="-O1 -g $(SAN)" LDFLAGS="$(SAN)" \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 test

# The web editor's server and its tests built with ThreadSanitizer: the
# server runs as the test's child, so both are instrumented. A report
# stops the server (halt_on_error) and is kept in build-tsan/tsan.*;
# any report fails the run. tests/tsan.supp holds the suppressions, each
# for a system library and justified there.
TSAN = -fsanitize=thread -fno-omit-frame-pointer
tsan: deps
	$(MAKE) BUILD=build-tsan QRPOSTER_BIN=build-tsan/qrposter OPT="-O1 -g $(TSAN)" \
	  LDFLAGS="$(TSAN)" qrposter build-tsan/tests/test_serve build-tsan/tests/test_serve_safety
	@rm -f build-tsan/tsan.*
	QRPOSTER=build-tsan/qrposter QRPOSTER_DATADIR=$(CURDIR) G_SLICE=always-malloc \
	  TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$(CURDIR)/build-tsan/tsan" \
	  sh tests/run.sh build-tsan/tests/test_serve build-tsan/tests/test_serve_safety
	@if ls build-tsan/tsan.* >/dev/null 2>&1; then cat build-tsan/tsan.*; \
	  echo "tsan: ThreadSanitizer reports above"; exit 1; fi
	@echo "tsan: no data races, no lock-order problems"

# The library-level tests and a few command-line renders under valgrind
# memcheck: any error, or a definite leak not inside the system libraries'
# caches (tests/valgrind.supp: fontconfig, Pango, GLib, Cairo), fails.
VALGRIND = valgrind --tool=memcheck --quiet --error-exitcode=99 \
  --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --suppressions=$(CURDIR)/tests/valgrind.supp
MEMCHECK_OUT = $(BUILD)/memcheck
memcheck: deps qrposter $(BUILD)/tests/test_units $(BUILD)/tests/test_regress
	@rm -rf $(MEMCHECK_OUT) && mkdir -p $(MEMCHECK_OUT)
	QRPOSTER=./$(QRPOSTER_BIN) $(VALGRIND) $(BUILD)/tests/test_units
	$(VALGRIND) $(BUILD)/tests/test_regress
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) render -s code=NYP-R1 -s "name=New York Penn" -o $(MEMCHECK_OUT)/r.pdf
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) render -t car-card -s code=A-1 -s name=Acela --dpi 50 -o $(MEMCHECK_OUT)/c.png
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) qr -o $(MEMCHECK_OUT)/q.svg https://example.org/
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) batch -q -j 1 -d templates/samples/stations.csv --combine $(MEMCHECK_OUT)/run.pdf
	QRPOSTER_DATADIR=$(CURDIR) QRPOSTER_TEST_PART_ROWS=16 $(VALGRIND) ./$(QRPOSTER_BIN) batch -q -j 2 -d templates/samples/stations.csv --combine $(MEMCHECK_OUT)/run2.pdf
	printf 'code,name\nA1,esc\033x\n' > $(MEMCHECK_OUT)/bad.csv; \
	  QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) batch -q -d $(MEMCHECK_OUT)/bad.csv -o '$(MEMCHECK_OUT)/{{code}}.pdf'; \
	  test $$? -eq 1
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) check -t notice-fl -d templates/samples/stations.csv --law fl
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) check -t restroom-letter -s code=A1 -s name=Den \
	  --profile templates/profiles/example-state.yaml --law federal,ga; test $$? -eq 1
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) render -t multilingual-tabloid -s code=A1 \
	  -s 'name=محطة القطار · תחנה · 火车站' -s lang2=ar -o $(MEMCHECK_OUT)/m.pdf
	QRPOSTER_DATADIR=$(CURDIR) $(VALGRIND) ./$(QRPOSTER_BIN) batch -q -j 1 -d templates/samples/stations.csv \
	  --profile templates/profiles/example-state.yaml --products restroom-letter,wallet-card --combine $(MEMCHECK_OUT)/set.pdf
	@echo "memcheck: no errors, no leaks from qrposter's code"

# Fuzzing: libFuzzer harnesses in tests/fuzz/, built with clang against
# the library sources (ASan+UBSan), seeded from tests/fuzz/corpus/<name>/.
# Crashes are saved under build-fuzz/crashes/; keep each as a regression
# input in tests/fuzz/regress/<name>/ (make fuzz replays them first).
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 0
FUZZ_CC ?= clang
FUZZ_FLAGS = -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -Isrc
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_LIBOBJ = $(SRC:src/%.c=build-fuzz/obj/%.o)
# serve.c refers to the embedded page, policy.c to the shortener list,
# audit.c to the ZXing wrapper: link those too.
FUZZ_LIBOBJ += build-fuzz/obj/web_assets.o build-fuzz/obj/link_shorteners.o \
               $(CXX_SRC:src/%.cpp=build-fuzz/obj/%.o)
FUZZ_CXX ?= clang++

build-fuzz/obj/link_shorteners.o: $(BUILD)/link_shorteners.c src/policy.h
	@mkdir -p build-fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -Isrc -c -o $@ $<

# (vptr checks would need the C++ sanitizer runtime the C driver does not
# link.)
build-fuzz/obj/%.o: src/%.cpp src/*.h
	@mkdir -p build-fuzz/obj
	$(FUZZ_CXX) $(CPPFLAGS) -std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize=vptr -fsanitize=fuzzer-no-link $(shell pkg-config --cflags zxing 2>/dev/null) -c -o $@ $<

build-fuzz/obj/web_assets.o: $(BUILD)/web_assets.c src/serve.h
	@mkdir -p build-fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -Isrc -c -o $@ $<

build-fuzz/obj/%.o: src/%.c src/*.h
	@mkdir -p build-fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# Keep the objects between runs (make would delete them as intermediates).
.PRECIOUS: build-fuzz/obj/%.o

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBOBJ)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBOBJ) $(QP_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@mkdir -p build-fuzz/crashes
	@for f in $(FUZZ_BIN); do \
	  n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
	  if [ -d tests/fuzz/regress/$$n ] && [ -n "$$(ls tests/fuzz/regress/$$n)" ]; then \
	    echo "== $$n: regression inputs"; \
	    QRPOSTER_DATADIR=$(CURDIR) ASAN_OPTIONS=detect_leaks=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0 \
	    $$f tests/fuzz/regress/$$n/* || exit 1; fi; \
	  echo "== $$n: $(FUZZ_SECONDS)s"; \
	  QRPOSTER_DATADIR=$(CURDIR) ASAN_OPTIONS=detect_leaks=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0 \
	  $$f -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=build-fuzz/crashes/$$n- -print_final_stats=1 \
	    build-fuzz/corpus/$$n tests/fuzz/corpus/$$n 2>&1 | \
	    grep -E '^(stat::number_of_executed_units|stat::peak_rss|==[0-9]+==|SUMMARY|Done|INFO: -max_total_time)' ; \
	  test $${PIPESTATUS[0]:-0} -eq 0 || exit 1; \
	done

# Benchmark: every figure of issue 10 against tests/bench/ref.c, the same
# poster drawn with the bare libraries (tests/bench/bench.sh says what and
# how). BENCH_N: the row counts whose peak memory is measured.
$(BUILD)/bench-ref: tests/bench/ref.c | $(BUILD)
	$(CC) $(QP_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(QP_LIBS)

bench: qrposter $(BUILD)/bench-ref
	QRPOSTER=./$(QRPOSTER_BIN) REF=$(BUILD)/bench-ref sh tests/bench/bench.sh

install: qrposter
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/templates/samples $(DESTDIR)$(DATADIR)/templates/images $(DESTDIR)$(DATADIR)/templates/laws $(DESTDIR)$(DATADIR)/templates/products $(DESTDIR)$(DATADIR)/templates/profiles $(DESTDIR)$(DATADIR)/fonts $(DESTDIR)$(MANDIR)
	install -m 755 qrposter $(DESTDIR)$(BINDIR)/qrposter
	install -m 644 templates/*.yaml templates/*.md $(DESTDIR)$(DATADIR)/templates/
	install -m 644 templates/laws/*.yaml $(DESTDIR)$(DATADIR)/templates/laws/
	install -m 644 templates/products/*.yaml $(DESTDIR)$(DATADIR)/templates/products/
	install -m 644 templates/profiles/*.yaml $(DESTDIR)$(DATADIR)/templates/profiles/
	for f in templates/samples/*; do [ ! -f "$$f" ] || install -m 644 "$$f" $(DESTDIR)$(DATADIR)/templates/samples/; done
	for f in templates/images/*; do [ ! -f "$$f" ] || install -m 644 "$$f" $(DESTDIR)$(DATADIR)/templates/images/; done
	install -m 644 fonts/*.ttf fonts/*.txt $(DESTDIR)$(DATADIR)/fonts/
	install -m 644 src/qrposter.1 $(DESTDIR)$(MANDIR)/qrposter.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/qrposter $(DESTDIR)$(MANDIR)/qrposter.1
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-san build-tsan build-fuzz qrposter
