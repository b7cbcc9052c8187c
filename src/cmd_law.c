/*
 * cmd_law.c - the --law option that check, render and batch share: the
 * packs it names, loaded once per run, and what is said about them once
 * (a pack checked against its sources over a year ago).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "law.h"

bool
qp_cli_laws_add(qp_laws *l, const char *arg)
{
	char *copy = qp_xstrdup(arg), *save = NULL;
	bool ok = true;

	for (char *tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		qp_error err;
		qp_law *law;
		bool dup = false;

		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if ((law = qp_law_open(tok, &err)) == NULL) {
			qp_cli_error("--law: %s", err.msg);
			ok = false;
			break;
		}
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(l->v[i]->code, law->code) == 0)
				dup = true;
		if (dup) {
			qp_law_free(law);
			continue;
		}
		l->v = qp_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
		l->v[l->n++] = law;
	}
	free(copy);
	if (ok && l->n == 0) {
		qp_cli_error("--law '%s': name a law pack (e.g. --law fl or "
		    "--law fl,ga)", arg);
		ok = false;
	}
	return ok;
}

void
qp_cli_laws_free(qp_laws *l)
{
	for (size_t i = 0; i < l->n; i++)
		qp_law_free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void
qp_cli_laws_opts(const qp_laws *l, qp_check_opts *co)
{
	co->laws = (const qp_law *const *)l->v;
	co->nlaws = l->n;
}

size_t
qp_cli_laws_stale(const char *cmd, const qp_laws *l, bool to_stdout)
{
	long today = qp_law_today();
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		qp_diag_list dl;

		qp_diag_list_init(&dl);
		if (qp_law_stale(l->v[i], today, &dl)) {
			n++;
			if (to_stdout) {
				qp_buf b;
				qp_buf_init(&b);
				qp_visible(l->v[i]->path, &b);
				qp_buf_adds(&b, ": warning: ");
				qp_visible(dl.v[0].msg, &b);
				puts(b.data);
				qp_buf_free(&b);
			} else
				qp_cli_findings(cmd, l->v[i]->path, &dl);
		}
		qp_diag_list_clear(&dl);
	}
	return n;
}
