/*
 * test_scripts.c - every script in every block, and language tags
 * matched as BCP 47 (issue 12).
 *
 * A location name in each of nine scripts goes through
 * multilingual-tabloid on an English and on a Spanish page (the footer
 * that prints it follows the page's language): the poster must be made,
 * its QR code must decode to the location's link, pdftotext must read the
 * name back, and the fonts embedded must be the bundled (or Debian Noto)
 * family for that script and no other. A language value is matched to a
 * template's languages as a BCP 47 tag, and one that matches nothing
 * lists the choices (a bad -s value: exit 2). One case per row.
 */
#include "suite.h"

#include "helpers.h"
#include "template.h"

typedef struct script_row {
	const char *script;
	const char *name;
	/* The font file stem that must be embedded for this script ("" when
	 * Noto Sans itself covers it), matched as a substring of pdffonts'
	 * names, e.g. NotoSansArabic-Regular. */
	const char *font;
} script_row;

/*
 * Names chosen so pdftotext can read them back: no Arabic lam-alef
 * ("لا"), which it breaks into its presentation-form ligature. The
 * expected font is the one script's bundled family (Noto Sans Arabic,
 * Hebrew, Devanagari in fonts/; Noto Sans CJK from fonts-noto-cjk, which
 * covers Hangul too).
 */
static const script_row scripts[] = {
	{"Latin with diacritics", "Zürich Hauptbahnhof, Łódź Fabryczna", ""},
	{"Arabic", "محطة القطار المركزية", "NotoSansArabic"},
	{"Hebrew", "תחנה מרכזית חיפה", "NotoSansHebrew"},
	{"Devanagari", "नई दिल्ली रेलवे स्टेशन", "NotoSansDevanagari"},
	{"CJK", "東京駅 丸の内", "NotoSansCJK"},
	{"Hangul", "서울역 광장", "NotoSansCJK"},
	{"Cyrillic", "Москва Курская", ""},
	{"Greek", "Σταθμός Αθηνών", ""},
	{"Vietnamese", "Ga Hà Nội", ""},
	{"Latin and Arabic", "Estación Central الرياض", "NotoSansArabic"},
};

typedef struct script_case {
	const script_row *row;
	const char *lang; /* the page's language */
} script_case;

/* s without white space and without bidi marks (pdftotext adds U+202B
 * and U+202C around right-to-left runs and spaces inside some Indic
 * clusters); malloc'd. */
static char *
squeeze(const char *s)
{
	char *o = malloc(strlen(s) + 1), *w = o;

	assert_non_null(o);
	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		if (*u == ' ' || *u == '\n' || *u == '\t' || *u == '\f' ||
		    *u == '\r') {
			s++;
			continue;
		}
		/* U+200E U+200F U+202A..U+202E U+2066..U+2069 */
		if (u[0] == 0xe2 && ((u[1] == 0x80 && (u[2] == 0x8e ||
		    u[2] == 0x8f || (u[2] >= 0xaa && u[2] <= 0xae))) ||
		    (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9))) {
			s += 3;
			continue;
		}
		*w++ = *s++;
	}
	*w = '\0';
	return o;
}

/* The fonts pdffonts lists, one name a line, subset prefixes kept. */
static char *
pdffonts(const char *pdf)
{
	const char *argv[] = {"pdffonts", pdf, NULL};
	th_run r;
	char *out = NULL;

	if (th_run_argv(&r, argv, NULL) == 0) {
		out = r.out;
		r.out = NULL;
	}
	th_run_free(&r);
	return out;
}

static void
test_script(void **state)
{
	const script_case *c = *state;
	char *dir = th_tmpdir_new(), *pdf = th_path(dir, "p.pdf");
	char *nameset = NULL, *langset = NULL, *text, *flat, *want, *fonts;
	char **codes;
	th_run r;

	nameset = qp_xasprintf("name=%s", c->row->name);
	langset = qp_xasprintf("lang=%s", c->lang);
	th_qrposter(&r, "render", "-t", "multilingual-tabloid", "-s",
	    "code=T-1", "-s", nameset, "-s", langset, "-s", "lang2=vi", "-o",
	    pdf, NULL);
	if (r.status != 0)
		fail_msg("render failed (%d): %s", r.status, r.err);
	th_run_free(&r);

	/* The code carries the location, as the README documents. */
	codes = th_pdf_decode_qr(pdf, 150);
	assert_non_null(codes);
	assert_int_equal(th_strv_len(codes), 1);
	assert_string_equal(codes[0],
	    "https://humantraffickinghotline.org/?loc=T-1");
	th_strv_free(codes);

	/* Every word of the name reads back, and the code. pdftotext puts
	 * a right-to-left run and its neighbours in its own order, so the
	 * words are looked for one by one. */
	text = th_pdftotext(pdf);
	assert_non_null(text);
	flat = squeeze(text);
	want = qp_xstrdup(c->row->name);
	for (char *save = NULL, *w = strtok_r(want, " ,", &save); w;
	    w = strtok_r(NULL, " ,", &save)) {
		char *sw = squeeze(w);
		if (strstr(flat, sw) == NULL)
			fail_msg("'%s' of '%s' not in the text", w,
			    c->row->name);
		free(sw);
	}
	assert_non_null(strstr(flat, "T-1"));

	/* Drawn with the script's own family, and never a system font. */
	fonts = pdffonts(pdf);
	assert_non_null(fonts);
	if (*c->row->font && strstr(fonts, c->row->font) == NULL)
		fail_msg("%s not embedded:\n%s", c->row->font, fonts);
	assert_null(strstr(fonts, "DejaVu"));
	for (const char *l = strchr(fonts, '\n'); l; l = strchr(l + 1, '\n'))
		if (l[1] && l[1] != '-' && strstr(l, "Noto") == NULL &&
		    strncmp(l + 1, "name", 4) != 0)
			fail_msg("a font that is not Noto:\n%s", fonts);

	free(fonts);
	free(want);
	free(flat);
	free(text);
	free(nameset);
	free(langset);
	free(pdf);
	th_tmpdir_remove(dir);
}

/* A character no font of qrposter's has is still refused, naming it. */
static void
test_emoji_still_refused(void **state)
{
	th_run r;

	(void)state;
	th_qrposter(&r, "check", "-t", "multilingual-tabloid", "-s",
	    "code=T-1", "-s", "name=Station \xF0\x9F\x98\x80", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "no font covers U+1F600"));
	th_run_free(&r);
}

/* Language tags: what a value picks among a template's languages. */
typedef struct tag_row {
	const char *want;
	const char *have; /* space-separated */
	const char *pick; /* NULL: none */
} tag_row;

static const tag_row tags[] = {
	{"zh", "ar zh-Hant vi fil ko", "zh-Hant"},
	{"zh-TW", "ar zh-Hant vi fil ko", "zh-Hant"},
	{"zh_tw", "ar zh-Hant vi fil ko", "zh-Hant"},
	{"zh-HK", "zh-Hans zh-Hant", "zh-Hant"},
	{"zh", "zh-Hant zh-Hans", "zh-Hans"},
	{"zh-CN", "ar zh-Hant vi", NULL},
	{"zh-Hans-CN", "zh-Hans zh-Hant", "zh-Hans"},
	{"tl", "ar zh-Hant vi fil ko", "fil"},
	{"fil-PH", "ar zh-Hant vi fil ko", "fil"},
	{"iw", "en he", "he"},
	{"es-MX", "en es", "es"},
	{"es", "en es-US", "es-US"},
	{"es-419", "es-ES es-419", "es-419"},
	{"EN", "en es", "en"},
	{"en-GB", "en-US en-GB", "en-GB"},
	{"pt-BR", "en es", NULL},
	{"sr-Latn", "sr-Cyrl", NULL},
	{"ko-KR", "ja ko", "ko"},
};

static void
test_tag(void **state)
{
	const tag_row *row = *state;
	char buf[128], *have[16], *save = NULL;
	size_t n = 0;
	long i;

	snprintf(buf, sizeof buf, "%s", row->have);
	for (char *tok = strtok_r(buf, " ", &save); tok && n < 16;
	    tok = strtok_r(NULL, " ", &save))
		have[n++] = tok;
	i = qp_lang_match(row->want, (const char *const *)have, n);
	if (row->pick == NULL) {
		if (i >= 0)
			fail_msg("%s picked %s", row->want, have[i]);
		return;
	}
	assert_true(i >= 0);
	assert_string_equal(have[i], row->pick);
}

/* On the command line: a matching value makes the poster in the
 * template's language; one that matches nothing lists the choices. */
typedef struct cli_row {
	const char *tmpl, *set;
	int status;
	const char *says; /* in stderr, or NULL */
	const char *text; /* in the PDF's text, or NULL */
} cli_row;

static const cli_row clis[] = {
	{"multilingual-tabloid", "lang2=zh-TW", 0, NULL, "人口走私"},
	{"multilingual-tabloid", "lang2=zh", 0, NULL, "人口走私"},
	{"multilingual-tabloid", "lang2=tl", 0, NULL, "Pambansang Hotline"},
	{"multilingual-tabloid", "lang=es-MX", 0, NULL, "Trata de personas"},
	{"multilingual-tabloid", "lang2=pt", 2,
	    "variable 'lang2' is 'pt'; it must be one of ar, zh-Hant, vi, fil, "
	    "ko", NULL},
	{"notice-ca", "lang3=zh-CN", 2,
	    "it must be one of zh-Hant, vi, fil, ko", NULL},
};

static void
test_cli(void **state)
{
	const cli_row *c = *state;
	char *dir = th_tmpdir_new(), *pdf = th_path(dir, "p.pdf");
	th_run r;

	th_qrposter(&r, "render", "-t", c->tmpl, "-s", "code=T-1", "-s",
	    "name=Station", "-s", c->set, "-o", pdf, NULL);
	if (r.status != c->status)
		fail_msg("exit %d, want %d: %s", r.status, c->status, r.err);
	if (c->says && strstr(r.err, c->says) == NULL)
		fail_msg("stderr lacks '%s': %s", c->says, r.err);
	if (c->text) {
		char *text = th_pdftotext(pdf);
		assert_non_null(text);
		if (strstr(text, c->text) == NULL)
			fail_msg("'%s' not in the poster", c->text);
		free(text);
	} else
		assert_false(th_exists(pdf));
	th_run_free(&r);
	free(pdf);
	th_tmpdir_remove(dir);
}

int
main(void)
{
	static script_case cases[2 * sizeof scripts / sizeof scripts[0]];
	static const char *const langs[] = {"en", "es"};
	th_suite s = {0};
	size_t k = 0;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
			cases[k] = (script_case){&scripts[i], langs[l]};
			th_suite_add(&s, test_script, NULL, NULL, &cases[k],
			    "%s name on a %s page", scripts[i].script,
			    langs[l]);
			k++;
		}
	th_suite_add(&s, test_emoji_still_refused, NULL, NULL, NULL,
	    "a glyph only a system font has is refused");
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		th_suite_add(&s, test_tag, NULL, NULL, &tags[i], "%s among %s",
		    tags[i].want, tags[i].have);
	for (size_t i = 0; i < sizeof clis / sizeof clis[0]; i++)
		th_suite_add(&s, test_cli, NULL, NULL, &clis[i], "%s -s %s",
		    clis[i].tmpl, clis[i].set);
	return th_suite_run(&s, "scripts", NULL, NULL);
}
