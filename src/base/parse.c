#include "base/parse.h"

#include "base/err.h"

#include <errno.h>
#include <stdlib.h>

int hpf_parse_i64(int64_t *out, const char *s, int64_t min, int64_t max)
{
    if (!s || !*s)
        return HPF_EINVAL;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return HPF_EINVAL;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return HPF_EINVAL;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || !end || *end || v < min || v > max)
        return HPF_EINVAL;
    *out = (int64_t)v;
    return 0;
}

/* Walk UTF-8: true if every sequence is well-formed (shortest form, no surrogate, at most
 * U+10FFFF); with `text`, also no C0 control (tab when allow_tab), DEL or C1 control. */
static bool utf8_scan(const char *s, size_t len, bool text, bool allow_tab)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if (text && ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f))
                return false;
            p++;
            continue;
        }
        int n;
        unsigned cp;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (end - p <= n)
            return false;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (text && cp >= 0x80 && cp < 0xa0))
            return false;
        p += n + 1;
    }
    return true;
}

bool hpf_text_ok(const char *s, size_t len, bool allow_tab)
{
    return utf8_scan(s, len, true, allow_tab);
}

bool hpf_utf8_valid(const char *s, size_t len)
{
    return utf8_scan(s, len, false, false);
}

size_t hpf_utf8_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            n++;
    return n;
}
