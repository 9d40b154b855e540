#include "peers/notary.h"

#include "base/date.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static bool chars_ok(const char *s, size_t min, size_t max, const char *set)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n <= max && strspn(s, set) == n;
}

static bool printable_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

#define HEX "0123456789abcdefABCDEF"
#define B64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_"

int hpf_notary_anchor_request(char **out, const hpf_notary_anchor *a, hpf_err *err)
{
    hpf_day d;
    *out = NULL;
    if (!chars_ok(a->centre, 6, 6, "0123456789"))
        return hpf_err_field(err, HPF_EINVAL, "centre", "notary.centre",
                             "a centre code is 6 digits");
    if (!a->day || strlen(a->day) != 10 || hpf_day_parse(&d, a->day) < 0)
        return hpf_err_field(err, HPF_EINVAL, "day", "notary.day", "the day must be YYYY-MM-DD");
    if (!chars_ok(a->root, 16, 128, HEX))
        return hpf_err_field(err, HPF_EINVAL, "root", "notary.root",
                             "the root is 16 to 128 hex digits");
    if (!chars_ok(a->signature, 1, 1024, B64))
        return hpf_err_field(err, HPF_EINVAL, "signature", "notary.signature",
                             "the signature is 1 to 1024 characters of hex or base64");
    if (!printable_ok(a->key_id, 64))
        return hpf_err_field(err, HPF_EINVAL, "key_id", "notary.key_id",
                             "the key id is 1 to 64 printable ASCII characters");
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "centre", a->centre, "day", a->day, "root",
                          a->root, "signature", a->signature, "key_id", a->key_id);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!s)
        return hpf_err_set(err, HPF_EINTERNAL, "cannot encode the notary anchor");
    *out = s;
    return 0;
}

/* Copy member `name`, a string of 1..size-1 printable characters, into dst. */
static bool get_str(json_t *o, const char *name, char *dst, size_t size)
{
    const char *s = json_string_value(json_object_get(o, name));
    if (!s || !printable_ok(s, size - 1))
        return false;
    snprintf(dst, size, "%s", s);
    return true;
}

int hpf_notary_receipt_parse(hpf_notary_receipt *out, const char *reply_json, hpf_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = json_loads(reply_json ? reply_json : "", JSON_REJECT_DUPLICATES, NULL);
    json_t *h = json_object_get(o, "block_height");
    bool ok = json_is_object(o) &&
              get_str(o, "receipt_id", out->receipt_id, sizeof out->receipt_id) &&
              get_str(o, "chain", out->chain, sizeof out->chain) &&
              get_str(o, "tx_hash", out->tx_hash, sizeof out->tx_hash) &&
              get_str(o, "anchored_at", out->anchored_at, sizeof out->anchored_at) &&
              json_is_integer(h) && json_integer_value(h) >= 0;
    if (ok)
        out->block_height = (int64_t)json_integer_value(h);
    json_decref(o);
    if (!ok) {
        memset(out, 0, sizeof *out);
        return hpf_err_field(err, HPF_EINVAL, "reply", "notary.reply",
                             "the notary reply is not a receipt {receipt_id, chain, "
                             "block_height, tx_hash, anchored_at}");
    }
    return 0;
}
