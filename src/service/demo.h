/*
 * service/demo: a deterministic, realistic demo population built through the same service
 * calls the API uses: employers of Zipf-like sizes with valid unified social credit codes,
 * members with valid resident ID numbers, Chinese names, log-normal wages around the city
 * average, and K months of posted remittances. Same seed, same data.
 */
#ifndef HPF_SERVICE_DEMO_H
#define HPF_SERVICE_DEMO_H

#include "service/svc.h"

#include <stdint.h>
#include <stdio.h>

typedef struct hpf_demo_opts {
    int employers; /* >= 1 */
    int members;   /* >= employers */
    int months;    /* 0..60: remitted months before the business month */
    uint64_t seed;
} hpf_demo_opts;

/* Fill an empty, migrated database. Prints one line per demo login to `logins`
 * ("login ROLE USERNAME PASSWORD [TOTP_SECRET_BASE32]") and progress to `progress` (may be NULL).
 * Returns 0, HPF_ECONFLICT (the database already holds data), or an error. */
int hpf_demo_run(hpf_svc *svc, const hpf_demo_opts *opts, FILE *logins, FILE *progress,
                 hpf_err *err);

#define HPF_DEMO_OPERATOR_USER "operator"
#define HPF_DEMO_OPERATOR_PASS "Counter#2026hpf"
#define HPF_DEMO_AGENT_PASS    "Agent#2026hpf"
#define HPF_DEMO_MEMBER_PASS   "Member#2026hpf"
/* An operator of the 建湖 branch office (01), who sees that branch's employers only. */
#define HPF_DEMO_BRANCH_OPERATOR_USER "op-jianhu"
#define HPF_DEMO_BRANCH               "01"
/* The administrator: manages logins, no business route. */
#define HPF_DEMO_ADMIN_USER "admin"
#define HPF_DEMO_ADMIN_PASS "Manage#2026hpf" /* a password may not contain the username */

#endif
