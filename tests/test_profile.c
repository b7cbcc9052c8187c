/*
 * test_profile.c - agency profiles (--profile FILE in render, batch and
 * check) and the columns of a CSV:
 *   - which value wins: the template's default < the profile < the CSV
 *     row < -s, read back from the printed poster (pdftotext);
 *   - a mistake in a profile is an error at its line and column, in every
 *     command; a key the template does not use is a warning;
 *   - the profile's logo takes the template's logo slot (a pixel of the
 *     rendered page);
 *   - a reporting URL with a query or a fragment keeps the location: the
 *     QR payload decoded from the PDF (libzbar) equals the URL built here
 *     by hand;
 *   - CSV headers match variables whatever their case, by their label,
 *     or by words of their description; a missing column lists those
 *     found.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "util.h"

#define PROFILE_OK \
	"profile: 1\n" \
	"agency: Example State DOT\n" \
	"hotline_name: Example State Hotline\n" \
	"hotline: 1-202-555-0147\n" \
	"report_url: https://dot.state.example/report\n"

static char *
write_in(const char *dir, const char *name, const char *text)
{
	char *p = th_path(dir, name);

	assert_true(th_write_file(p, text, strlen(text)));
	return p;
}

/* ---- which value wins -------------------------------------------------- */

typedef struct pcase {
	const char *name;
	bool profile;      /* --profile with agency "From profile" */
	const char *cell;  /* the CSV's agency cell; NULL: no such column */
	const char *set;   /* -s agency=..., or NULL */
	const char *want;  /* the agency printed, or "" for none */
} pcase;

static const pcase pcases[] = {
	{"the template's default (no agency)", false, NULL, NULL, ""},
	{"the profile over the default", true, NULL, NULL, "From profile"},
	{"the CSV cell over the profile", true, "From row", NULL, "From row"},
	{"an empty cell leaves the profile's", true, "", NULL, "From profile"},
	{"-s over the CSV cell", true, "From row", "From set", "From set"},
	{"-s over the profile", true, NULL, "From set", "From set"},
};
#define NPCASES (sizeof pcases / sizeof pcases[0])

static void
test_precedence(void **state)
{
	const pcase *c = *state;
	char *dir = th_tmpdir_new();
	char *prof = write_in(dir, "p.yaml", "agency: From profile\n");
	char *csv, *pat = th_path(dir, "{{code}}.pdf");
	char *pdf = th_path(dir, "R1.pdf"), *text, *set = NULL;
	const char *argv[20];
	size_t n = 0;
	th_run r;

	csv = c->cell ? write_in(dir, "s.csv", c->cell[0] ? "code,name,agency\n"
	    "R1,Union Station,From row\n" : "code,name,agency\nR1,Union "
	    "Station,\n") : write_in(dir, "s.csv", "code,name\nR1,Union "
	    "Station\n");
	argv[n++] = th_bin();
	argv[n++] = "batch";
	argv[n++] = "-q";
	argv[n++] = "-t";
	argv[n++] = "restroom-letter";
	argv[n++] = "-d";
	argv[n++] = csv;
	argv[n++] = "-o";
	argv[n++] = pat;
	if (c->profile) {
		argv[n++] = "--profile";
		argv[n++] = prof;
	}
	if (c->set) {
		set = qp_xasprintf("agency=%s", c->set);
		argv[n++] = "-s";
		argv[n++] = set;
	}
	argv[n] = NULL;
	assert_int_equal(th_run_argv(&r, argv, NULL), 0);
	text = th_pdftotext(pdf);
	assert_non_null(text);
	if (*c->want) {
		char *line = qp_xasprintf("%s · Location: Union Station",
		    c->want);
		if (strstr(text, line) == NULL)
			fail_msg("want '%s' in:\n%s", line, text);
		free(line);
	} else {
		assert_non_null(strstr(text, "\nLocation: Union Station"));
		assert_null(strstr(text, "From "));
	}
	free(text);
	th_run_free(&r);
	free(set);
	free(pdf);
	free(pat);
	free(csv);
	free(prof);
	th_tmpdir_remove(dir);
}

/* render and check take the profile too; the profile's hotline and name
 * replace the national ones. */
static void
test_render_and_check(void **state)
{
	char *dir = th_tmpdir_new(), *prof = write_in(dir, "p.yaml",
	    PROFILE_OK), *out = th_path(dir, "p.pdf"), *text;
	th_run r;

	(void)state;
	assert_int_equal(th_qrposter(&r, "render", "-t", "restroom-letter",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", "-o", out,
	    NULL), 0);
	text = th_pdftotext(out);
	assert_non_null(strstr(text, "1-202-555-0147"));
	assert_non_null(strstr(text, "Call the Example State Hotline:"));
	assert_non_null(strstr(text, "Example State DOT · Location: B"));
	assert_null(strstr(text, "National"));
	free(text);
	th_run_free(&r);
	/* -s over the profile in render */
	assert_int_equal(th_qrposter(&r, "render", "-t", "restroom-letter",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", "-s",
	    "hotline=1-202-555-0199", "-o", out, NULL), 0);
	text = th_pdftotext(out);
	assert_non_null(strstr(text, "1-202-555-0199"));
	assert_null(strstr(text, "1-202-555-0147"));
	free(text);
	th_run_free(&r);
	/* check: no errors, and the notice (fixed wording) warns of every
	 * key it does not use */
	assert_int_equal(th_qrposter(&r, "check", "-t", "restroom-letter",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", NULL), 0);
	assert_non_null(strstr(r.out, "0 errors, 0 warnings"));
	th_run_free(&r);
	assert_int_equal(th_qrposter(&r, "check", "-t", "notice-mi",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", NULL), 0);
	assert_non_null(strstr(r.out, "'hotline' is not used"));
	assert_non_null(strstr(r.out, "'agency' is not used"));
	assert_non_null(strstr(r.out, "'hotline_name' is not used"));
	assert_null(strstr(r.out, "'report_url' is not used"));
	assert_non_null(strstr(r.out, "0 errors, 3 warnings"));
	th_run_free(&r);
	free(out);
	free(prof);
	th_tmpdir_remove(dir);
}

/*
 * A profile and a law together (check once crashed on the profile's
 * warnings, printed before the laws' tallies existed). The federal pack
 * asks for the national number, 1-888-373-7888: a poster carrying only
 * the profile's state number fails it; the Michigan notice prints the
 * statute's own wording whatever the profile says, and meets its law.
 */
static void
test_profile_and_law(void **state)
{
	char *dir = th_tmpdir_new(), *prof = write_in(dir, "p.yaml",
	    PROFILE_OK);
	th_run r;

	(void)state;
	assert_int_equal(th_qrposter(&r, "check", "-t", "restroom-letter",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", "--law",
	    "federal", NULL), 1);
	assert_non_null(strstr(r.out, "[law-phrase]"));
	assert_non_null(strstr(r.out, "FAILED on 1 of 1"));
	th_run_free(&r);
	assert_int_equal(th_qrposter(&r, "check", "-t", "notice-mi",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", "--law", "mi",
	    NULL), 0);
	assert_non_null(strstr(r.out, "[profile-unused]"));
	assert_null(strstr(r.out, "FAILED"));
	th_run_free(&r);
	free(prof);
	th_tmpdir_remove(dir);
}

/* ---- mistakes at their line and column --------------------------------- */

typedef struct ecase {
	const char *name;
	const char *text;
	const char *cmd;   /* render, check or batch */
	const char *where; /* ":LINE:COL:" */
	const char *what;
} ecase;

static const ecase ecases[] = {
	{"an unknown key (render)", "agency: X\n  \nhotlin: 1-202-555-0147\n",
	    "render", ":3:1:", "unknown key 'hotlin' in the profile (did you "
	    "mean 'hotline'?)"},
	{"an unknown key (check)", "agency: X\nhotlin: 1\n", "check", ":2:1:",
	    "unknown key 'hotlin'"},
	{"an unknown key (batch)", "agency: X\nhotlin: 1\n", "batch", ":2:1:",
	    "unknown key 'hotlin'"},
	{"a list for a value", "agency: [a, b]\n", "render", ":1:9:",
	    "'agency' takes one value"},
	{"a key twice", "agency: a\nagency: b\n", "render", ":2:1:",
	    "'agency' appears twice"},
	{"a version it does not read", "profile: 2\n", "render", ":1:10:",
	    "version 2 profile"},
	{"a key with no value", "hotline:\nagency: a\n", "render", ":1:9:",
	    "'hotline' has no value"},
	{"a reporting URL that is no http(s) URL", "agency: a\n"
	    "report_url: javascript:alert(1)\n", "render", ":2:13:",
	    "[link-not-http]"},
	{"an empty hotline (required)", "hotline: \"\"\n", "render", ":1:10:",
	    "[value-empty]"},
	{"a value that is not a choice", "values: {lang2: xx}\n",
	    "render", ":1:17:", "[value-choice]"},
	{"a logo that is not there", "logo: nowhere.svg\n", "render",
	    ":1:7:", "logo"},
	{"not a mapping", "- hotline\n", "render", ":1:1:",
	    "a profile is a mapping"},
};
#define NECASES (sizeof ecases / sizeof ecases[0])

static void
test_profile_error(void **state)
{
	const ecase *c = *state;
	char *dir = th_tmpdir_new(), *prof = write_in(dir, "p.yaml", c->text);
	char *csv = write_in(dir, "s.csv", "code,name\nA,B\n");
	char *out = th_path(dir, "p.pdf"), *pat = th_path(dir, "{{code}}.pdf");
	const char *tmpl = strstr(c->text, "lang2") ? "multilingual-tabloid" :
	    strstr(c->text, "logo") ? "agency-letter" : "restroom-letter";
	char *want;
	th_run r;

	if (strcmp(c->cmd, "render") == 0)
		th_qrposter(&r, "render", "-t", tmpl, "--profile", prof, "-s",
		    "code=A", "-s", "name=B", "-o", out, NULL);
	else if (strcmp(c->cmd, "check") == 0)
		th_qrposter(&r, "check", "-t", tmpl, "--profile", prof, "-s",
		    "code=A", "-s", "name=B", NULL);
	else
		th_qrposter(&r, "batch", "-q", "-t", tmpl, "--profile", prof,
		    "-d", csv, "-o", pat, NULL);
	assert_int_equal(r.status, 1);
	want = qp_xasprintf("%s%s", prof, c->where);
	if (strstr(r.err, want) == NULL || strstr(r.err, c->what) == NULL)
		fail_msg("want '%s' and '%s' in: %s", want, c->what, r.err);
	assert_false(th_exists(out));
	free(want);
	th_run_free(&r);
	free(pat);
	free(out);
	free(csv);
	free(prof);
	th_tmpdir_remove(dir);
}

/* ---- the logo ---------------------------------------------------------- */

/* The RGB of pixel (x, y) of a PNG. */
static bool
pixel(const char *path, unsigned x, unsigned y, unsigned char rgb[3])
{
	png_image img;
	unsigned char *pix;

	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return false;
	img.format = PNG_FORMAT_RGB;
	pix = malloc(PNG_IMAGE_SIZE(img));
	if (pix == NULL || !png_image_finish_read(&img, NULL, pix, 0, NULL) ||
	    x >= img.width || y >= img.height) {
		free(pix);
		png_image_free(&img);
		return false;
	}
	memcpy(rgb, pix + 3 * ((size_t)y * img.width + x), 3);
	free(pix);
	return true;
}

static void
test_logo(void **state)
{
	char *dir = th_tmpdir_new();
	char *svg = write_in(dir, "red.svg", "<svg xmlns=\"http://www.w3.org/"
	    "2000/svg\" width=\"100\" height=\"100\" viewBox=\"0 0 100 100\">"
	    "<rect width=\"100\" height=\"100\" fill=\"#FF0000\"/></svg>\n");
	char *prof = write_in(dir, "p.yaml", "logo: red.svg\n");
	char *with = th_path(dir, "with.png"), *without = th_path(dir, "w.png");
	unsigned char a[3], b[3];
	th_run r;

	(void)state;
	(void)svg;
	/* agency-letter's logo slot: 1.5in square at (0.35in, 0.35in); its
	 * middle at 50 dpi is pixel (55, 55). */
	assert_int_equal(th_qrposter(&r, "render", "-t", "agency-letter",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", "--dpi", "50",
	    "-o", with, NULL), 0);
	th_run_free(&r);
	assert_int_equal(th_qrposter(&r, "render", "-t", "agency-letter",
	    "-s", "code=A", "-s", "name=B", "--dpi", "50", "-o", without,
	    NULL), 0);
	th_run_free(&r);
	assert_true(pixel(with, 55, 55, a));
	assert_true(pixel(without, 55, 55, b));
	assert_true(a[0] > 240 && a[1] < 16 && a[2] < 16);
	assert_false(b[0] > 240 && b[1] < 16 && b[2] < 16);
	/* A template with no place for it says so. */
	assert_int_equal(th_qrposter(&r, "check", "-t", "restroom-letter",
	    "--profile", prof, "-s", "code=A", "-s", "name=B", NULL), 0);
	assert_non_null(strstr(r.out, "'logo' is not used"));
	assert_non_null(strstr(r.out, "[profile-unused]"));
	th_run_free(&r);
	free(with);
	free(without);
	free(prof);
	free(svg);
	th_tmpdir_remove(dir);
}

/* ---- a reporting URL with a query or a fragment ------------------------ */

/* RFC 3986 percent-encoding, written here rather than taken from the
 * code under test: all but A-Z a-z 0-9 - . _ ~ as %XX. */
static char *
pct(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * strlen(s) + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '%';
		*o++ = hex[*p >> 4];
		*o++ = hex[*p & 15];
	}
	*o = '\0';
	return out;
}

typedef struct ucase {
	const char *name;
	const char *url;
	const char *before; /* the URL up to where loc goes */
	const char *sep;    /* "?" or "&" */
	const char *after;  /* what follows loc (a fragment) */
} ucase;

#define CODE "DEN R/3 é"

static const ucase ucases[] = {
	{"a plain URL", "https://cdot.example/report",
	    "https://cdot.example/report", "?", ""},
	{"a URL with a query", "https://cdot.example/report?lang=en",
	    "https://cdot.example/report?lang=en", "&", ""},
	{"a URL with a fragment", "https://cdot.example/report#form",
	    "https://cdot.example/report", "?", "#form"},
	{"a URL with a query and a fragment",
	    "https://cdot.example/r?lang=en&x=1#top",
	    "https://cdot.example/r?lang=en&x=1", "&", "#top"},
};
#define NUCASES (sizeof ucases / sizeof ucases[0])

static void
test_url(void **state)
{
	const ucase *c = *state;
	char *dir = th_tmpdir_new(), *ptext, *prof;
	char *out = th_path(dir, "p.pdf");
	char *enc = pct(CODE), *want, **codes;
	th_run r;

	ptext = qp_xasprintf("hotline: 1-202-555-0147\nhotline_name: X\n"
	    "report_url: \"%s\"\n", c->url);
	prof = write_in(dir, "p.yaml", ptext);
	assert_int_equal(th_qrposter(&r, "render", "-t", "restroom-letter",
	    "--profile", prof, "-s", "code=" CODE, "-s", "name=B", "-o", out,
	    NULL), 0);
	th_run_free(&r);
	want = qp_xasprintf("%s%sloc=%s%s", c->before, c->sep, enc, c->after);
	codes = th_pdf_decode_qr(out, 150);
	assert_non_null(codes);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0], want);
	th_strv_free(codes);
	free(want);
	free(enc);
	free(prof);
	free(ptext);
	free(out);
	th_tmpdir_remove(dir);
}

/* ---- the CSV's columns ------------------------------------------------- */

typedef struct ccase {
	const char *name;
	const char *csv;
	int status;
	const char *want; /* in stderr (status != 0), or in the PDF text */
} ccase;

static const ccase ccases[] = {
	{"headers in another case", "Code,Name\nR1,Union Station\n", 0,
	    "Location: Union Station · R1"},
	{"a header that is the box's label", "Code,Location Name\n"
	    "R1,Union Station\n", 0, "Location: Union Station · R1"},
	{"a header with spaces for an underscore", "code,name,Text Number\n"
	    "R1,Union Station,55155\n", 0, "or text HELP to 55155"},
	{"a header that is a word of one description", "code,name,Phone,"
	    "Name of the hotline\nR1,Union Station,1-202-555-0147,State Line\n",
	    0, "Call the State Line:"},
	{"a missing column lists those found", "Kode,Nombre\nR1,Union\n", 1,
	    "no column 'code', which the template"},
	{"the columns found", "Kode,Nombre\nR1,Union\n", 1,
	    "(columns: Kode, Nombre)"},
	{"two columns for one variable", "CODE,Code,name\nR1,R2,Union\n", 1,
	    "[column-twice]"},
	{"an exact name wins over a case", "code,Code,name\nR1,R2,Union\n", 0,
	    "Location: Union · R1"},
};
#define NCCASES (sizeof ccases / sizeof ccases[0])

static void
test_columns(void **state)
{
	const ccase *c = *state;
	char *dir = th_tmpdir_new(), *csv = write_in(dir, "s.csv", c->csv);
	char *pdf = th_path(dir, "run.pdf"), *text;
	th_run r;

	th_qrposter(&r, "batch", "-q", "-t", "restroom-letter", "-d", csv,
	    "--combine", pdf, NULL);
	if (r.status != c->status)
		fail_msg("exit %d, want %d: %s", r.status, c->status, r.err);
	if (c->status) {
		if (strstr(r.err, c->want) == NULL)
			fail_msg("want '%s' in: %s", c->want, r.err);
		assert_false(th_exists(pdf));
	} else {
		text = th_pdftotext(pdf);
		if (text == NULL || strstr(text, c->want) == NULL)
			fail_msg("want '%s' in:\n%s", c->want, text);
		free(text);
	}
	th_run_free(&r);
	free(pdf);
	free(csv);
	th_tmpdir_remove(dir);
}

int
main(void)
{
	struct CMUnitTest t[NPCASES + NECASES + NUCASES + NCCASES + 3];
	size_t n = 0;

	setenv("QRPOSTER_DATADIR", ".", 0);
	for (size_t i = 0; i < NPCASES; i++)
		t[n++] = (struct CMUnitTest){pcases[i].name, test_precedence,
		    NULL, NULL, (void *)&pcases[i]};
	for (size_t i = 0; i < NECASES; i++)
		t[n++] = (struct CMUnitTest){ecases[i].name, test_profile_error,
		    NULL, NULL, (void *)&ecases[i]};
	for (size_t i = 0; i < NUCASES; i++)
		t[n++] = (struct CMUnitTest){ucases[i].name, test_url, NULL,
		    NULL, (void *)&ucases[i]};
	for (size_t i = 0; i < NCCASES; i++)
		t[n++] = (struct CMUnitTest){ccases[i].name, test_columns, NULL,
		    NULL, (void *)&ccases[i]};
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_render_and_check);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_logo);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_profile_and_law);
	return _cmocka_run_group_tests("profile", t, n, NULL, NULL);
}
