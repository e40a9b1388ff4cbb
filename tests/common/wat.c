/* SPDX-License-Identifier: Apache-2.0 */
/* Assembling test modules from the text format (wat.h). */
#include "common/wat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/testutil.h"

struct capsa_wasm_module *test_wat_load(const char *text, struct err *e)
{
	char *dir = test_tmpdir();
	char src[4200], bin[4200];
	snprintf(src, sizeof(src), "%s/m.wat", dir);
	snprintf(bin, sizeof(bin), "%s/m.wasm", dir);
	assert_int_equal(write_file(src, text, strlen(text)), 0);
	char *argv[] = {"/usr/bin/wat2wasm", src, "-o", bin, NULL};
	struct run_result r;
	run_cmd(&r, argv, 60);
	if (r.status)
		printf("# wat2wasm: %s\n", r.err);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	size_t len;
	char *bytes = read_file(bin, &len);
	assert_non_null(bytes);
	struct capsa_wasm_module *m = capsa_wasm_module_load((const uint8_t *)bytes, len, e);
	free(bytes);
	unlink(src);
	unlink(bin);
	rmdir(dir);
	free(dir);
	return m;
}
