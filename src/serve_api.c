/*
 * serve_api.c - the web editor's templates and poster API: the template
 * list and details, the form's values, preview and download.
 */
#define _GNU_SOURCE
#include "serve_int.h"

/* ---------------------------------------------------------------- */
/* Templates. */

qp_template *
srv_load_template(qp_server *s, const char *name, unsigned *status,
    qp_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	qp_template *t;

	*status = 400;
	if (!qp_serve_name_ok(name)) {
		qp_fail(err, "'%.80s' is not a template name: names are "
		    "letters, digits, '-' and '_' (a path is never accepted)",
		    name);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/%s.yaml", s->tdir, name);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		*status = 404;
		qp_fail(err, "there is no template named '%s'", name);
		return NULL;
	}
	if ((t = qp_template_load(path, err)) == NULL) {
		/* The file is there but broken: the operator's problem. */
		*status = 500;
		return NULL;
	}
	return t;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the templates in the directory, sorted. */
static char **
list_templates(qp_server *s, size_t *n)
{
	DIR *d = opendir(s->tdir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		name = qp_xstrndup(e->d_name, len - 5);
		if (!qp_serve_name_ok(name)) {
			free(name);
			continue;
		}
		v = qp_xrealloc(v, (*n + 1) * sizeof *v);
		v[(*n)++] = name;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

/* "hotline is 1-888-373-7888" for a default's when:. */
static void
cond_words(const qp_template *t, const qp_cond *c, qp_buf *out)
{
	for (size_t i = 0; i < c->n; i++)
		qp_buf_printf(out, "%s%s is %s%s", i ? " and " : "",
		    t->var_names[c->terms[i].var], c->terms[i].negate ? "not " :
		    "", *c->terms[i].value ? c->terms[i].value : "empty");
}

static void
template_json(qp_buf *b, const char *name, const qp_template *t,
    bool with_vars)
{
	qp_buf_adds(b, "{\"name\":");
	srv_json_str(b, name);
	qp_buf_adds(b, ",\"title\":");
	srv_json_str(b, t->name);
	qp_buf_adds(b, ",\"description\":");
	srv_json_str(b, t->description);
	qp_buf_printf(b, ",\"width_in\":%.2f,\"height_in\":%.2f",
	    t->page_w / QP_PT_PER_IN, t->page_h / QP_PT_PER_IN);
	if (with_vars) {
		bool *always = qp_xcalloc(t->nvars + 1, sizeof *always);

		/* What every poster draws (blocks without when:). */
		qp_template_uses_now(t, NULL, always);
		qp_buf_adds(b, ",\"variables\":[");
		for (size_t i = 0; i < t->nvars; i++) {
			const qp_var *v = &t->vars[i];

			qp_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
			srv_json_str(b, v->name);
			qp_buf_adds(b, ",\"default\":");
			srv_json_str(b, v->def);
			qp_buf_adds(b, ",\"description\":");
			srv_json_str(b, v->desc);
			if (v->nchoices) {
				qp_buf_adds(b, ",\"choices\":[");
				for (size_t k = 0; k < v->nchoices; k++) {
					if (k)
						qp_buf_addc(b, ',');
					srv_json_str(b, v->choices[k]);
				}
				qp_buf_addc(b, ']');
			}
			/* A default that goes with another value: the
			 * editor says when it applies. */
			qp_buf_adds(b, ",\"default_when\":");
			if (v->when.n) {
				qp_buf w;

				qp_buf_init(&w);
				cond_words(t, &v->when, &w);
				srv_json_str(b, w.data);
				qp_buf_free(&w);
			} else
				qp_buf_adds(b, "null");
			/* required: it may not be left empty (the
			 * template says so, or every poster needs it and
			 * it has no default); needed: every poster needs a
			 * value from the form (the location). */
			qp_buf_printf(b, ",\"required\":%s,\"needed\":%s}",
			    v->required || (!v->def && always[i]) ? "true" :
			    "false", !v->def && always[i] ? "true" : "false");
		}
		qp_buf_adds(b, "]");
		free(always);
	}
	qp_buf_adds(b, "}");
}

enum MHD_Result
srv_api_templates(qp_server *s, struct MHD_Connection *c)
{
	size_t n, shown = 0;
	char **names = list_templates(s, &n);
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "{\"templates\":[");
	for (size_t i = 0; i < n; i++) {
		qp_template *t;
		unsigned status;
		qp_error err;

		/* A broken file is left out of the menu, not fatal. */
		if ((t = srv_load_template(s, names[i], &status, &err)) != NULL) {
			if (shown++)
				qp_buf_addc(&b, ',');
			template_json(&b, names[i], t, false);
			qp_template_free(t);
		}
		free(names[i]);
	}
	free(names);
	qp_buf_printf(&b, "],\"batch\":true,\"max_csv_bytes\":%d,"
	    "\"max_rows\":%d}\n", QP_SERVE_MAX_CSV, QP_SERVE_MAX_ROWS);
	return srv_send_json(c, 200, &b);
}

enum MHD_Result
srv_api_template(qp_server *s, struct MHD_Connection *c, const char *name)
{
	qp_template *t;
	unsigned status;
	qp_error err;
	qp_buf b;

	if ((t = srv_load_template(s, name, &status, &err)) == NULL)
		return srv_send_error(c, status, "%s", err.msg);
	qp_buf_init(&b);
	template_json(&b, name, t, true);
	qp_buf_adds(&b, "\n");
	qp_template_free(t);
	return srv_send_json(c, 200, &b);
}

/* ---------------------------------------------------------------- */
/* Poster forms. */

/* A form: key=value pairs, decoded (a value may hold NUL bytes: len). */
typedef struct form {
	char **k, **v;
	size_t *len;
	size_t n;
} form;

static void
form_free(form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->k[i]);
		free(f->v[i]);
	}
	free(f->k);
	free(f->v);
	free(f->len);
}

static bool
form_parse(const char *s, size_t len, form *f, qp_error *err)
{
	const char *end = s + len;
	qp_buf kb, vb;

	memset(f, 0, sizeof *f);
	qp_buf_init(&kb);
	qp_buf_init(&vb);
	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(pe - s));

		if (pe == s) {
			s++;
			continue;
		}
		if (eq == NULL ||
		    !qp_serve_urldecode(s, (size_t)(eq - s), &kb) ||
		    !qp_serve_urldecode(eq + 1, (size_t)(pe - eq - 1), &vb)) {
			qp_buf_free(&kb);
			qp_buf_free(&vb);
			form_free(f);
			return qp_fail(err, "the form is malformed: expected "
			    "key=value pairs, URL-encoded");
		}
		f->k = qp_xrealloc(f->k, (f->n + 1) * sizeof *f->k);
		f->v = qp_xrealloc(f->v, (f->n + 1) * sizeof *f->v);
		f->len = qp_xrealloc(f->len, (f->n + 1) * sizeof *f->len);
		/* Keep any NUL inside a value: the value rule refuses it. */
		f->k[f->n] = qp_xstrndup(kb.data, kb.len);
		f->v[f->n] = qp_xmalloc(vb.len + 1);
		memcpy(f->v[f->n], vb.data, vb.len);
		f->v[f->n][vb.len] = '\0';
		f->len[f->n] = vb.len;
		/* A NUL in another field (the template's name) must not
		 * cut it short into something valid. */
		if (strncmp(f->k[f->n], "var.", 4) != 0 &&
		    strlen(f->v[f->n]) != vb.len)
			f->v[f->n][0] = '\x01';
		f->n++;
		s = pe + 1;
	}
	qp_buf_free(&kb);
	qp_buf_free(&vb);
	return true;
}

static const char *
form_get(const form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->k[i], key) == 0)
			return f->v[i];
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Findings in plain words. */

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * Plain words for each finding code, for the person at the keyboard
 * (the engine's own message, with block names and sizes in points, goes
 * beside it as the detail). Indexed by code, never by the wording of a
 * message: rewording one changes nothing here.
 */
static const struct {
	qp_code code;
	const char *words;
} plain[] = {
	{QP_D_VALUE_UTF8, "This is not valid text (UTF-8)."},
	{QP_D_VALUE_CONTROL, "This contains a control character; type "
	    "ordinary text only."},
	{QP_D_VALUE_TOO_LONG, "This is too long (the limit is "
	    STR(QP_VALUE_MAX) " bytes)."},
	{QP_D_VALUE_MISSING, "Fill this in: every poster needs it."},
	{QP_D_VALUE_CHOICE, "Choose one of the values this poster offers."},
	{QP_D_UNKNOWN_VARIABLE, "This poster has no such field."},
	{QP_D_SET_SYNTAX, "A value must be given as NAME=VALUE."},
	{QP_D_COLUMN_MISSING, "The CSV lacks a column this poster needs."},
	{QP_D_COLUMN_UNUSED, "A column of the CSV is not used by this "
	    "poster."},
	{QP_D_VALUE_EMPTY, "This may not be empty. Type it, or press "
	    "\"Use standard\"."},
	{QP_D_COLUMN_TWICE, "Two columns of the CSV are headed for the same "
	    "box; keep one of them."},
	{QP_D_VALUE_UNUSED, "Not printed: with the other boxes as they are, "
	    "this poster has no place for it (a hotline's name, for "
	    "example, is printed only with a number other than the national "
	    "one). Nothing needs to change."},
	{QP_D_LINK_NOT_HTTP, "This must be a full web address, starting "
	    "with https:// and the site's name."},
	{QP_D_LINK_HOST, "The web address's site name has letters phones "
	    "cannot open; use its xn-- form."},
	{QP_D_QR_PAYLOAD_EMPTY, "The QR code would be empty. Fill in the "
	    "web address and the location code."},
	{QP_D_QR_TOO_LONG, "The QR code would hold too much to print "
	    "clearly at this size. Shorten the web address or the location "
	    "code."},
	{QP_D_QR_MODULE_TOO_SMALL, "The QR code's squares would be too small "
	    "to print clearly. Shorten the web address or the location "
	    "code."},
	{QP_D_QR_SCAN_DISTANCE, "The QR code is too small to be scanned from "
	    "the distance this poster is read from."},
	{QP_D_QR_INVERTED, "The QR code is light on dark; many phones cannot "
	    "scan that (the template's colours)."},
	{QP_D_QR_CONTRAST, "The QR code's colours are too close together for "
	    "phones to scan it (the template's colours)."},
	{QP_D_QR_CONTRAST_FAIR, "The QR code's colours are not far apart; it "
	    "may not scan in poor light (the template's colours)."},
	{QP_D_QR_QUIET_ZONE, "Something is printed too close to the QR code; "
	    "phones need clear space around it (the template's layout)."},
	{QP_D_CAPTION_NO_ROOM, "There is no room for the web address under "
	    "the QR code (the template's layout)."},
	{QP_D_QR_LOGO_PATTERN, "The logo in the QR code would cover a part "
	    "phones need to find the code (the template's logo)."},
	{QP_D_QR_LOGO_TOO_BIG, "The logo in the QR code is too big for the "
	    "code to scan reliably (the template's logo)."},
	{QP_D_QR_LOGO_UNREADABLE, "The QR code does not scan with its logo "
	    "(the template's logo)."},
	{QP_D_IMAGE_LOW_PPI, "A picture on the poster would print blurred: "
	    "it has too few pixels for its size (the template's picture)."},
	{QP_D_IMAGE_FAIR_PPI, "A picture on the poster may print a little "
	    "soft (the template's picture)."},
	{QP_D_LINK_NOT_HTTPS, "The QR code's link must start with https:// "
	    "(the template's link policy)."},
	{QP_D_LINK_SHORTENER, "The QR code opens a link shortener or a "
	    "redirect service: print the agency's own final link instead."},
	{QP_D_LINK_DOMAIN, "The QR code opens a site outside the agency's "
	    "own domains (the template's link policy)."},
	{QP_D_CAPTION_NO_DOMAIN, "The poster must print the web address the "
	    "QR code opens, so people can see where it goes."},
	{QP_D_NUMBER_NEAR_OFFICIAL, "This number is one or two digits away "
	    "from an official hotline number: check it for a typing "
	    "mistake."},
	{QP_D_TEXT_OVERFLOW, "This text is too long for its space on the "
	    "poster, even at the smallest type size allowed. Shorten it."},
	{QP_D_TEXT_TOO_SMALL, "This text had to shrink below the smallest "
	    "size the poster allows. Shorten it."},
	{QP_D_TEXT_MAY_SHRINK, "A longer text here could shrink below the "
	    "smallest size the poster allows (a limit of the template)."},
	{QP_D_TEXT_CONTRAST, "This text is too faint against its background "
	    "to read easily (the template's colours)."},
	{QP_D_TEXT_OVERLAP, "Two texts on the poster overlap. Shorten one of "
	    "them."},
	{QP_D_MARKUP_INVALID, "The template's text is not valid markup (a "
	    "problem of the template)."},
	{QP_D_GLYPH_MISSING, NULL},    /* names the character: see below */
	{QP_D_FONT_MISSING, "The template names a font that is not installed "
	    "here (a problem of the template)."},
	{QP_D_FONT_NO_FAMILY, "The template names a font without its family "
	    "(a problem of the template)."},
	{QP_D_TEXT_NO_TRANSLATION, "This poster has no text in that "
	    "language."},
	{QP_D_LANG_UNKNOWN, "This poster has no text in that language."},
	{QP_D_OFF_PAGE, "Part of the poster runs off the edge of the page."},
	{QP_D_OUTSIDE_SAFE_AREA, "Part of the poster sits in the margin the "
	    "printer may cut off."},
	{QP_D_NATIONAL_WORDING, "This poster's own text names the National "
	    "Human Trafficking Hotline, but the number is another: a caller "
	    "would be told the wrong hotline (a problem of the template)."},
	{QP_D_PROFILE_UNUSED, "This poster has no place for one of the "
	    "settings; it is left out."},
};

/* The plain words for finding d (buf holds them when they are made). */
static const char *
plain_words(const qp_diag *d, char *buf, size_t bufsz)
{
	if (d->code == QP_D_GLYPH_MISSING) {
		snprintf(buf, bufsz, "The poster's fonts have no letter for "
		    "the character U+%04lX, so it would print as an empty box. "
		    "Remove it, or use a template with a font for that "
		    "language.", (unsigned long)d->n[0]);
		return buf;
	}
	/* A default that goes only with another value (the national
	 * hotline's name with its number). */
	if (d->code == QP_D_VALUE_MISSING && d->s[1]) {
		snprintf(buf, bufsz, "Fill this in: the standard text is only "
		    "for when %s.", d->s[1]);
		return buf;
	}
	/* A caption that does not fit is the web address under the code. */
	if (d->caption && (d->code == QP_D_TEXT_OVERFLOW ||
	    d->code == QP_D_TEXT_TOO_SMALL))
		return "The web address under the QR code does not fit. "
		    "Shorten it.";
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (plain[i].code == d->code && plain[i].words)
			return plain[i].words;
	return NULL;
}

/* A finding of the engine, in plain words, with the variables it
 * concerns so the page can show it beside those fields. */
static void
add_finding(problem **list, size_t *n, const qp_diag *d)
{
	char buf[400];
	const char *words = plain_words(d, buf, sizeof buf);
	problem *p;

	p = srv_problem_add(list, n, qp_severity_name(d->sev), words ? words :
	    d->msg, words ? d->msg : NULL);
	p->code = d->code;
	if (d->block)
		p->block = qp_xstrdup(d->block);
	for (size_t i = 0; i < d->nvars; i++)
		srv_problem_field(p, d->vars[i]);
}

static void
add_findings(job *j, const qp_diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		add_finding(&j->problems, &j->nproblems, &dl->v[i]);
}

/*
 * The poster step (poster.h), as every command takes it: bind the
 * form's values, lay the poster out block by block and check it. Every
 * error and warning goes to the page beside the preview. The page is
 * returned only when there is no error: a poster that would fail on the
 * wall is neither previewed as good nor downloaded.
 */
qp_page *
srv_preflight(qp_layout_ctx *ctx, job *j)
{
	qp_diag_list dl;
	qp_page *page;

	qp_diag_list_init(&dl);
	page = qp_poster_make(ctx, j->bind, NULL, NULL, &j->vals, &dl);
	add_findings(j, &dl);
	qp_diag_list_clear(&dl);
	return page;
}

/* Why a value cannot go on a poster (the value rule of bind.h, in plain
 * words), or NULL. */
const char *
srv_value_problem(const char *v)
{
	qp_diag d = {0};
	char buf[8];

	d.code = qp_value_check(v, strlen(v), d.n);
	return d.code == QP_D_NONE ? NULL : plain_words(&d, buf, sizeof buf);
}

/*
 * Build a job from a poster form: template=NAME, var.NAME=value for each
 * variable given (the rest take their defaults). Field problems go in the
 * job's problem list; a request that is wrong as a whole is *status
 * with err.
 */
static job *
job_from_form(qp_server *s, const char *body, size_t len, unsigned *status,
    qp_error *err)
{
	form f;
	job *j;
	const char *tname;

	if (!form_parse(body, len, &f, err)) {
		*status = 400;
		return NULL;
	}
	if ((tname = form_get(&f, "template")) == NULL) {
		form_free(&f);
		*status = 400;
		qp_fail(err, "the form has no 'template' field");
		return NULL;
	}
	j = qp_xcalloc(1, sizeof *j);
	j->refs = 1;
	qp_buf_init(&j->png);
	if ((j->t = srv_load_template(s, tname, status, err)) == NULL) {
		form_free(&f);
		free(j);
		return NULL;
	}
	/* The form's fields are bound as -s values are (bind.h): the same
	 * value rule, and an empty field leaves the default. */
	j->bind = qp_binding_new(j->t);
	qp_values_init(&j->vals, j->t);
	for (size_t i = 0; i < f.n; i++) {
		qp_diag_list dl;

		if (strncmp(f.k[i], "var.", 4) != 0)
			continue;
		if (qp_template_var(j->t, f.k[i] + 4) < 0) {
			*status = 400;
			qp_fail(err, "the template '%s' has no field '%.80s'",
			    tname, f.k[i] + 4);
			form_free(&f);
			srv_job_free(j);
			return NULL;
		}
		qp_diag_list_init(&dl);
		qp_binding_set_value(j->bind, f.k[i] + 4, f.v[i], f.len[i],
		    &dl);
		add_findings(j, &dl);
		qp_diag_list_clear(&dl);
	}
	/* Output settings. */
	j->fmt = QP_FMT_PDF;
	j->dpi = 300;
	{
		const char *fmt = form_get(&f, "format");
		const char *dpi = form_get(&f, "dpi");
		long v;

		if (fmt && strcmp(fmt, "png") == 0)
			j->fmt = QP_FMT_PNG;
		else if (fmt && strcmp(fmt, "pdf") != 0) {
			*status = 400;
			qp_fail(err, "format must be pdf or png");
			goto bad;
		}
		if (dpi) {
			if (!qp_parse_int(dpi, 72, 600, &v)) {
				*status = 400;
				qp_fail(err, "dpi must be a whole number from "
				    "72 to 600");
				goto bad;
			}
			j->dpi = (double)v;
		}
		if (j->fmt == QP_FMT_PNG) {
			double px = j->t->page_w / 72.0 * j->dpi *
			    j->t->page_h / 72.0 * j->dpi;

			if (px > QP_SERVE_MAX_PIXELS) {
				*status = 400;
				qp_fail(err, "a %.1fx%.1fin poster at %.0f DPI "
				    "is %.0f megapixels; the limit here is %.0f: "
				    "choose %d DPI or lower, or download the "
				    "PDF", j->t->page_w / 72.0,
				    j->t->page_h / 72.0, j->dpi, px / 1e6,
				    QP_SERVE_MAX_PIXELS / 1e6, qp_png_max_dpi(
				    j->t->page_w, j->t->page_h,
				    QP_SERVE_MAX_PIXELS));
				goto bad;
			}
		}
	}
	form_free(&f);
	return j;
bad:
	form_free(&f);
	srv_job_free(j);
	return NULL;
}

/*
 * ,"defaults":{NAME: value or null}: each variable's default with the
 * form's values, so a box the user has not touched can show what the
 * poster will say (a default with a when: comes and goes with the
 * value it depends on).
 */
static void
defaults_json(qp_buf *b, const job *j)
{
	const qp_template *t = j->t;
	qp_diag_list dl;
	qp_values v;

	if (t == NULL || j->bind == NULL)
		return;
	qp_values_init(&v, t);
	qp_diag_list_init(&dl);
	qp_binding_bind(j->bind, NULL, &v, &dl);
	qp_buf_adds(b, ",\"defaults\":{");
	for (size_t i = 0; i < t->nvars; i++) {
		if (i)
			qp_buf_addc(b, ',');
		srv_json_str(b, t->var_names[i]);
		qp_buf_addc(b, ':');
		srv_json_str(b, qp_var_default(t, i, v.v));
	}
	qp_buf_addc(b, '}');
	qp_diag_list_clear(&dl);
	qp_values_free(&v);
}

/* "problems":[...] of a job's problem list. */
static void
problems_json_list(qp_buf *b, const job *j)
{
	qp_buf_adds(b, "\"problems\":[");
	for (size_t i = 0; i < j->nproblems; i++) {
		const problem *p = &j->problems[i];

		qp_buf_adds(b, i ? ",{\"severity\":" : "{\"severity\":");
		srv_json_str(b, p->severity);
		qp_buf_adds(b, ",\"code\":");
		srv_json_str(b, qp_code_name(p->code));
		qp_buf_adds(b, ",\"block\":");
		srv_json_str(b, p->block);
		qp_buf_adds(b, ",\"fields\":[");
		for (size_t k = 0; k < p->nfields; k++) {
			if (k)
				qp_buf_addc(b, ',');
			srv_json_str(b, p->fields[k]);
		}
		qp_buf_adds(b, "],\"message\":");
		srv_json_str(b, p->message);
		qp_buf_adds(b, ",\"detail\":");
		srv_json_str(b, p->detail);
		qp_buf_adds(b, "}");
	}
	qp_buf_adds(b, "]");
}

static void
problems_json(qp_buf *b, const job *j)
{
	problems_json_list(b, j);
	defaults_json(b, j);
}

static bool
has_errors(const job *j)
{
	for (size_t i = 0; i < j->nproblems; i++)
		if (strcmp(j->problems[i].severity, "error") == 0)
			return true;
	return false;
}

/* The 422 answer listing what is wrong with the poster's values. */
static enum MHD_Result
send_problems(struct MHD_Connection *c, const job *j)
{
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "{\"ok\":false,\"error\":");
	srv_json_str(&b, j->nproblems ? j->problems[0].message :
	    "the poster cannot be made");
	qp_buf_adds(&b, ",");
	problems_json(&b, j);
	qp_buf_adds(&b, "}\n");
	return srv_send_json(c, 422, &b);
}

static enum MHD_Result
send_wait_failure(qp_server *s, struct MHD_Connection *c, wait_result w)
{
	switch (w) {
	case WAIT_BUSY:
		return srv_send_error(c, 503, "the server is busy with %d renders; "
		    "try again in a moment", QP_SERVE_QUEUE);
	case WAIT_TIMEOUT:
		return srv_send_error(c, 503, "the poster took longer than %g "
		    "seconds to render and was cut off; shorten the texts or "
		    "try again", s->timeout);
	default:
		return srv_send_error(c, 503, "the server is shutting down");
	}
}

/*
 * The common part of the preview and download endpoints: parse the form
 * into a job, refuse it with its problems if preflight found errors, run
 * it on a worker and wait. Returns the finished job (release it), or NULL
 * with *ret the response already sent.
 */
static job *
run_form_job(qp_server *s, struct MHD_Connection *c, const req *r,
    job_kind kind,
    enum MHD_Result *ret)
{
	unsigned status;
	qp_error err;
	wait_result w;
	job *j;

	if ((j = job_from_form(s, r->body.data, r->body.len, &status,
	    &err)) == NULL) {
		*ret = srv_send_error(c, status, "%s", err.msg);
		return NULL;
	}
	j->kind = kind;
	if (has_errors(j)) {
		*ret = send_problems(c, j);
		srv_job_free(j);
		return NULL;
	}
	if ((w = srv_submit_wait(s, j)) != WAIT_DONE) {
		srv_release(s, j);
		*ret = send_wait_failure(s, c, w);
		return NULL;
	}
	if (!j->ok) {
		*ret = j->nproblems ? send_problems(c, j) :
		    srv_send_error(c, 500, "%s", j->err.msg);
		srv_release(s, j);
		return NULL;
	}
	return j;
}

enum MHD_Result
srv_api_preview(qp_server *s, struct MHD_Connection *c, const req *r)
{
	enum MHD_Result ret;
	job *j;
	qp_buf b;

	if ((j = run_form_job(s, c, r, JOB_PREVIEW, &ret)) == NULL)
		return ret;
	qp_buf_init(&b);
	qp_buf_printf(&b, "{\"ok\":true,\"width\":%d,\"height\":%d,"
	    "\"image\":\"data:image/png;base64,", j->png_w, j->png_h);
	srv_base64(&b, (const unsigned char *)j->png.data, j->png.len);
	qp_buf_adds(&b, "\",");
	problems_json(&b, j);
	qp_buf_adds(&b, "}\n");
	srv_release(s, j);
	return srv_send_json(c, 200, &b);
}

enum MHD_Result
srv_api_poster(qp_server *s, struct MHD_Connection *c, const req *r)
{
	enum MHD_Result ret;
	struct MHD_Response *resp;
	struct stat st;
	qp_buf name;
	long code;
	job *j;
	int fd;

	if ((j = run_form_job(s, c, r, JOB_FILE, &ret)) == NULL)
		return ret;
	/* The connection owns the file now: open it, then unlink it. */
	fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		ret = srv_send_error(c, 500, "cannot read the rendered poster: %s",
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		srv_release(s, j);
		return ret;
	}
	qp_buf_init(&name);
	qp_buf_adds(&name, "attachment; filename=\"poster");
	code = qp_template_var(j->t, "code");
	if (code >= 0 && j->vals.v[code] && j->vals.v[code][0]) {
		qp_buf_addc(&name, '-');
		srv_safe_filename(&name, j->vals.v[code]);
	}
	qp_buf_adds(&name, j->fmt == QP_FMT_PDF ? ".pdf\"" : ".png\"");
	resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		qp_buf_free(&name);
		srv_release(s, j);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", j->fmt == QP_FMT_PDF ?
	    "application/pdf" : "image/png");
	MHD_add_response_header(resp, "Content-Disposition", name.data);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	srv_common_headers(resp);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	qp_buf_free(&name);
	srv_release(s, j);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Opening a profile (the editor's "Open settings"). */

/*
 * POST /api/profile?template=NAME[&name=FILE], the profile's YAML as the
 * body: read it as --profile reads a file (profile.h) and answer what it
 * gives this template's boxes:
 *   {"ok":true,"values":{VAR: value},"profile":{KEY: value},"problems":[..]}
 * values are the ones this template uses; profile is every key (the
 * editor writes the others back when it saves); problems are
 * profile-unused warnings. A mistake is 422 with the "FILE:LINE:COL: ..."
 * message, and its finding beside the field when it is about a value.
 * A logo is not read here (the editor has no file system of its own to
 * find it in); it is kept and handed back.
 */
enum MHD_Result
srv_api_profile(qp_server *s, struct MHD_Connection *c, const req *r)
{
	const char *tname = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "template");
	const char *fname = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "name");
	qp_template *t;
	qp_profile *p;
	qp_binding *b;
	qp_diag_list dl;
	unsigned status;
	qp_error err;
	qp_buf out, name;
	job *j;
	bool ok;

	if (tname == NULL)
		return srv_send_error(c, 400, "add ?template=NAME to the "
		    "address");
	if ((t = srv_load_template(s, tname, &status, &err)) == NULL)
		return srv_send_error(c, status, "%s", err.msg);
	/* The file's name is only for messages: its last part, in plain
	 * text. */
	qp_buf_init(&name);
	if (fname && strrchr(fname, '/'))
		fname = strrchr(fname, '/') + 1;
	if (fname == NULL || *fname == '\0' || srv_value_problem(fname) ||
	    strlen(fname) > 120)
		fname = "the settings";
	qp_buf_adds(&name, fname);
	if ((p = qp_profile_parse(name.data, r->body.data ? r->body.data : "",
	    r->body.len, &err)) == NULL) {
		qp_buf_free(&name);
		qp_template_free(t);
		return srv_send_error(c, 422, "%s", err.msg);
	}
	/* A job holds the template, the binding and the problems, and
	 * frees them. */
	j = qp_xcalloc(1, sizeof *j);
	qp_buf_init(&j->png);
	j->t = t;
	j->bind = b = qp_binding_new(t);
	qp_diag_list_init(&dl);
	ok = qp_binding_profile(b, p, &dl, &err);
	add_findings(j, &dl);
	qp_buf_init(&out);
	qp_buf_printf(&out, "{\"ok\":%s,\"error\":", ok ? "true" : "false");
	srv_json_str(&out, ok ? NULL : err.msg);
	qp_buf_adds(&out, ",\"values\":{");
	for (size_t i = 0, n = 0; i < p->n; i++) {
		long v = qp_template_var(t, p->v[i].name);

		if (v < 0 || !qp_binding_used(b, (size_t)v))
			continue;
		if (n++)
			qp_buf_addc(&out, ',');
		srv_json_str(&out, p->v[i].name);
		qp_buf_addc(&out, ':');
		srv_json_str(&out, p->v[i].value);
	}
	qp_buf_adds(&out, "},\"profile\":{");
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			qp_buf_addc(&out, ',');
		srv_json_str(&out, p->v[i].name);
		qp_buf_addc(&out, ':');
		srv_json_str(&out, p->v[i].value);
	}
	if (p->logo_text) {
		qp_buf_adds(&out, p->n ? ",\"logo\":" : "\"logo\":");
		srv_json_str(&out, p->logo_text);
	}
	qp_buf_adds(&out, "},");
	problems_json_list(&out, j);
	qp_buf_adds(&out, "}\n");
	qp_diag_list_clear(&dl);
	srv_job_free(j);
	qp_profile_free(p);
	qp_buf_free(&name);
	return srv_send_json(c, ok ? 200 : 422, &out);
}
