/*
 * suite.h - one table row, one cmocka test case. A test program adds its
 * fixed tests and one entry per row of each table (named after the row,
 * with its state pointing at the row) to a th_suite, then runs it as one
 * group: a failing row is reported by name and the others still run.
 *
 * Header-only (static inline) so every test program can use it, whether
 * or not it links tests/helpers.c. Names are copied with control bytes
 * (C0, DEL, C1) and bidi controls shown as \xNN, so a hostile row
 * cannot drive the terminal.
 */
#ifndef QP_TEST_SUITE_H
#define QP_TEST_SUITE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct th_suite {
	struct CMUnitTest *t;
	char **names;
	size_t n, cap;
} th_suite;

/* Add one test: f run with setup/teardown (either may be NULL) and
 * *state == row; the name is printf-formatted. Out of memory aborts. */
static inline void th_suite_add(th_suite *s, CMUnitTestFunction f,
    CMFixtureFunction setup, CMFixtureFunction teardown, const void *row,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static inline void
th_suite_add(th_suite *s, CMUnitTestFunction f, CMFixtureFunction setup,
    CMFixtureFunction teardown, const void *row, const char *fmt, ...)
{
	char raw[512], *name, *w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct CMUnitTest *t = realloc(s->t, cap * sizeof *t);
		char **names = t ? realloc(s->names, cap * sizeof *names) :
		    NULL;
		if (t == NULL || names == NULL)
			abort();
		s->t = t;
		s->names = names;
		s->cap = cap;
	}
	if ((name = w = malloc(4 * strlen(raw) + 1)) == NULL)
		abort();
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
		/* U+0080..U+009F, U+202A..U+202E, U+2066..U+2069 */
		size_t n = (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ? 2 :
		    (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa &&
		    p[2] <= 0xae) || (p[1] == 0x81 && p[2] >= 0xa6 &&
		    p[2] <= 0xa9))) ? 3 : (*p < 0x20 || *p == 0x7f) ? 1 : 0;
		if (n == 0)
			*w++ = (char)*p;
		for (size_t k = 0; k < n; k++)
			w += sprintf(w, "\\x%02X", p[k]);
		if (n)
			p += n - 1;
	}
	*w = '\0';
	s->names[s->n] = name;
	s->t[s->n].name = name;
	s->t[s->n].test_func = f;
	s->t[s->n].setup_func = setup;
	s->t[s->n].teardown_func = teardown;
	s->t[s->n].initial_state = (void *)(uintptr_t)row;
	s->n++;
}

/* Run every test added as the group `group`, free the suite, and return
 * cmocka's result (the number of failed tests). */
static inline int
th_suite_run(th_suite *s, const char *group, CMFixtureFunction gsetup,
    CMFixtureFunction gteardown)
{
	int rc = _cmocka_run_group_tests(group, s->t, s->n, gsetup,
	    gteardown);

	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->t);
	memset(s, 0, sizeof *s);
	return rc;
}

#endif
