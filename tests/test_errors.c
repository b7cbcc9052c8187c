/*
 * test_errors.c - bad input is refused loudly and leaves nothing behind.
 *
 * Each case runs the binary under test on one fault (a fixture template
 * in tests/data/, valid but for that fault, or a bad option) and checks:
 * a failure status (not a crash), exactly one line on stderr starting
 * "qrposter: " that says what is wrong and where (file:line:column, the
 * block, or the option), and an output directory with no file in it -
 * not the output, not an empty one, not a hidden temporary.
 *
 * Then the same mistakes across commands (one case per command and
 * mistake): each gets the same exit status and the same one line,
 * whichever command it was made in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "suite.h"

#define D "tests/data/"

/* Placeholders in args: the output path, and long values built at run
 * time (3000 bytes: more than any QR version holds at any level). */
#define OUT "@OUT"
#define LONG_SET "@LONGSET" /* code=aaaa... */
#define LONG "@LONG"        /* aaaa... */
#define LONG_LEN 3000

typedef struct ecase {
	const char *name;
	const char *out;      /* output file name in the test's directory */
	const char *args[16]; /* after the binary; NULL-terminated */
	/* Substrings of stderr; NULL-terminated. Each finding code wanted
	 * ("[qr-too-long]") is a line of its own; else there is one line. */
	const char *want[5];
} ecase;

static const ecase cases[] = {
	{"yaml syntax error", "out.pdf",
	    {"render", "-t", D "yaml-syntax.yaml", "-s", "code=X1", "-o", OUT},
	    {D "yaml-syntax.yaml:9:14: ", "YAML syntax error"}},
	{"unknown key suggests the nearest", "out.pdf",
	    {"render", "-t", D "unknown-key.yaml", "-s", "code=X1", "-o", OUT},
	    {D "unknown-key.yaml:13:5: ", "'colr'", "did you mean 'color'"}},
	{"unknown block type suggests the nearest", "out.pdf",
	    {"render", "-t", D "unknown-type.yaml", "-s", "code=X1", "-o", OUT},
	    {D "unknown-type.yaml:8:11: ", "'txt'", "did you mean 'text'"}},
	{"unknown unit", "out.pdf",
	    {"render", "-t", D "bad-unit.yaml", "-s", "code=X1", "-o", OUT},
	    {D "bad-unit.yaml:12:11: ", "'12px'", "'px'"}},
	{"length that is not a number", "out.pdf",
	    {"render", "-t", D "bad-length.yaml", "-s", "code=X1", "-o", OUT},
	    {D "bad-length.yaml:10:30: ", "'abc' is not a length"}},
	{"variable used but not defined", "out.pdf",
	    {"render", "-t", D "undefined-var.yaml", "-s", "code=X1", "-o",
	    OUT},
	    {D "undefined-var.yaml:11:23: ", "'nmae'", "did you mean 'name'"}},
	{"colour that does not parse", "out.pdf",
	    {"render", "-t", D "bad-color.yaml", "-s", "code=X1", "-o", OUT},
	    {D "bad-color.yaml:13:12: ", "'#12345' is not a colour"}},
	{"box outside the page", "out.pdf",
	    {"render", "-t", D "box-outside.yaml", "-s", "code=X1", "-o", OUT},
	    {D "box-outside.yaml:10:10: ", "block 'label'", "outside"}},
	{"invalid UTF-8 in the template", "out.pdf",
	    {"render", "-t", D "bad-utf8.yaml", "-s", "code=X1", "-o", OUT},
	    {D "bad-utf8.yaml:2:10: ", "UTF-8"}},
	{"a key that is not a plain name, in a block", "out.pdf",
	    {"render", "-t", D "complex-key.yaml", "-o", OUT},
	    {D "complex-key.yaml:5:6: "}},
	{"font family not installed", "out.pdf",
	    {"render", "-t", D "missing-font.yaml", "-s", "code=X1", "-o", OUT},
	    {D "missing-font.yaml", "block 'label'", "'No Such Font'",
	    "[font-missing]"}},
	{"font file that does not exist", "out.pdf",
	    {"render", "-t", D "missing-font-file.yaml", "-s", "code=X1", "-o",
	    OUT},
	    {D "missing-font-file.yaml:4:9: ", "no-such-dir/Brand.ttf",
	    "does not exist"}},
	{"font file that is not a font", "out.pdf",
	    {"render", "-t", D "not-a-font.yaml", "-s", "code=X1", "-o", OUT},
	    {D "not-a-font.yaml", "base.yaml", "not a font file"}},
	{"text that cannot fit at its minimum size", "out.pdf",
	    {"render", "-t", D "text-too-big.yaml", "-s", "code=X1", "-o", OUT},
	    {D "text-too-big.yaml", "block 'label'", "[text-overflow]"}},
	{"QR code smaller than its scan distance needs", "out.pdf",
	    {"render", "-t", D "qr-scan-distance.yaml", "-s", "code=X1", "-o",
	    OUT},
	    {D "qr-scan-distance.yaml", "block 'qr'", "2m",
	    "[qr-scan-distance]"}},
	{"QR modules below min_module", "out.pdf",
	    {"render", "-t", D "qr-min-module.yaml", "-s", "code=X1", "-o",
	    OUT},
	    {D "qr-min-module.yaml", "block 'qr'", "5.00mm",
	    "[qr-module-too-small]"}},
	{"QR payload too long for any version", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", LONG_SET, "-o", OUT},
	    {D "base.yaml", "block 'qr'", "[qr-too-long]"}},
	/* The code is printed at the foot too: two findings, a line
	 * each. */
	{"QR payload too long (bundled template)", "out.pdf",
	    {"render", "-t", "restroom-letter", "-s", LONG_SET, "-s",
	    "name=Penn", "-o", OUT},
	    {"block 'qr'", "[qr-too-long]", "block 'location'",
	    "[text-overflow]"}},
	{"qr: text too long at ECC L", "out.png",
	    {"qr", LONG, "--ecc", "L", "-o", OUT},
	    {"too long", "3000"}},
	{"missing required variable", "out.pdf",
	    {"render", "-t", D "base.yaml", "-o", OUT},
	    {"variable 'code'", "-s code=", "[value-missing]"}},
	{"missing required variable (bundled template)", "out.pdf",
	    {"render", "-s", "name=Penn", "-o", OUT},
	    {"variable 'code'", "-s code=", "[value-missing]"}},
	{"-s of an unknown variable", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-s", "nosuch=1",
	    "-o", OUT},
	    {"'nosuch'", "--set", "[unknown-variable]"}},
	{"-s of a misspelt variable suggests the nearest", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-s", "nmae=1",
	    "-o", OUT},
	    {"'nmae'", "did you mean 'name'"}},
	{"-s without '='", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code", "-o", OUT},
	    {"--set", "KEY=VALUE", "[set-syntax]"}},
	{"-s value that is not UTF-8", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-s",
	    "name=caf\xe9", "-o", OUT},
	    {"--set", "name", "[value-utf8]"}},
	{"character no font covers", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-s",
	    "name=\xf4\x8f\xbf\xbd", "-o", OUT},
	    {"block 'label'", "U+10FFFD", "[glyph-missing]"}},
	{"template file that does not exist", "out.pdf",
	    {"render", "-t", D "no-such-template.yaml", "-s", "code=X1", "-o",
	    OUT},
	    {D "no-such-template.yaml", "not found"}},
	{"bundled template name that does not exist", "out.pdf",
	    {"render", "-t", "no-such-template", "-s", "code=X1", "-o", OUT},
	    {"no-such-template", "not found"}},
	{"output directory that does not exist", "nosuch/out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-o", OUT},
	    {"--output", "nosuch", "does not exist"}},
	{"unknown output extension", "out.jpg",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-o", OUT},
	    {"--output", "'.jpg'"}},
	{"output without an extension", "out",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-o", OUT},
	    {"--output", "extension"}},
	{"--dpi out of range", "out.png",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "--dpi", "5",
	    "-o", OUT},
	    {"--dpi", "'5'"}},
	{"--dpi with a unit", "out.png",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "--dpi", "300dpi",
	    "-o", OUT},
	    {"--dpi", "'300dpi'"}},
	/* Refused after the temporary file is made: it must go too. */
	{"PNG too large to make", "out.png",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "--dpi", "2400",
	    "-o", OUT},
	    {"2400", "--dpi"}},
	{"unknown option", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "--colour", "red",
	    "-o", OUT},
	    {"--colour"}},
	{"qr: unknown option", "out.png",
	    {"qr", "https://x.org/", "--colour", "red", "-o", OUT},
	    {"--colour"}},
	{"qr: no TEXT", "out.png",
	    {"qr", "-o", OUT},
	    {"TEXT"}},
	{"qr: two TEXTs", "out.png",
	    {"qr", "one", "two", "-o", OUT},
	    {"TEXT"}},
	{"unexpected argument", "out.pdf",
	    {"render", "-t", D "base.yaml", "-s", "code=X1", "-o", OUT,
	    "stray"},
	    {"'stray'"}},
	{"unknown command suggests the nearest", "out.pdf",
	    {"rendr", "-o", OUT},
	    {"'rendr'", "did you mean 'render'"}},
};

#define NCASES (sizeof cases / sizeof cases[0])

static int
setup(void **state)
{
	char *dir = th_tmpdir_new();

	if (dir == NULL)
		return -1;
	/* initial state is the case; keep both */
	{
		void **pair = calloc(2, sizeof *pair);
		if (pair == NULL) {
			th_tmpdir_remove(dir);
			return -1;
		}
		pair[0] = *state;
		pair[1] = dir;
		*state = pair;
	}
	return 0;
}

static int
teardown(void **state)
{
	void **pair = *state;

	th_tmpdir_remove(pair[1]);
	free(pair);
	return 0;
}

static void
test_case(void **state)
{
	void **pair = *state;
	const ecase *c = pair[0];
	const char *dir = pair[1];
	const char *argv[20];
	char *out = th_path(dir, c->out), *longv = malloc(LONG_LEN + 6);
	char stray[256];
	const char *nl;
	size_t n = 0;
	th_run r;
	int rc;

	assert_non_null(out);
	assert_non_null(longv);
	memcpy(longv, "code=", 5);
	memset(longv + 5, 'a', LONG_LEN);
	longv[LONG_LEN + 5] = '\0';
	argv[n++] = th_bin();
	for (size_t i = 0; c->args[i]; i++) {
		const char *a = c->args[i];
		if (strcmp(a, OUT) == 0)
			a = out;
		else if (strcmp(a, LONG_SET) == 0)
			a = longv;
		else if (strcmp(a, LONG) == 0)
			a = longv + 5;
		argv[n++] = a;
	}
	argv[n] = NULL;
	rc = th_run_argv(&r, argv, NULL);
	print_message("[   INFO   ] %s: exit %d, stderr: %s", c->name, rc,
	    r.err);

	/* Decide everything, free, then assert: a failing case must not
	 * leak (make sanitize runs this too). */
	{
		/* Refused, not crashed (a signal shows as 128 + N). */
		bool refused = rc > 0 && rc < 128;
		/* One message a line (one line but where a case lists
		 * several findings), each in the house format. */
		bool house = true, one_line;
		int lines = 0, codes = 0;

		for (size_t i = 0; c->want[i]; i++)
			codes += c->want[i][0] == '[';

		nl = NULL;
		for (const char *l = r.err; *l; l = nl + 1) {
			if (strncmp(l, "qrposter: ", 10) != 0)
				house = false;
			if ((nl = strchr(l, '\n')) == NULL)
				break;
			lines++;
		}
		one_line = nl != NULL && lines == (codes > 1 ? codes : 1);
		bool quiet_stdout = r.out[0] == '\0';
		const char *missing = NULL;
		/* Nothing left behind: no output, no hidden temporary. */
		bool clean = th_dir_only(dir, NULL, stray, sizeof stray);

		for (size_t i = 0; c->want[i] && !missing; i++)
			if (strstr(r.err, c->want[i]) == NULL)
				missing = c->want[i];
		if (missing)
			print_error("stderr lacks \"%s\"\n", missing);
		if (!clean)
			print_error("left behind in the output directory: %s\n",
			    stray);
		th_run_free(&r);
		free(longv);
		free(out);
		assert_true(refused);
		assert_true(house);
		assert_true(one_line);
		assert_true(quiet_stdout);
		assert_null(missing);
		assert_true(clean);
	}
}

/* A failed render must not clobber an existing poster either. */
static void
test_failure_keeps_existing_output(void **state)
{
	void **pair = *state;
	const char *dir = pair[1];
	const char *const only[] = {"out.pdf", NULL};
	char *out = th_path(dir, "out.pdf"), *data, stray[256];
	size_t len;
	th_run r;

	assert_true(th_write_file(out, "previous poster", 15));
	assert_int_not_equal(th_qrposter(&r, "render", "-t",
	    D "text-too-big.yaml", "-s", "code=X1", "-o", out, NULL), 0);
	th_run_free(&r);
	data = th_read_file(out, &len);
	assert_non_null(data);
	assert_int_equal(len, 15);
	assert_memory_equal(data, "previous poster", 15);
	if (!th_dir_only(dir, only, stray, sizeof stray))
		print_error("left behind: %s\n", stray);
	assert_true(th_dir_only(dir, only, NULL, 0));
	free(data);
	free(out);
}

/* The fixtures are valid but for their one fault: the base renders. */
static void
test_base_fixture_renders(void **state)
{
	void **pair = *state;
	char *out = th_path(pair[1], "out.pdf");
	th_run r;

	assert_int_equal(th_qrposter(&r, "render", "-t", D "base.yaml", "-s",
	    "code=X1", "-o", out, NULL), 0);
	assert_string_equal(r.err, "");
	th_run_free(&r);
	assert_true(th_exists(out));
	free(out);
}

/* ---- the same mistake in every command ---- */

enum { RENDER, CHECK, BATCH, SERVE, QR, NCMDS };

static const char *const cmd_names[NCMDS] = {"render", "check", "batch",
    "serve", "qr"};

/* What each command needs to get as far as reading its options; "@OUT"
 * is a file in the case's directory, "@PAT" a batch pattern there. */
static const char *const cmd_base[NCMDS][8] = {
	[RENDER] = {"render", "-t", "templates/restroom-letter.yaml", "-o",
	    "@OUT"},
	[CHECK] = {"check", "-t", "templates/restroom-letter.yaml"},
	[BATCH] = {"batch", "-q", "-t", "templates/restroom-letter.yaml",
	    "-d", "templates/samples/stations.csv", "-o", "@PAT"},
	[SERVE] = {"serve", "--port", "0"},
	[QR] = {"qr", "https://x.test/", "-o", "@OUT"},
};

/*
 * A mistake: the arguments that make it in each command it applies to
 * (NULL: it cannot be made there), and the one line every command must
 * answer with, "@CMD" standing for the command's name. Exit status 2.
 */
typedef struct mistake {
	const char *name;
	const char *args[NCMDS][3];
	const char *line;
} mistake;

static const mistake mistakes[] = {
	{"unknown long option", {{"--colour"}, {"--colour"}, {"--colour"},
	    {"--colour"}, {"--colour"}},
	    "qrposter: @CMD: unknown option '--colour' (see 'qrposter @CMD "
	    "--help')\n"},
	{"unknown short option", {{"-Z"}, {"-Z"}, {"-Z"}, {"-Z"}, {"-Z"}},
	    "qrposter: @CMD: unknown option '-Z' (see 'qrposter @CMD "
	    "--help')\n"},
	{"option without its value", {{"--bleed"}, {"--bleed"}, {"--bleed"},
	    {"--bind"}, {"--ecc"}},
	    NULL /* names the option: below */},
	{"-s without '='", {{"-s", "code"}, {"-s", "code"}, {"-s", "code"}},
	    "qrposter: --set 'code': expected KEY=VALUE [set-syntax]\n"},
	{"-s of an unknown variable", {{"-s", "nosuch=1"}, {"-s",
	    "nosuch=1"}, {"-s", "nosuch=1"}},
	    "qrposter: --set nosuch=1: the template "
	    "templates/restroom-letter.yaml has no variable 'nosuch' "
	    "[unknown-variable]\n"},
	{"-s of a misspelt variable", {{"-s", "nmae=1"}, {"-s", "nmae=1"},
	    {"-s", "nmae=1"}},
	    "qrposter: --set nmae=1: the template "
	    "templates/restroom-letter.yaml has no variable 'nmae' (did you "
	    "mean 'name'?) [unknown-variable]\n"},
	{"-s value with a control character", {{"-s", "name=a\x1b[2Jb"},
	    {"-s", "name=a\x1b[2Jb"}, {"-s", "name=a\x1b[2Jb"}},
	    "qrposter: --set name: a control character (\\x1B) at byte 2 of "
	    "the value; only tab and line breaks are allowed "
	    "[value-control]\n"},
};

typedef struct cell {
	const mistake *m;
	int cmd;
} cell;

/* s with every "@CMD" replaced by cmd, malloc'd. */
static char *
subst_cmd(const char *s, const char *cmd)
{
	size_t n = strlen(s) + 1;
	char *out, *w;

	for (const char *p = s; (p = strstr(p, "@CMD")) != NULL; p += 4)
		n += strlen(cmd);
	out = w = malloc(n);
	assert_non_null(out);
	while (*s) {
		if (strncmp(s, "@CMD", 4) == 0) {
			w += sprintf(w, "%s", cmd);
			s += 4;
		} else
			*w++ = *s++;
	}
	*w = '\0';
	return out;
}

static void
test_mistake(void **state)
{
	void **pair = *state;
	const cell *c = pair[0];
	const char *dir = pair[1];
	const char *cmd = cmd_names[c->cmd];
	char *out = th_path(dir, "out.pdf"), *pat = th_path(dir, "{{code}}.pdf");
	char *want, stray[256] = "";
	const char *argv[20];
	size_t n = 0;
	th_run r;
	int rc;

	argv[n++] = th_bin();
	for (size_t i = 0; i < 8 && cmd_base[c->cmd][i]; i++) {
		const char *a = cmd_base[c->cmd][i];
		argv[n++] = !strcmp(a, "@OUT") ? out : !strcmp(a, "@PAT") ?
		    pat : a;
	}
	for (size_t i = 0; i < 3 && c->m->args[c->cmd][i]; i++)
		argv[n++] = c->m->args[c->cmd][i];
	argv[n] = NULL;
	if (c->m->line)
		want = subst_cmd(c->m->line, cmd);
	else {
		/* The option that lacks its value is named as given. */
		want = malloc(256);
		assert_non_null(want);
		snprintf(want, 256, "qrposter: %s: option '%s' needs a value "
		    "(see 'qrposter %s --help')\n", cmd, argv[n - 1], cmd);
	}
	rc = th_run_argv(&r, argv, NULL);
	print_message("[   INFO   ] %s %s: exit %d, stderr: %s", cmd,
	    c->m->name, rc, r.err);
	if (strcmp(r.err, want) != 0)
		print_error("want: %s", want);
	assert_int_equal(rc, 2);
	assert_string_equal(r.err, want);
	assert_string_equal(r.out, "");
	if (!th_dir_only(dir, NULL, stray, sizeof stray))
		print_error("left behind: %s\n", stray);
	assert_true(th_dir_only(dir, NULL, NULL, 0));
	th_run_free(&r);
	free(want);
	free(pat);
	free(out);
}

#define NMISTAKES (sizeof mistakes / sizeof mistakes[0])

int
main(void)
{
	static cell cells[NMISTAKES * NCMDS];
	size_t ncells = 0;
	th_suite s = {0};

	for (size_t i = 0; i < NCASES; i++)
		th_suite_add(&s, test_case, setup, teardown, &cases[i], "%s",
		    cases[i].name);
	th_suite_add(&s, test_base_fixture_renders, setup, teardown, NULL,
	    "%s", "test_base_fixture_renders");
	th_suite_add(&s, test_failure_keeps_existing_output, setup, teardown,
	    NULL, "%s", "test_failure_keeps_existing_output");
	for (size_t i = 0; i < NMISTAKES; i++)
		for (int k = 0; k < NCMDS; k++) {
			if (mistakes[i].args[k][0] == NULL)
				continue;
			cells[ncells] = (cell){&mistakes[i], k};
			th_suite_add(&s, test_mistake, setup, teardown,
			    &cells[ncells++], "%s: %s", cmd_names[k],
			    mistakes[i].name);
		}
	return th_suite_run(&s, "errors", NULL, NULL);
}
