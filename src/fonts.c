/*
 * fonts.c - bundled and template-declared fonts, registered with
 * fontconfig (see fonts.h for the rule that keeps this thread-safe).
 */
#define _GNU_SOURCE
#include "fonts.h"
#include "datadir.h"
#include "template.h"

#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/*
 * The registry: every font file added so far (real paths), the bundled
 * folder, and the generation. reg_mu serialises registrations and the
 * hand-out of the current configuration; the generation is also read
 * without the lock (qp_fonts_generation) by workers checking whether
 * their layout context is stale.
 */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static char bundled[PATH_MAX + 16];
static char **reg_files;
static size_t nreg_files;
static atomic_ulong generation;

bool
qp_fonts_init(qp_error *err)
{
	char fonts[PATH_MAX + 16];

	snprintf(fonts, sizeof fonts, "%s/fonts", qp_datadir());
	if (!qp_is_dir(fonts))
		return qp_fail(err, "bundled fonts not found in '%s' (set "
		    "QRPOSTER_DATADIR to the directory holding fonts/ and "
		    "templates/)", fonts);
	if (!FcInit())
		return qp_fail(err, "cannot initialise fontconfig");
	if (!FcConfigAppFontAddDir(NULL, (const FcChar8 *)fonts))
		return qp_fail(err, "cannot add fonts from '%s'", fonts);
	pthread_mutex_lock(&reg_mu);
	snprintf(bundled, sizeof bundled, "%s", fonts);
	pthread_mutex_unlock(&reg_mu);
	return true;
}

/* True if fontconfig finds at least one font in file. */
static bool
is_font_file(const char *file)
{
	FcFontSet *fs = FcFontSetCreate();
	bool ok;

	/* Scan first: a file that holds no font is the user's error,
	 * which FcConfigAppFontAddFile would not tell apart. */
	ok = fs && FcFileScan(fs, NULL, NULL, NULL, (const FcChar8 *)file,
	    FcTrue) && fs->nfont > 0;
	if (fs)
		FcFontSetDestroy(fs);
	return ok;
}

static bool
registered(const char *real)
{
	for (size_t i = 0; i < nreg_files; i++)
		if (strcmp(reg_files[i], real) == 0)
			return true;
	return false;
}

/*
 * A new configuration: the system's, the bundled folder, the files
 * registered so far and the new ones. Built privately, so nobody can
 * see it half made; reg_mu is held.
 */
static FcConfig *
build_config(char *const *add, size_t nadd, qp_error *err)
{
	FcConfig *c = FcInitLoadConfigAndFonts();

	if (c == NULL) {
		qp_fail(err, "cannot load the fontconfig configuration");
		return NULL;
	}
	if (bundled[0] && !FcConfigAppFontAddDir(c, (const FcChar8 *)bundled)) {
		qp_fail(err, "cannot add fonts from '%s'", bundled);
		goto fail;
	}
	for (size_t i = 0; i < nreg_files + nadd; i++) {
		const char *f = i < nreg_files ? reg_files[i] :
		    add[i - nreg_files];

		if (!FcConfigAppFontAddFile(c, (const FcChar8 *)f)) {
			qp_fail(err, "'%s' is not a font file fontconfig can "
			    "read", f);
			goto fail;
		}
	}
	return c;
fail:
	FcConfigDestroy(c);
	return NULL;
}

bool
qp_fonts_add_files(const char *const *files, size_t n, qp_error *err)
{
	char **add = NULL;
	size_t nadd = 0;
	FcConfig *c;
	bool ok = false;

	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < n; i++) {
		char *real = realpath(files[i], NULL);
		bool dup = false;

		if (real == NULL) {
			qp_fail(err, "font file '%s' cannot be read: %s",
			    files[i], strerror(errno));
			goto out;
		}
		for (size_t k = 0; k < nadd && !dup; k++)
			dup = strcmp(add[k], real) == 0;
		if (dup || registered(real)) {
			free(real);
			continue;
		}
		if (!is_font_file(real)) {
			qp_fail(err, "'%s' is not a font file fontconfig can "
			    "read", files[i]);
			free(real);
			goto out;
		}
		add = qp_xrealloc(add, (nadd + 1) * sizeof *add);
		add[nadd++] = real;
	}
	if (nadd == 0) {
		ok = true;
		goto out;
	}
	if ((c = build_config(add, nadd, err)) == NULL)
		goto out;
	/* FcConfigSetCurrent takes a reference of its own (fontconfig
	 * 2.12 and later) and drops the one it held on the previous
	 * configuration, which lives on while layout contexts use it. */
	if (!FcConfigSetCurrent(c)) {
		FcConfigDestroy(c);
		qp_fail(err, "cannot switch to the new fontconfig "
		    "configuration");
		goto out;
	}
	FcConfigDestroy(c);
	reg_files = qp_xrealloc(reg_files, (nreg_files + nadd) *
	    sizeof *reg_files);
	memcpy(reg_files + nreg_files, add, nadd * sizeof *add);
	nreg_files += nadd;
	nadd = 0;
	atomic_fetch_add(&generation, 1);
	ok = true;
out:
	pthread_mutex_unlock(&reg_mu);
	for (size_t i = 0; i < nadd; i++)
		free(add[i]);
	free(add);
	return ok;
}

bool
qp_fonts_add_template(const qp_template *t, qp_error *err)
{
	if (t->nfont_files == 0)
		return true;
	if (!qp_fonts_add_files((const char *const *)t->font_files,
	    t->nfont_files, err)) {
		qp_error_prefix(err, "%s", t->path);
		return false;
	}
	return true;
}

unsigned long
qp_fonts_generation(void)
{
	return atomic_load(&generation);
}

FcConfig *
qp_fonts_config(unsigned long *gen)
{
	FcConfig *c;

	/* Under the lock, so the configuration and its generation agree. */
	pthread_mutex_lock(&reg_mu);
	c = FcConfigReference(NULL);
	*gen = atomic_load(&generation);
	pthread_mutex_unlock(&reg_mu);
	return c;
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

/* The first family name of a font pattern, or NULL. */
static const char *
pattern_family(FcPattern *p)
{
	FcChar8 *fam = NULL;

	if (FcPatternGetString(p, FC_FAMILY, 0, &fam) != FcResultMatch)
		return NULL;
	return (const char *)fam;
}

/* True if fontconfig's application set (the fonts qrposter registered)
 * holds a font of family. */
static bool
registered_family(const char *family)
{
	FcFontSet *fs = FcConfigGetFonts(NULL, FcSetApplication);

	for (int i = 0; fs && i < fs->nfont; i++) {
		const char *f = pattern_family(fs->fonts[i]);
		if (f && strcmp(f, family) == 0)
			return true;
	}
	return false;
}

bool
qp_font_family_ours(const char *family)
{
	if (family == NULL)
		return false;
	return strncmp(family, "Noto ", 5) == 0 || registered_family(family);
}

/* Lower is better: see qp_font_family_for. */
static int
family_rank(const char *family)
{
	if (registered_family(family))
		return 0;
	if (strncmp(family, "Noto Sans ", 10) == 0 ||
	    strcmp(family, "Noto Sans") == 0)
		return 1;
	return 2;
}

static bool
family_better(const char *a, const char *b)
{
	int ra = family_rank(a), rb = family_rank(b);
	size_t la = strlen(a), lb = strlen(b);

	if (ra != rb)
		return ra < rb;
	if (la != lb)
		return la < lb;
	return strcmp(a, b) < 0;
}

char *
qp_font_family_for(unsigned long c)
{
	FcPattern *pat = FcPatternCreate();
	FcCharSet *cs = FcCharSetCreate();
	FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, (char *)NULL);
	FcFontSet *fs;
	const char *best = NULL;
	char *out = NULL;

	FcCharSetAddChar(cs, (FcChar32)c);
	FcPatternAddCharSet(pat, FC_CHARSET, cs);
	/* Listing with a charset in the pattern keeps the fonts whose
	 * charset holds it (fc-list ':charset=0645'). */
	fs = FcFontList(NULL, pat, os);
	for (int i = 0; fs && i < fs->nfont; i++) {
		const char *f = pattern_family(fs->fonts[i]);
		if (f && qp_font_family_ours(f) &&
		    (best == NULL || family_better(f, best)))
			best = f;
	}
	if (best)
		out = qp_xstrdup(best);
	if (fs)
		FcFontSetDestroy(fs);
	FcObjectSetDestroy(os);
	FcCharSetDestroy(cs);
	FcPatternDestroy(pat);
	return out;
}
