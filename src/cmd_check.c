/*
 * cmd_check.c - "qrposter check": lay out every poster without writing
 * any and report what would fail on the wall.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "datadir.h"
#include "fonts.h"
#include "law.h"
#include "poster.h"
#include "prepress.h"
#include "util.h"

/* More language/choice combinations than this per row: defaults only. */
#define MAX_COMBOS 64

static void
check_usage(FILE *fp)
{
	fputs("usage: qrposter check -t TEMPLATE [-d LOCATIONS.csv] "
	    "[--profile FILE] [-s KEY=VALUE]...\n"
	    "             [--print cmyk [--icc FILE] [--ink-limit PCT]]\n"
	    "       qrposter check --pdf FILE.pdf [--ink-limit PCT]\n\n"
	    "Lay out every poster without writing any and report, per row "
	    "and block,\n"
	    "everything that would fail on the wall: text that does not fit "
	    "or is\n"
	    "below min_text_size, missing glyphs, undefined variables, QR "
	    "codes too\n"
	    "small, too pale, inverted or crowded, text contrast below WCAG "
	    "2.1 AA,\n"
	    "overlapping blocks and blocks outside the safe area. Exits 1 if "
	    "any\n"
	    "error was found.\n\n"
	    "A variable with choices (such as 'lang') that neither -s nor "
	    "the row\n"
	    "sets is checked with each of its choices.\n\n"
	    "  -t, --template T   a template file, or the name of a bundled "
	    "one\n"
	    "  -d, --data CSV     one poster per row; the header names "
	    "variables\n"
	    "  -s, --set K=V      give variable K the value V for every row\n"
	    "                     (it overrides a CSV column of that name)\n"
	    "      --profile FILE the agency's profile (under the CSV and -s); "
	    "a key\n"
	    "                     the template does not use is a warning\n"
	    "      --bleed LEN    the posters will be printed with this bleed "
	    "and\n"
	    "                     trimmed: nothing may cross the template's "
	    "margin\n"
	    "      --law CODE[,CODE...]\n"
	    "                     check every poster against these posting "
	    "laws\n"
	    "                     (templates/laws/CODE.yaml, or a pack file): "
	    "each\n"
	    "                     rule is listed as met, failed or to check "
	    "by hand\n"
	    "      --print cmyk   also make each poster's CMYK print file and "
	    "check it\n"
	    "                     as a print shop would: total ink over the "
	    "limit,\n"
	    "                     RGB left in it, pictures under 300 ppi, "
	    "hairlines\n"
	    "                     under 0.25pt, text under 6pt, a code in "
	    "several inks\n"
	    "      --icc FILE     the press's CMYK output profile (default:\n"
	    "                     Ghostscript's default_cmyk.icc)\n"
	    "      --ink-limit PCT  the press's total ink limit (default 300)\n"
	    "      --pdf FILE     check a PDF already made (a print run) "
	    "page by page\n"
	    "                     for ink, RGB and picture resolution "
	    "(hairlines and\n"
	    "                     type sizes need the template)\n"
	    "  -h, --help         show this help\n", fp);
}

typedef struct run {
	qp_check_opts opts;
	const qp_template *t;
	qp_binding *b;
	qp_layout_ctx *ctx;
	size_t posters, errors, warnings;
	qp_laws laws;
	size_t **failed, **warned; /* per law and rule: posters */
	bool *seen;                /* per rule of one law, scratch */
	qp_prepress_opts press;    /* --print: each poster's print file */
	bool print;
} run;

/* Count, per law rule, the posters a finding in dl says it failed on. */
static void
tally(run *r, const qp_diag_list *dl)
{
	/* The profile's findings come before the laws' tables are made;
	 * they are never law findings. */
	if (r->seen == NULL)
		return;
	for (size_t k = 0; k < r->laws.n; k++) {
		const qp_law *law = r->laws.v[k];

		for (int warn = 0; warn < 2; warn++) {
			memset(r->seen, 0, law->nrules * sizeof *r->seen);
			for (size_t i = 0; i < dl->n; i++) {
				const qp_diag *d = &dl->v[i];
				size_t rule = (size_t)d->n[6];

				if (d->code < QP_D_LAW_PAGE_SIZE ||
				    d->code > QP_D_LAW_STALE || d->s[3] == NULL ||
				    strcmp(d->s[3], law->code) != 0 ||
				    rule < 1 || rule > law->nrules ||
				    (d->sev == QP_DIAG_WARNING) != (warn == 1))
					continue;
				r->seen[rule - 1] = true;
			}
			for (size_t i = 0; i < law->nrules; i++)
				if (r->seen[i])
					(warn ? r->warned : r->failed)[k][i]++;
		}
	}
}

/* After the findings: every rule of every law, met or not. */
static void
law_summary(const run *r)
{
	for (size_t k = 0; k < r->laws.n; k++) {
		const qp_law *law = r->laws.v[k];
		qp_buf b;

		qp_buf_init(&b);
		qp_buf_printf(&b, "law %s: %s, %s (compared with its sources "
		    "on %s); %zu poster%s:\n", law->code, law->jurisdiction,
		    law->citation, law->checked, r->posters,
		    r->posters == 1 ? "" : "s");
		for (size_t i = 0; i < law->nrules; i++) {
			const qp_law_rule *rule = &law->rules[i];
			size_t f = r->failed[k][i], w = r->warned[k][i];

			if (rule->kind == QP_LAW_BY_HAND)
				qp_buf_adds(&b, "  check by hand: ");
			else if (f)
				qp_buf_printf(&b, "  FAILED on %zu of %zu: ", f,
				    r->posters);
			else if (w)
				qp_buf_printf(&b, "  warned on %zu of %zu: ", w,
				    r->posters);
			else
				qp_buf_adds(&b, "  met: ");
			qp_law_rule_describe(rule, &b);
			if (rule->kind != QP_LAW_BY_HAND)
				qp_buf_printf(&b, " (%s)", rule->cite);
			qp_buf_addc(&b, '\n');
		}
		{
			qp_buf vis;
			qp_buf_init(&vis);
			qp_visible(b.data, &vis);
			fputs(vis.data, stdout);
			qp_buf_free(&vis);
		}
		qp_buf_free(&b);
	}
}

static void
print_findings(run *r, const char *label, qp_diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++) {
		qp_buf b;

		/* Data quoted in a message never reaches the terminal raw. */
		qp_buf_init(&b);
		qp_visible(label, &b);
		qp_buf_printf(&b, ": %s: ", qp_severity_name(dl->v[i].sev));
		qp_visible(dl->v[i].msg, &b);
		qp_buf_addc(&b, '\n');
		fputs(b.data, stdout);
		qp_buf_free(&b);
	}
	r->errors += dl->nerrors;
	r->warnings += dl->nwarnings;
	tally(r, dl);
	qp_diag_list_clear(dl);
}

/* Check one poster (rec NULL: no CSV row), trying every choice of the
 * variables with choices that nobody gave. where names the poster in
 * messages. */
static void
check_one(run *r, const qp_record *rec, const char *where)
{
	const qp_template *t = r->t;
	size_t vary[16], nvary = 0, combos = 1, idx[16] = {0};
	qp_values v;
	qp_diag_list dl;
	qp_buf label;

	qp_values_init(&v, t);
	qp_diag_list_init(&dl);
	if (!qp_binding_bind(r->b, rec, &v, &dl)) {
		/* The values are wrong whatever the choices. */
		print_findings(r, where, &dl);
		r->posters++;
		qp_values_free(&v);
		return;
	}
	for (size_t i = 0; i < t->nvars && nvary < 16; i++)
		if (t->vars[i].nchoices > 1 && !v.given[i] &&
		    qp_binding_used(r->b, i)) {
			vary[nvary++] = i;
			combos *= t->vars[i].nchoices;
			if (combos > MAX_COMBOS)
				break;
		}
	if (combos > MAX_COMBOS) {
		printf("%s: note: %zu combinations of choices; checking the "
		    "defaults only (set some with -s)\n", where, combos);
		nvary = 0;
		combos = 1;
	}
	qp_buf_init(&label);
	for (size_t c = 0; c < combos; c++) {
		size_t rest = c;
		qp_page *page;

		qp_buf_reset(&label);
		qp_buf_adds(&label, where);
		for (size_t k = 0; k < nvary; k++) {
			const qp_var *var = &t->vars[vary[k]];
			idx[k] = rest % var->nchoices;
			rest /= var->nchoices;
			v.v[vary[k]] = var->choices[idx[k]];
			qp_buf_printf(&label, "%s%s=%s", k ? ", " : " [",
			    var->name, var->choices[idx[k]]);
		}
		if (nvary)
			qp_buf_addc(&label, ']');
		page = qp_poster_page(r->ctx, t, &v, &r->opts, &dl);
		if (page && r->print) {
			qp_error err;

			if (!qp_prepress_page(page, &r->press, &dl, &err)) {
				qp_buf m;

				qp_buf_init(&m);
				qp_visible(label.data, &m);
				qp_buf_adds(&m, ": error: cannot make the print "
				    "file: ");
				qp_visible(err.msg, &m);
				puts(m.data);
				qp_buf_free(&m);
				r->errors++;
			}
		}
		qp_page_free(page);
		print_findings(r, label.data, &dl);
		r->posters++;
	}
	qp_buf_free(&label);
	qp_diag_list_clear(&dl);
	qp_values_free(&v);
}

/* check --pdf: a file already made, page by page. */
static int
check_pdf(const char *pdf, bool other, const qp_prepress_opts *o)
{
	qp_diag_list dl;
	qp_error err;
	int rc;

	if (other) {
		qp_cli_error("--pdf: checks a file alone (only --ink-limit goes "
		    "with it)");
		return QP_EXIT_USAGE;
	}
	qp_diag_list_init(&dl);
	if (!qp_prepress_file(pdf, NULL, o, &dl, &err)) {
		qp_cli_error("%s", err.msg);
		qp_diag_list_clear(&dl);
		return QP_EXIT_ERROR;
	}
	{
		run r = {0};
		print_findings(&r, pdf, &dl);
		printf("checked %s: %zu error%s, %zu warning%s\n", pdf,
		    r.errors, r.errors == 1 ? "" : "s", r.warnings,
		    r.warnings == 1 ? "" : "s");
		rc = r.errors ? QP_EXIT_ERROR : QP_EXIT_OK;
	}
	qp_diag_list_clear(&dl);
	return rc;
}

int
qp_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"template", required_argument, NULL, 't'},
		{"data", required_argument, NULL, 'd'},
		{"set", required_argument, NULL, 's'},
		{"bleed", required_argument, NULL, 'B'},
		{"law", required_argument, NULL, 'L'},
		{"profile", required_argument, NULL, 'P'},
		{"print", required_argument, NULL, 'p'},
		{"icc", required_argument, NULL, 'I'},
		{"ink-limit", required_argument, NULL, 'K'},
		{"pdf", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *tmpl_arg = NULL, *data = NULL, *profile = NULL;
	const char *print_mode = NULL, *icc = NULL, *pdf = NULL;
	qp_print_opts po = {0};
	char *owned_icc = NULL;
	qp_sets sets = {0};
	qp_template *t = NULL;
	qp_data *csv = NULL;
	run r = {0};
	qp_error err;
	int c, rc = QP_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:d:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': tmpl_arg = optarg; break;
		case 'd': data = optarg; break;
		case 's': qp_sets_add(&sets, optarg); break;
		case 'P': profile = optarg; break;
		case 'p': print_mode = optarg; break;
		case 'I': icc = optarg; break;
		case 'F': pdf = optarg; break;
		case 'K':
			/* "300" or "300%" */
			if (!qp_parse_number(optarg, strlen(optarg) -
			    (strlen(optarg) > 1 &&
			    optarg[strlen(optarg) - 1] == '%'),
			    &r.press.ink_limit) || r.press.ink_limit < 100 ||
			    r.press.ink_limit > 400) {
				qp_cli_error("--ink-limit '%s': give the total "
				    "ink in percent, 100 to 400 (presses ask "
				    "for 240 to 340)", optarg);
				goto done;
			}
			break;
		case 'B':
			if (!qp_cli_length("--bleed", optarg, &r.opts.bleed))
				goto done;
			break;
		case 'L':
			if (!qp_cli_laws_add(&r.laws, optarg))
				goto done;
			break;
		case 'h':
			check_usage(stdout);
			rc = QP_EXIT_OK;
			goto done;
		default:
			qp_cli_bad_option("check", argv, c);
			goto done;
		}
	}
	if (optind < argc) {
		qp_cli_error("check: unexpected argument '%s'", argv[optind]);
		goto done;
	}
	if (pdf) {
		rc = check_pdf(pdf, tmpl_arg || data || print_mode || icc ||
		    profile || sets.n || r.laws.n, &r.press);
		goto done;
	}
	if (tmpl_arg == NULL) {
		qp_cli_error("check: give a template with -t (see 'qrposter "
		    "check --help')");
		goto done;
	}
	if (r.press.ink_limit > 0 && print_mode == NULL) {
		qp_cli_error("--ink-limit: goes with --print cmyk or --pdf");
		goto done;
	}
	if (!qp_cli_print(print_mode, icc, &po, &owned_icc))
		goto done;
	if (print_mode) {
		po.jobs = 1;
		r.press.print = &po;
		r.print = true;
	}
	rc = QP_EXIT_ERROR;
	if ((t = qp_template_open(tmpl_arg, &err)) == NULL ||
	    !qp_fonts_add_template(t, &err)) {
		qp_cli_error("%s", err.msg);
		goto done;
	}
	r.b = qp_binding_new(t);
	if (profile) {
		qp_diag_list dl;

		qp_diag_list_init(&dl);
		if (!qp_cli_profile(profile, t, r.b, &dl)) {
			qp_diag_list_clear(&dl);
			goto done;
		}
		print_findings(&r, profile, &dl);
	}
	if (!qp_cli_bind_sets("check", r.b, &sets)) {
		rc = QP_EXIT_USAGE;
		goto done;
	}
	r.t = t;
	r.ctx = qp_layout_ctx_new();
	qp_cli_laws_opts(&r.laws, &r.opts);
	if (r.laws.n) {
		size_t most = 1;
		r.failed = qp_xcalloc(r.laws.n, sizeof *r.failed);
		r.warned = qp_xcalloc(r.laws.n, sizeof *r.warned);
		for (size_t k = 0; k < r.laws.n; k++) {
			size_t n = r.laws.v[k]->nrules;
			r.failed[k] = qp_xcalloc(n, sizeof **r.failed);
			r.warned[k] = qp_xcalloc(n, sizeof **r.warned);
			if (n > most)
				most = n;
		}
		r.seen = qp_xcalloc(most, sizeof *r.seen);
		r.warnings += qp_cli_laws_stale("check", &r.laws, true);
	}
	if (data == NULL)
		check_one(&r, NULL, t->path);
	else {
		size_t nrows = 0;
		qp_diag_list dl;
		qp_record rec;
		int got;

		if ((csv = qp_data_open(data, &err)) == NULL) {
			qp_cli_error("%s", err.msg);
			goto done;
		}
		/* As in batch: a cell gives its row's value, an empty cell
		 * leaves the default, and -s overrides the column for every
		 * row (bind.h). */
		qp_diag_list_init(&dl);
		if (!qp_binding_columns(r.b, csv, &dl)) {
			/* Every row would fail the same way. */
			char *where = qp_xasprintf("%s:1", qp_data_name(csv));
			print_findings(&r, where, &dl);
			free(where);
			goto summary;
		}
		{
			char *where = qp_xasprintf("%s:1", qp_data_name(csv));
			print_findings(&r, where, &dl);
			free(where);
		}
		/* Rows are streamed: a large CSV needs no more memory. */
		while ((got = qp_data_next(csv, &rec, &err)) == 1) {
			char *where = qp_xasprintf("%s:%zu: row %zu",
			    qp_data_name(csv), rec.line, rec.index + 1);

			check_one(&r, &rec, where);
			free(where);
			nrows++;
		}
		if (got < 0) {
			printf("%s\n", err.msg);
			r.errors++;
		} else if (nrows == 0)
			printf("%s: warning: no rows below the header\n",
			    qp_data_name(csv));
	}
summary:
	law_summary(&r);
	printf("checked %zu poster%s: %zu error%s, %zu warning%s\n",
	    r.posters, r.posters == 1 ? "" : "s", r.errors,
	    r.errors == 1 ? "" : "s", r.warnings, r.warnings == 1 ? "" : "s");
	rc = r.errors ? QP_EXIT_ERROR : QP_EXIT_OK;
done:
	for (size_t k = 0; r.failed && k < r.laws.n; k++) {
		free(r.failed[k]);
		free(r.warned[k]);
	}
	free(r.failed);
	free(r.warned);
	free(r.seen);
	qp_cli_laws_free(&r.laws);
	qp_layout_ctx_free(r.ctx);
	qp_data_close(csv);
	qp_binding_free(r.b);
	qp_template_free(t);
	qp_sets_free(&sets);
	free(owned_icc);
	return rc;
}
