/*
 * data.h - location records from CSV, one at a time (libcsv underneath).
 *
 * The first record is the header: its fields name the columns. Quoting
 * follows RFC 4180 (commas, quotes and newlines inside quoted fields); a
 * UTF-8 byte order mark, CRLF line ends and blank lines are accepted.
 * The header's names must be valid UTF-8 without NUL bytes or other
 * control characters. Every field is at most QP_DATA_MAX_FIELD bytes,
 * and every record must have as many fields as the header; at most
 * QP_DATA_MAX_ROWS records follow the header. The fields of a record are
 * values, given as they are (they may hold any bytes, NUL included:
 * lens says how long each is): bind.h holds each value a poster uses to
 * the value rule (UTF-8, no control characters, a length limit), with
 * its line and column, so that a bad cell is a bad row. Errors read
 * "FILE:LINE: message", LINE being the line the record starts on (the
 * spreadsheet row when no field holds a newline), and name the column.
 *
 * Records are streamed: memory does not grow with the number of rows.
 */
#ifndef QP_DATA_H
#define QP_DATA_H

#include "util.h"

typedef struct qp_data qp_data;

/* Limits no real list reaches (a national run is a few thousand rows);
 * past them the file is refused with its line rather than exhausting
 * memory or disk. */
#define QP_DATA_MAX_FIELD (1024 * 1024)
#define QP_DATA_MAX_ROWS 1000000

/* One record, valid until the next qp_data_next() or qp_data_close(). */
typedef struct qp_record {
	size_t index;  /* 0 for the first record after the header */
	size_t line;   /* line the record starts on, 1-based */
	const char *const *fields; /* ncols NUL-terminated strings */
	const size_t *lens;        /* their lengths in bytes */
} qp_record;

/* Open path ("-" is standard input) and read its header. */
qp_data *qp_data_open(const char *path, qp_error *err);
/* Open path, calling it name in messages ("<stdin>" for a copy of
 * standard input, say). */
qp_data *qp_data_open_named(const char *path, const char *name,
    qp_error *err);
/* Read from an open stream (not closed by qp_data_close); name is used in
 * messages. */
qp_data *qp_data_open_stream(FILE *fp, const char *name, qp_error *err);
void qp_data_close(qp_data *d);

/* Lower (or raise) the field and row limits for the records after the
 * header (0 keeps a limit as it is). */
void qp_data_set_limits(qp_data *d, size_t max_field, size_t max_rows);

/* Header. */
size_t qp_data_ncols(const qp_data *d);
const char *qp_data_col(const qp_data *d, size_t i);
/* Index of the column called name, or -1. */
long qp_data_col_index(const qp_data *d, const char *name);
/* The name used in messages ("stations.csv", or "<stdin>"). */
const char *qp_data_name(const qp_data *d);

/*
 * Next record: 1 with *rec filled, 0 at the end of the data, -1 on an
 * error (err says FILE:LINE: what, and which column). After an error the
 * reader cannot continue.
 */
int qp_data_next(qp_data *d, qp_record *rec, qp_error *err);

#endif
