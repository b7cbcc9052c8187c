/*
 * fuzz_layout.c - libFuzzer harness for data flowing into a poster: the
 * markup escaper, Pango layout with shrink-to-fit, and the QR payload.
 *
 * Input: the location name, a NUL byte, then the location code. A poster
 * either lays out with the name printed exactly as given (a value never
 * becomes markup) and a payload ending in the percent-encoded code, or is
 * refused with a message naming a block or variable. Never a crash.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fonts.h"
#include "layout.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char tmpl[] =
    "page: {size: letter}\n"
    "variables: {name: , code: }\n"
    "blocks:\n"
    "  - type: text\n"
    "    id: name\n"
    "    box: {x: 0.5in, y: 0.5in, w: 7.5in, h: 3in}\n"
    "    text: \"<b>At</b> {{name}}\"\n"
    "    size: {max: 40pt, min: 8pt}\n"
    "  - type: qr\n"
    "    id: qr\n"
    "    box: {x: center, y: 4in, w: 6in}\n"
    "    data: \"https://example.org/r?loc={{code|url}}\"\n";

static qp_template *t;
static qp_layout_ctx *ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	qp_error err;

	(void)argc;
	(void)argv;
	if (getenv("QRPOSTER_DATADIR") == NULL)
		setenv("QRPOSTER_DATADIR", ".", 1);
	if (!qp_fonts_init(&err) ||
	    (t = qp_template_parse("fuzz.yaml", tmpl, sizeof tmpl - 1,
	    &err)) == NULL) {
		fprintf(stderr, "fuzz_layout: %s\n", err.msg);
		abort();
	}
	ctx = qp_layout_ctx_new();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	char *name, *code;
	const char *values[2];
	qp_page *page;
	qp_error err;

	if (nul == NULL || size > 4096)
		return 0;
	name = qp_xstrndup((const char *)data,
	    (size_t)(nul - (const char *)data));
	code = qp_xstrndup(nul + 1, size - (size_t)(nul - (const char *)data) -
	    1);
	/* Data is checked as UTF-8 before it reaches layout. */
	if (!g_utf8_validate(name, -1, NULL) || !g_utf8_validate(code, -1,
	    NULL))
		goto out;
	values[qp_template_var(t, "name")] = name;
	values[qp_template_var(t, "code")] = code;
	page = qp_layout_page(ctx, t, values, &err);
	if (page == NULL) {
		if (strstr(err.msg, "block '") == NULL &&
		    strstr(err.msg, "variable '") == NULL)
			abort();
		goto out;
	}
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];
		if (it->kind == QP_ITEM_TEXT) {
			const char *text = pango_layout_get_text(it->layout);
			char *isolated;

			if (strncmp(text, "At ", 3) != 0)
				abort();
			/* Pango normalises only line separators. A value with
			 * right-to-left letters is printed between FIRST STRONG
			 * ISOLATE and POP DIRECTIONAL ISOLATE (layout.c), so it
			 * keeps its own order inside the English text. */
			isolated = g_strdup_printf("\u2068%s\u2069", name);
			if (strpbrk(name, "\r") == NULL &&
			    strcmp(text + 3, name) != 0 &&
			    strcmp(text + 3, isolated) != 0)
				abort();
			g_free(isolated);
		}
	}
	qp_page_free(page);
out:
	free(name);
	free(code);
	return 0;
}
