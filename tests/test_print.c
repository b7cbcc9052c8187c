/*
 * test_print.c - what a print shop's tools see in qrposter's files.
 *
 * Structurally valid files: every kind of output any command writes
 * (single posters, bare codes, print runs, imposed sheets, bleed and
 * marks, PNG, SVG) is run through the real checkers a print shop or a
 * browser would use: `qpdf --check` with no warning, `xmllint`, and
 * `pngcheck`. (helpers.c also checks every file every test makes, with
 * libqpdf in-process; these rows run the command-line tools themselves.)
 *
 * Runs from the top of the source tree; $QRPOSTER names the binary.
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

#define STATIONS "templates/samples/stations.csv"
#define MAX_ARGV 24

typedef struct fixture {
	const void *row;
	char *dir;
} fixture;

static int
setup(void **state)
{
	fixture *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	fx->row = *state;
	if ((fx->dir = th_tmpdir_new()) == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fixture *fx = *state;

	th_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* argv with every "@" prefix replaced by the test's directory. */
static void
expand(const fixture *fx, const char *const *in, const char **out,
    char **owned)
{
	size_t n = 0;

	for (; in[n] && n < MAX_ARGV - 1; n++) {
		owned[n] = NULL;
		if (in[n][0] == '@') {
			owned[n] = th_path(fx->dir, in[n] + 2);
			out[n] = owned[n];
		} else
			out[n] = in[n];
	}
	out[n] = NULL;
	owned[n] = NULL;
}

static void
free_owned(char **owned)
{
	for (size_t i = 0; i < MAX_ARGV && owned[i]; i++)
		free(owned[i]);
}

/* ---- structurally valid files ------------------------------------------ */

typedef struct valid_case {
	const char *name;
	const char *argv[MAX_ARGV];  /* after the binary; "@/x" = test dir */
	const char *files[4];        /* what must exist and be valid */
} valid_case;

static const valid_case valid_cases[] = {
	{"render: default PDF, links on",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn", "-o", "@/p.pdf"},
	    {"p.pdf"}},
	{"render: bleed and crop marks",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn", "--bleed",
	    "0.125in", "--marks", "-o", "@/p.pdf"}, {"p.pdf"}},
	{"render: tabloid template",
	    {"render", "-t", "station-tabloid", "-s", "code=WAS-C2", "-s",
	    "name=Union Station", "-o", "@/p.pdf"}, {"p.pdf"}},
	{"render: SVG",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn & <Co>", "-o",
	    "@/p.svg"}, {"p.svg"}},
	{"render: PNG",
	    {"render", "-s", "code=NYP-R1", "-s", "name=Penn", "--dpi", "40",
	    "-o", "@/p.png"}, {"p.png"}},
	{"qr: https payload, linked PDF",
	    {"qr", "https://x.example/a", "-o", "@/q.pdf"}, {"q.pdf"}},
	{"qr: URL with parentheses and a backslash",
	    {"qr", "https://x.example/a(b)\\c", "-o", "@/q.pdf"}, {"q.pdf"}},
	{"qr: tel payload, no link",
	    {"qr", "tel:+18883737888", "-o", "@/q.pdf"}, {"q.pdf"}},
	{"qr: SVG", {"qr", "https://x.example/a", "-o", "@/q.svg"}, {"q.svg"}},
	{"qr: PNG", {"qr", "https://x.example/a", "-o", "@/q.png"}, {"q.png"}},
	{"batch: combined print run",
	    {"batch", "-q", "-d", STATIONS, "--combine", "@/run.pdf"},
	    {"run.pdf"}},
	{"batch: combined with bleed and marks",
	    {"batch", "-q", "-d", STATIONS, "--bleed", "0.125in", "--marks",
	    "--combine", "@/run.pdf"}, {"run.pdf"}},
	{"batch: imposed 2x2 on tabloid sheets",
	    {"batch", "-q", "-d", STATIONS, "--impose", "2x2", "--sheet",
	    "tabloid", "--bleed", "0.125in", "--combine", "@/imp.pdf"},
	    {"imp.pdf"}},
	{"batch: a file per row",
	    {"batch", "-q", "-d", STATIONS, "-o", "@/{{code}}.pdf"},
	    {"NYP-R1.pdf", "WAS-R2.pdf"}},
	{"batch: --no-links",
	    {"batch", "-q", "-d", STATIONS, "--no-links", "--combine",
	    "@/run.pdf"}, {"run.pdf"}},
};

/* `qpdf --check` itself: exit 0 and not one warning. */
static void
assert_qpdf_check(const char *pdf)
{
	const char *argv[] = {"qpdf", "--check", pdf, NULL};
	th_run r;

	th_run_argv(&r, argv, NULL);
	if (r.status != 0 || strstr(r.out, "WARNING") ||
	    strstr(r.err, "WARNING"))
		fail_msg("qpdf --check %s: status %d\n%s%s", pdf, r.status,
		    r.out, r.err);
	th_run_free(&r);
}

static void
test_valid(void **state)
{
	fixture *fx = *state;
	const valid_case *c = fx->row;
	const char *argv[MAX_ARGV + 1];
	char *owned[MAX_ARGV];
	th_run r;

	argv[0] = th_bin();
	expand(fx, c->argv, argv + 1, owned);
	if (th_run_argv(&r, argv, NULL) != 0)
		fail_msg("%s: status %d: %s", c->name, r.status, r.err);
	th_run_free(&r);
	for (size_t i = 0; i < 4 && c->files[i]; i++) {
		char *p = th_path(fx->dir, c->files[i]);
		size_t n = strlen(p);

		assert_true(th_exists(p));
		if (n > 4 && strcmp(p + n - 4, ".pdf") == 0)
			assert_qpdf_check(p);
		else
			th_assert_output_valid(p);
		free(p);
	}
	free_owned(owned);
}

/* The bare code's PDF links to its payload over the whole page (2in,
 * the default size), and the link is the payload exactly. */
static void
test_qr_link(void **state)
{
	fixture *fx = *state;
	char *out = th_path(fx->dir, "q.pdf");
	th_pdf_link l[2];
	th_run r;

	th_qrposter(&r, "qr", "https://x.example/a(b)\\c", "-o", out, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_int_equal(th_pdf_links(out, l, 2), 1);
	assert_string_equal(l[0].uri, "https://x.example/a(b)\\c");
	assert_float_equal(l[0].x0, 0, 0.01);
	assert_float_equal(l[0].y0, 0, 0.01);
	assert_float_equal(l[0].x1, 144, 0.01);
	assert_float_equal(l[0].y1, 144, 0.01);
	free(out);
}

/* ---- ecc: auto ------------------------------------------------------- */

/*
 * The level ZXing (an independent decoder) reads from the printed code.
 * Expected levels come from ISO/IEC 18004 Table 7, 8-bit byte capacity:
 *   version 1: L 17, M 14, Q 11, H 7;  version 2: L 32, M 26, Q 20, H 14;
 *   version 3: L 53, M 42, Q 32, H 24.
 * Lower-case letters are byte mode throughout, so a payload of n letters
 * takes the version whose M capacity first holds n, and auto must give
 * the highest level that holds n in that same version.
 */
typedef struct ecc_case {
	const char *name;
	const char *payload;
	char level;
} ecc_case;

static const ecc_case ecc_cases[] = {
	{"ecc auto: 7 bytes, version 1 holds H", "abcdefg", 'H'},
	{"ecc auto: 8 bytes, version 1 holds Q", "abcdefgh", 'Q'},
	{"ecc auto: 12 bytes, version 1 holds only M", "abcdefghijkl", 'M'},
	{"ecc auto: 15 bytes, version 2 holds Q", "abcdefghijklmno", 'Q'},
	{"ecc auto: 24 bytes, version 2 holds only M",
	    "abcdefghijklmnopqrstuvwx", 'M'},
	{"ecc auto: 27 bytes, version 3 holds Q",
	    "abcdefghijklmnopqrstuvwxyza", 'Q'},
};

/* "EC Level: X" from ZXingReader on png, or 0. */
static char
zxing_level(const char *png, char *text, size_t textsz)
{
	const char *argv[] = {"ZXingReader", png, NULL};
	char lv = 0, *p;
	th_run r;

	th_run_argv(&r, argv, NULL);
	if (r.status == 0 && (p = strstr(r.out, "EC Level:")) != NULL) {
		p += strlen("EC Level:");
		while (*p == ' ')
			p++;
		lv = *p;
	}
	if (text && (p = strstr(r.out, "Text:")) != NULL) {
		char *q = strchr(p, '"'), *e = q ? strchr(q + 1, '"') : NULL;
		if (q && e)
			snprintf(text, textsz, "%.*s", (int)(e - q - 1), q + 1);
	}
	th_run_free(&r);
	return lv;
}

static void
test_ecc_auto(void **state)
{
	fixture *fx = *state;
	const ecc_case *c = fx->row;
	char *png = th_path(fx->dir, "q.png"), text[256] = "";
	th_run r;

	th_qrposter(&r, "qr", "--ecc", "auto", c->payload, "-o", png, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_int_equal(zxing_level(png, text, sizeof text), c->level);
	assert_string_equal(text, c->payload);
	free(png);
}

/* A template's qr block says ecc: auto; the code on the page has the
 * level the table gives for its payload (a short payload: H). */
static void
test_ecc_auto_template(void **state)
{
	static const char tpl[] =
	    "page: {size: letter}\n"
	    "blocks:\n"
	    "  - type: qr\n"
	    "    box: {x: 1in, y: 1in, w: 3in}\n"
	    "    data: \"abcdefg\"\n"
	    "    ecc: auto\n";
	fixture *fx = *state;
	char *t = th_path(fx->dir, "t.yaml"), *png = th_path(fx->dir, "p.png");
	th_run r;

	assert_true(th_write_file(t, tpl, strlen(tpl)));
	th_qrposter(&r, "render", "-t", t, "--dpi", "100", "-o", png, NULL);
	if (r.status != 0)
		fail_msg("render: %s", r.err);
	th_run_free(&r);
	assert_int_equal(zxing_level(png, NULL, 0), 'H');
	/* A wrong value names the choices, auto among them. */
	{
		static const char bad[] = "page: {size: letter}\nblocks:\n"
		    "  - {type: qr, box: {x: 1in, y: 1in, w: 3in}, data: x, "
		    "ecc: best}\n";
		assert_true(th_write_file(t, bad, strlen(bad)));
		th_qrposter(&r, "check", "-t", t, NULL);
		assert_int_not_equal(r.status, 0);
		assert_non_null(strstr(r.err, "'best' is not one of L, M, Q, H, "
		    "auto"));
		th_run_free(&r);
	}
	free(t);
	free(png);
}

#define ROW(fn, c) {(c).name, fn, setup, teardown, (void *)&(c)}
#define PLAIN(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define NVALID (sizeof valid_cases / sizeof valid_cases[0])
#define NECC (sizeof ecc_cases / sizeof ecc_cases[0])

int
main(void)
{
	struct CMUnitTest tests[NVALID + NECC + 8];
	size_t n = 0;

	for (size_t i = 0; i < NVALID; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_valid, valid_cases[i]);
	tests[n++] = (struct CMUnitTest)PLAIN(test_qr_link);
	for (size_t i = 0; i < NECC; i++)
		tests[n++] = (struct CMUnitTest)ROW(test_ecc_auto, ecc_cases[i]);
	tests[n++] = (struct CMUnitTest)PLAIN(test_ecc_auto_template);
	return _cmocka_run_group_tests("print", tests, n, NULL, NULL);
}
