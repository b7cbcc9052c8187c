/*
 * cmd_check.c - "qrposter check": lay out every poster without writing
 * any and report what would fail on the wall.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "data.h"
#include "datadir.h"
#include "fonts.h"

/* More language/choice combinations than this per row: defaults only. */
#define MAX_COMBOS 64

static void
check_usage(FILE *fp)
{
	fputs("usage: qrposter check -t TEMPLATE [-d LOCATIONS.csv] "
	    "[-s KEY=VALUE]...\n\n"
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
	    "      --bleed LEN    the posters will be printed with this bleed "
	    "and\n"
	    "                     trimmed: nothing may cross the template's "
	    "margin\n"
	    "  -h, --help         show this help\n", fp);
}

typedef struct run {
	qp_check_opts opts;
	const qp_template *t;
	qp_layout_ctx *ctx;
	size_t posters, errors, warnings;
} run;

/* Check one set of values, trying every choice of the variables in
 * vary[] (those nobody set). where names the poster in messages. */
static void
check_one(run *r, const char **values, const char *where, const bool *given)
{
	const qp_template *t = r->t;
	size_t vary[16], nvary = 0, combos = 1, idx[16] = {0};
	qp_diag_list dl;
	qp_buf label;

	for (size_t i = 0; i < t->nvars && nvary < 16; i++)
		if (t->vars[i].nchoices > 1 && !given[i] &&
		    qp_template_var_used(t, i)) {
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
	qp_diag_list_init(&dl);
	qp_buf_init(&label);
	for (size_t c = 0; c < combos; c++) {
		size_t rest = c;

		qp_buf_reset(&label);
		qp_buf_adds(&label, where);
		for (size_t k = 0; k < nvary; k++) {
			const qp_var *v = &t->vars[vary[k]];
			idx[k] = rest % v->nchoices;
			rest /= v->nchoices;
			values[vary[k]] = v->choices[idx[k]];
			qp_buf_printf(&label, "%s%s=%s", k ? ", " : " [",
			    v->name, v->choices[idx[k]]);
		}
		if (nvary)
			qp_buf_addc(&label, ']');
		qp_check_poster(r->ctx, t, values, &r->opts, &dl, NULL);
		for (size_t i = 0; i < dl.n; i++)
			printf("%s: %s: %s\n", label.data,
			    qp_severity_name(dl.v[i].sev), dl.v[i].msg);
		r->posters++;
		r->errors += dl.nerrors;
		r->warnings += dl.nwarnings;
		qp_diag_list_clear(&dl);
	}
	qp_buf_free(&label);
}

int
qp_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"template", required_argument, NULL, 't'},
		{"data", required_argument, NULL, 'd'},
		{"set", required_argument, NULL, 's'},
		{"bleed", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *tmpl_arg = NULL, *data = NULL;
	qp_sets sets = {0};
	qp_template *t = NULL;
	qp_data *csv = NULL;
	const char **base = NULL, **values = NULL;
	long *colvar = NULL;
	bool *given = NULL;
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
		case 'B':
			if (!qp_cli_length("--bleed", optarg, &r.opts.bleed))
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
	if (tmpl_arg == NULL) {
		qp_cli_error("check: give a template with -t (see 'qrposter "
		    "check --help')");
		goto done;
	}
	rc = QP_EXIT_ERROR;
	if ((t = qp_template_open(tmpl_arg, &err)) == NULL ||
	    !qp_fonts_add_template(t, &err)) {
		qp_cli_error("%s", err.msg);
		goto done;
	}
	base = qp_xcalloc(t->nvars + 1, sizeof *base);
	values = qp_xcalloc(t->nvars + 1, sizeof *values);
	given = qp_xcalloc(t->nvars + 1, sizeof *given);
	if (!qp_bind_sets(t, sets.v, sets.n, base, &err)) {
		qp_cli_fail("check", NULL, &err);
		rc = qp_cli_status(&err);
		goto done;
	}
	for (size_t i = 0; i < sets.n; i++) {
		size_t klen = strcspn(sets.v[i], "=");
		for (size_t j = 0; j < t->nvars; j++)
			if (strlen(t->vars[j].name) == klen &&
			    !strncmp(t->vars[j].name, sets.v[i], klen))
				given[j] = true;
	}
	r.t = t;
	r.ctx = qp_layout_ctx_new();
	if (data == NULL) {
		memcpy(values, base, t->nvars * sizeof *values);
		check_one(&r, values, t->path, given);
	} else {
		bool *row_given = qp_xcalloc(t->nvars + 1, sizeof *row_given);
		size_t nrows = 0;
		qp_record rec;
		int got;

		if ((csv = qp_data_open(data, &err)) == NULL) {
			qp_cli_error("%s", err.msg);
			free(row_given);
			goto done;
		}
		colvar = qp_xcalloc(qp_data_ncols(csv) + 1, sizeof *colvar);
		for (size_t j = 0; j < qp_data_ncols(csv); j++) {
			const char *col = qp_data_col(csv, j);

			colvar[j] = qp_template_var(t, col);
			if (colvar[j] < 0) {
				const char *near = qp_nearest(col,
				    t->var_names, t->nvars);
				printf("%s:1: warning: column '%s' is not a "
				    "variable of %s; it is ignored%s%s%s\n",
				    qp_data_name(csv), col, t->path,
				    near ? " (did you mean '" : "",
				    near ? near : "", near ? "'?)" : "");
				r.warnings++;
			}
		}
		/* Rows are streamed: a large CSV needs no more memory. */
		while ((got = qp_data_next(csv, &rec, &err)) == 1) {
			char *where = qp_xasprintf("%s:%zu: row %zu",
			    qp_data_name(csv), rec.line, rec.index + 1);

			memcpy(values, base, t->nvars * sizeof *values);
			memcpy(row_given, given, t->nvars * sizeof *given);
			/*
			 * As in batch: a cell gives its row's value, an
			 * empty cell leaves the default, and -s overrides
			 * the column for every row.
			 */
			for (size_t j = 0; j < qp_data_ncols(csv); j++)
				if (colvar[j] >= 0 && rec.fields[j][0] &&
				    !given[colvar[j]]) {
					values[colvar[j]] = rec.fields[j];
					row_given[colvar[j]] = true;
				}
			check_one(&r, values, where, row_given);
			free(where);
			nrows++;
		}
		free(row_given);
		if (got < 0) {
			printf("%s\n", err.msg);
			r.errors++;
		} else if (nrows == 0)
			printf("%s: warning: no rows below the header\n",
			    qp_data_name(csv));
	}
	printf("checked %zu poster%s: %zu error%s, %zu warning%s\n",
	    r.posters, r.posters == 1 ? "" : "s", r.errors,
	    r.errors == 1 ? "" : "s", r.warnings, r.warnings == 1 ? "" : "s");
	rc = r.errors ? QP_EXIT_ERROR : QP_EXIT_OK;
done:
	qp_layout_ctx_free(r.ctx);
	qp_data_close(csv);
	free(colvar);
	free(given);
	free(values);
	free(base);
	qp_template_free(t);
	qp_sets_free(&sets);
	return rc;
}
