#include "base/log.h"

#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int min_level = -1;

void hpf_log_set_level(int level)
{
    min_level = level;
}

static int level_now(void)
{
    if (min_level < 0) {
        const char *e = getenv("HPF_LOG_LEVEL");
        int l = HPF_LOG_INFO;
        if (e && !strcasecmp(e, "debug"))
            l = HPF_LOG_DEBUG;
        else if (e && !strcasecmp(e, "warn"))
            l = HPF_LOG_WARN;
        else if (e && !strcasecmp(e, "error"))
            l = HPF_LOG_ERROR;
        min_level = l;
    }
    return min_level;
}

void hpf_log_now(char out[64])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void json_str(hpf_buf *b, const char *s)
{
    hpf_buf_adds(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            hpf_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            hpf_buf_printf(b, "\\u%04x", *p);
        else
            hpf_buf_add(b, p, 1);
    }
    hpf_buf_adds(b, "\"");
}

static void write_line(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void hpf_log_json_line(int level, const char *json)
{
    if (level < level_now())
        return;
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_adds(&b, json);
    hpf_buf_adds(&b, "\n");
    write_line(b.data, b.len);
    hpf_buf_cleanup(&b);
}

void hpf_log(int level, const char *event, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < level_now())
        return;
    char ts[64], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hpf_log_now(ts);
    hpf_buf b = HPF_BUF_INIT;
    hpf_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":", ts,
                   names[level < 0   ? 0
                         : level > 3 ? 3
                                     : level]);
    json_str(&b, event);
    hpf_buf_adds(&b, ",\"msg\":");
    json_str(&b, msg);
    hpf_buf_adds(&b, "}\n");
    write_line(b.data, b.len);
    hpf_buf_cleanup(&b);
}
