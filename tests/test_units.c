/*
 * test_units.c - the library without the binary: strict number, length,
 * distance and colour parsing (also under a comma-decimal locale when
 * the machine has one), URL and markup escaping, template strings,
 * in-memory templates with line:column errors, QR capacity, atomic
 * output files, and frees that accept NULL. Each row of a table is its
 * own test case, named after the row (the number tables run twice: in
 * the C locale and in a comma-decimal one).
 */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pango/pango.h>

#include "batch.h"
#include "bind.h"
#include "helpers.h"
#include "layout.h"
#include "qr.h"
#include "render.h"
#include "suite.h"
#include "template.h"
#include "util.h"
#include "vars.h"

/* ---- numbers, lengths, distances, colours ---- */

typedef struct numrow {
	const char *s;
	bool ok;
	double v;
} numrow;

static const numrow numbers[] = {
	{"12.5", true, 12.5}, {"-3", true, -3}, {"0", true, 0},
	{"+4", true, 4}, {".5", true, 0.5}, {"5.", true, 5},
	{"007", true, 7}, {"0.125", true, 0.125},
	{"12,5", false, 0}, {"1e3", false, 0}, {"1E3", false, 0},
	{"", false, 0}, {" 4", false, 0}, {"4 ", false, 0},
	{"0x10", false, 0}, {"inf", false, 0}, {"nan", false, 0},
	{".", false, 0}, {"-", false, 0}, {"1.2.3", false, 0},
	{"--1", false, 0}, {"1_000", false, 0}, {"9999999999999", false, 0},
};

static void
test_number(void **state)
{
	const numrow *c = *state;
	double v = -12345;
	bool ok = qp_parse_number(c->s, strlen(c->s), &v);

	if (ok != c->ok)
		print_error("qp_parse_number(\"%s\") = %d\n", c->s, ok);
	assert_int_equal(ok, c->ok);
	if (ok)
		assert_float_equal(v, c->v, 1e-12);
}

typedef struct lenrow {
	const char *s;
	bool pct, ok;
	qp_len_kind kind;
	double v;
} lenrow;

static const lenrow lengths[] = {
	{"12.5mm", false, true, QP_LEN_ABS, 12.5 * 72 / 25.4},
	{"2in", false, true, QP_LEN_ABS, 144},
	{"3cm", false, true, QP_LEN_ABS, 30 * 72 / 25.4},
	{"10pt", false, true, QP_LEN_ABS, 10},
	{"0", false, true, QP_LEN_ABS, 0},
	{"0.5in", false, true, QP_LEN_ABS, 36},
	{"12.5 mm", false, true, QP_LEN_ABS, 12.5 * 72 / 25.4},
	{" 2in ", false, true, QP_LEN_ABS, 144},
	{"50%", true, true, QP_LEN_PCT, 50},
	{"50%", false, false, QP_LEN_ABS, 0},
	{"12", false, false, QP_LEN_ABS, 0},
	{"12px", false, false, QP_LEN_ABS, 0},
	{"12,5mm", false, false, QP_LEN_ABS, 0},
	{"1e3in", false, false, QP_LEN_ABS, 0},
	{"in", false, false, QP_LEN_ABS, 0},
	{"", false, false, QP_LEN_ABS, 0},
	{"2IN", false, false, QP_LEN_ABS, 0},
	{"abc", false, false, QP_LEN_ABS, 0},
};

static void
test_length(void **state)
{
	const lenrow *c = *state;
	qp_len l = {QP_LEN_ABS, -12345};
	qp_error err = {0};
	bool ok = qp_parse_len(c->s, c->pct, &l, &err);

	if (ok != c->ok)
		print_error("qp_parse_len(\"%s\", %d) = %d (%s)\n", c->s, c->pct,
		    ok, err.msg);
	assert_int_equal(ok, c->ok);
	if (ok) {
		assert_int_equal(l.kind, c->kind);
		assert_float_equal(l.v, c->v, 1e-9);
	} else {
		/* The message quotes what was given. */
		char q[64];
		snprintf(q, sizeof q, "'%s'", c->s);
		assert_non_null(strstr(err.msg, q));
	}
}

typedef struct distrow {
	const char *s;
	bool ok;
	double m;
} distrow;

static const distrow distances[] = {
	{"1m", true, 1}, {"150cm", true, 1.5}, {"10ft", true, 3.048},
	{"3.5 m", true, 3.5}, {"500mm", true, 0.5}, {"40in", true, 1.016},
	{"1", false, 0}, {"1km", false, 0}, {"1,5m", false, 0},
	{"m", false, 0}, {"1e2cm", false, 0},
};

static void
test_distance(void **state)
{
	const distrow *c = *state;
	double m = -1;
	qp_error err = {0};
	bool ok = qp_parse_metres(c->s, &m, &err);

	if (ok != c->ok)
		print_error("qp_parse_metres(\"%s\") = %d\n", c->s, ok);
	assert_int_equal(ok, c->ok);
	if (ok)
		assert_float_equal(m, c->m, 1e-9);
	else
		assert_true(err.msg[0] != '\0');
}

/*
 * The same rows under a comma-decimal locale, which must change
 * nothing. A machine without one skips them; CI (CI set, where .ci/run
 * generates fr_FR.UTF-8) fails instead, so the check cannot vanish.
 */
static void
french_locale(void)
{
	static const char *const names[] = {"fr_FR.UTF-8", "fr_FR.utf8",
	    "de_DE.UTF-8", "de_DE.utf8"};
	const char *got = NULL;

	for (size_t i = 0; i < sizeof names / sizeof names[0] && !got; i++)
		got = setlocale(LC_ALL, names[i]);
	if (got == NULL) {
		if (getenv("CI") != NULL)
			fail_msg("no fr_FR/de_DE locale (CI generates one)");
		print_message("[   INFO   ] no fr_FR/de_DE locale; skipped\n");
		skip();
	}
	/* Make sure this locale really uses a comma. */
	assert_string_equal(localeconv()->decimal_point, ",");
}

static int
c_locale(void **state)
{
	(void)state;
	setlocale(LC_ALL, "C");
	return 0;
}

static void
test_number_fr(void **state)
{
	french_locale();
	test_number(state);
}

static void
test_length_fr(void **state)
{
	french_locale();
	test_length(state);
}

static void
test_distance_fr(void **state)
{
	french_locale();
	test_distance(state);
}

static void
test_parse_int(void **state)
{
	long v = 0;

	(void)state;
	assert_true(qp_parse_int("4", 4, 100, &v));
	assert_int_equal(v, 4);
	assert_true(qp_parse_int("100", 4, 100, &v));
	assert_false(qp_parse_int("3", 4, 100, &v));
	assert_false(qp_parse_int("101", 4, 100, &v));
	assert_false(qp_parse_int("4.5", 4, 100, &v));
	assert_false(qp_parse_int("", 4, 100, &v));
	assert_false(qp_parse_int(" 5", 4, 100, &v));
	assert_false(qp_parse_int("5 ", 4, 100, &v));
	assert_false(qp_parse_int("0x10", 0, 100, &v));
	assert_false(qp_parse_int("99999999999999999999", 0, 100, &v));
	assert_false(qp_parse_int(NULL, 0, 100, &v));
}

static void
test_parse_points(void **state)
{
	double pt = 0;
	qp_error err;

	(void)state;
	assert_true(qp_parse_points("50mm", &pt, &err));
	assert_float_equal(pt, 50 * 72 / 25.4, 1e-9);
	/* Percentages are for template boxes, not absolute sizes. */
	assert_false(qp_parse_points("50%", &pt, &err));
	/* The unknown unit is named so the user knows what to change. */
	assert_false(qp_parse_len("12px", false, &(qp_len){0}, &err));
	assert_non_null(strstr(err.msg, "'px'"));
}

static void
test_parse_color(void **state)
{
	qp_color c;
	qp_error err;

	(void)state;
	assert_true(qp_parse_color("#0B3D91", &c, &err));
	assert_float_equal(c.r, 0x0B / 255.0, 1e-9);
	assert_float_equal(c.g, 0x3D / 255.0, 1e-9);
	assert_float_equal(c.b, 0x91 / 255.0, 1e-9);
	assert_float_equal(c.a, 1, 1e-9);
	assert_true(qp_parse_color("#fff", &c, &err));
	assert_float_equal(c.r + c.g + c.b, 3, 1e-9);
	assert_true(qp_parse_color("#00000080", &c, &err));
	assert_float_equal(c.a, 128 / 255.0, 1e-9);
	assert_true(qp_parse_color("black", &c, &err));
	assert_float_equal(c.r + c.g + c.b, 0, 1e-9);
	assert_true(qp_parse_color("grey", &c, &err));
	assert_true(qp_parse_color("gray", &c, &err));
}

static const char *const bad_colors[] = {"#12345", "#GGGGGG", "", "#",
    "0B3D91", "#0B3D9", "#0B3D911", "rgb(0,0,0)", "blak", "#0B3D91 "};

static void
test_bad_color(void **state)
{
	const char *s = *(const char *const *)*state;
	qp_color c;
	qp_error err = {0};
	bool ok = qp_parse_color(s, &c, &err);

	if (ok)
		print_error("colour '%s' accepted\n", s);
	assert_false(ok);
	assert_non_null(strstr(err.msg, "not a colour"));
}

/* ---- escaping and template strings ---- */

static char *
url_encode(const char *s)
{
	qp_buf b;

	qp_buf_init(&b);
	qp_url_encode(s, &b);
	return qp_buf_steal(&b);
}

typedef struct pair {
	const char *in, *out;
} pair;

static const pair url_cases[] = {
	{"NYP-R1", "NYP-R1"},
	{"a-z.A_Z~09", "a-z.A_Z~09"},
	{"A B", "A%20B"},
	{"A&B=1+2", "A%26B%3D1%2B2"},
	{"x/y?z#w", "x%2Fy%3Fz%23w"},
	{"50%", "50%25"},
	{"A\xc3\xb1" "o", "A%C3%B1o"},
	{"\xff", "%FF"},
	{"<'\">", "%3C%27%22%3E"},
	{"", ""},
};

static void
test_url_encode(void **state)
{
	const pair *c = *state;
	char *got = url_encode(c->in);

	assert_string_equal(got, c->out);
	free(got);
}

static void
test_markup_escape(void **state)
{
	qp_buf b;

	(void)state;
	qp_buf_init(&b);
	qp_markup_escape("A & B <C> \"q\" 'a'", &b);
	assert_string_equal(b.data,
	    "A &amp; B &lt;C&gt; &quot;q&quot; &apos;a&apos;");
	qp_buf_free(&b);
}

/* Escaped text goes through Pango's markup parser unchanged. */
static const char *const markup_texts[] = {"A & B <C>", "O'Hare \"North\"",
    "<b>not bold</b>", "&amp;", "plain", "A\xc3\xb1" "asco"};

static void
test_markup_round_trip(void **state)
{
	const char *text = *(const char *const *)*state;
	char *plain = NULL;
	GError *gerr = NULL;
	qp_buf b;

	qp_buf_init(&b);
	qp_markup_escape(text, &b);
	assert_true(pango_parse_markup(b.data, -1, 0, NULL, &plain, NULL,
	    &gerr));
	assert_string_equal(plain, text);
	g_free(plain);
	qp_buf_free(&b);
}

static const char *const names[] = {"code", "name", "hotline"};

static char *
expand(const char *src, const char *const *values, qp_escape esc)
{
	qp_error err = {0};
	qp_tstr *t = qp_tstr_compile(src, names, 3, &err, NULL);
	qp_buf b;

	if (t == NULL)
		print_error("compile \"%s\": %s\n", src, err.msg);
	assert_non_null(t);
	qp_buf_init(&b);
	if (!qp_tstr_expand(t, values, names, esc, &b, &err))
		print_error("expand \"%s\": %s\n", src, err.msg);
	qp_tstr_free(t);
	return qp_buf_steal(&b);
}

typedef struct expandrow {
	const char *src;
	qp_escape esc;
	const char *want;
} expandrow;

static const expandrow expand_cases[] = {
	{"{{code}}", QP_ESC_NONE, "A B/1"},
	{"?loc={{code|url}}", QP_ESC_NONE, "?loc=A%20B%2F1"},
	{"{{ code | url }}", QP_ESC_NONE, "A%20B%2F1"},
	{"{{name}}", QP_ESC_NONE, "A & B <C>"},
	{"{{name}}", QP_ESC_MARKUP, "A &amp; B &lt;C&gt;"},
	/* The author's markup stays markup; only values are escaped. */
	{"<b>{{name}}</b>", QP_ESC_MARKUP, "<b>A &amp; B &lt;C&gt;</b>"},
	{"{{name|upper}}", QP_ESC_NONE, "A & B <C>"},
	{"{{name|lower}}", QP_ESC_NONE, "a & b <c>"},
	{"{{name|lower|url}}", QP_ESC_NONE, "a%20%26%20b%20%3Cc%3E"},
	{"{{name|url}}", QP_ESC_MARKUP, "A%20%26%20B%20%3CC%3E"},
	{"no variables", QP_ESC_MARKUP, "no variables"},
	{"", QP_ESC_NONE, ""},
	{"{{hotline}} / {{code}}", QP_ESC_NONE, "1-888-373-7888 / A B/1"},
};

static void
test_tstr_expand(void **state)
{
	const expandrow *c = *state;
	const char *const v[] = {"A B/1", "A & B <C>", "1-888-373-7888"};
	char *got = expand(c->src, v, c->esc);

	if (strcmp(got, c->want) != 0)
		print_error("\"%s\" -> \"%s\"\n", c->src, got);
	assert_string_equal(got, c->want);
	free(got);
}

/* upper/lower know more than ASCII. */
static void
test_tstr_upper_unicode(void **state)
{
	const char *const uni[] = {"x", "a\xc3\xb1o", "x"};
	char *got = expand("{{name|upper}}", uni, QP_ESC_NONE);

	(void)state;
	assert_string_equal(got, "A\xc3\x91O");
	free(got);
}

typedef struct tstrerr {
	const char *src;
	size_t off;
	const char *want;
} tstrerr;

static const tstrerr tstr_errors[] = {
	{"x {{nmae}}", 4, "did you mean 'name'"},
	{"{{zzzzzzzz}}", 2, "'zzzzzzzz'"},
	{"{{code|urll}}", 7, "did you mean 'url'"},
	{"{{code|frobnicate}}", 7, "'frobnicate'"},
	{"abc {{code", 4, "not closed"},
	{"{{}}", 0, "empty"},
};

static void
test_tstr_error(void **state)
{
	const tstrerr *c = *state;
	qp_error err = {0};
	size_t off = 999;
	qp_tstr *t = qp_tstr_compile(c->src, names, 3, &err, &off);

	if (t != NULL)
		print_error("\"%s\" compiled\n", c->src);
	assert_null(t);
	if (strstr(err.msg, c->want) == NULL)
		print_error("\"%s\": %s\n", c->src, err.msg);
	assert_non_null(strstr(err.msg, c->want));
	assert_int_equal(off, c->off);
}

static void
test_tstr_null_value_and_used(void **state)
{
	const char *const v[] = {"X", NULL, "1"};
	qp_error err;
	qp_tstr *t;
	qp_buf b;

	(void)state;
	/* A NULL value is an error naming the variable. */
	t = qp_tstr_compile("{{code}} {{name}}", names, 3, &err, NULL);
	assert_non_null(t);
	qp_buf_init(&b);
	assert_false(qp_tstr_expand(t, v, names, QP_ESC_NONE, &b, &err));
	assert_non_null(strstr(err.msg, "'name'"));
	qp_buf_free(&b);
	{
		bool used[3] = {false, false, false};
		qp_tstr_mark_used(t, used);
		assert_true(used[0]);
		assert_true(used[1]);
		assert_false(used[2]);
		assert_false(qp_tstr_is_constant(t));
		assert_string_equal(qp_tstr_source(t), "{{code}} {{name}}");
	}
	qp_tstr_free(t);
	t = qp_tstr_compile("plain", names, 3, &err, NULL);
	assert_non_null(t);
	assert_true(qp_tstr_is_constant(t));
	qp_tstr_free(t);
}

/* ---- templates from memory ---- */

#define BASE_HEAD \
	"qrposter: 1\n" \
	"name: unit\n" \
	"page: {size: letter}\n" \
	"variables:\n" \
	"  code:\n" \
	"  name: {default: Penn}\n" \
	"blocks:\n"

static qp_template *
parse(const char *text, qp_error *err)
{
	return qp_template_parse("mem.yaml", text, strlen(text), err);
}

static void
test_template_parse_ok(void **state)
{
	const char *text = BASE_HEAD
	    "  - type: rect\n"
	    "    box: {x: 0, y: 0, w: 100%, h: 25%}\n"
	    "    fill: \"#0B3D91\"\n"
	    "  - type: text\n"
	    "    id: label\n"
	    "    box: {x: 1in, y: 1in, w: 50%, h: 1in}\n"
	    "    text: \"{{name}}\"\n"
	    "    size: {max: 24pt, min: 12pt}\n"
	    "  - type: qr\n"
	    "    box: {x: center, y: 3in, w: 4in}\n"
	    "    data: \"https://x.org/?loc={{code|url}}\"\n"
	    "    ecc: H\n";
	qp_error err = {0};
	qp_template *t = parse(text, &err);

	(void)state;
	if (t == NULL)
		print_error("%s\n", err.msg);
	assert_non_null(t);
	assert_float_equal(t->page_w, 612, 1e-9);
	assert_float_equal(t->page_h, 792, 1e-9);
	assert_int_equal(t->nvars, 2);
	assert_int_equal(qp_template_var(t, "code"), 0);
	assert_int_equal(qp_template_var(t, "nosuch"), -1);
	assert_null(t->vars[0].def);
	assert_string_equal(t->vars[1].def, "Penn");
	assert_int_equal(t->nblocks, 3);
	assert_int_equal(t->blocks[0].kind, QP_BLOCK_RECT);
	assert_float_equal(t->blocks[0].box.w, 612, 1e-9);
	assert_float_equal(t->blocks[0].box.h, 198, 1e-9);
	assert_string_equal(t->blocks[1].id, "label");
	assert_float_equal(t->blocks[1].box.w, 306, 1e-9);
	assert_float_equal(t->blocks[1].u.text.size_max, 24, 1e-9);
	assert_float_equal(t->blocks[1].u.text.size_min, 12, 1e-9);
	assert_int_equal(t->blocks[2].kind, QP_BLOCK_QR);
	assert_int_equal(t->blocks[2].u.qr.ecc, 3);
	assert_float_equal(t->blocks[2].box.x, (612 - 288) / 2.0, 1e-9);
	assert_int_equal(t->blocks[2].line, 16);
	qp_template_free(t);
}

static void
test_template_landscape(void **state)
{
	qp_error err = {0};
	qp_template *t = parse("page: {size: letter, orientation: landscape}\n"
	    "blocks:\n  - {type: rect, box: {x: 0, y: 0, w: 10in, h: 1in}}\n",
	    &err);

	(void)state;
	if (t == NULL)
		print_error("%s\n", err.msg);
	assert_non_null(t);
	assert_float_equal(t->page_w, 792, 1e-9);
	assert_float_equal(t->page_h, 612, 1e-9);
	qp_template_free(t);
}

typedef struct tplerr {
	const char *text, *want;
} tplerr;

static const tplerr template_errors[] = {
	{BASE_HEAD "  - type: text\n    box: {x: 0, y: 0, w: 1in, h: 1in}\n"
	    "    text: hi\n    colr: red\n",
	    "mem.yaml:11:5: unknown key 'colr' in text block (did you "
	    "mean 'color'?)"},
	{BASE_HEAD "  - type: txet\n", "mem.yaml:8:11: unknown block "
	    "type 'txet'"},
	{BASE_HEAD "  - type: text\n    box: {x: 0, y: 0, w: 1in, h: 1in}\n"
	    "    text: hi\n    size: 12px\n", "mem.yaml:11:11: "},
	{BASE_HEAD "  - type: text\n    box: {x: 0, y: 0, w: abc, h: 1in}\n"
	    "    text: hi\n", "mem.yaml:9:26: "},
	{BASE_HEAD "  - type: text\n    box: {x: 0, y: 0, w: 1in, h: 1in}\n"
	    "    text: \"{{nmae}}\"\n", "mem.yaml:10:14: variable 'nmae'"},
	{BASE_HEAD "  - type: text\n    box: {x: 0, y: 0, w: 1in, h: 1in}\n"
	    "    text: hi\n    color: \"#12\"\n", "mem.yaml:11:12: "},
	{BASE_HEAD "  - type: rect\n    box: {x: 8in, y: 0, w: 1in, h: 1in}\n",
	    "mem.yaml:9:10: "},
	{BASE_HEAD "  - type: text\n    box: {x: 0, y: 0, w: 1in, h: 1in}\n"
	    "    text: hi\n    text: again\n", "appears twice"},
	{"qrposter: 2\npage: {size: letter}\nblocks: []\n",
	    "mem.yaml:1:11: "},
	{"page: {size: lettr}\nblocks: []\n", "did you mean 'letter'"},
	{"page: {size: letter}\nblocks: []\n", "blocks"},
	{"page: {size: letter}\n", "blocks"},
	{"blocks: []\n", "page"},
	{"", "empty"},
	{"page: {size: letter\n", "mem.yaml:2:1: YAML syntax error"},
	{"page: {size: letter}\nvariables: {a-b: 1}\nblocks: []\n",
	    "mem.yaml:2:13: "},
	{"page: {size: letter}\nblocks:\n  - type: qr\n"
	    "    box: {x: 0, y: 0, w: 2in}\n    data: x\n"
	    "    quiet_zone: 3\n", "mem.yaml:6:17: "},
	{"page: {size: letter}\nblocks:\n  - type: qr\n"
	    "    box: {x: 0, y: 0, w: 2in}\n    data: x\n"
	    "    scan_distance: 2\n", "mem.yaml:6:20: "},
	{"page: {size: letter}\nname: caf\xc3\n", "mem.yaml:2:10: "},
};

static void
test_template_error(void **state)
{
	const tplerr *c = *state;
	qp_error err = {0};
	qp_template *t = parse(c->text, &err);
	bool parsed = t != NULL;

	/* Refused, saying where; every message names the file. */
	if (parsed || strstr(err.msg, c->want) == NULL ||
	    strncmp(err.msg, "mem.yaml:", 9) != 0)
		print_error("want \"%s\", got \"%s\"\n", c->want,
		    parsed ? "(parsed)" : err.msg);
	qp_template_free(t);
	assert_false(parsed);
	assert_non_null(strstr(err.msg, c->want));
	assert_true(strncmp(err.msg, "mem.yaml:", 9) == 0);
}

static void
test_page_size_parse(void **state)
{
	double w = 0, h = 0;
	qp_error err;

	(void)state;
	assert_true(qp_page_size_parse("letter", &w, &h, &err));
	assert_float_equal(w, 612, 1e-9);
	assert_float_equal(h, 792, 1e-9);
	assert_true(qp_page_size_parse("A4", &w, &h, &err));
	assert_float_equal(w, 210 * 72 / 25.4, 1e-9);
	assert_true(qp_page_size_parse("11x17in", &w, &h, &err));
	assert_float_equal(w, 792, 1e-9);
	assert_float_equal(h, 1224, 1e-9);
	assert_true(qp_page_size_parse("300x200mm", &w, &h, &err));
	assert_float_equal(w, 300 * 72 / 25.4, 1e-9);
	assert_float_equal(h, 200 * 72 / 25.4, 1e-9);
	assert_true(qp_page_size_parse("car-card", &w, &h, &err));
	assert_float_equal(w, 2016, 1e-9);
	assert_float_equal(h, 792, 1e-9);
	assert_false(qp_page_size_parse("lettr", &w, &h, &err));
	assert_non_null(strstr(err.msg, "did you mean 'letter'"));
	assert_false(qp_page_size_parse("0x5in", &w, &h, &err));
	assert_true(qp_page_size_parse("11x17", &w, &h, &err));
	assert_float_equal(w, 792, 1e-9);
	assert_false(qp_page_size_parse("11x17px", &w, &h, &err));
}

/* ---- QR ---- */

static void
test_qr_encode(void **state)
{
	qp_error err = {0};
	qp_qr *q;
	char *big = malloc(3001);

	(void)state;
	assert_non_null(big);
	q = qp_qr_encode("hello", 1, &err);
	assert_non_null(q);
	assert_int_equal(q->version, 1);
	assert_int_equal(q->width, 21);
	/* Finder pattern: the top-left module is dark, the one inside the
	 * separator ring light. */
	assert_int_equal(q->dark[0], 1);
	assert_int_equal(q->dark[1 * 21 + 1], 0);
	qp_qr_free(q);

	/* Capacity at version 40 in 8-bit mode: 2953 bytes at L fit, one
	 * more does not; H holds 1273. */
	memset(big, 'a', 3000);
	big[2953] = '\0';
	q = qp_qr_encode(big, 0, &err);
	if (q == NULL)
		print_error("%s\n", err.msg);
	assert_non_null(q);
	assert_int_equal(q->version, 40);
	assert_int_equal(q->width, 177);
	qp_qr_free(q);
	big[2953] = 'a';
	big[2954] = '\0';
	err.msg[0] = '\0';
	assert_null(qp_qr_encode(big, 0, &err));
	assert_non_null(strstr(err.msg, "too long"));
	assert_non_null(strstr(err.msg, "2954"));
	big[1274] = '\0';
	assert_null(qp_qr_encode(big, 3, &err));
	assert_non_null(strstr(err.msg, "too long"));
	big[1273] = '\0';
	q = qp_qr_encode(big, 3, &err);
	assert_non_null(q);
	qp_qr_free(q);

	assert_null(qp_qr_encode("", 1, &err));
	assert_non_null(strstr(err.msg, "empty"));
	assert_null(qp_qr_encode("x", QP_QR_ECC_AUTO + 1, &err));
	assert_null(qp_qr_encode("x", -1, &err));

	assert_int_equal(qp_qr_ecc_parse("L"), 0);
	assert_int_equal(qp_qr_ecc_parse("h"), 3);
	assert_int_equal(qp_qr_ecc_parse("X"), -1);
	assert_int_equal(qp_qr_ecc_parse("LM"), -1);
	assert_int_equal(qp_qr_ecc_parse(""), -1);
	free(big);
}

/* ---- atomic output ---- */

static int
dir_setup(void **state)
{
	return (*state = th_tmpdir_new()) != NULL ? 0 : -1;
}

static int
dir_teardown(void **state)
{
	th_tmpdir_remove(*state);
	return 0;
}

static void
test_outfile(void **state)
{
	char *dir = *state, *path, *data;
	const char *const only[] = {"out.pdf", NULL};
	qp_outfile o;
	qp_error err;
	size_t len;

	path = th_path(dir, "out.pdf");
	/* Abort: nothing at all is left. */
	assert_true(qp_outfile_open(&o, path, &err));
	assert_true(qp_outfile_write(&o, "partial", 7));
	assert_false(th_exists(path));
	qp_outfile_abort(&o);
	assert_true(th_dir_only(dir, NULL, NULL, 0));
	/* Commit: the file, whole, and no temporary beside it. */
	assert_true(qp_outfile_open(&o, path, &err));
	assert_true(qp_outfile_write(&o, "complete", 8));
	assert_true(qp_outfile_commit(&o, &err));
	data = th_read_file(path, &len);
	assert_non_null(data);
	assert_int_equal(len, 8);
	assert_memory_equal(data, "complete", 8);
	free(data);
	assert_true(th_dir_only(dir, only, NULL, 0));
	free(path);
	/* A directory that does not exist. */
	path = th_path(dir, "nosuch/out.pdf");
	assert_false(qp_outfile_open(&o, path, &err));
	assert_non_null(strstr(err.msg, "does not exist"));
	free(path);
}

static void
test_utf8_and_nearest(void **state)
{
	size_t off = 99;
	static const char *const cands[] = {"color", "colour", "font"};

	(void)state;
	assert_true(qp_utf8_valid("A\xc3\xb1o \xe2\x82\xac", 8, &off));
	assert_false(qp_utf8_valid("ab\xc0\xaf", 4, &off)); /* overlong */
	assert_int_equal(off, 2);
	assert_false(qp_utf8_valid("\xed\xa0\x80", 3, &off)); /* surrogate */
	assert_int_equal(off, 0);
	assert_false(qp_utf8_valid("x\xe2\x82", 3, &off)); /* truncated */
	assert_int_equal(off, 1);
	assert_false(qp_utf8_valid("\xf4\x90\x80\x80", 4, &off)); /* >10FFFF */
	assert_int_equal(qp_edit_distance("colr", "color"), 1);
	assert_int_equal(qp_edit_distance("", "abc"), 3);
	assert_string_equal(qp_nearest("colr", cands, 3), "color");
	assert_null(qp_nearest("background", cands, 3));
}

/* ---- array growth ---- */

static void
test_grow(void **state)
{
	size_t cap = 0;
	int *v = NULL;
	pid_t pid;
	int status;

	(void)state;
	v = qp_grow(v, &cap, 1, sizeof *v);
	assert_non_null(v);
	assert_int_equal(cap, 16);
	v[15] = 15;
	v = qp_grow(v, &cap, 16, sizeof *v); /* fits: unchanged */
	assert_int_equal(cap, 16);
	v = qp_grow(v, &cap, 17, sizeof *v);
	assert_int_equal(cap, 32);
	assert_int_equal(v[15], 15);
	v = qp_grow(v, &cap, 1000, sizeof *v);
	assert_int_equal(cap, 1024);
	free(v);
	/* A size past SIZE_MAX is out of memory (abort), never a short
	 * allocation that later writes overrun. */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t c = 0;
		freopen("/dev/null", "w", stderr);
		qp_grow(NULL, &c, SIZE_MAX / 4 + 1, 8);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* ---- library messages name no command-line flag ---- */

/* The library says what is wrong and hands the number or name the fix
 * needs to the caller, which names its own flag (cli.h qp_cli_fail). */
static void
test_messages_name_no_flag(void **state)
{
	const char *text = BASE_HEAD "  - type: text\n"
	    "    box: {x: 0, y: 0, w: 1in, h: 1in}\n    text: \"{{code}}\"\n";
	qp_error err = {0};
	qp_template *t = parse(text, &err);
	qp_binding *b;
	int c, r;
	long k, n;

	(void)state;
	assert_non_null(t);
	b = qp_binding_new(t);
	/* A PNG too large: the highest DPI that fits (46x60in: 190). */
	assert_false(qp_png_size_ok(46 * 72, 60 * 72, 300, &err));
	assert_null(strstr(err.msg, "--"));
	assert_int_equal(err.hint, QP_HINT_MAX_DPI);
	assert_int_equal(err.num, 190);
	/* A bad KEY=VALUE. */
	assert_false(qp_binding_set_err(b, "code", &err));
	assert_null(strstr(err.msg, "--"));
	assert_int_equal(err.hint, QP_HINT_SET);
	assert_false(qp_binding_set_err(b, "nosuch=1", &err));
	assert_null(strstr(err.msg, "--"));
	assert_int_equal(err.hint, QP_HINT_SET);
	assert_string_equal(err.name, "nosuch");
	/* Option values parsed below the CLI. */
	assert_false(qp_batch_parse_impose("2by2", &c, &r, &err));
	assert_null(strstr(err.msg, "--"));
	assert_false(qp_batch_parse_shard("9/3", &k, &n, &err));
	assert_null(strstr(err.msg, "--"));
	/* A message without a hint carries none from before. */
	qp_fail(&err, "plain");
	assert_int_equal(err.hint, QP_HINT_NONE);
	qp_binding_free(b);
	qp_template_free(t);
}

/* ---- frees accept NULL ---- */

static void
test_free_null(void **state)
{
	qp_buf b;

	(void)state;
	qp_tstr_free(NULL);
	qp_template_free(NULL);
	qp_qr_free(NULL);
	qp_page_free(NULL);
	qp_layout_ctx_free(NULL);
	qp_pdf_doc_abort(NULL);
	qp_buf_init(&b);
	qp_buf_free(&b);
	qp_buf_free(&b);
	assert_null(b.data);
}

#define NELEM(a) (sizeof (a) / sizeof (a)[0])
#define ADD(fn) th_suite_add(&s, fn, NULL, NULL, NULL, "%s", #fn)
#define ROWS(fn, table, fmt, ...) \
	for (size_t i = 0; i < NELEM(table); i++) \
		th_suite_add(&s, fn, NULL, NULL, &table[i], "%s: " fmt, #fn, \
		    __VA_ARGS__)
#define ROWS_FR(fn, table, fmt, ...) \
	for (size_t i = 0; i < NELEM(table); i++) \
		th_suite_add(&s, fn, NULL, c_locale, &table[i], "%s: " fmt, \
		    #fn, __VA_ARGS__)

int
main(void)
{
	th_suite s = {0};

	ROWS(test_number, numbers, "'%s'", numbers[i].s);
	ROWS_FR(test_number_fr, numbers, "'%s'", numbers[i].s);
	ADD(test_parse_int);
	ROWS(test_length, lengths, "'%s'%s", lengths[i].s,
	    lengths[i].pct ? " (% allowed)" : "");
	ROWS_FR(test_length_fr, lengths, "'%s'%s", lengths[i].s,
	    lengths[i].pct ? " (% allowed)" : "");
	ADD(test_parse_points);
	ROWS(test_distance, distances, "'%s'", distances[i].s);
	ROWS_FR(test_distance_fr, distances, "'%s'", distances[i].s);
	ADD(test_parse_color);
	ROWS(test_bad_color, bad_colors, "'%s'", bad_colors[i]);
	ROWS(test_url_encode, url_cases, "'%s'", url_cases[i].in);
	ADD(test_markup_escape);
	ROWS(test_markup_round_trip, markup_texts, "'%s'", markup_texts[i]);
	ROWS(test_tstr_expand, expand_cases, "'%s'%s", expand_cases[i].src,
	    expand_cases[i].esc == QP_ESC_MARKUP ? " (markup)" : "");
	ADD(test_tstr_upper_unicode);
	ROWS(test_tstr_error, tstr_errors, "'%s'", tstr_errors[i].src);
	ADD(test_tstr_null_value_and_used);
	ADD(test_template_parse_ok);
	ADD(test_template_landscape);
	ROWS(test_template_error, template_errors, "#%zu %s", i + 1,
	    template_errors[i].want);
	ADD(test_page_size_parse);
	ADD(test_qr_encode);
	th_suite_add(&s, test_outfile, dir_setup, dir_teardown, NULL, "%s",
	    "test_outfile");
	ADD(test_utf8_and_nearest);
	ADD(test_grow);
	ADD(test_messages_name_no_flag);
	ADD(test_free_null);
	return th_suite_run(&s, "units", NULL, NULL);
}
