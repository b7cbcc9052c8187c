/*
 * test_words.c - the wording follows the number: a poster with a state
 * hotline's number carries none of the national hotline's words
 * (pdftotext), a template's own national wording beside another number
 * is a check warning, `when:` mistakes are errors at their line and
 * column, and a required variable may not be given empty.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "util.h"

#define FL_NUMBER "1-855-352-7233"
#define FL_NAME "Florida Human Trafficking Hotline"

/* Words only the National Human Trafficking Hotline's poster may carry
 * (written out here, not taken from the code under test). */
static const char *const national[] = {
	"National Human Trafficking", "Línea Nacional", "NHTRC",
	"1-888-373-7888", "233733", "233-733", "200 languages",
	"200 wika", "200개", "Federal government", "gobierno federal",
	"24/7", "Pambansang Hotline", "전국 인신매매",
};
#define NNATIONAL (sizeof national / sizeof national[0])

/* ---- a state number on every bundled poster ---------------------------- */

typedef struct poster {
	const char *tmpl;
	const char *extra; /* a -s beyond the state's, or NULL */
} poster;

static const poster posters[] = {
	{"restroom-letter", NULL},
	{"station-tabloid", NULL},
	{"car-card", NULL},
	{"agency-letter", NULL},
	{"logo-qr-letter", NULL},
	{"bilingual-letter", NULL},
	{"multilingual-tabloid", "lang2=zh-Hant"},
	{"multilingual-tabloid", "lang2=ar"},
	{"multilingual-tabloid", "lang2=vi"},
	{"multilingual-tabloid", "lang2=fil"},
	{"multilingual-tabloid", "lang2=ko"},
};
#define NPOSTERS (sizeof posters / sizeof posters[0])

/* Render tmpl with the Florida hotline; returns pdftotext's text. */
static char *
render_text(const char *dir, const poster *p, bool state_number)
{
	char *out = th_path(dir, "p.pdf");
	const char *extra = p->extra ? p->extra : "code=TPA-R1";
	char *text = NULL;
	th_run r;

	if (state_number)
		th_qrposter(&r, "render", "-t", p->tmpl, "-s", "code=TPA-R1",
		    "-s", "name=Tampa Union Station", "-s",
		    "hotline=" FL_NUMBER, "-s", "hotline_name=" FL_NAME, "-s",
		    extra, "-o", out, NULL);
	else
		th_qrposter(&r, "render", "-t", p->tmpl, "-s", "code=TPA-R1",
		    "-s", "name=Tampa Union Station", "-s", extra, "-o", out,
		    NULL);
	if (r.status != 0)
		fail_msg("%s: exit %d: %s", p->tmpl, r.status, r.err);
	text = th_pdftotext(out);
	th_run_free(&r);
	free(out);
	return text;
}

static void
test_state_number(void **state)
{
	const poster *p = *state;
	char *dir = th_tmpdir_new();
	char *text = render_text(dir, p, true);

	assert_non_null(text);
	assert_non_null(strstr(text, FL_NUMBER));
	assert_non_null(strstr(text, FL_NAME));
	for (size_t i = 0; i < NNATIONAL; i++)
		if (strstr(text, national[i]))
			fail_msg("%s: the Florida poster says '%s':\n%s",
			    p->tmpl, national[i], text);
	free(text);
	th_tmpdir_remove(dir);
}

/* The same poster with the national number keeps the national name:
 * the words the state poster lacks are the ones the number brings. */
static void
test_national_number(void **state)
{
	const poster *p = *state;
	char *dir = th_tmpdir_new();
	char *text = render_text(dir, p, false);

	assert_non_null(text);
	assert_non_null(strstr(text, "1-888-373-7888"));
	assert_null(strstr(text, FL_NAME));
	if (strstr(text, "National Human Trafficking") == NULL &&
	    strstr(text, "Línea Nacional") == NULL)
		fail_msg("%s: the national poster does not name the national "
		    "hotline:\n%s", p->tmpl, text);
	free(text);
	th_tmpdir_remove(dir);
}

/* ---- the same number, written another way ------------------------------ */

static void
test_national_number_written_otherwise(void **state)
{
	char *dir = th_tmpdir_new(), *out = th_path(dir, "p.pdf"), *text;
	th_run r;

	(void)state;
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", "code=A",
	    "-s", "name=B", "-s", "hotline=(888) 373-7888", "-o", out, NULL);
	assert_int_equal(r.status, 0);
	text = th_pdftotext(out);
	assert_non_null(strstr(text, "(888) 373-7888"));
	assert_non_null(strstr(text, "Call the National Human Trafficking "
	    "Hotline, 24/7"));
	assert_non_null(strstr(text, "233733"));
	free(text);
	th_run_free(&r);
	free(out);
	th_tmpdir_remove(dir);
}

/* ---- another number needs its hotline's name --------------------------- */

static void
test_state_number_needs_name(void **state)
{
	char *dir = th_tmpdir_new(), *out = th_path(dir, "p.pdf");
	th_run r;

	(void)state;
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", "code=A",
	    "-s", "name=B", "-s", "hotline=" FL_NUMBER, "-o", out, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "'hotline_name'"));
	assert_non_null(strstr(r.err, "[value-missing]"));
	assert_false(th_exists(out));
	th_run_free(&r);
	free(out);
	th_tmpdir_remove(dir);
}

/* ---- the national number never under another name ---------------------- */

static void
test_national_number_keeps_its_name(void **state)
{
	char *dir = th_tmpdir_new(), *out = th_path(dir, "p.pdf"), *text;
	th_run r;

	(void)state;
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", "code=A",
	    "-s", "name=B", "-s", "hotline_name=" FL_NAME, "-o", out, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "'hotline_name'"));
	assert_non_null(strstr(r.err, "[value-unused]"));
	text = th_pdftotext(out);
	assert_non_null(strstr(text, "Call the National Human Trafficking "
	    "Hotline"));
	assert_null(strstr(text, FL_NAME));
	free(text);
	th_run_free(&r);
	free(out);
	th_tmpdir_remove(dir);
}

/* ---- a state number, no text line -------------------------------------- */

static void
test_state_text_number(void **state)
{
	char *dir = th_tmpdir_new(), *out = th_path(dir, "p.pdf"), *text;
	th_run r;

	(void)state;
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", "code=A",
	    "-s", "name=B", "-s", "hotline=" FL_NUMBER, "-s",
	    "hotline_name=" FL_NAME, "-o", out, NULL);
	assert_int_equal(r.status, 0);
	text = th_pdftotext(out);
	assert_null(strstr(text, "or text"));
	free(text);
	th_run_free(&r);
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", "code=A",
	    "-s", "name=B", "-s", "hotline=" FL_NUMBER, "-s",
	    "hotline_name=" FL_NAME, "-s", "text_number=55155", "-s",
	    "text_keyword=SAFE", "-o", out, NULL);
	assert_int_equal(r.status, 0);
	text = th_pdftotext(out);
	assert_non_null(strstr(text, "or text SAFE to 55155"));
	free(text);
	th_run_free(&r);
	free(out);
	th_tmpdir_remove(dir);
}

/* ---- check: a template's own national wording beside another number --- */

static const char national_tmpl[] =
    "qrposter: 1\n"
    "page: {size: letter}\n"
    "variables:\n"
    "  code: {description: Location code}\n"
    "  hotline: \"1-888-373-7888\"\n"
    "  label: \"\"\n"
    "blocks:\n"
    "  - type: text\n"
    "    id: call\n"
    "    box: {x: 1in, y: 1in, w: 6in, h: 1in}\n"
    "    text: \"Call the National Human Trafficking Hotline: {{hotline}}\"\n"
    "  - type: text\n"
    "    id: other\n"
    "    box: {x: 1in, y: 3in, w: 6in, h: 1in}\n"
    "    text: \"{{label}} {{code}}\"\n";

typedef struct wcase {
	const char *name;
	const char *hotline; /* -s hotline=, or NULL */
	const char *label;   /* -s label=, or NULL */
	int warnings;        /* national-wording findings */
} wcase;

static const wcase wcases[] = {
	{"the national number: no warning", NULL, NULL, 0},
	{"the national number written otherwise: no warning",
	    "888.373.7888", NULL, 0},
	{"a state number under the template's national text", FL_NUMBER,
	    NULL, 1},
	{"national words in a value given are the user's", FL_NUMBER,
	    "National Human Trafficking Hotline", 1},
};
#define NWCASES (sizeof wcases / sizeof wcases[0])

static int
count(const char *s, const char *w)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, w)) != NULL; p += strlen(w))
		n++;
	return n;
}

static void
test_check_wording(void **state)
{
	const wcase *c = *state;
	char *dir = th_tmpdir_new(), *tpl = th_path(dir, "t.yaml");
	char hot[64], label[128];
	th_run r;

	assert_true(th_write_file(tpl, national_tmpl, strlen(national_tmpl)));
	snprintf(hot, sizeof hot, "hotline=%s", c->hotline ? c->hotline :
	    "1-888-373-7888");
	snprintf(label, sizeof label, "label=%s", c->label ? c->label : "x");
	th_qrposter(&r, "check", "-t", tpl, "-s", "code=A", "-s", hot, "-s",
	    label, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(count(r.out, "[national-wording]"), c->warnings);
	if (c->warnings) {
		/* On the block whose own text it is, never on the other. */
		assert_non_null(strstr(r.out, "block 'call'"));
		assert_null(strstr(r.out, "block 'other'"));
		assert_non_null(strstr(r.out, "line 8, column 5"));
	}
	th_run_free(&r);
	free(tpl);
	th_tmpdir_remove(dir);
}

/* ---- when: mistakes at their line and column --------------------------- */

typedef struct ecase {
	const char *name;
	const char *vars;  /* extra lines under variables: */
	const char *when;  /* the block's when: line, or NULL */
	const char *where; /* ":LINE:COL:" expected */
	const char *what;  /* words of the message */
} ecase;

/* Lines 1-4 fixed (variables from line 3); with no extra variable
 * lines the block's when: is line 8. */
static const ecase ecases[] = {
	{"when names no variable", "", "    when: {hotlin: \"1\"}\n",
	    ":8:12:", "no variable 'hotlin' (did you mean 'hotline'?)"},
	{"when takes a value, not a list", "",
	    "    when: {hotline: [a, b]}\n", ":8:21:", "takes one value"},
	{"when's mapping knows only not", "",
	    "    when: {hotline: {nto: \"1\"}}\n", ":8:22:",
	    "unknown key 'nto'"},
	{"when is a mapping", "", "    when: hotline\n", ":8:11:",
	    "when must be a mapping"},
	{"a variable named twice", "",
	    "    when: {hotline: \"1\", hotline: \"2\"}\n", ":8:26:",
	    "appears twice"},
	{"when on a variable with no default",
	    "  other: {when: {hotline: \"1\"}}\n", NULL, ":5:17:",
	    "has no default"},
	{"a default that depends on a conditional default",
	    "  a: {default: x, when: {hotline: \"1\"}}\n"
	    "  b: {default: y, when: {a: x}}\n", NULL, ":6:25:",
	    "may depend on a variable whose own default does not"},
};
#define NECASES (sizeof ecases / sizeof ecases[0])

static void
test_when_error(void **state)
{
	const ecase *c = *state;
	char *dir = th_tmpdir_new(), *tpl = th_path(dir, "t.yaml");
	char *text, *want;
	th_run r;

	text = qp_xasprintf("qrposter: 1\n"        /* 1 */
	    "page: {size: letter}\n"                   /* 2 */
	    "variables:\n"                             /* 3 */
	    "  hotline: \"1\"\n"                       /* 4 */
	    "%s"                                       /* 5.. */
	    "blocks:\n"
	    "  - type: text\n"
	    "    id: t\n"
	    "%s"
	    "    box: {x: 0, y: 0, w: 1in, h: 1in}\n"
	    "    text: hi\n", c->vars, c->when ? c->when : "");
	assert_true(th_write_file(tpl, text, strlen(text)));
	th_qrposter(&r, "check", "-t", tpl, NULL);
	assert_int_equal(r.status, 1);
	want = qp_xasprintf("%s%s", tpl, c->where);
	if (strstr(r.err, want) == NULL || strstr(r.err, c->what) == NULL)
		fail_msg("want '%s' and '%s' in: %s", want, c->what, r.err);
	free(want);
	free(text);
	th_run_free(&r);
	free(tpl);
	th_tmpdir_remove(dir);
}

/* ---- required: never empty --------------------------------------------- */

static void
test_required_not_empty(void **state)
{
	char *dir = th_tmpdir_new(), *out = th_path(dir, "p.pdf");
	char *csv = th_path(dir, "s.csv"), *pat = th_path(dir, "{{code}}.pdf");
	static const char rows[] = "code,name,hotline\nA,Alpha,\n";
	th_run r;

	(void)state;
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", "code=A",
	    "-s", "name=B", "-s", "hotline=", "-o", out, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "[value-empty]"));
	th_run_free(&r);
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", "code=A",
	    "-s", "name=B", "-s", "report_url=", "-o", out, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "[value-empty]"));
	assert_false(th_exists(out));
	th_run_free(&r);
	/* An empty cell of a required variable is a bad row, too. */
	assert_true(th_write_file(csv, rows, strlen(rows)));
	th_qrposter(&r, "batch", "-q", "-t", "restroom-letter", "-d", csv,
	    "-o", pat, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, ":2: column 'hotline'"));
	assert_non_null(strstr(r.err, "[value-empty]"));
	th_run_free(&r);
	free(pat);
	free(csv);
	free(out);
	th_tmpdir_remove(dir);
}

int
main(void)
{
	static char names[2 * NPOSTERS][96];
	struct CMUnitTest t[2 * NPOSTERS + NWCASES + NECASES + 5];
	size_t n = 0;

	setenv("QRPOSTER_DATADIR", ".", 0);
	for (size_t i = 0; i < NPOSTERS; i++) {
		const char *x = posters[i].extra ? posters[i].extra : "";

		snprintf(names[2 * i], sizeof names[0], "a state number on "
		    "%s %s", posters[i].tmpl, x);
		snprintf(names[2 * i + 1], sizeof names[0], "the national "
		    "number on %s %s", posters[i].tmpl, x);
		t[n++] = (struct CMUnitTest){names[2 * i], test_state_number,
		    NULL, NULL, (void *)&posters[i]};
		t[n++] = (struct CMUnitTest){names[2 * i + 1],
		    test_national_number, NULL, NULL, (void *)&posters[i]};
	}
	for (size_t i = 0; i < NWCASES; i++)
		t[n++] = (struct CMUnitTest){wcases[i].name, test_check_wording,
		    NULL, NULL, (void *)&wcases[i]};
	for (size_t i = 0; i < NECASES; i++)
		t[n++] = (struct CMUnitTest){ecases[i].name, test_when_error,
		    NULL, NULL, (void *)&ecases[i]};
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_national_number_written_otherwise);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_state_number_needs_name);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_state_text_number);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_national_number_keeps_its_name);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_required_not_empty);
	return _cmocka_run_group_tests("words", t, n, NULL, NULL);
}
