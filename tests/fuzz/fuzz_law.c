/*
 * fuzz_law.c - libFuzzer harness for the law-pack parser (law.h). A pack
 * may be any file given to --law: any input must either load into a pack
 * with a code, a citation and at least one rule, or fail with a message
 * that names the file; never crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "law.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	qp_law *law;
	qp_error err = {0};

	memcpy(text, data, size);
	text[size] = '\0';
	law = qp_law_parse("fuzz.yaml", text, size, &err);
	if (law == NULL) {
		if (strncmp(err.msg, "fuzz.yaml", 9) != 0)
			abort();
	} else if (law->code == NULL || law->citation == NULL ||
	    law->nrules == 0) {
		abort();
	}
	qp_law_free(law);
	free(text);
	return 0;
}
