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
