/*
 * fuzz_template.c - libFuzzer harness for the YAML template parser.
 *
 * Any input must either load into a template whose every block lies on
 * the page, or fail with a message that names the file; never crash,
 * hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	qp_template *t;
	qp_error err = {0};

	memcpy(text, data, size);
	text[size] = '\0';
	t = qp_template_parse("fuzz.yaml", text, size, &err);
	if (t == NULL) {
		/* Every error names the file it is about. */
		if (strncmp(err.msg, "fuzz.yaml", 9) != 0)
			abort();
	} else {
		for (size_t i = 0; i < t->nblocks; i++) {
			const qp_box *b = &t->blocks[i].box;
			if (b->w <= 0 || b->x < -0.02 ||
			    b->x + b->w > t->page_w + 0.02)
				abort();
		}
	}
	qp_template_free(t);
	free(text);
	return 0;
}
