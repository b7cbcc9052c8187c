/*
 * check_csv.c - a small CSV table reader for "qrposter check -d".
 *
 * MERGE NOTE: this exists only because src/data.{c,h} (the batch
 * engineer's streaming reader over libcsv) was not in this tree when
 * "check" was written. At merge, read rows through data.h in
 * cmd_check.c and delete this file and qp_check_table from check.h.
 */
#include "check.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
	qp_check_table *tab;
	char **fields; /* the row being read */
	size_t nfields;
	size_t line;      /* line being fed */
	size_t row_start; /* line where the current row began */
	bool header_done;
	bool bad_utf8;
	size_t bad_line;
	size_t bad_row, bad_row_line, bad_row_fields; /* first ragged row */
} reader;

static void
on_field(void *data, size_t len, void *p)
{
	reader *r = p;

	if (!qp_utf8_valid(data ? data : "", len, NULL) && !r->bad_utf8) {
		r->bad_utf8 = true;
		r->bad_line = r->line;
	}
	r->fields = qp_xrealloc(r->fields,
	    (r->nfields + 1) * sizeof *r->fields);
	r->fields[r->nfields++] = qp_xstrndup(data ? data : "", len);
}

static void
on_row(int c, void *p)
{
	reader *r = p;
	qp_check_table *t = r->tab;

	(void)c;
	if (!r->header_done) {
		t->cols = r->fields;
		t->ncols = r->nfields;
		r->header_done = true;
	} else {
		t->rows = qp_xrealloc(t->rows, (t->nrows + 1) * sizeof *t->rows);
		t->lines = qp_xrealloc(t->lines,
		    (t->nrows + 1) * sizeof *t->lines);
		/* A ragged row is remembered (the load fails on it) and
		 * padded or cut to the header so the table stays square. */
		if (r->nfields != t->ncols && r->bad_row == 0) {
			r->bad_row = t->nrows + 1;
			r->bad_row_line = r->row_start;
			r->bad_row_fields = r->nfields;
		}
		for (size_t i = t->ncols; i < r->nfields; i++)
			free(r->fields[i]);
		r->fields = qp_xrealloc(r->fields,
		    (t->ncols ? t->ncols : 1) * sizeof *r->fields);
		for (size_t i = r->nfields; i < t->ncols; i++)
			r->fields[i] = qp_xstrdup("");
		t->rows[t->nrows] = r->fields;
		t->lines[t->nrows] = r->row_start;
		t->nrows++;
	}
	r->fields = NULL;
	r->nfields = 0;
	r->row_start = r->line + 1;
}

qp_check_table *
qp_check_table_load(const char *path, qp_error *err)
{
	struct csv_parser cp;
	reader r = {0};
	FILE *fp = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool ok = false;

	r.tab = qp_xcalloc(1, sizeof *r.tab);
	r.row_start = 1;
	if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		qp_fail(err, "%s: cannot start the CSV parser", path);
		goto done;
	}
	if ((fp = fopen(path, "rb")) == NULL) {
		qp_fail(err, "%s: cannot open: %s", path, strerror(errno));
		goto fini;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		const char *s = line;

		r.line++;
		if (r.line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			n -= 3;
		}
		if (csv_parse(&cp, s, (size_t)n, on_field, on_row, &r) !=
		    (size_t)n) {
			qp_fail(err, "%s:%zu: %s", path, r.line,
			    csv_strerror(csv_error(&cp)));
			goto fini;
		}
	}
	if (ferror(fp)) {
		qp_fail(err, "%s: cannot read: %s", path, strerror(errno));
		goto fini;
	}
	if (csv_fini(&cp, on_field, on_row, &r) != 0) {
		qp_fail(err, "%s:%zu: %s (a quoted field is not closed)", path,
		    r.row_start, csv_strerror(csv_error(&cp)));
		goto fini;
	}
	if (r.bad_utf8) {
		qp_fail(err, "%s:%zu: not valid UTF-8; save the file as UTF-8 "
		    "(in Excel: CSV UTF-8)", path, r.bad_line);
		goto fini;
	}
	if (!r.header_done || r.tab->ncols == 0) {
		qp_fail(err, "%s: empty; the first row must name the "
		    "variables (e.g. code,name)", path);
		goto fini;
	}
	if (r.bad_row) {
		qp_fail(err, "%s:%zu: row %zu has %zu fields; the header has %zu",
		    path, r.bad_row_line, r.bad_row, r.bad_row_fields,
		    r.tab->ncols);
		goto fini;
	}
	ok = true;
fini:
	csv_free(&cp);
done:
	if (fp)
		fclose(fp);
	free(line);
	for (size_t i = 0; i < r.nfields; i++)
		free(r.fields[i]);
	free(r.fields);
	if (!ok) {
		qp_check_table_free(r.tab);
		return NULL;
	}
	return r.tab;
}

void
qp_check_table_free(qp_check_table *tab)
{
	if (tab == NULL)
		return;
	for (size_t i = 0; i < tab->ncols; i++)
		free(tab->cols[i]);
	free(tab->cols);
	for (size_t i = 0; i < tab->nrows; i++) {
		for (size_t j = 0; j < tab->ncols; j++)
			free(tab->rows[i][j]);
		free(tab->rows[i]);
	}
	free(tab->rows);
	free(tab->lines);
	free(tab);
}
