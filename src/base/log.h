/*
 * log: one JSON object per line on stderr (access log, events, errors). Thread-safe: each line
 * is written with a single write(2).
 */
#ifndef HPF_BASE_LOG_H
#define HPF_BASE_LOG_H

enum { HPF_LOG_DEBUG, HPF_LOG_INFO, HPF_LOG_WARN, HPF_LOG_ERROR };

/* Minimum level written; default INFO. Also set from HPF_LOG_LEVEL=debug|info|warn|error. */
void hpf_log_set_level(int level);

/* Log an event: `event` is a short name; `fmt` formats the human message. */
void hpf_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write an already-built JSON object (no trailing newline) as one line, if level permits. */
void hpf_log_json_line(int level, const char *json);

/* Current UTC time as RFC 3339 with milliseconds into out[64]. */
void hpf_log_now(char out[64]);

#endif
