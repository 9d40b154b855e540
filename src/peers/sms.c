#include "peers/sms.h"

#include "base/parse.h"

#include <stdlib.h>
#include <string.h>

static bool phone_ok(const char *s)
{
    if (!s)
        return false;
    const char *d = s[0] == '+' ? s + 1 : s;
    size_t n = strlen(d);
    return n >= 5 && n <= 20 && strspn(d, "0123456789") == n;
}

static bool template_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int hpf_sms_message(char **out, const char *to, const char *template_id, const json_t *params,
                    const char *text, hpf_err *err)
{
    *out = NULL;
    if (!phone_ok(to))
        return hpf_err_field(err, HPF_EINVAL, "to", "sms.to",
                             "an SMS number is 5 to 20 digits, optionally after '+'");
    if (!template_ok(template_id))
        return hpf_err_field(err, HPF_EINVAL, "template", "sms.template",
                             "an SMS template is 1 to 64 characters of a-z 0-9 . _ -");
    if (params && !json_is_object(params))
        return hpf_err_field(err, HPF_EINVAL, "params", "sms.params",
                             "SMS template parameters must be a JSON object");
    size_t tl = text ? strlen(text) : 0;
    if (text && (tl == 0 || !hpf_text_ok(text, tl, false) || hpf_utf8_len(text) > HPF_SMS_TEXT_MAX))
        return hpf_err_field(err, HPF_EINVAL, "text", "sms.text",
                             "an SMS text is 1 to %d characters without control characters",
                             HPF_SMS_TEXT_MAX);
    json_t *p = params ? json_deep_copy(params) : json_object();
    json_t *o = p ? json_pack("{s:s, s:s, s:o, s:s*}", "to", to, "template", template_id, "params",
                              p, "text", text)
                  : NULL; /* "o" steals p, also when the pack fails */
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!s)
        return hpf_err_set(err, HPF_EINTERNAL, "cannot encode the SMS message");
    *out = s;
    return 0;
}
