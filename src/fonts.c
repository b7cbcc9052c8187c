/*
 * fonts.c - bundled and template-declared fonts, registered with
 * fontconfig.
 */
#define _GNU_SOURCE
#include "fonts.h"
#include "datadir.h"

#include <fontconfig/fontconfig.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
