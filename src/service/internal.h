/*
 * service/internal: helpers shared by the service modules. Not for use outside service/.
 */
#ifndef HPF_SERVICE_INTERNAL_H
#define HPF_SERVICE_INTERNAL_H

#include "service/svc.h"

#include <stdio.h>

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* The calling thread's connection. */
int svc_conn(hpf_svc *svc, hpf_db **db, hpf_err *err);

/* 403 unless the actor may act for the employer with this account number. */
int svc_scope_employer(const hpf_actor *a, const char *employer_account_no, hpf_err *err);

/* Load an employer by account number (HPF_ENOTFOUND otherwise). */
int svc_load_employer(hpf_db *db, const char *account_no, hpf_employer *out, hpf_err *err);

/* Parse a stored 'YYYY-MM-DD' (0 for NULL/empty). */
hpf_day svc_day(const char *s);

/* Clamp paging arguments: offset >= 0, 1 <= limit <= 200 (default 50 when limit <= 0). */
void svc_page(int64_t *offset, int64_t *limit);

#endif
