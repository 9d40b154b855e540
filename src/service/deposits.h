/*
 * service/deposits: what the remittance (remit.c), back-payment (backpay.c) and deferral
 * (deferral.c) modules share, inside one business transaction. Not for use outside service/
 * (docs/internals/deposits.md).
 */
#ifndef HPF_SERVICE_DEPOSITS_H
#define HPF_SERVICE_DEPOSITS_H

#include "service/internal.h"

/* A remittance of any kind stored under (employer, key): *found and `out` when there is one;
 * HPF_ECONFLICT idempotency.key_reused when its request hash is not `hash`. (remit.c) */
int svc_remit_find_by_key(hpf_db *db, int64_t employer_id, const char *key, const char *hash,
                          hpf_remittance *out, bool *found, hpf_err *err);
/* The remittance with this serial (HPF_EINTERNAL when there is none). (remit.c) */
int svc_remit_load(hpf_db *db, const char *serial, hpf_remittance *out, hpf_err *err);

/* The full amount of month `period` for member `member_id` of `emp` whose stored wage is
 * `wage`: the wage and the employer's ratios in force that month (hpf_contrib_terms_at) under
 * the policy in force on its first day. (backpay.c) */
int svc_month_amount(hpf_db *db, const hpf_employer *emp, int64_t member_id, hpf_fen wage,
                     hpf_month period, hpf_contrib *out, hpf_err *err);

/* The ids (sorted, malloc'd) of the employer's members with a back-payment posted for `period`:
 * a monthly remittance must not pay them again. (backpay.c) */
int svc_backpaid_members(hpf_db *db, int64_t employer_id, hpf_month period, int64_t **ids,
                         size_t *n, hpf_err *err);

/* *deferral_id > 0 when month `period` of the employer is deferred: inside an active deferral,
 * or owed and not yet made up under any; a monthly remittance of it is refused then (make it up
 * with a back-payment). (deferral.c) */
int svc_deferral_month(hpf_db *db, int64_t employer_id, hpf_month period, int64_t *deferral_id,
                       hpf_err *err);

/* Close what is over of the employer's deferrals as of `today`: every owed month made up
 * ('made_up'), or the last deferred month past with some still owed ('ended'); when none stays
 * active and the employer is in 03, it returns to 01 (audited employer.changed by `actor`).
 * Inside the caller's transaction, with the employer row locked. (deferral.c) */
int svc_deferral_settle(hpf_db *db, int64_t actor, int64_t employer_id, hpf_day today,
                        hpf_err *err);

#endif
