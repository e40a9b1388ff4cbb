/* SPDX-License-Identifier: Apache-2.0 */
/* Printing strings that come from untrusted input (names in a WebAssembly
 * module, error messages quoting them): nothing reaches the terminal or a
 * JSON reader as a control character, and a name is never cut short. */
#ifndef CAPSA_CLI_ESCAPE_H
#define CAPSA_CLI_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* s[0..len) as a JSON string in quotes: `"` and `\` escaped, C0 and C1
 * control characters and DEL as \u00XX (NUL included), bytes that are not
 * UTF-8 as \u00XX of the byte; everything else as is. */
void cli_put_json(FILE *f, const char *s, size_t len);

/* s[0..len) for a terminal: printable characters as is, `\` as `\\`, C0
 * controls and DEL as \xNN, C1 controls and the invisible characters that
 * reorder or hide text (bidirectional controls, zero-width marks) as
 * \u{XXXX}, bytes that are not UTF-8 as \xNN. */
void cli_put_text(FILE *f, const char *s, size_t len);

#endif
