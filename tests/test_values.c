/*
 * test_values.c - one value rule and one poster step, kept by every way
 * in: the same table of values goes through the command line (render
 * -s), a CSV (batch) and the web editor's API (qrposter serve on a free
 * loopback port), and each gets the same verdict, told by the finding's
 * code and the exit status, never by a message's wording. The link a
 * reporting URL gets is decoded back from the printed page (libzbar on a
 * pdftoppm raster) and compared with one built here by hand. A template
 * whose text fails a check stops a batch as it stops render.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "helpers.h"
#include "serve_client.h"
#include "vars.h"

#define BIG_LEN 70000
#define CODE "DEN R/3" /* needs percent-encoding in the link */

/* ---- the table --------------------------------------------------------- */

typedef struct vcase {
	const char *name;
	const char *var;   /* the variable given the value */
	const char *value; /* NULL: BIG_LEN bytes of 'x' */
	const char *want;  /* the finding's code, or NULL: accepted */
	const char *link;  /* for an accepted report_url: the link the QR
	                    * code must hold, written out by hand */
} vcase;

static const vcase cases[] = {
	{"a tab in a name", "name", "Denver\tUnion", NULL, NULL},
	{"a carriage return in a name", "name", "Denver\rUnion", NULL, NULL},
	{"U+0085 (a C1 control) in a name", "name", "Den\xc2\x85ver",
	    "value-control", NULL},
	{"ESC in a name", "name", "Den\x1b[31mver", "value-control", NULL},
	{"a value of 70,000 bytes", "name", NULL, "value-too-long", NULL},
	{"a name that is not UTF-8", "name", "Caf\xe9", "value-utf8", NULL},
	{"an empty required value", "code", "", "value-missing", NULL},
	{"an empty hotline (required: never the default)", "hotline", "",
	    "value-empty", NULL},
	{"an empty reporting URL (required)", "report_url", "",
	    "value-empty", NULL},
	{"a javascript: reporting URL", "report_url", "javascript:alert(1)",
	    "link-not-http", NULL},
	{"a reporting URL without its scheme", "report_url",
	    "cdot.example/report", "link-not-http", NULL},
	{"a reporting URL with a query", "report_url",
	    "https://cdot.example/report?lang=en", NULL,
	    "https://cdot.example/report?lang=en&loc=DEN%20R%2F3"},
	{"a reporting URL with a fragment", "report_url",
	    "https://cdot.example/report#form", NULL,
	    "https://cdot.example/report?loc=DEN%20R%2F3#form"},
	{"a normal name", "name", "Denver Union Station", NULL, NULL},
};

#define NCASES (sizeof cases / sizeof cases[0])

/* The bytes a case gives (malloc'd). */
static char *
case_value(const vcase *c)
{
	char *v;

	if (c->value)
		return strdup(c->value);
	v = malloc(BIG_LEN + 1);
	memset(v, 'x', BIG_LEN);
	v[BIG_LEN] = '\0';
	return v;
}

/* "[code]" as the command line ends a finding's message. */
static char *
bracketed(const char *code)
{
	char *s = NULL;

	if (asprintf(&s, "[%s]", code) < 0)
		return NULL;
	return s;
}

/* ---- the web editor's side ------------------------------------------- */

/* `qrposter serve` on a free loopback port, spoken to with
 * tests/serve_client.c like the server's own tests. */
static child srv;

/* application/x-www-form-urlencoded, written out here. */
static void
form_add(char **f, size_t *n, const char *key, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t vl = strlen(v), kl = strlen(key);
	char *p;

	*f = realloc(*f, *n + kl + 2 + 3 * vl + 1);
	p = *f + *n;
	if (*n)
		*p++ = '&';
	memcpy(p, key, kl);
	p += kl;
	*p++ = '=';
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
		    *c == '.') {
			*p++ = (char)*c;
			continue;
		}
		*p++ = '%';
		*p++ = hex[*c >> 4];
		*p++ = hex[*c & 15];
	}
	*p = '\0';
	*n = (size_t)(p - *f);
}

/* ---- the three ways in ------------------------------------------------- */

/* The values of a poster: code, name, and the case's own. */
static void
poster_values(const vcase *c, const char *v, const char **code,
    const char **name, const char **url)
{
	*code = CODE;
	*name = "Denver";
	*url = NULL;
	if (strcmp(c->var, "code") == 0)
		*code = v;
	else if (strcmp(c->var, "name") == 0)
		*name = v;
	else
		*url = v;
}

/* The QR code on page 1 of pdf holds exactly want. */
static void
assert_link(const char *pdf, const char *want)
{
	char **got = th_pdf_decode_qr(pdf, 150);

	assert_non_null(got);
	if (got[0] == NULL || strcmp(got[0], want) != 0)
		fail_msg("%s: the QR code holds '%s', not '%s'", pdf,
		    got[0] ? got[0] : "(nothing)", want);
	assert_null(got[1]);
	th_strv_free(got);
}

/* render -s: a bad value is a bad command line (2); a missing one, a
 * poster that cannot be made (1). */
static void
through_cli(const vcase *c, const char *v, const char *dir)
{
	const char *code, *name, *url;
	char *out = th_path(dir, "cli.pdf");
	char *sc, *sn, *su = NULL, *tag = c->want ? bracketed(c->want) : NULL;
	int want = c->want == NULL ? 0 : strcmp(c->want, "value-missing") ==
	    0 ? 1 : 2;
	th_run r;

	poster_values(c, v, &code, &name, &url);
	assert_true(asprintf(&sc, "code=%s", code) > 0);
	assert_true(asprintf(&sn, "name=%s", name) > 0);
	if (url)
		assert_true(asprintf(&su, "report_url=%s", url) > 0);
	th_qrposter(&r, "render", "-t", "restroom-letter", "-s", sc, "-s", sn,
	    "-o", out, su ? "-s" : NULL, su, (char *)NULL);
	if (r.status != want || (tag && strstr(r.err, tag) == NULL))
		fail_msg("render: exit %d (want %d, %s), stderr: %.300s",
		    r.status, want, c->want ? c->want : "accepted", r.err);
	assert_int_equal(th_exists(out), c->want == NULL);
	if (c->link)
		assert_link(out, c->link);
	th_run_free(&r);
	free(sc);
	free(sn);
	free(su);
	free(tag);
	free(out);
}

/* A CSV field, quoted (RFC 4180): the bytes as they are. */
static void
csv_field(FILE *fp, const char *v)
{
	fputc('"', fp);
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			fputc('"', fp);
		fputc(*p, fp);
	}
	fputc('"', fp);
}

/* batch --combine: a bad value is a bad row (1), and nothing is
 * written. */
static void
through_csv(const vcase *c, const char *v, const char *dir)
{
	const char *code, *name, *url;
	char *csv = th_path(dir, "in.csv"), *out = th_path(dir, "all.pdf");
	char *tag = c->want ? bracketed(c->want) : NULL;
	FILE *fp = fopen(csv, "wb");
	th_run r;

	poster_values(c, v, &code, &name, &url);
	assert_non_null(fp);
	fprintf(fp, "code,name%s\n", url ? ",report_url" : "");
	csv_field(fp, code);
	fputc(',', fp);
	csv_field(fp, name);
	if (url) {
		fputc(',', fp);
		csv_field(fp, url);
	}
	fputc('\n', fp);
	assert_int_equal(fclose(fp), 0);
	th_qrposter(&r, "batch", "-q", "-j", "1", "-d", csv, "--combine", out,
	    (char *)NULL);
	if (r.status != (c->want ? 1 : 0) || (tag && strstr(r.err, tag) ==
	    NULL))
		fail_msg("batch: exit %d (want %s), stderr: %.300s", r.status,
		    c->want ? c->want : "accepted", r.err);
	assert_int_equal(th_exists(out), c->want == NULL);
	if (c->link)
		assert_link(out, c->link);
	th_run_free(&r);
	free(tag);
	free(csv);
	free(out);
}

/* The web editor: a bad value is 422 with the finding's code; a good
 * poster previews (200) and downloads. */
static void
through_web(const vcase *c, const char *v, const char *dir)
{
	const char *code, *name, *url;
	char *form = NULL, *tag = NULL;
	size_t n = 0;
	resp r;

	poster_values(c, v, &code, &name, &url);
	form_add(&form, &n, "template", "restroom-letter");
	form_add(&form, &n, "var.code", code);
	form_add(&form, &n, "var.name", name);
	if (url)
		form_add(&form, &n, "var.report_url", url);
	assert_true(post(srv.port, "/api/preview", form, &r));
	if (c->want)
		assert_true(asprintf(&tag, "\"code\":\"%s\"", c->want) > 0);
	if (r.status != (c->want ? 422 : 200) || (tag && strstr(r.body, tag)
	    == NULL))
		fail_msg("preview: status %d (want %s), body: %.300s",
		    r.status, c->want ? c->want : "accepted", r.body);
	resp_free(&r);
	if (c->link) {
		char *pdf = th_path(dir, "web.pdf");

		form_add(&form, &n, "format", "pdf");
		assert_true(post(srv.port, "/api/poster", form, &r));
		assert_int_equal(r.status, 200);
		assert_true(th_write_file(pdf, r.body, r.len));
		assert_link(pdf, c->link);
		resp_free(&r);
		free(pdf);
	}
	free(tag);
	free(form);
}

static void
test_value(void **state)
{
	const vcase *c = *state;
	char *dir = th_tmpdir_new();
	char *v = case_value(c);

	assert_non_null(dir);
	print_message("[   INFO   ] %s: %s\n", c->name, c->want ? c->want :
	    "accepted");
	through_cli(c, v, dir);
	through_csv(c, v, dir);
	through_web(c, v, dir);
	free(v);
	th_tmpdir_remove(dir);
}

/* ---- the URL helper on its own ---------------------------------------- */

static void
test_url_add_query(void **state)
{
	static const struct {
		const char *url, *value, *want;
	} t[] = {
		{"https://a.example/r", "X1", "https://a.example/r?loc=X1"},
		{"https://a.example/r?lang=en", "X1",
		    "https://a.example/r?lang=en&loc=X1"},
		{"https://a.example/r?", "X1", "https://a.example/r?loc=X1"},
		{"https://a.example/r?a=1&", "X1",
		    "https://a.example/r?a=1&loc=X1"},
		{"https://a.example/r#form", "X1",
		    "https://a.example/r?loc=X1#form"},
		{"https://a.example/r?a=1#f?x", "A B&C",
		    "https://a.example/r?a=1&loc=A%20B%26C#f?x"},
		{"https://a.example", "\xc3\xa9", "https://a.example?loc=%C3%A9"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		qp_buf b;

		qp_buf_init(&b);
		qp_url_add_query(t[i].url, "loc", 3, t[i].value, &b);
		assert_string_equal(b.data, t[i].want);
		qp_buf_free(&b);
	}
	assert_true(qp_url_is_http("https://a.example/"));
	assert_true(qp_url_is_http("HTTP://a.example"));
	assert_false(qp_url_is_http("https:///x"));
	assert_false(qp_url_is_http("javascript:alert(1)"));
	assert_false(qp_url_is_http("a.example/r"));
	/* The payload rule: http(s) links, tel: and sms:, or text. */
	assert_true(qp_payload_link_ok("tel:+18883737888"));
	assert_true(qp_payload_link_ok("sms:233733"));
	assert_true(qp_payload_link_ok("NYP-R1"));
	assert_true(qp_payload_link_ok("Call: 1-888-373-7888"));
	assert_false(qp_payload_link_ok("javascript:alert(1)"));
	assert_false(qp_payload_link_ok("data:text/html,x"));
	assert_false(qp_payload_link_ok("www.example.org/report"));
	assert_false(qp_payload_link_ok("example.org/report?loc=A1"));
}

/* ---- the codes' table ------------------------------------------------- */

/* templates/CHECKS.md lists every code of diag.h, with its number and
 * severity, and no other. */
static void
test_codes_documented(void **state)
{
	char *doc = th_read_file("templates/CHECKS.md", NULL);
	size_t listed = 0, defined = 0;

	(void)state;
	assert_non_null(doc);
	for (char *p = doc; (p = strstr(p, "\n| ")) != NULL; p++) {
		char name[64], sev[16];
		int num;
		qp_code c;

		if (sscanf(p, "\n| %d | `%63[a-z0-9-]` | %15[a-z]", &num, name,
		    sev) != 3)
			continue;
		c = qp_code_from_name(name);
		if ((int)c != num)
			fail_msg("CHECKS.md: %d %s, diag.h: %d", num, name,
			    (int)c);
		assert_string_equal(sev, qp_severity_name(qp_code_severity(c)));
		listed++;
	}
	for (int n = 1; n < 1000; n++)
		defined += qp_code_name((qp_code)n)[0] != '\0';
	assert_true(defined > 0);
	assert_int_equal(listed, defined);
	free(doc);
}

/* ---- a check that fails stops a batch ------------------------------- */

/* restroom-letter with its dark text made pale: #1A1A1A -> #EEEEEE. */
static char *
pale_template(const char *dir)
{
	char *src = th_read_file("templates/restroom-letter.yaml", NULL);
	char *path = th_path(dir, "pale.yaml");
	size_t n = 0;

	assert_non_null(src);
	for (char *p = src; (p = strstr(p, "#1A1A1A")) != NULL; p += 7) {
		memcpy(p, "#EEEEEE", 7);
		n++;
	}
	assert_true(n > 0);
	assert_true(th_write_file(path, src, strlen(src)));
	free(src);
	return path;
}

static void
test_failed_check_stops_batch(void **state)
{
	const char *const only_in[] = {"in.csv", "pale.yaml", "out", NULL};
	const char *const only_manifest[] = {"manifest.csv", NULL};
	char *dir = th_tmpdir_new(), *tpl = pale_template(dir);
	char *csv = th_path(dir, "in.csv"), *out = th_path(dir, "out");
	char *pat = th_path(out, "{{code}}.pdf"), *all = th_path(out, "all.pdf");
	char *man = th_path(out, "manifest.csv"), *m, stray[256];
	const char *data = "code,name\nA1,Alpha\nB2,Beta\n";
	th_run r;

	(void)state;
	assert_true(th_write_file(csv, data, strlen(data)));
	assert_int_equal(mkdir(out, 0777), 0);
	/* render refuses it ... */
	th_qrposter(&r, "render", "-t", tpl, "-s", "code=A1", "-s", "name=A",
	    "-o", all, (char *)NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "[text-contrast]"));
	th_run_free(&r);
	/* ... and so does batch, a file per row or combined: nothing is
	 * written. */
	th_qrposter(&r, "batch", "-q", "-t", tpl, "-d", csv, "-o", pat,
	    (char *)NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "[text-contrast]"));
	th_run_free(&r);
	assert_true(th_dir_only(out, NULL, stray, sizeof stray));
	th_qrposter(&r, "batch", "-q", "-t", tpl, "-d", csv, "--combine", all,
	    (char *)NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "[text-contrast]"));
	th_run_free(&r);
	assert_true(th_dir_only(out, NULL, stray, sizeof stray));
	assert_true(th_dir_only(dir, only_in, stray, sizeof stray));
	/* --keep-going leaves the rows out and says why in the manifest. */
	th_qrposter(&r, "batch", "-q", "--keep-going", "-t", tpl, "-d", csv,
	    "-o", pat, (char *)NULL);
	assert_int_equal(r.status, 3);
	th_run_free(&r);
	assert_true(th_dir_only(out, only_manifest, stray, sizeof stray));
	m = th_read_file(man, NULL);
	assert_non_null(m);
	{
		/* Both rows, each "error: ... [text-contrast]". */
		size_t rows = 0;

		for (char *l = strchr(m, '\n'); l && l[1]; l = strchr(l + 1,
		    '\n')) {
			char *e = strchr(l + 1, '\n');
			char *line = strndup(l + 1, e ? (size_t)(e - l - 1) :
			    strlen(l + 1));

			assert_non_null(strstr(line, "error: "));
			assert_non_null(strstr(line, "[text-contrast]"));
			free(line);
			rows++;
		}
		assert_int_equal(rows, 2);
	}
	free(m);
	free(man);
	free(all);
	free(pat);
	free(out);
	free(csv);
	free(tpl);
	th_tmpdir_remove(dir);
}

static int
group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	setenv("QRPOSTER_DATADIR", ".", 0);
	return start_server(&srv, NULL, NULL) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	stop_server(&srv);
	return 0;
}

int
main(void)
{
	struct CMUnitTest tests[NCASES + 3];

	for (size_t i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){cases[i].name, test_value, NULL,
		    NULL, (void *)&cases[i]};
	tests[NCASES] = (struct CMUnitTest)cmocka_unit_test(
	    test_url_add_query);
	tests[NCASES + 1] = (struct CMUnitTest)cmocka_unit_test(
	    test_failed_check_stops_batch);
	tests[NCASES + 2] = (struct CMUnitTest)cmocka_unit_test(
	    test_codes_documented);
	return _cmocka_run_group_tests("values", tests, NCASES + 3,
	    group_setup, group_teardown);
}
