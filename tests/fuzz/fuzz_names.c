/*
 * fuzz_names.c - libFuzzer harness for the file-name maker used by batch
 * output patterns (qp_batch_safe_name in src/batch.h).
 *
 * Input: any bytes up to the first NUL, as a variable's value. Properties
 * checked on the part it makes: non-empty, at most QP_NAME_PART_MAX
 * bytes, valid UTF-8; no '/', '\\' or other characters some file systems
 * reject; no control character (C0, DEL, C1) and no Unicode direction
 * control; no leading dot (so never "." or ".." or a hidden file), no
 * leading or trailing space or trailing dot; not a Windows device name;
 * and the same value always gives the same part.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_part(const char *s, size_t n)
{
	static const char *const dev[] = {"con", "prn", "aux", "nul",
	    "com1", "lpt1", "com9", "lpt9"};

	if (n == 0 || n > QP_NAME_PART_MAX || strlen(s) != n)
		abort();
	if (!qp_utf8_valid(s, n, NULL))
		abort();
	if (s[0] == '.' || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == '.')
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || strchr("/\\:*?\"<>|", c))
			abort();
		/* U+0080..U+009F */
		if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] < 0xA0)
			abort();
		/* U+061C, U+200E/F, U+202A..E, U+2066..9 */
		if (c == 0xD8 && i + 1 < n && (unsigned char)s[i + 1] == 0x9C)
			abort();
		if (c == 0xE2 && i + 2 < n) {
			unsigned char c1 = (unsigned char)s[i + 1];
			unsigned char c2 = (unsigned char)s[i + 2];
			if (c1 == 0x80 && (c2 == 0x8E || c2 == 0x8F ||
			    (c2 >= 0xAA && c2 <= 0xAE)))
				abort();
			if (c1 == 0x81 && c2 >= 0xA6 && c2 <= 0xA9)
				abort();
		}
	}
	for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
		size_t k = strlen(dev[i]);
		if (strncasecmp(s, dev[i], k) == 0 && (s[k] == '\0' ||
		    s[k] == '.'))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = qp_xstrndup((const char *)data, size);
	qp_buf a, b;

	qp_buf_init(&a);
	qp_buf_init(&b);
	qp_buf_adds(&a, "pre/");
	qp_batch_safe_name(v, &a);
	check_part(a.data + 4, a.len - 4);
	qp_batch_safe_name(v, &b);
	if (strcmp(a.data + 4, b.data) != 0)
		abort();
	qp_buf_free(&a);
	qp_buf_free(&b);
	free(v);
	return 0;
}
