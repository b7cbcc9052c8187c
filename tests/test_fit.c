/*
 * test_fit.c - shrink-to-fit gives every text block the size it has
 * always had.
 *
 * Every bundled template (each .yaml in templates/, one test case) is laid
 * out for each of the 540 stations of the project's shared list
 * (../shared/data/stations.csv beside the repository, never copied into
 * it; QP_FIT_DATA names another file): code and name from the list, a
 * variable with choices (lang2, lang3) cycling through them row by row,
 * every other variable at its default. Each text item's fitted size is
 * compared with tests/golden/fit/sizes.txt, recorded by running the code
 * as it was before fitting was made fast (commit c181ab4, a plain
 * bisection of every block on every row); a size that moves by more than
 * 1/2000 pt fails, so any change of a step of the bisection's grid (at
 * most 1/8 pt) does.
 *
 * The rows are laid out in CSV order in one layout context (as a batch
 * does), and the long names again in reverse order in a fresh one, so
 * whatever a context remembers from the rows before (the text memo, the
 * size last fitted to a block) cannot change a size.
 *
 *   build/tests/test_fit       compare
 *   build/tests/test_fit -g    record the golden file anew (only when a
 *                              template's design changes on purpose;
 *                              review the diff)
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <pango/pangocairo.h>

#include "data.h"
#include "datadir.h"
#include "fonts.h"
#include "layout.h"
#include "template.h"
#include "util.h"

#define GOLDEN "tests/golden/fit/sizes.txt"
#define TOLERANCE (1.0 / 2000)

typedef struct station {
	char *code, *name;
	char *long_name; /* name, city and state, and a long place */
} station;

static station *stations;
static size_t nstations;
static char data_sha[65];
static const char *data_path;

/* One text item of a template over every row: its name and sizes. */
typedef struct series {
	char *name; /* block id, or "<qr id> caption" */
	double *size; /* nstations entries; 0 = the row failed */
} series;

typedef struct sizes {
	char *tmpl;
	series *s;
	size_t ns;
} sizes;

/* The golden file, parsed. */
static sizes *golden;
static size_t ngolden;
static size_t golden_rows;
static char golden_sha[65];

static void
sizes_free(sizes *z)
{
	for (size_t i = 0; i < z->ns; i++) {
		free(z->s[i].name);
		free(z->s[i].size);
	}
	free(z->s);
	free(z->tmpl);
}

static series *
series_get(sizes *z, const char *name)
{
	for (size_t i = 0; i < z->ns; i++)
		if (strcmp(z->s[i].name, name) == 0)
			return &z->s[i];
	z->s = qp_xrealloc(z->s, (z->ns + 1) * sizeof *z->s);
	z->s[z->ns].name = qp_xstrdup(name);
	z->s[z->ns].size = qp_xcalloc(nstations + 1, sizeof(double));
	return &z->s[z->ns++];
}

/* ---- the station list ------------------------------------------------- */

/*
 * The station names are short: every footer fits at one size. Names
 * lengthened by their city, state and a place of varying length make
 * the footers shrink, wrap and (the longest) fail, row by row: a second
 * set of rows, recorded the same way.
 */
static const char *const places[] = {
	"restroom 1",
	"women's restroom, main concourse level, next to the ticket office",
	"men's restroom on the lower level beside the stairs to tracks 5 "
	    "and 6, behind the waiting room",
	"family restroom",
	"accessible restroom at the north end of the platform for "
	    "eastbound trains, past the elevator and the bicycle racks, "
	    "opposite the newsstand",
	"gate B",
};
#define NPLACES (sizeof places / sizeof places[0])

static bool
read_stations(void)
{
	qp_error err;
	qp_data *d;
	qp_record rec;
	long ccode, cname, ccity, cstate;
	int r;
	char *text;
	gsize len;

	data_path = getenv("QP_FIT_DATA");
	if (data_path == NULL)
		data_path = "../shared/data/stations.csv";
	if (!g_file_get_contents(data_path, &text, &len, NULL)) {
		fprintf(stderr, "test_fit: cannot read the station list %s "
		    "(the project's shared/data beside the repository; set "
		    "QP_FIT_DATA to another copy)\n", data_path);
		return false;
	}
	{
		gchar *h = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
		    (const guchar *)text, len);
		snprintf(data_sha, sizeof data_sha, "%s", h);
		g_free(h);
	}
	g_free(text);
	if ((d = qp_data_open(data_path, &err)) == NULL) {
		fprintf(stderr, "test_fit: %s\n", err.msg);
		return false;
	}
	ccode = qp_data_col_index(d, "code");
	cname = qp_data_col_index(d, "name");
	ccity = qp_data_col_index(d, "city");
	cstate = qp_data_col_index(d, "state");
	if (ccode < 0 || cname < 0 || ccity < 0 || cstate < 0) {
		fprintf(stderr, "test_fit: %s has no code, name, city and "
		    "state columns\n",
		    data_path);
		qp_data_close(d);
		return false;
	}
	while ((r = qp_data_next(d, &rec, &err)) == 1) {
		stations = qp_xrealloc(stations, (nstations + 1) *
		    sizeof *stations);
		stations[nstations].code = qp_xstrdup(rec.fields[ccode]);
		stations[nstations].name = qp_xstrdup(rec.fields[cname]);
		stations[nstations].long_name = qp_xasprintf("%s (%s, %s), %s",
		    rec.fields[cname], rec.fields[ccity], rec.fields[cstate],
		    places[nstations % NPLACES]);
		nstations++;
	}
	qp_data_close(d);
	if (r < 0)
		fprintf(stderr, "test_fit: %s\n", err.msg);
	return r == 0 && nstations > 0;
}

/* ---- laying out every row --------------------------------------------- */

/* "footer", "qr caption"; "footer (long names)" in the second set. */
static char *
item_name(const qp_item *it, bool long_names)
{
	return qp_xasprintf("%s%s%s", it->block->id,
	    it->block->kind == QP_BLOCK_QR ? " caption" : "",
	    long_names ? " (long names)" : "");
}

/*
 * Lay the template out for rows[order[0..n-1]] in one context and record
 * each text item's size in z. A row that fails to lay out records 0 for
 * the items seen so far (the golden file holds today's failures too).
 */
static void
fit_rows(const qp_template *t, sizes *z, bool reverse, bool long_names)
{
	qp_layout_ctx *ctx = qp_layout_ctx_new();
	long vcode = qp_template_var(t, "code");
	long vname = qp_template_var(t, "name");
	long vchoice = -1;
	const char **values = qp_xcalloc(t->nvars + 1, sizeof *values);

	for (size_t i = 0; i < t->nvars; i++)
		if (t->vars[i].nchoices > 0 && vchoice < 0)
			vchoice = (long)i;
	for (size_t k = 0; k < nstations; k++) {
		size_t row = reverse ? nstations - 1 - k : k;
		qp_error err;
		qp_page *page;

		for (size_t i = 0; i < t->nvars; i++)
			values[i] = t->vars[i].def;
		if (vcode >= 0)
			values[vcode] = stations[row].code;
		if (vname >= 0)
			values[vname] = long_names ? stations[row].long_name :
			    stations[row].name;
		if (vchoice >= 0)
			values[vchoice] = t->vars[vchoice].choices[row %
			    t->vars[vchoice].nchoices];
		if ((page = qp_layout_page(ctx, t, values, &err)) == NULL)
			continue;
		for (size_t i = 0; i < page->nitems; i++) {
			const qp_item *it = &page->items[i];
			char *name;

			if (it->kind != QP_ITEM_TEXT)
				continue;
			name = item_name(it, long_names);
			series_get(z, name)->size[row] = it->font_size;
			free(name);
		}
		qp_page_free(page);
	}
	free(values);
	qp_layout_ctx_free(ctx);
}

static qp_template *
load(const char *name)
{
	qp_error err;
	qp_template *t = qp_template_open(name, &err);

	if (t == NULL)
		fprintf(stderr, "test_fit: %s\n", err.msg);
	return t;
}

/* ---- the golden file: "VALUE" or "VALUE*COUNT" runs per item ----------- */

static void
write_runs(FILE *fp, const double *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		char num[64];

		while (j < n && v[j] == v[i])
			j++;
		snprintf(num, sizeof num, "%.4f", v[i]);
		/* Trim "10.8750" to "10.875", "40.0000" to "40". */
		for (size_t e = strlen(num); e > 0 && num[e - 1] == '0'; e--)
			num[e - 1] = '\0';
		if (num[strlen(num) - 1] == '.')
			num[strlen(num) - 1] = '\0';
		if (j - i > 1)
			fprintf(fp, " %s*%zu", num, j - i);
		else
			fprintf(fp, " %s", num);
		i = j;
	}
}

static bool
parse_runs(const char *p, double *v, size_t n)
{
	size_t at = 0;

	while (*p) {
		char *end;
		double x;
		unsigned long count = 1;

		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n')
			break;
		x = strtod(p, &end);
		if (end == p)
			return false;
		p = end;
		if (*p == '*') {
			count = strtoul(p + 1, &end, 10);
			if (end == p + 1)
				return false;
			p = end;
		}
		if (at + count > n)
			return false;
		for (unsigned long k = 0; k < count; k++)
			v[at++] = x;
	}
	return at == n;
}

static bool
read_golden(void)
{
	FILE *fp = fopen(GOLDEN, "r");
	char *line = NULL;
	size_t cap = 0;
	sizes *cur = NULL;
	bool ok = true;

	if (fp == NULL) {
		fprintf(stderr, "test_fit: no %s (record it with "
		    "build/tests/test_fit -g)\n", GOLDEN);
		return false;
	}
	while (ok && getline(&line, &cap, fp) > 0) {
		char name[256];

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "data %zu %64s", &golden_rows, golden_sha) ==
		    2)
			continue;
		if (sscanf(line, "template %255s", name) == 1) {
			golden = qp_xrealloc(golden, (ngolden + 1) *
			    sizeof *golden);
			cur = &golden[ngolden++];
			memset(cur, 0, sizeof *cur);
			cur->tmpl = qp_xstrdup(name);
			continue;
		}
		/* item NAME...: RUNS (a caption's name has a space) */
		if (cur && strncmp(line, "item ", 5) == 0 &&
		    strchr(line, ':') != NULL) {
			char *colon = strchr(line, ':');
			series *s;

			*colon = '\0';
			s = series_get(cur, line + 5);
			if (strcmp(colon + 1, " same") == 0) {
				const series *base = NULL;
				char *bn = qp_xstrdup(line + 5);
				char *paren = strstr(bn, " (long names)");
				if (paren)
					*paren = '\0';
				for (size_t i = 0; i + 1 < cur->ns; i++)
					if (strcmp(cur->s[i].name, bn) == 0)
						base = &cur->s[i];
				free(bn);
				/* series_get may have moved the array. */
				s = &cur->s[cur->ns - 1];
				ok = base != NULL;
				if (ok)
					memcpy(s->size, base->size, nstations *
					    sizeof(double));
				continue;
			}
			ok = golden_rows == nstations &&
			    parse_runs(colon + 1, s->size, nstations);
			continue;
		}
		ok = false;
	}
	if (!ok)
		fprintf(stderr, "test_fit: %s: cannot read the line '%s' "
		    "(or it was recorded over %zu rows, not %zu)\n", GOLDEN,
		    line, golden_rows, nstations);
	free(line);
	fclose(fp);
	return ok;
}

/* ---- templates ---------------------------------------------------------- */

static char **tmpl_names;
static size_t ntmpl;

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
list_templates(void)
{
	char *dir = qp_xasprintf("%s/templates", qp_datadir());
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (dp == NULL) {
		fprintf(stderr, "test_fit: cannot open %s\n", dir);
		free(dir);
		return false;
	}
	while ((e = readdir(dp)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0) {
			tmpl_names = qp_xrealloc(tmpl_names, (ntmpl + 1) *
			    sizeof *tmpl_names);
			tmpl_names[ntmpl++] = qp_xstrndup(e->d_name, n - 5);
		}
	}
	closedir(dp);
	free(dir);
	qsort(tmpl_names, ntmpl, sizeof *tmpl_names, name_cmp);
	return ntmpl > 0;
}

/*
 * A long-names series that equals its short-names one (a block that does
 * not show the name), or NULL: written as "same" to keep the file short.
 */
static const series *
same_as_short(const sizes *z, const series *s)
{
	const char *suffix = " (long names)";
	size_t n = strlen(s->name), ns = strlen(suffix);

	if (n <= ns || strcmp(s->name + n - ns, suffix) != 0)
		return NULL;
	for (size_t i = 0; i < z->ns; i++)
		if (strlen(z->s[i].name) == n - ns &&
		    strncmp(z->s[i].name, s->name, n - ns) == 0)
			return memcmp(z->s[i].size, s->size, nstations *
			    sizeof(double)) == 0 ? &z->s[i] : NULL;
	return NULL;
}

/* Record the golden file from the code as it is now. */
static int
regenerate(void)
{
	char *tmp = qp_xasprintf("%s.tmp", GOLDEN);
	FILE *fp = fopen(tmp, "w");

	if (fp == NULL) {
		perror(tmp);
		return 1;
	}
	fprintf(fp, "# Fitted text sizes (pt) of every bundled template over "
	    "the shared station\n# list, row by row (see tests/test_fit.c): "
	    "'V*N' is N rows at V, 0 a row that\n# failed. Recorded with "
	    "build/tests/test_fit -g.\n");
	fprintf(fp, "data %zu %s\n", nstations, data_sha);
	for (size_t i = 0; i < ntmpl; i++) {
		qp_template *t = load(tmpl_names[i]);
		sizes z = {0};

		if (t == NULL)
			return 1;
		fit_rows(t, &z, false, false);
		fit_rows(t, &z, false, true);
		fprintf(fp, "template %s\n", tmpl_names[i]);
		for (size_t k = 0; k < z.ns; k++) {
			const series *base = same_as_short(&z, &z.s[k]);
			fprintf(fp, "item %s:", z.s[k].name);
			if (base)
				fputs(" same", fp);
			else
				write_runs(fp, z.s[k].size, nstations);
			fputc('\n', fp);
		}
		sizes_free(&z);
		qp_template_free(t);
	}
	if (fclose(fp) != 0 || rename(tmp, GOLDEN) != 0) {
		perror(GOLDEN);
		return 1;
	}
	free(tmp);
	printf("recorded %s: %zu templates over %zu rows\n", GOLDEN, ntmpl,
	    nstations);
	return 0;
}

/* ---- the test ------------------------------------------------------------ */

/* Compare got with want; print every item's first difference. */
static bool
same_sizes(const char *tmpl, const sizes *want, const sizes *got,
    const char *pass)
{
	bool same = true;

	for (size_t k = 0; k < want->ns; k++) {
		const series *w = &want->s[k];
		const series *g = NULL;

		for (size_t j = 0; j < got->ns; j++)
			if (strcmp(got->s[j].name, w->name) == 0)
				g = &got->s[j];
		if (g == NULL) {
			print_error("%s: no text item '%s' any more (%s)\n",
			    tmpl, w->name, pass);
			same = false;
			continue;
		}
		for (size_t r = 0; r < nstations; r++)
			if (fabs(g->size[r] - w->size[r]) > TOLERANCE) {
				print_error("%s, item '%s', station %zu (%s, "
				    "%s), %s: fitted at %.4fpt, was %.4fpt\n",
				    tmpl, w->name, r + 1, stations[r].code,
				    stations[r].name, pass, g->size[r],
				    w->size[r]);
				same = false;
				break;
			}
	}
	for (size_t j = 0; j < got->ns; j++) {
		bool known = false;
		for (size_t k = 0; k < want->ns; k++)
			known |= strcmp(got->s[j].name, want->s[k].name) == 0;
		if (!known) {
			print_error("%s: text item '%s' has no golden sizes "
			    "(record them with build/tests/test_fit -g)\n",
			    tmpl, got->s[j].name);
			same = false;
		}
	}
	return same;
}

/* The same for the long-names items only (the reverse pass). */
static bool
same_sizes_long(const char *tmpl, const sizes *want, const sizes *got,
    const char *pass)
{
	sizes w = {0};
	bool same;

	for (size_t k = 0; k < want->ns; k++)
		if (strstr(want->s[k].name, " (long names)") != NULL) {
			w.s = qp_xrealloc(w.s, (w.ns + 1) * sizeof *w.s);
			w.s[w.ns++] = want->s[k];
		}
	same = same_sizes(tmpl, &w, got, pass);
	free(w.s);
	return same;
}

static void
test_template(void **state)
{
	const char *name = *state;
	const sizes *want = NULL;
	qp_template *t;
	sizes fwd = {0}, rev = {0};
	bool ok;

	for (size_t i = 0; i < ngolden; i++)
		if (strcmp(golden[i].tmpl, name) == 0)
			want = &golden[i];
	if (want == NULL)
		fail_msg("%s: no golden sizes in %s (record them with "
		    "build/tests/test_fit -g)", name, GOLDEN);
	if (strcmp(golden_sha, data_sha) != 0)
		fail_msg("%s has changed since %s was recorded (SHA-256 %s, "
		    "recorded %s)", data_path, GOLDEN, data_sha, golden_sha);
	t = load(name);
	assert_non_null(t);
	fit_rows(t, &fwd, false, false);
	fit_rows(t, &fwd, false, true);
	fit_rows(t, &rev, true, true);
	ok = same_sizes(name, want, &fwd, "rows in order");
	ok &= same_sizes_long(name, want, &rev, "rows in reverse order");
	sizes_free(&fwd);
	sizes_free(&rev);
	qp_template_free(t);
	assert_true(ok);
}

/* ---- markup the bundled templates do not use ---------------------------- */

/*
 * Text whose layout does not simply scale with its size (wrapping, tabs,
 * sizes set in the markup, letter spacing, a rise) makes shrink-to-fit
 * fall back on laying the text out for each question. Each case is one
 * text block, laid out for names of every length, and compared with a
 * plain bisection done here with Pango alone (a layout at every size the
 * bisection asks about, as qrposter did before it predicted sizes).
 */
typedef struct markup_case {
	const char *name;
	const char *text; /* {{name}} is the station's name */
	bool wrap;
	double spacing; /* line_spacing, 0 = the font's */
	double w, h, max, min;
} markup_case;

static const markup_case markup_cases[] = {
	{"one line", "Location: {{name}}", false, 0, 300, 60, 30, 6},
	{"wrapping", "Not law enforcement or immigration. Location: {{name}} "
	    "· call <b>911</b>", true, 0, 200, 60, 20, 5},
	{"two lines spaced", "<b>Forced to work?</b>\n{{name}}", false, 1.3,
	    250, 70, 40, 6},
	{"tab", "{{name}}\tgate 4", false, 0, 300, 40, 30, 6},
	{"small", "<small>near</small> {{name}}", false, 0, 300, 40, 30, 6},
	{"sup", "{{name}}<sup>2</sup>", false, 0, 300, 40, 30, 6},
	{"absolute size", "<span size=\"9pt\">at</span> {{name}}", false, 0,
	    300, 40, 30, 6},
	{"font with a size", "<span font=\"Noto Sans Bold 9\">at</span> "
	    "{{name}}", false, 0, 300, 40, 30, 6},
	{"font without a size", "<span font=\"Noto Sans Bold\">at</span> "
	    "{{name}}", false, 0, 300, 40, 30, 6},
	{"letter spacing", "<span letter_spacing=\"2048\">{{name}}</span>",
	    false, 0, 300, 40, 30, 6},
};
#define NMARKUP (sizeof markup_cases / sizeof markup_cases[0])

/* The old rule, one layout per question. */
static bool
plain_fits(PangoLayout *l, PangoFontDescription *d, double size, double w,
    double h)
{
	PangoRectangle ext;

	pango_font_description_set_absolute_size(d, size * PANGO_SCALE);
	pango_layout_set_font_description(l, d);
	pango_layout_get_extents(l, NULL, &ext);
	return ext.x >= -PANGO_SCALE / 100 &&
	    ext.x + ext.width <= (w + 0.01) * PANGO_SCALE &&
	    ext.height <= (h + 0.01) * PANGO_SCALE;
}

static double
plain_fit(PangoContext *pc, const markup_case *c, const char *name)
{
	gchar *esc = g_markup_escape_text(name, -1);
	PangoLayout *l = pango_layout_new(pc);
	PangoFontDescription *d = pango_font_description_from_string(
	    "Noto Sans");
	const char *at = strstr(c->text, "{{name}}");
	char *text = qp_xasprintf("%.*s%s%s", (int)(at - c->text), c->text, esc,
	    at + 8);
	double lo = c->min, hi = c->max, size;

	pango_layout_set_markup(l, text, -1);
	pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
	if (c->spacing > 0)
		pango_layout_set_line_spacing(l, (float)c->spacing);
	if (c->wrap) {
		pango_layout_set_width(l, (int)(c->w * PANGO_SCALE));
		pango_layout_set_wrap(l, PANGO_WRAP_WORD);
	} else
		pango_layout_set_width(l, -1);
	if (plain_fits(l, d, c->max, c->w, c->h))
		size = c->max;
	else if (!plain_fits(l, d, c->min, c->w, c->h))
		size = 0;
	else {
		while (hi - lo > 0.125) {
			double mid = (lo + hi) / 2;
			if (plain_fits(l, d, mid, c->w, c->h))
				lo = mid;
			else
				hi = mid;
		}
		size = lo;
	}
	pango_font_description_free(d);
	g_object_unref(l);
	free(text);
	g_free(esc);
	return size;
}

/* A Pango context set up as qp_layout_ctx_new() documents: 72 units an
 * inch, no hinting, unrounded glyph positions. */
static PangoContext *
plain_context(PangoFontMap **fm)
{
	cairo_font_options_t *fo = cairo_font_options_create();
	PangoContext *pc;

	*fm = pango_cairo_font_map_new();
	pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(*fm), 72.0);
	pc = pango_font_map_create_context(*fm);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	pango_cairo_context_set_font_options(pc, fo);
	pango_cairo_context_set_resolution(pc, 72.0);
	pango_context_set_round_glyph_positions(pc, FALSE);
	cairo_font_options_destroy(fo);
	return pc;
}

static void
test_markup(void **state)
{
	const markup_case *c = *state;
	gchar *yaml_text = g_markup_escape_text(c->text, -1);
	char *yaml;
	qp_template *t;
	qp_layout_ctx *ctx = qp_layout_ctx_new();
	PangoFontMap *fm;
	PangoContext *pc = plain_context(&fm);
	long vname;
	const char **values;
	qp_error err;
	size_t rows = 0, shrunk = 0;
	bool ok = true;

	/* The text as a YAML double-quoted scalar. */
	{
		GString *q = g_string_new("");
		for (const char *p = c->text; *p; p++) {
			if (*p == '"' || *p == '\\')
				g_string_append_c(q, '\\');
			if (*p == '\n')
				g_string_append(q, "\\n");
			else
				g_string_append_c(q, *p);
		}
		g_free(yaml_text);
		yaml_text = g_string_free(q, FALSE);
	}
	yaml = qp_xasprintf("qrposter: 1\nname: fit %s\npage: {size: letter, "
	    "margin: 0.25in}\nvariables:\n  name:\nblocks:\n  - type: text\n"
	    "    id: t\n    box: {x: 36pt, y: 36pt, w: %gpt, h: %gpt}\n"
	    "    text: \"%s\"\n    size: {max: %gpt, min: %gpt}\n"
	    "    align: center\n    wrap: %s\n", c->name, c->w, c->h,
	    yaml_text, c->max, c->min, c->wrap ? "true" : "false");
	if (c->spacing > 0) {
		char *more = qp_xasprintf("%s    line_spacing: %g\n", yaml,
		    c->spacing);
		free(yaml);
		yaml = more;
	}
	t = qp_template_parse("fit.yaml", yaml, strlen(yaml), &err);
	if (t == NULL)
		fail_msg("%s\n%s", err.msg, yaml);
	vname = qp_template_var(t, "name");
	values = qp_xcalloc(t->nvars + 1, sizeof *values);
	/* Short names and long ones, in one context as a batch goes. */
	for (size_t r = 0; r < nstations && r < 48; r++) {
		const char *name = r % 2 ? stations[r].long_name :
		    stations[r].name;
		qp_page *page;
		double got = 0, want = plain_fit(pc, c, name);

		for (size_t i = 0; i < t->nvars; i++)
			values[i] = t->vars[i].def;
		values[vname] = name;
		if ((page = qp_layout_page(ctx, t, values, &err)) != NULL) {
			for (size_t i = 0; i < page->nitems; i++)
				if (page->items[i].kind == QP_ITEM_TEXT)
					got = page->items[i].font_size;
			qp_page_free(page);
		}
		rows++;
		shrunk += want > 0 && want < c->max;
		if (fabs(got - want) > TOLERANCE) {
			print_error("%s, '%s': fitted at %.4fpt, a plain "
			    "bisection says %.4fpt\n", c->name, name, got, want);
			ok = false;
		}
	}
	free(values);
	qp_template_free(t);
	qp_layout_ctx_free(ctx);
	g_object_unref(pc);
	g_object_unref(fm);
	free(yaml);
	g_free(yaml_text);
	assert_true(ok);
	/* The case exercises the shrinking, not only the maximum. */
	assert_true(shrunk > rows / 4);
}

int
main(int argc, char **argv)
{
	struct CMUnitTest *tests;
	qp_error err;
	int rc;

	/* Run from the top of the tree: its templates/ and fonts/. */
	if (getenv("QRPOSTER_DATADIR") == NULL) {
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd) == NULL)
			return 1;
		setenv("QRPOSTER_DATADIR", cwd, 1);
	}
	if (!qp_fonts_init(&err)) {
		fprintf(stderr, "test_fit: %s\n", err.msg);
		return 1;
	}
	if (!read_stations() || !list_templates())
		return 1;
	if (argc > 1 && strcmp(argv[1], "-g") == 0)
		return regenerate();
	if (!read_golden())
		return 1;
	tests = qp_xcalloc(ntmpl + NMARKUP, sizeof *tests);
	for (size_t i = 0; i < ntmpl; i++) {
		tests[i].name = tmpl_names[i];
		tests[i].test_func = test_template;
		tests[i].initial_state = tmpl_names[i];
	}
	for (size_t i = 0; i < NMARKUP; i++) {
		tests[ntmpl + i].name = markup_cases[i].name;
		tests[ntmpl + i].test_func = test_markup;
		tests[ntmpl + i].initial_state = (void *)&markup_cases[i];
	}
	rc = _cmocka_run_group_tests("fit", tests, ntmpl + NMARKUP, NULL,
	    NULL);
	free(tests);
	for (size_t i = 0; i < ngolden; i++)
		sizes_free(&golden[i]);
	free(golden);
	for (size_t i = 0; i < ntmpl; i++)
		free(tmpl_names[i]);
	free(tmpl_names);
	for (size_t i = 0; i < nstations; i++) {
		free(stations[i].code);
		free(stations[i].name);
		free(stations[i].long_name);
	}
	free(stations);
	return rc;
}
