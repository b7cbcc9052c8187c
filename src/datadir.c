/*
 * datadir.c - where qrposter's data lives (templates/, fonts/), and the
 * template a command's -t argument names.
 */
#define _GNU_SOURCE
#include "datadir.h"
#include "template.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef QP_DATADIR
#define QP_DATADIR "/usr/local/share/qrposter"
#endif

bool
qp_is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
has_data(const char *dir)
{
	char a[PATH_MAX + 16], b[PATH_MAX + 16];

	snprintf(a, sizeof a, "%s/templates", dir);
	snprintf(b, sizeof b, "%s/fonts", dir);
	return qp_is_dir(a) && qp_is_dir(b);
}

const char *
qp_datadir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], cand[PATH_MAX + 32];
	const char *env;
	ssize_t n;

	if (dir[0])
		return dir;
	env = getenv("QRPOSTER_DATADIR");
	if (env && *env) {
		snprintf(dir, sizeof dir, "%s", env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (has_data(exe)) {
				snprintf(dir, sizeof dir, "%s", exe);
				return dir;
			}
			snprintf(cand, sizeof cand, "%s/../share/qrposter", exe);
			if (has_data(cand) && realpath(cand, dir) != NULL)
				return dir;
			/* A build directory inside the source tree. */
			snprintf(cand, sizeof cand, "%s/..", exe);
			if (has_data(cand) && realpath(cand, dir) != NULL)
				return dir;
		}
	}
	snprintf(dir, sizeof dir, "%s", QP_DATADIR);
	return dir;
}

char *
qp_template_find(const char *arg, qp_error *err)
{
	char *p;

	if (is_file(arg))
		return qp_xstrdup(arg);
	if (strchr(arg, '/') == NULL) {
		size_t n = strlen(arg);
		bool has_ext = n > 5 && strcmp(arg + n - 5, ".yaml") == 0;

		p = qp_xasprintf("%s/templates/%s%s", qp_datadir(), arg,
		    has_ext ? "" : ".yaml");
		if (is_file(p))
			return p;
		free(p);
	}
	qp_fail(err, "%s: template not found (give a file path, or the name "
	    "of a bundled template such as restroom-letter, station-tabloid "
	    "or car-card)", arg);
	return NULL;
}

qp_template *
qp_template_open(const char *arg, qp_error *err)
{
	char *path = qp_template_find(arg, err);
	qp_template *t;

	if (path == NULL)
		return NULL;
	t = qp_template_load(path, err);
	free(path);
	return t;
}
