/*
 * data.c - CSV records one at a time over libcsv.
 *
 * libcsv is a push parser: it is fed bytes and calls back at the end of
 * each field and record. We feed it one byte at a time from our own read
 * buffer, which costs little (a megabyte of CSV takes milliseconds) and
 * gives us two things a bulk feed cannot: we stop as soon as a record is
 * complete, so only one record is ever held, and we know the exact line
 * of every byte for error messages.
 */
#include "data.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A record longer than this is almost always a quote never closed; stop
 * before it swallows the rest of a large file into memory. */
#define MAX_RECORD (1024 * 1024)
#define READ_CHUNK 65536

struct qp_data {
	struct csv_parser p;
	FILE *fp;
	bool own_fp;
	char *name;
	unsigned char in[READ_CHUNK];
	size_t in_len, in_pos;
	bool eof, done, failed, first_chunk;

	size_t line;        /* line of the next byte */
	size_t rec_line;    /* line the current record started on */
	bool at_rec_start;  /* no byte of the current record seen yet */
	bool prev_cr;       /* the last byte was a carriage return */
	size_t rec_bytes;
	bool rec_ready;

	/* The record being built: fields back to back, NUL-terminated. */
	qp_buf buf;
	size_t *off, *len;
	size_t nf, capf;
	const char **ptrs;
	size_t capp;

	/* Header. */
	char **cols;
	size_t ncols;
	size_t nrecords; /* records returned after the header */
	size_t max_field, max_rows;
};

static void
on_field(void *s, size_t n, void *data)
{
	qp_data *d = data;

	if (d->nf == d->capf) {
		/* Two arrays of one capacity: both grow to the same. */
		size_t cap = d->capf;
		d->off = qp_grow(d->off, &cap, d->nf + 1, sizeof *d->off);
		d->len = qp_grow(d->len, &d->capf, d->nf + 1, sizeof *d->len);
	}
	d->off[d->nf] = d->buf.len;
	d->len[d->nf] = n;
	d->nf++;
	qp_buf_add(&d->buf, s ? s : "", s ? n : 0);
	qp_buf_addc(&d->buf, '\0');
}

static void
on_record(int c, void *data)
{
	qp_data *d = data;

	(void)c;
	d->rec_ready = true;
}

/* Only the comma and the line ends are special: spaces belong to the
 * field (RFC 4180), so libcsv must not trim them. */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static const char *
col_name(const qp_data *d, size_t i, char *buf, size_t n)
{
	if (i < d->ncols)
		return d->cols[i];
	snprintf(buf, n, "#%zu", i + 1);
	return buf;
}

static void
reset_record(qp_data *d)
{
	qp_buf_reset(&d->buf);
	d->nf = 0;
	d->rec_ready = false;
	d->at_rec_start = true;
	d->rec_bytes = 0;
}

/* Fill the read buffer; false at end of input or on a read error. */
static bool
refill(qp_data *d, qp_error *err)
{
	if (d->eof)
		return false;
	d->in_len = fread(d->in, 1, sizeof d->in, d->fp);
	d->in_pos = 0;
	if (d->in_len == 0) {
		if (ferror(d->fp)) {
			d->failed = true;
			return qp_fail(err, "%s: read error: %s", d->name,
			    strerror(errno));
		}
		d->eof = true;
		return false;
	}
	/* A UTF-8 byte order mark (Excel writes one) is not data. */
	if (d->first_chunk) {
		d->first_chunk = false;
		if (d->in_len >= 3 && memcmp(d->in, "\xEF\xBB\xBF", 3) == 0)
			d->in_pos = 3;
	}
	return true;
}

/*
 * Feed bytes until a record is complete. 1: a record is in d->buf; 0: end
 * of input; -1: error.
 */
static int
read_record(qp_data *d, qp_error *err)
{
	char cb[32];

	reset_record(d);
	for (;;) {
		unsigned char c;

		if (d->in_pos == d->in_len) {
			if (!refill(d, err)) {
				if (d->failed)
					return -1;
				break;
			}
			continue;
		}
		c = d->in[d->in_pos++];
		if (d->at_rec_start && c != '\n' && c != '\r') {
			d->at_rec_start = false;
			d->rec_line = d->line;
		}
		if (csv_parse(&d->p, &c, 1, on_field, on_record, d) != 1) {
			d->failed = true;
			if (csv_error(&d->p) == CSV_EPARSE)
				return qp_fail(err, "%s:%zu: column '%s': a "
				    "quote inside a field that is not quoted, "
				    "or text after a closing quote (write a "
				    "quote as \"\" inside a quoted field)",
				    d->name, d->line, col_name(d, d->nf, cb,
				    sizeof cb)), -1;
			return qp_fail(err, "%s:%zu: %s", d->name, d->line,
			    csv_strerror(csv_error(&d->p))), -1;
		}
		/* A line ends at LF, CR LF or a lone CR (old Mac files), as
		 * for libcsv. */
		if (c == '\r' || (c == '\n' && !d->prev_cr))
			d->line++;
		d->prev_cr = c == '\r';
		if (!d->at_rec_start && ++d->rec_bytes > MAX_RECORD) {
			d->failed = true;
			return qp_fail(err, "%s:%zu: a record longer than %d "
			    "bytes: a quote opened in column '%s' is probably "
			    "never closed", d->name, d->rec_line, MAX_RECORD,
			    col_name(d, d->nf, cb, sizeof cb)), -1;
		}
		if (d->rec_ready)
			return 1;
	}
	/* End of input: a last record without a line end, or a quote never
	 * closed. */
	if (csv_fini(&d->p, on_field, on_record, d) != 0) {
		d->failed = true;
		return qp_fail(err, "%s:%zu: column '%s': a quoted field is "
		    "never closed (the file ends inside it)", d->name,
		    d->rec_line, col_name(d, d->nf, cb, sizeof cb)), -1;
	}
	d->done = true;
	return d->rec_ready ? 1 : 0;
}

/* A line holding only spaces is blank, not a record of one field. */
static bool
record_is_blank(const qp_data *d)
{
	if (d->nf != 1)
		return false;
	for (size_t i = 0; i < d->len[0]; i++) {
		char c = d->buf.data[d->off[0] + i];
		if (c != ' ' && c != '\t')
			return false;
	}
	return true;
}

/* Line ends in s[0..n), counted as the reader counts them. */
static size_t
count_lines(const char *s, size_t n)
{
	size_t lines = 0;

	for (size_t k = 0; k < n; k++)
		lines += s[k] == '\r' || (s[k] == '\n' && (k == 0 ||
		    s[k - 1] != '\r'));
	return lines;
}

/*
 * Every field within the length limit; and, in the header (names that
 * appear in messages and pick variables), valid UTF-8 without NUL or
 * control characters; else an error at the exact line. A record's
 * fields are values: bind.h holds each one a poster uses to the value
 * rule, with its line and column, so a bad cell is a bad row.
 */
static bool
check_fields(const qp_data *d, bool header, qp_error *err)
{
	size_t line = d->rec_line;
	char cb[32];

	for (size_t i = 0; i < d->nf; i++) {
		const char *s = d->buf.data + d->off[i];
		size_t n = d->len[i], bad;
		const char *nul = memchr(s, '\0', n);

		if (n > d->max_field)
			return qp_fail(err, "%s:%zu: column '%s': a field of %zu "
			    "bytes; the limit is %zu", d->name, line,
			    col_name(d, i, cb, sizeof cb), n, d->max_field);
		if (!header) {
			line += count_lines(s, n);
			continue;
		}
		if (!qp_utf8_valid(s, n, &bad) || nul) {
			size_t at = nul && (size_t)(nul - s) < bad ?
			    (size_t)(nul - s) : bad;
			line += count_lines(s, at);
			if (nul && (size_t)(nul - s) == at)
				return qp_fail(err, "%s:%zu: column '%s': a NUL "
				    "byte at byte %zu of the field", d->name,
				    line, col_name(d, i, cb, sizeof cb),
				    at + 1);
			return qp_fail(err, "%s:%zu: column '%s': invalid "
			    "UTF-8 (byte 0x%02X at byte %zu of the field); "
			    "save the file as UTF-8", d->name, line,
			    col_name(d, i, cb, sizeof cb),
			    (unsigned char)s[at], at + 1);
		}
		size_t at;
		unsigned long cc = qp_text_control(s, n, &at);
		if (cc) {
			line += count_lines(s, at);
			return qp_fail(err, "%s:%zu: column '%s': a control "
			    "character (%s%0*lX) at byte %zu of the field; only "
			    "tab and line breaks are allowed in data",
			    d->name, line, col_name(d, i, cb, sizeof cb),
			    cc < 0x80 ? "\\x" : "U+", cc < 0x80 ? 2 : 4, cc,
			    at + 1);
		}
		line += count_lines(s, n);
	}
	return true;
}

static bool
read_header(qp_data *d, qp_error *err)
{
	int r;

	do {
		r = read_record(d, err);
	} while (r == 1 && record_is_blank(d));
	if (r < 0)
		return false;
	if (r == 0)
		return qp_fail(err, "%s: empty file: expected a header row "
		    "naming the columns (e.g. code,name)", d->name);
	if (!check_fields(d, true, err))
		return false;
	d->ncols = d->nf;
	d->cols = qp_xcalloc(d->ncols, sizeof *d->cols);
	for (size_t i = 0; i < d->nf; i++) {
		d->cols[i] = qp_xstrdup(d->buf.data + d->off[i]);
		if (d->cols[i][0] == '\0')
			return qp_fail(err, "%s:%zu: header: column %zu has no "
			    "name", d->name, d->rec_line, i + 1);
		for (size_t j = 0; j < i; j++)
			if (strcmp(d->cols[i], d->cols[j]) == 0)
				return qp_fail(err, "%s:%zu: header: column "
				    "'%s' appears twice (columns %zu and %zu)",
				    d->name, d->rec_line, d->cols[i], j + 1,
				    i + 1);
	}
	return true;
}

qp_data *
qp_data_open_stream(FILE *fp, const char *name, qp_error *err)
{
	qp_data *d = qp_xcalloc(1, sizeof *d);

	if (csv_init(&d->p, CSV_STRICT | CSV_STRICT_FINI |
	    CSV_APPEND_NULL) != 0) {
		free(d);
		qp_fail(err, "%s: cannot start the CSV parser", name);
		return NULL;
	}
	csv_set_space_func(&d->p, no_space);
	d->fp = fp;
	d->name = qp_xstrdup(name);
	d->line = 1;
	d->first_chunk = true;
	d->max_field = QP_DATA_MAX_FIELD;
	d->max_rows = QP_DATA_MAX_ROWS;
	qp_buf_init(&d->buf);
	if (!read_header(d, err)) {
		qp_data_close(d);
		return NULL;
	}
	return d;
}

qp_data *
qp_data_open(const char *path, qp_error *err)
{
	if (strcmp(path, "-") == 0)
		return qp_data_open_stream(stdin, "<stdin>", err);
	return qp_data_open_named(path, path, err);
}

qp_data *
qp_data_open_named(const char *path, const char *name, qp_error *err)
{
	FILE *fp;
	qp_data *d;

	if ((fp = fopen(path, "rb")) == NULL) {
		qp_fail(err, "%s: %s", name, strerror(errno));
		return NULL;
	}
	d = qp_data_open_stream(fp, name, err);
	if (d == NULL)
		fclose(fp);
	else
		d->own_fp = true;
	return d;
}

void
qp_data_close(qp_data *d)
{
	if (d == NULL)
		return;
	csv_free(&d->p);
	if (d->own_fp)
		fclose(d->fp);
	for (size_t i = 0; i < d->ncols; i++)
		free(d->cols[i]);
	free(d->cols);
	qp_buf_free(&d->buf);
	free(d->off);
	free(d->len);
	free(d->ptrs);
	free(d->name);
	free(d);
}

void
qp_data_set_limits(qp_data *d, size_t max_field, size_t max_rows)
{
	if (max_field)
		d->max_field = max_field;
	if (max_rows)
		d->max_rows = max_rows;
}

size_t
qp_data_ncols(const qp_data *d)
{
	return d->ncols;
}

const char *
qp_data_col(const qp_data *d, size_t i)
{
	return i < d->ncols ? d->cols[i] : NULL;
}

long
qp_data_col_index(const qp_data *d, const char *name)
{
	for (size_t i = 0; i < d->ncols; i++)
		if (strcmp(d->cols[i], name) == 0)
			return (long)i;
	return -1;
}

const char *
qp_data_name(const qp_data *d)
{
	return d->name;
}

int
qp_data_next(qp_data *d, qp_record *rec, qp_error *err)
{
	int r;

	if (d->failed)
		return qp_fail(err, "%s: the reader stopped at an earlier "
		    "error", d->name), -1;
	if (d->done)
		return 0;
	do {
		r = read_record(d, err);
	} while (r == 1 && record_is_blank(d));
	if (r <= 0)
		return r;
	if (d->nrecords >= d->max_rows) {
		d->failed = true;
		return qp_fail(err, "%s:%zu: more than %zu rows; the limit is "
		    "%zu (split the file)", d->name, d->rec_line, d->max_rows,
		    d->max_rows), -1;
	}
	if (!check_fields(d, false, err)) {
		d->failed = true;
		return -1;
	}
	if (d->nf != d->ncols) {
		d->failed = true;
		return qp_fail(err, "%s:%zu: %zu field%s but the header has "
		    "%zu column%s (a stray comma, or a field with a comma "
		    "that is not quoted?)", d->name, d->rec_line, d->nf,
		    d->nf == 1 ? "" : "s", d->ncols, d->ncols == 1 ? "" : "s"),
		    -1;
	}
	d->ptrs = qp_grow(d->ptrs, &d->capp, d->nf, sizeof *d->ptrs);
	for (size_t i = 0; i < d->nf; i++)
		d->ptrs[i] = d->buf.data + d->off[i];
	rec->index = d->nrecords++;
	rec->line = d->rec_line;
	rec->fields = d->ptrs;
	rec->lens = d->len;
	return 1;
}
