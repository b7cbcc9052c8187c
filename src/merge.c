/*
 * merge.c - shards of a print run back into one (see merge.h).
 *
 * Three passes over the manifests, none holding more than a line of
 * each: the first checks each shard on its own and together; the
 * second gives pdfjoin the page order while it writes the PDF; the third
 * writes the merged manifest, which needs the merged file's SHA-256.
 */
#include "merge.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "data.h"
#include "pdfjoin.h"

enum { C_ROW, C_LINE, C_CODE, C_FILE, C_PAGE, C_PAYLOAD, C_SHA, C_STATUS,
    C_INPUTS, C_SHARD, C_RUN };

typedef struct shard {
	const char *pdf;
	char *man;
	long k, n;
	char run[65], sha[65];
	size_t rows, pages, failed;
	/* While the manifests are read side by side. */
	qp_data *d;
	long c[QP_MANIFEST_NCOLS];
	size_t seen;
} shard;

char *
qp_merge_manifest_path(const char *pdf)
{
	size_t len = strlen(pdf);

	if (len > 4 && strcmp(pdf + len - 4, ".pdf") == 0)
		len -= 4;
	return qp_xasprintf("%.*s.manifest.csv", (int)len, pdf);
}

char *
qp_merge_run_name(const char *pdf)
{
	size_t len = strlen(pdf), i;
	const char *slash = strrchr(pdf, '/');
	size_t start = slash ? (size_t)(slash - pdf) + 1 : 0;

	/* Back over ".pdf", N, "-of-", K, "-". */
	if (len < 4 || strcmp(pdf + len - 4, ".pdf") != 0)
		return NULL;
	i = len - 4;
	if (i == start || pdf[i - 1] < '0' || pdf[i - 1] > '9')
		return NULL;
	while (i > start && pdf[i - 1] >= '0' && pdf[i - 1] <= '9')
		i--;
	if (i - start < 4 || strncmp(pdf + i - 4, "-of-", 4) != 0)
		return NULL;
	i -= 4;
	if (i == start || pdf[i - 1] < '0' || pdf[i - 1] > '9')
		return NULL;
	while (i > start && pdf[i - 1] >= '0' && pdf[i - 1] <= '9')
		i--;
	if (i - start < 2 || pdf[i - 1] != '-')
		return NULL;
	return qp_xasprintf("%.*s.pdf", (int)(i - 1), pdf);
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return false;
	return i == 64;
}

static bool
parse_kn(const char *s, long *k, long *n)
{
	const char *sl = strchr(s, '/');
	char *a;
	bool ok;

	if (sl == NULL)
		return false;
	a = qp_xstrndup(s, (size_t)(sl - s));
	ok = qp_parse_int(sl + 1, 1, 1000000, n) && qp_parse_int(a, 1, *n, k);
	free(a);
	return ok;
}

/* Open s's manifest and find its columns. */
static bool
manifest_open(shard *s, qp_error *err)
{
	qp_error e;

	if ((s->d = qp_data_open(s->man, &e)) == NULL)
		return qp_fail(err, "the manifest of '%s': %s", s->pdf, e.msg);
	for (size_t i = 0; i < QP_MANIFEST_NCOLS; i++)
		if ((s->c[i] = qp_data_col_index(s->d, qp_manifest_cols[i])) <
		    0) {
			qp_fail(err, "'%s' has no column '%s': not a manifest "
			    "of a print run made by this qrposter (make the "
			    "shard again)", s->man, qp_manifest_cols[i]);
			qp_data_close(s->d);
			s->d = NULL;
			return false;
		}
	s->seen = 0;
	return true;
}

static void
manifest_close(shard *s)
{
	qp_data_close(s->d);
	s->d = NULL;
}

static const char *
field(const shard *s, const qp_record *r, int col)
{
	return r->fields[s->c[col]];
}

/* Pass 1: one shard's manifest on its own. */
static bool
scan_shard(shard *s, qp_error *err)
{
	qp_record rec;
	int r;
	bool ok = false;

	if (!manifest_open(s, err))
		return false;
	while ((r = qp_data_next(s->d, &rec, err)) == 1) {
		const char *status = field(s, &rec, C_STATUS);
		long row, k, n, page;

		if (!parse_kn(field(s, &rec, C_SHARD), &k, &n) ||
		    !is_hex64(field(s, &rec, C_RUN)) ||
		    !qp_parse_int(field(s, &rec, C_ROW), 1, QP_DATA_MAX_ROWS,
		    &row)) {
			qp_fail(err, "%s:%zu: not a manifest line (row, shard "
			    "K/N and run_sha256 expected)", s->man, rec.line);
			goto done;
		}
		if (s->rows == 0) {
			s->k = k;
			s->n = n;
			snprintf(s->run, sizeof s->run, "%s",
			    field(s, &rec, C_RUN));
		} else if (k != s->k || n != s->n ||
		    strcmp(s->run, field(s, &rec, C_RUN)) != 0) {
			qp_fail(err, "%s:%zu: the line is of another shard or "
			    "run than the lines before it", s->man, rec.line);
			goto done;
		}
		if (row != s->k + (long)s->rows * s->n) {
			qp_fail(err, "%s:%zu: row %ld, where shard %ld of %ld "
			    "has row %ld: the manifest is incomplete or out of "
			    "order", s->man, rec.line, row, s->k, s->n,
			    s->k + (long)s->rows * s->n);
			goto done;
		}
		s->rows++;
		if (strcmp(status, "ok") != 0) {
			if (strncmp(status, "error", 5) != 0 ||
			    *field(s, &rec, C_PAGE) != '\0') {
				qp_fail(err, "%s:%zu: row %ld has status '%.60s'"
				    ", neither 'ok' nor an error", s->man,
				    rec.line, row, status);
				goto done;
			}
			s->failed++;
			continue;
		}
		if (!qp_parse_int(field(s, &rec, C_PAGE), 1, LONG_MAX, &page) ||
		    !is_hex64(field(s, &rec, C_SHA))) {
			qp_fail(err, "%s:%zu: row %ld is 'ok' without a page "
			    "and a SHA-256", s->man, rec.line, row);
			goto done;
		}
		if ((size_t)page == s->pages && s->pages > 0) {
			qp_fail(err, "%s:%zu: rows %ld and %ld share page %ld: "
			    "the shard is imposed (several posters a sheet), "
			    "and sheets of one shard's posters cannot be put "
			    "back in the single run's order (merge shards of "
			    "one poster a page)",
			    s->man, rec.line, row - s->n, row, page);
			goto done;
		}
		if ((size_t)page != s->pages + 1) {
			qp_fail(err, "%s:%zu: row %ld is on page %ld, after "
			    "page %zu: the manifest is out of order", s->man,
			    rec.line, row, page, s->pages);
			goto done;
		}
		s->pages++;
		if (s->pages == 1)
			snprintf(s->sha, sizeof s->sha, "%s",
			    field(s, &rec, C_SHA));
		else if (strcmp(s->sha, field(s, &rec, C_SHA)) != 0) {
			qp_fail(err, "%s:%zu: row %ld gives the PDF another "
			    "SHA-256 than the rows before it", s->man,
			    rec.line, row);
			goto done;
		}
	}
	if (r < 0)
		goto done;
	if (s->rows == 0 || s->pages == 0) {
		qp_fail(err, "'%s' lists no %s", s->man, s->rows ? "pages" :
		    "rows");
		goto done;
	}
	ok = true;
done:
	manifest_close(s);
	return ok;
}

static int
by_k(const void *a, const void *b)
{
	const shard *x = a, *y = b;

	return (x->k > y->k) - (x->k < y->k);
}

/* Pass 1, together: one run, every K once, the row counts adding up. */
static bool
check_set(shard *sh, size_t ns, size_t *total, qp_error *err)
{
	long n = sh[0].n;
	size_t t = 0;

	for (size_t i = 1; i < ns; i++)
		if (strcmp(sh[i].run, sh[0].run) != 0)
			return qp_fail(err, "'%s' and '%s' are shards of "
			    "different runs: their manifests' run_sha256 "
			    "differ, so the template, the options, the CSV or "
			    "the values set for every row were not the same",
			    sh[0].man,
			    sh[i].man);
		else if (sh[i].n != n)
			return qp_fail(err, "'%s' is shard %ld of %ld, '%s' "
			    "shard %ld of %ld: shards of one run have one N",
			    sh[0].man, sh[0].k, sh[0].n, sh[i].man, sh[i].k,
			    sh[i].n);
	qsort(sh, ns, sizeof *sh, by_k);
	for (size_t i = 1; i < ns; i++)
		if (sh[i].k == sh[i - 1].k)
			return qp_fail(err, "'%s' and '%s' are both shard %ld "
			    "of %ld", sh[i - 1].pdf, sh[i].pdf, sh[i].k, n);
	for (size_t i = 0; i < (size_t)n; i++)
		if (i >= ns || sh[i].k != (long)i + 1) {
			qp_buf have;
			qp_buf_init(&have);
			for (size_t k = 0; k < ns && k < 20; k++)
				qp_buf_printf(&have, "%s%ld", k ? ", " : "",
				    sh[k].k);
			if (ns > 20)
				qp_buf_adds(&have, ", ...");
			qp_fail(err, "shard %zu of %ld is missing (given: %s "
			    "of %ld)", i + 1, n, have.data, n);
			qp_buf_free(&have);
			return false;
		}
	for (size_t i = 0; i < ns; i++)
		t += sh[i].rows;
	for (size_t i = 0; i < ns; i++) {
		size_t want = t >= (size_t)sh[i].k ?
		    (t - (size_t)sh[i].k) / (size_t)n + 1 : 0;
		if (sh[i].rows != want)
			return qp_fail(err, "'%s' lists %zu rows, but shard %ld "
			    "of a %zu-row run has %zu: a manifest is incomplete",
			    sh[i].man, sh[i].rows, sh[i].k, t, want);
	}
	*total = t;
	return true;
}

/* The next line of the run, row r + 1 (passes 2 and 3). */
typedef struct walk {
	shard *sh;
	size_t ns, total, r;
	size_t page; /* merged pages so far */
	qp_record rec;
	shard *s;    /* the record's shard */
} walk;

static bool
walk_open(walk *w, shard *sh, size_t ns, size_t total, qp_error *err)
{
	memset(w, 0, sizeof *w);
	w->sh = sh;
	w->ns = ns;
	w->total = total;
	for (size_t i = 0; i < ns; i++)
		if (!manifest_open(&sh[i], err))
			return false;
	return true;
}

static void
walk_close(walk *w)
{
	for (size_t i = 0; i < w->ns; i++)
		manifest_close(&w->sh[i]);
}

/* 1 with w->rec the next row's line, 0 at the end, -1 on an error
 * (the manifests changed since they were checked). */
static int
walk_next(walk *w, qp_error *err)
{
	shard *s;
	long row;
	int r;

	if (w->r == w->total)
		return 0;
	s = &w->sh[w->r % w->ns];
	r = qp_data_next(s->d, &w->rec, err);
	if (r < 0)
		return -1;
	if (r == 0 || !qp_parse_int(field(s, &w->rec, C_ROW), 1,
	    QP_DATA_MAX_ROWS, &row) || (size_t)row != w->r + 1) {
		qp_fail(err, "'%s' changed while it was read", s->man);
		return -1;
	}
	w->r++;
	w->s = s;
	if (strcmp(field(s, &w->rec, C_STATUS), "ok") == 0)
		w->page++;
	return 1;
}

static bool
walk_is_ok(const walk *w)
{
	return strcmp(field(w->s, &w->rec, C_STATUS), "ok") == 0;
}

/* pdfjoin's page order: the good rows' shards, in row order. */
static int
next_page(void *arg, size_t *input, qp_error *err)
{
	walk *w = arg;
	int r;

	while ((r = walk_next(w, err)) == 1)
		if (walk_is_ok(w)) {
			*input = (size_t)(w->s - w->sh);
			return 1;
		}
	return r;
}

/* Pass 3: the merged manifest, as a single run writes it. */
static bool
write_manifest(qp_outfile *of, walk *w, const char *output,
    const char *sha, qp_error *err)
{
	qp_buf line;
	char page[32];
	int r;

	qp_buf_init(&line);
	for (size_t i = 0; i < QP_MANIFEST_NCOLS; i++)
		qp_manifest_field(&line, qp_manifest_cols[i],
		    i + 1 == QP_MANIFEST_NCOLS);
	qp_outfile_write(of, line.data, line.len);
	while ((r = walk_next(w, err)) == 1) {
		const shard *s = w->s;
		bool ok = walk_is_ok(w);

		snprintf(page, sizeof page, "%zu", w->page);
		qp_buf_reset(&line);
		for (int c = C_ROW; c <= C_RUN; c++) {
			const char *v = field(s, &w->rec, c);
			if (c == C_FILE)
				v = ok ? output : "";
			else if (c == C_PAGE)
				v = ok ? page : "";
			else if (c == C_SHA)
				v = ok ? sha : "";
			else if (c == C_SHARD)
				v = "1/1";
			qp_manifest_field(&line, v, c == C_RUN);
		}
		qp_outfile_write(of, line.data, line.len);
	}
	qp_buf_free(&line);
	return r == 0;
}

/* An output must not be one of the inputs (or the other output). */
static bool
check_outputs(const shard *sh, size_t ns, const char *out, const char *man,
    qp_error *err)
{
	struct stat a, b;
	const char *outs[2] = {out, man};

	if (stat(out, &a) == 0 && stat(man, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return qp_fail(err, "'%s' would be both the merged PDF and its "
		    "manifest", out);
	if (strcmp(out, man) == 0)
		return qp_fail(err, "'%s' would be both the merged PDF and its "
		    "manifest", out);
	for (int o = 0; o < 2; o++) {
		if (stat(outs[o], &a) != 0)
			continue;
		for (size_t i = 0; i < ns; i++) {
			const char *in[2] = {sh[i].pdf, sh[i].man};
			for (int k = 0; k < 2; k++)
				if (stat(in[k], &b) == 0 &&
				    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
					return qp_fail(err, "'%s' is %s%s: an "
					    "output must not replace an input "
					    "(choose another output name)",
					    outs[o], k ? "the manifest of " :
					    "the shard ", sh[i].pdf);
		}
	}
	return true;
}

bool
qp_merge_run(const qp_merge_opts *o, qp_merge_stats *st, qp_error *err)
{
	size_t ns = o->nshards, total = 0;
	shard *sh = qp_xcalloc(ns ? ns : 1, sizeof *sh);
	const char **paths = qp_xcalloc(ns ? ns : 1, sizeof *paths);
	char *man = o->manifest ? qp_xstrdup(o->manifest) :
	    qp_merge_manifest_path(o->output);
	qp_pdfjoin *j = NULL;
	qp_outfile pdf, mf;
	bool pdf_open = false, mf_open = false, ok = false;
	char sha[65];
	walk w;

	memset(st, 0, sizeof *st);
	memset(&w, 0, sizeof w);
	if (ns == 0) {
		qp_fail(err, "no shards to merge");
		goto done;
	}
	for (size_t i = 0; i < ns; i++) {
		sh[i].pdf = o->shards[i];
		sh[i].man = qp_merge_manifest_path(o->shards[i]);
		if (!scan_shard(&sh[i], err))
			goto done;
	}
	if (!check_set(sh, ns, &total, err))
		goto done;
	for (size_t i = 0; i < ns; i++) {
		char have[65];
		if (!qp_file_sha256(sh[i].pdf, have, err))
			goto done;
		if (strcmp(have, sh[i].sha) != 0) {
			qp_fail(err, "'%s' does not match its manifest '%s': the "
			    "file's SHA-256 is %.16s..., the manifest's "
			    "%.16s... (the PDF was changed, or is of another "
			    "run)", sh[i].pdf, sh[i].man, have, sh[i].sha);
			goto done;
		}
		paths[i] = sh[i].pdf;
	}
	if ((j = qp_pdfjoin_open(paths, ns, err)) == NULL)
		goto done;
	for (size_t i = 0; i < ns; i++)
		if (qp_pdfjoin_npages(j, i) != sh[i].pages) {
			qp_fail(err, "'%s' has %zu pages, its manifest '%s' %zu",
			    sh[i].pdf, qp_pdfjoin_npages(j, i), sh[i].man,
			    sh[i].pages);
			goto done;
		}
	if (!check_outputs(sh, ns, o->output, man, err))
		goto done;
	if (!qp_outfile_open(&pdf, o->output, err))
		goto done;
	pdf_open = true;
	if (!qp_outfile_open(&mf, man, err))
		goto done;
	mf_open = true;

	if (!walk_open(&w, sh, ns, total, err) ||
	    !qp_pdfjoin_write(j, &pdf, o->compact, next_page, &w, sha, err))
		goto done;
	st->pages = w.page;
	walk_close(&w);
	if (!walk_open(&w, sh, ns, total, err) ||
	    !write_manifest(&mf, &w, o->output, sha, err))
		goto done;
	walk_close(&w);
	pdf_open = false;
	if (!qp_outfile_commit(&pdf, err))
		goto done;
	mf_open = false;
	if (!qp_outfile_commit(&mf, err)) {
		/* A print run without its manifest is a partial result. */
		(void)unlink(o->output);
		goto done;
	}
	st->shards = ns;
	st->rows = total;
	for (size_t i = 0; i < ns; i++)
		st->failed += sh[i].failed;
	snprintf(st->manifest, sizeof st->manifest, "%s", man);
	ok = true;
done:
	walk_close(&w);
	if (pdf_open)
		qp_outfile_abort(&pdf);
	if (mf_open)
		qp_outfile_abort(&mf);
	qp_pdfjoin_free(j);
	for (size_t i = 0; i < ns; i++) {
		manifest_close(&sh[i]);
		free(sh[i].man);
	}
	free(sh);
	free(paths);
	free(man);
	return ok;
}
