/*
 * parse: bounded number parsing (no atoi, no unchecked strtol) and small text checks.
 */
#ifndef HPF_BASE_PARSE_H
#define HPF_BASE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a base-10 integer that must fill all of `s` and lie in [min, max].
 * Returns 0 or HPF_EINVAL (empty, junk, out of range). */
int hpf_parse_i64(int64_t *out, const char *s, int64_t min, int64_t max);

/* True if `s` is valid UTF-8 without C0 control bytes (tab allowed when allow_tab) or DEL. */
bool hpf_text_ok(const char *s, size_t len, bool allow_tab);

/* True if `s` is well-formed UTF-8 (any code point, controls included): what PostgreSQL's
 * UTF8 encoding accepts in a text value. */
bool hpf_utf8_valid(const char *s, size_t len);

/* Number of Unicode code points in valid UTF-8 `s`. */
size_t hpf_utf8_len(const char *s);

#endif
