/*
 * fonts.c - data directory discovery and bundled font registration.
 */
#define _GNU_SOURCE
#include "fonts.h"
#include "template.h"

#include <fontconfig/fontconfig.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef QP_DATADIR
#define QP_DATADIR "/usr/local/share/qrposter"
#endif

static bool
is_dir(const char *p)
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
	return is_dir(a) && is_dir(b);
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

bool
qp_fonts_init(qp_error *err)
{
	char fonts[PATH_MAX + 16];

	snprintf(fonts, sizeof fonts, "%s/fonts", qp_datadir());
	if (!is_dir(fonts))
		return qp_fail(err, "bundled fonts not found in '%s' (set "
		    "QRPOSTER_DATADIR to the directory holding fonts/ and "
		    "templates/)", fonts);
	if (!FcInit())
		return qp_fail(err, "cannot initialise fontconfig");
	if (!FcConfigAppFontAddDir(NULL, (const FcChar8 *)fonts))
		return qp_fail(err, "cannot add fonts from '%s'", fonts);
	return true;
}

bool
qp_fonts_add_files(const char *const *files, size_t n, qp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		FcFontSet *fs = FcFontSetCreate();
		FcBool ok;

		/* Scan first: a file that holds no font is the user's error,
		 * which FcConfigAppFontAddFile would not tell apart. */
		ok = FcFileScan(fs, NULL, NULL, NULL,
		    (const FcChar8 *)files[i], FcTrue) && fs->nfont > 0;
		FcFontSetDestroy(fs);
		if (!ok || !FcConfigAppFontAddFile(NULL,
		    (const FcChar8 *)files[i]))
			return qp_fail(err, "'%s' is not a font file fontconfig "
			    "can read", files[i]);
	}
	return true;
}

bool
qp_font_family_exists(const char *family)
{
	FcPattern *pat = FcPatternCreate();
	FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, (char *)NULL);
	FcFontSet *fs;
	bool found = false;

	FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)family);
	fs = FcFontList(NULL, pat, os);
	found = fs && fs->nfont > 0;
	if (fs)
		FcFontSetDestroy(fs);
	FcObjectSetDestroy(os);
	FcPatternDestroy(pat);
	return found;
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
