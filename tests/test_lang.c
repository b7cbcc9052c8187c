/*
 * test_lang.c - languages and preflight (issue 4).
 *
 * Every bundled multilingual template is rendered in each language it
 * carries and read back with pdftotext; glyph coverage is asserted on
 * the Pango layouts themselves; "qrposter check" is run on posters made
 * to fail (a code too small for 10 m, pale grey text, a 10pt line under
 * a 16pt minimum, an emoji) and on every bundled template, which must
 * pass clean. Self-contained (own static helpers), run from the top of
 * the source tree with QRPOSTER naming the binary. Tables run one case
 * per row (language, template, fault), named after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind.h"
#include "check.h"
#include "datadir.h"
#include "fonts.h"
#include "helpers.h"
#include "layout.h"
#include "qr.h"
#include "suite.h"
#include "template.h"

static char lt_dir[] = "/tmp/qp-test-lang-XXXXXX";

static const char *
lt_bin(void)
{
	const char *b = getenv("QRPOSTER");
	return b && *b ? b : "./qrposter";
}

/* Run a shell command; its stdout and stderr together in *out. */
static int
lt_run(char **out, const char *fmt, ...)
{
	char cmd[4096];
	qp_buf b;
	FILE *fp;
	char chunk[4096];
	size_t n;
	int st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	qp_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		qp_buf_add(&b, chunk, n);
	st = pclose(fp);
	qp_buf_add(&b, "", 0);
	if (out)
		*out = qp_buf_steal(&b);
	else
		qp_buf_free(&b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Render a bundled template with extra -s options; return pdftotext. */
static char *
lt_render_text(const char *tmpl, const char *sets)
{
	char *out = NULL, *text = NULL;
	int rc;

	rc = lt_run(&out, "%s render -t %s -s code=NYP-R1 -s 'name=Penn "
	    "Station' %s -o %s/%s.pdf", lt_bin(), tmpl, sets, lt_dir, tmpl);
	if (rc != 0)
		print_error("render %s %s: %s\n", tmpl, sets, out);
	assert_int_equal(rc, 0);
	free(out);
	{
		char *pdf = qp_xasprintf("%s/%s.pdf", lt_dir, tmpl);
		th_assert_output_valid(pdf);
		free(pdf);
	}
	rc = lt_run(&text, "pdftotext -enc UTF-8 %s/%s.pdf -", lt_dir, tmpl);
	assert_int_equal(rc, 0);
	/* One space for every run of white space: lines wrap. */
	{
		char *w = text;
		for (char *r = text; *r; r++) {
			if (*r == ' ' || *r == '\n' || *r == '\t' || *r == '\f') {
				if (w > text && w[-1] == ' ')
					continue;
				*w++ = ' ';
			} else
				*w++ = *r;
		}
		*w = '\0';
	}
	return text;
}

static void
lt_assert_has(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		print_error("expected to find \"%s\" in:\n%s\n", needle, hay);
		fail();
	}
}

static char *
lt_write(const char *name, const char *text)
{
	char *path = qp_xasprintf("%s/%s", lt_dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static int
setup(void **state)
{
	qp_error err;

	(void)state;
	/* The binary under test lives in a build directory: point it (and
	 * the library) at this tree's templates/ and fonts/. */
	if (getenv("QRPOSTER_DATADIR") == NULL) {
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd) == NULL)
			return -1;
		setenv("QRPOSTER_DATADIR", cwd, 1);
	}
	if (mkdtemp(lt_dir) == NULL)
		return -1;
	return qp_fonts_init(&err) ? 0 : -1;
}

static int
teardown(void **state)
{
	char *out = NULL;

	(void)state;
	lt_run(&out, "rm -rf %s", lt_dir);
	free(out);
	return 0;
}

/* --- rendering each language ------------------------------------ */

static void
bilingual_letter_has_both(void **state)
{
	char *t = lt_render_text("bilingual-letter", "");

	(void)state;
	lt_assert_has(t, "Human Trafficking");
	lt_assert_has(t, "Trata de personas");
	lt_assert_has(t, "Línea Nacional Contra la Trata de Personas");
	lt_assert_has(t, "EN CASO DE EMERGENCIA, LLAME AL 911");
	lt_assert_has(t, "1-888-373-7888");
	free(t);
}

/*
 * Words pdftotext gives back exactly. For Arabic, words without the
 * lam-alef ligature: poppler reorders the ligature's two letters (the
 * PDF maps it to both; the extraction's visual-to-logical pass swaps
 * them), so "الاتجار" is not a fair probe but "بالبشر" is.
 */
typedef struct langrow {
	const char *lang, *probe1, *probe2;
} langrow;

static const langrow lang2[] = {
	{"ar", "بالبشر", "مساعدة"},
	{"zh-Hant", "人口走私", "獲得幫助"},
	{"vi", "Buôn Người", "NHẬN SỰ GIÚP ĐỠ"},
	{"fil", "Pambansang Hotline ng Human Trafficking", "HUMINGI NG TULONG"},
	{"ko", "인신매매", "통화는 익명"},
};

static void
multilingual_tabloid_each_lang2(void **state)
{
	const langrow *l = *state;
	char *sets = qp_xasprintf("-s lang2=%s", l->lang);
	char *t = lt_render_text("multilingual-tabloid", sets);

	lt_assert_has(t, "Human Trafficking");
	lt_assert_has(t, "Trata de personas");
	lt_assert_has(t, l->probe1);
	lt_assert_has(t, l->probe2);
	free(t);
	free(sets);
}

static void
notice_ca_each_lang3(void **state)
{
	const langrow *l = *state;
	char *sets = qp_xasprintf("-s lang3=%s", l->lang);
	char *t = lt_render_text("notice-ca", sets);

	lt_assert_has(t, "California Coalition to Abolish Slavery");
	lt_assert_has(t, "Victims of slavery and human trafficking are "
	    "protected under United States and California law.");
	lt_assert_has(t, "SOLICITAR AYUDA");
	lt_assert_has(t, l->probe2);
	free(t);
	free(sets);
}

static void
notice_mi_en_es(void **state)
{
	char *t = lt_render_text("notice-mi", "");

	(void)state;
	lt_assert_has(t, "The victims of human trafficking are protected "
	    "under U.S. laws and the laws of this state.");
	lt_assert_has(t, "DENUNCIAR LA TRATA DE PERSONAS");
	free(t);
}

/* --- layouts: glyphs, language tags, direction --------------------- */

static qp_template *
lt_load(const char *name)
{
	qp_error err;
	char *path = qp_template_find(name, &err);
	qp_template *t;

	assert_non_null(path);
	t = qp_template_load(path, &err);
	if (t == NULL)
		print_error("%s\n", err.msg);
	assert_non_null(t);
	free(path);
	return t;
}

static qp_page *
lt_layout(qp_layout_ctx *ctx, const qp_template *t, const char *k,
    const char *v)
{
	const char *sets[3] = {"code=NYP-R1", "name=Penn Station", NULL};
	qp_binding *b = qp_binding_new(t);
	qp_values values;
	qp_diag_list dl;
	char *kv = k ? qp_xasprintf("%s=%s", k, v) : NULL;
	qp_page *page;
	qp_error err;

	sets[2] = kv;
	qp_diag_list_init(&dl);
	qp_values_init(&values, t);
	for (size_t i = 0; i < (kv ? 3u : 2u); i++)
		assert_true(qp_binding_set(b, sets[i], &dl));
	assert_true(qp_binding_bind(b, NULL, &values, &dl));
	page = qp_layout_page(ctx, t, values.v, &err);
	if (page == NULL)
		print_error("%s\n", err.msg);
	assert_non_null(page);
	qp_values_free(&values);
	qp_binding_free(b);
	qp_diag_list_clear(&dl);
	free(kv);
	return page;
}

static const qp_item *
lt_item(const qp_page *page, const char *id)
{
	for (size_t i = 0; i < page->nitems; i++)
		if (page->items[i].kind == QP_ITEM_TEXT &&
		    strcmp(page->items[i].block->id, id) == 0)
			return &page->items[i];
	fail_msg("no text item '%s'", id);
	return NULL;
}

static const char *
lt_item_lang(const qp_item *it)
{
	PangoAttrList *al = pango_layout_get_attributes(it->layout);
	PangoAttrIterator *ai;
	const char *lang = NULL;

	assert_non_null(al);
	ai = pango_attr_list_get_iterator(al);
	do {
		PangoAttribute *a = pango_attr_iterator_get(ai,
		    PANGO_ATTR_LANGUAGE);
		if (a) {
			lang = pango_language_to_string(
			    ((PangoAttrLanguage *)a)->value);
			break;
		}
	} while (pango_attr_iterator_next(ai));
	pango_attr_iterator_destroy(ai);
	return lang;
}

/* The multilingual templates and the variable that picks a language;
 * main() makes one case per template and choice of that variable. */
static const struct {
	const char *tmpl, *var;
} glyph_templates[] = {
	{"bilingual-letter", NULL},
	{"multilingual-tabloid", "lang2"},
	{"notice-ca", "lang3"},
	{"notice-mi", NULL},
};

typedef struct glyphrow {
	const char *tmpl, *var;
	char *choice; /* NULL: the template's defaults */
} glyphrow;

static void
no_unknown_glyphs(void **state)
{
	const glyphrow *g = *state;
	qp_layout_ctx *ctx = qp_layout_ctx_new();
	qp_template *t = lt_load(g->tmpl);
	qp_page *page = lt_layout(ctx, t, g->choice ? g->var : NULL,
	    g->choice);

	for (size_t i = 0; i < page->nitems; i++)
		if (page->items[i].kind == QP_ITEM_TEXT)
			assert_int_equal(pango_layout_get_unknown_glyphs_count(
			    page->items[i].layout), 0);
	qp_page_free(page);
	qp_template_free(t);
	qp_layout_ctx_free(ctx);
}

static void
arabic_is_tagged_right_to_left_and_right_aligned(void **state)
{
	qp_layout_ctx *ctx = qp_layout_ctx_new();
	qp_template *t = lt_load("multilingual-tabloid");
	qp_page *page = lt_layout(ctx, t, "lang2", "ar");
	const qp_item *ar = lt_item(page, "column-lang2");
	const qp_item *es = lt_item(page, "column-es");
	PangoLayoutLine *line;

	(void)state;
	assert_string_equal(lt_item_lang(ar), "ar");
	assert_string_equal(lt_item_lang(es), "es");
	line = pango_layout_get_line_readonly(ar->layout, 0);
	assert_int_equal(line->resolved_dir, PANGO_DIRECTION_RTL);
	/* Start alignment of an RTL block is its right edge: every line
	 * ends there, and the short last one starts well inside. */
	{
		PangoLayoutIter *li = pango_layout_get_iter(ar->layout);
		PangoRectangle lg;
		double last_x = 0;
		do {
			pango_layout_iter_get_line_extents(li, NULL, &lg);
			assert_true(fabs((lg.x + lg.width) /
			    (double)PANGO_SCALE - ar->w) < 1.0);
			last_x = lg.x / (double)PANGO_SCALE;
		} while (pango_layout_iter_next_line(li));
		pango_layout_iter_free(li);
		assert_true(last_x > 20.0);
	}
	/* "911" inside the Arabic emergency line stays "911", not "119". */
	{
		const qp_item *em = lt_item(page, "emergency-lang2");
		assert_non_null(strstr(pango_layout_get_text(em->layout),
		    "911"));
		assert_int_equal(pango_layout_get_line_readonly(em->layout,
		    0)->resolved_dir, PANGO_DIRECTION_RTL);
	}
	qp_page_free(page);
	qp_template_free(t);
	qp_layout_ctx_free(ctx);
}

static void
chinese_uses_traditional_cjk_font(void **state)
{
	qp_layout_ctx *ctx = qp_layout_ctx_new();
	qp_template *t = lt_load("multilingual-tabloid");
	qp_page *page = lt_layout(ctx, t, "lang2", "zh-Hant");
	const qp_item *zh = lt_item(page, "title-lang2");
	PangoLayoutIter *it = pango_layout_get_iter(zh->layout);
	PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
	PangoFontDescription *fd = pango_font_describe(
	    run->item->analysis.font);

	(void)state;
	assert_string_equal(lt_item_lang(zh), "zh-hant");
	assert_string_equal(pango_font_description_get_family(fd),
	    "Noto Sans CJK TC");
	pango_font_description_free(fd);
	pango_layout_iter_free(it);
	qp_page_free(page);
	qp_template_free(t);
	qp_layout_ctx_free(ctx);
}

/* --- missing glyphs --------------------------------------------------- */

static const char *const bad_chars[][2] = {
	{"\xF0\x9F\x98\x80", "U+1F600"},
	{"\xEE\x80\x80", "U+E000"},
};

static void
emoji_and_private_use_are_errors(void **state)
{
	const char *const *c = *state;
	char *out, *pdf;
	int rc = lt_run(&out, "%s render -t bilingual-letter -s code=X1 -s "
	    "'name=Penn %s' -o %s/e.pdf", lt_bin(), c[0], lt_dir);

	assert_int_equal(rc, 1);
	lt_assert_has(out, "block 'footer'");
	lt_assert_has(out, "[glyph-missing]");
	lt_assert_has(out, c[1]);
	free(out);
	pdf = qp_xasprintf("%s/e.pdf", lt_dir);
	assert_int_not_equal(access(pdf, F_OK), 0);
	free(pdf);
}

/* In a table the row is named too. */
static void
emoji_in_a_row_names_the_row(void **state)
{
	char *csv = lt_write("rows.csv", "code,name\nA-1,Penn\n"
	    "A-2,\"Penn \xF0\x9F\x98\x80\"\n");
	char *out;
	int rc = lt_run(&out, "%s check -t bilingual-letter -d %s", lt_bin(),
	    csv);

	(void)state;
	assert_int_equal(rc, 1);
	lt_assert_has(out, "rows.csv:3: row 2");
	lt_assert_has(out, "U+1F600");
	lt_assert_has(out, "[glyph-missing]");
	assert_null(strstr(out, "row 1:"));
	free(out);
	free(csv);
}

/* --- check --------------------------------------------------------- */

#define LT_HEAD "qrposter: 1\npage: {size: letter, margin: 0.5in}\n" \
    "variables: {code: X1}\n"

static void
check_qr_too_small_for_10m(void **state)
{
	char *p = lt_write("far.yaml", LT_HEAD "blocks:\n"
	    "  - {type: qr, id: code, box: {x: 1in, y: 1in, w: 3in}, "
	    "data: \"https://example.org/?l={{code}}\", scan_distance: 10m}\n");
	char *out;
	int rc = lt_run(&out, "%s check -t %s", lt_bin(), p);

	(void)state;
	assert_int_equal(rc, 1);
	lt_assert_has(out, "block 'code'");
	lt_assert_has(out, "[qr-scan-distance]");
	lt_assert_has(out, "10m");
	lt_assert_has(out, "100.0cm");
	free(out);
	free(p);
}

static void
check_pale_grey_text(void **state)
{
	char *p = lt_write("pale.yaml", LT_HEAD "blocks:\n"
	    "  - {type: text, id: pale, box: {x: 1in, y: 1in, w: 6in, h: 1in}, "
	    "text: \"Call {{code}}\", size: 14pt, color: \"#DDDDDD\"}\n");
	char *out;
	int rc = lt_run(&out, "%s check -t %s", lt_bin(), p);

	(void)state;
	assert_int_equal(rc, 1);
	/* The ratio, the colours and the threshold, computed by hand. */
	lt_assert_has(out, "block 'pale'");
	lt_assert_has(out, "[text-contrast]");
	lt_assert_has(out, "1.36:1");
	lt_assert_has(out, "#DDDDDD");
	lt_assert_has(out, "4.5:1");
	free(out);
	free(p);
}

static void
check_text_below_min_text_size(void **state)
{
	char *p = lt_write("small.yaml", LT_HEAD "min_text_size: 16pt\n"
	    "blocks:\n"
	    "  - {type: text, id: big, box: {x: 1in, y: 1in, w: 6in, h: 1in}, "
	    "text: \"Call now\", size: 24pt}\n"
	    "  - {type: text, id: fine-print, box: {x: 1in, y: 3in, w: 6in, "
	    "h: 1in}, text: \"Location {{code}}\", size: 10pt}\n");
	char *out;
	int rc = lt_run(&out, "%s check -t %s", lt_bin(), p);

	(void)state;
	assert_int_equal(rc, 1);
	lt_assert_has(out, "block 'fine-print'");
	lt_assert_has(out, "[text-too-small]");
	lt_assert_has(out, "10.0pt");
	assert_null(strstr(out, "block 'big'"));
	free(out);
	/* render refuses it too, and writes nothing */
	rc = lt_run(&out, "%s render -t %s -o %s/small.pdf", lt_bin(), p,
	    lt_dir);
	assert_int_equal(rc, 1);
	lt_assert_has(out, "[text-too-small]");
	free(out);
	free(p);
}

static void
check_quiet_zone_inverted_and_overlap(void **state)
{
	char *p = lt_write("crowd.yaml", LT_HEAD "blocks:\n"
	    "  - {type: qr, id: code, box: {x: 1in, y: 1in, w: 4in}, "
	    "data: \"https://example.org/\", color: \"#FFFFFF\", "
	    "background: \"#000000\"}\n"
	    "  - {type: text, id: label, box: {x: 1in, y: 4.8in, w: 6in, "
	    "h: 1in}, text: \"Scan me\", size: 30pt}\n"
	    "  - {type: text, id: other, box: {x: 1.2in, y: 4.9in, w: 6in, "
	    "h: 1in}, text: \"Overlap\", size: 30pt}\n");
	char *out;
	int rc = lt_run(&out, "%s check -t %s", lt_bin(), p);

	(void)state;
	assert_int_equal(rc, 1);
	lt_assert_has(out, "block 'code'");
	lt_assert_has(out, "[qr-inverted]");
	lt_assert_has(out, "block 'label'");
	lt_assert_has(out, "[qr-quiet-zone]");
	lt_assert_has(out, "4-module");
	lt_assert_has(out, "block 'other'");
	lt_assert_has(out, "[text-overlap]");
	free(out);
	free(p);
}

/*
 * Every template in templates/ passes check: as given; printed with a
 * print shop's 1/8 in bleed (every text inside the safe area); and with
 * an agency's short reporting URL and code (the smallest QR versions,
 * whose codes are narrowest for the scan distance). main() makes one
 * case per template and variant.
 */
static const char *const check_variants[] = {"",
    "--bleed 0.125in",
    "-s report_url=https://ht.example/ -s code=A1"};

typedef struct checkrow {
	char *file; /* templates/NAME.yaml */
	const char *extra;
} checkrow;

static void
check_passes_bundled_template(void **state)
{
	const checkrow *c = *state;
	char *out;
	int rc = lt_run(&out, "%s check -t templates/%s -s code=NYP-R1 -s "
	    "'name=New York Penn Station, restroom 1' %s", lt_bin(), c->file,
	    c->extra);

	if (rc != 0 || strstr(out, " 0 errors, 0 warnings") == NULL)
		print_error("%s %s:\n%s\n", c->file, c->extra, out);
	assert_int_equal(rc, 0);
	lt_assert_has(out, " 0 errors, 0 warnings");
	free(out);
}

/* --- templates: language errors name file:line:col ---------------- */

typedef struct langerr {
	const char *yaml, *msg;
} langerr;

static const langerr lang_errors[] = {
	{LT_HEAD "languages: [en, es]\nblocks:\n"
	    "  - {type: text, box: {x: 1in, y: 1in, w: 2in, h: 1in}, "
	    "text: hi, lang: fr}\n",
	    ":6:73: lang: 'fr' is not one of the template's languages"},
	{LT_HEAD "languages: [en, es]\nstrings: {en: {hi: Hi}, de: "
	    "{hi: Hallo}}\nblocks: []\n",
	    ":5:25: strings for 'de', which is not in languages"},
	{LT_HEAD "strings: {en: {code: Hi}}\nblocks: []\n",
	    ":4:16: 'code' is both a variable and a string"},
	{LT_HEAD "strings: {en: {hi: \"Hi {{nme}}\"}}\nblocks: []\n",
	    ":4:26: variable 'nme' is used but not defined"},
};

static void
template_language_errors(void **state)
{
	const langerr *c = *state;
	qp_error err;
	qp_template *t = qp_template_parse("t.yaml", c->yaml, strlen(c->yaml),
	    &err);

	assert_null(t);
	lt_assert_has(err.msg, c->msg);
}

static void
strings_follow_lang_and_missing_ones_are_errors(void **state)
{
	static const char yaml[] = LT_HEAD
	    "languages: [en, es, vi]\n"
	    "strings:\n"
	    "  en: {hi: \"Hello {{code}}\"}\n"
	    "  es: {hi: \"Hola {{code}}\"}\n"
	    "blocks:\n"
	    "  - {type: text, id: greet, box: {x: 1in, y: 1in, w: 5in, "
	    "h: 1in}, text: \"<b>{{hi}}</b>\"}\n";
	qp_error err;
	qp_template *t = qp_template_parse("t.yaml", yaml, sizeof yaml - 1,
	    &err);
	qp_layout_ctx *ctx = qp_layout_ctx_new();
	const char **values;
	qp_page *page;

	(void)state;
	assert_non_null(t);
	assert_true(t->lang_var >= 0);
	values = qp_xcalloc(t->nvars, sizeof *values);
	for (size_t i = 0; i < t->nvars; i++)
		values[i] = t->vars[i].def;
	assert_string_equal(values[t->lang_var], "en");
	values[t->lang_var] = "es";
	page = qp_layout_page(ctx, t, values, &err);
	assert_non_null(page);
	assert_string_equal(pango_layout_get_text(page->items[0].layout),
	    "Hola X1");
	assert_string_equal(lt_item_lang(&page->items[0]), "es");
	qp_page_free(page);
	values[t->lang_var] = "vi";
	assert_null(qp_layout_page(ctx, t, values, &err));
	lt_assert_has(err.msg, "block 'greet'");
	lt_assert_has(err.msg, "[text-no-translation]");
	values[t->lang_var] = "fr";
	assert_null(qp_layout_page(ctx, t, values, &err));
	lt_assert_has(err.msg, "[value-choice]");
	lt_assert_has(err.msg, "en, es, vi");
	free(values);
	qp_layout_ctx_free(ctx);
	qp_template_free(t);
}

/* --- QR payloads --------------------------------------------------- */

static void
non_ascii_payload_gets_eci_and_decodes(void **state)
{
	const char *sms = "SMSTO:233733:Ayuda, señal 人口走私";
	qp_error err;
	qp_qr *q = qp_qr_encode(sms, 1, &err);
	char *out;
	int rc;

	(void)state;
	assert_non_null(q);
	assert_true(q->eci);
	qp_qr_free(q);
	q = qp_qr_encode("https://example.org/?l=A", 1, &err);
	assert_false(q->eci);
	qp_qr_free(q);
	/* A phone's decoder (zbar) reads the UTF-8 back exactly. */
	rc = lt_run(&out, "%s qr '%s' -o %s/sms.png && zbarimg --raw -q "
	    "%s/sms.png", lt_bin(), sms, lt_dir, lt_dir);
	assert_int_equal(rc, 0);
	lt_assert_has(out, sms);
	free(out);
	{
		char *png = qp_xasprintf("%s/sms.png", lt_dir);
		th_assert_output_valid(png);
		free(png);
	}
}

static void
urls_are_percent_encoded_not_eci(void **state)
{
	qp_error err;
	char *u = qp_qr_url_normalize("https://example.org/r?loc=São Paulo",
	    &err);

	(void)state;
	assert_string_equal(u, "https://example.org/r?loc=S%C3%A3o%20Paulo");
	free(u);
	assert_null(qp_qr_url_normalize("https://exämple.org/", &err));
	lt_assert_has(err.msg, "punycode");
}

#define NELEM(a) (sizeof (a) / sizeof (a)[0])
#define ADD(fn) th_suite_add(&s, fn, NULL, NULL, NULL, "%s", #fn)

/* One glyph case per language choice of each multilingual template. */
static size_t
glyph_rows(glyphrow *rows, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < NELEM(glyph_templates) && n < max; k++) {
		qp_error err;
		char *path = qp_template_find(glyph_templates[k].tmpl, &err);
		qp_template *t = path ? qp_template_load(path, &err) : NULL;
		long vi = t && glyph_templates[k].var ?
		    qp_template_var(t, glyph_templates[k].var) : -1;

		/* A template that does not load, or lacks its variable,
		 * still gets its case: it fails there, saying why. */
		if (vi < 0) {
			rows[n++] = (glyphrow){glyph_templates[k].tmpl,
			    glyph_templates[k].var, NULL};
		} else {
			for (size_t c = 0; c < t->vars[vi].nchoices &&
			    n < max; c++)
				rows[n++] = (glyphrow){glyph_templates[k].tmpl,
				    glyph_templates[k].var,
				    qp_xstrdup(t->vars[vi].choices[c])};
		}
		qp_template_free(t);
		free(path);
	}
	return n;
}

static int
by_file(const void *a, const void *b)
{
	const checkrow *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : strcmp(x->extra, y->extra);
}

/* One check case per templates/ *.yaml and variant, in name order. */
static size_t
check_rows(checkrow *rows, size_t max)
{
	DIR *d = opendir("templates");
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		for (size_t k = 0; k < NELEM(check_variants) && n < max; k++)
			rows[n++] = (checkrow){qp_xstrdup(e->d_name),
			    check_variants[k]};
	}
	if (d)
		closedir(d);
	qsort(rows, n, sizeof *rows, by_file);
	return n;
}

int
main(void)
{
	static glyphrow glyphs[64];
	static checkrow checks[64];
	size_t nglyphs, nchecks;
	th_suite s = {0};
	int rc;

	if (getenv("QRPOSTER_DATADIR") == NULL) {
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd) == NULL)
			return 1;
		setenv("QRPOSTER_DATADIR", cwd, 1);
	}
	nglyphs = glyph_rows(glyphs, NELEM(glyphs));
	nchecks = check_rows(checks, NELEM(checks));
	ADD(bilingual_letter_has_both);
	for (size_t i = 0; i < NELEM(lang2); i++)
		th_suite_add(&s, multilingual_tabloid_each_lang2, NULL, NULL,
		    &lang2[i], "multilingual_tabloid lang2=%s", lang2[i].lang);
	for (size_t i = 1; i < NELEM(lang2); i++)
		th_suite_add(&s, notice_ca_each_lang3, NULL, NULL, &lang2[i],
		    "notice_ca lang3=%s", lang2[i].lang);
	ADD(notice_mi_en_es);
	for (size_t i = 0; i < nglyphs; i++)
		th_suite_add(&s, no_unknown_glyphs, NULL, NULL, &glyphs[i],
		    "no_unknown_glyphs %s %s=%s", glyphs[i].tmpl,
		    glyphs[i].var ? glyphs[i].var : "lang",
		    glyphs[i].choice ? glyphs[i].choice : "(default)");
	ADD(arabic_is_tagged_right_to_left_and_right_aligned);
	ADD(chinese_uses_traditional_cjk_font);
	for (size_t i = 0; i < NELEM(bad_chars); i++)
		th_suite_add(&s, emoji_and_private_use_are_errors, NULL, NULL,
		    bad_chars[i], "no font covers %s", bad_chars[i][1]);
	ADD(emoji_in_a_row_names_the_row);
	ADD(check_qr_too_small_for_10m);
	ADD(check_pale_grey_text);
	ADD(check_text_below_min_text_size);
	ADD(check_quiet_zone_inverted_and_overlap);
	for (size_t i = 0; i < nchecks; i++)
		th_suite_add(&s, check_passes_bundled_template, NULL, NULL,
		    &checks[i], "check passes %s %s", checks[i].file,
		    checks[i].extra);
	for (size_t i = 0; i < NELEM(lang_errors); i++)
		th_suite_add(&s, template_language_errors, NULL, NULL,
		    &lang_errors[i], "template_language_errors: %s",
		    lang_errors[i].msg);
	ADD(strings_follow_lang_and_missing_ones_are_errors);
	ADD(non_ascii_payload_gets_eci_and_decodes);
	ADD(urls_are_percent_encoded_not_eci);
	rc = th_suite_run(&s, "lang", setup, teardown);
	for (size_t i = 0; i < nglyphs; i++)
		free(glyphs[i].choice);
	for (size_t i = 0; i < nchecks; i++)
		free(checks[i].file);
	return rc;
}
