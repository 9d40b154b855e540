#include "base/err.h"

#include <stdio.h>
#include <string.h>

static int vset(hpf_err *err, int code, const char *field, const char *rule, const char *fmt,
                va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    snprintf(err->rule, sizeof err->rule, "%s", rule ? rule : "");
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

int hpf_err_set(hpf_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, NULL, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int hpf_err_field(hpf_err *err, int code, const char *field, const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, field, rule, fmt, ap);
    va_end(ap);
    return code;
}

void hpf_err_prefix_field(hpf_err *err, const char *prefix)
{
    char tmp[sizeof err->field];
    if (!err || !prefix)
        return;
    snprintf(tmp, sizeof tmp, "%s%s", prefix, err->field);
    memcpy(err->field, tmp, sizeof tmp);
}

void hpf_err_clear(hpf_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

static const struct {
    int code;
    int status;
    const char *name;
} table[] = {
    {HPF_OK, 200, "ok"},
    {HPF_EINVAL, 400, "invalid-input"},
    {HPF_ENOTFOUND, 404, "not-found"},
    {HPF_ECONFLICT, 409, "conflict"},
    {HPF_EAUTH, 401, "unauthenticated"},
    {HPF_EFORBIDDEN, 403, "forbidden"},
    {HPF_EDB, 500, "database"},
    {HPF_EIO, 500, "io"},
    {HPF_EUNPROC, 422, "unprocessable"},
    {HPF_ETOOBIG, 413, "too-large"},
    {HPF_EMEDIA, 415, "unsupported-media-type"},
    {HPF_EBUSY, 503, "unavailable"},
    {HPF_EINTERNAL, 500, "internal"},
    {HPF_EMETHOD, 405, "method-not-allowed"},
    {HPF_ELIMIT, 429, "too-many-requests"},
    {HPF_EOVERFLOW, 422, "overflow"},
};

const char *hpf_err_name(int code)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code)
            return table[i].name;
    return "internal";
}

int hpf_err_http_status(int code)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code)
            return table[i].status;
    return 500;
}

void hpf_problem(hpf_problems *p, int64_t order, const char *rule, const char *fmt, ...)
{
    (*p->count)++;
    if (p->have && order >= p->best)
        return;
    char msg[sizeof p->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hpf_err_field(p->err, HPF_ECONFLICT, "", rule, "%s", msg);
    p->have = true;
    p->best = order;
}
