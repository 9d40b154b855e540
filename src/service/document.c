/* service/document: verification codes and their public check (see document.h). */
#include "service/document.h"

#include "peers/notary.h"
#include "service/internal.h"

#include <string.h>

int hpf_doc_code(hpf_svc *svc, hpf_doc_type type, const char *key, char code[HPF_VCODE_LEN],
                 hpf_err *err)
{
    hpf_db *db;
    int rc = svc_conn_read(svc, &db, err);
    if (rc == 0)
        rc = hpf_vcode_lookup(db, type, key, code, err);
    /* A document written a moment ago (the response that issues it) may not be on the
     * standby yet: the primary has it. */
    if (rc == HPF_ENOTFOUND && svc->read_store) {
        hpf_err_clear(err);
        if ((rc = svc_conn(svc, &db, err)) == 0)
            rc = hpf_vcode_lookup(db, type, key, code, err);
    }
    return rc;
}

/* One read snapshot: the entry, its neighbour, the checkpoint and the proof agree. */
static int check_on(hpf_db *db, const char *code, hpf_document *out, hpf_err *err)
{
    int rc = hpf_db_begin_read(db, err);
    if (rc < 0)
        return rc;
    rc = hpf_document_check(db, code, out, err);
    hpf_db_rollback(db);
    return rc;
}

int hpf_doc_check(hpf_svc *svc, const char *code, hpf_document *out, hpf_err *err)
{
    hpf_db *db;
    int rc = svc_conn_read(svc, &db, err);
    if (rc == 0)
        rc = check_on(db, code, out, err);
    /* A document issued a moment ago may not have reached the standby yet. */
    if (rc == HPF_ENOTFOUND && svc->read_store) {
        hpf_err_clear(err);
        if ((rc = svc_conn(svc, &db, err)) == 0)
            rc = check_on(db, code, out, err);
    }
    return rc;
}

int hpf_doc_centre_keys(hpf_svc *svc, hpf_sm2_pubkey **items, size_t *n, hpf_err *err)
{
    hpf_db *db;
    int rc = svc_conn_read(svc, &db, err);
    return rc < 0 ? rc : hpf_sm2_centre_keys(db, items, n, err);
}

int hpf_doc_notary_reply(hpf_svc *svc, hpf_db *db, const hpf_outbox_msg *msg,
                         const char *reply_json, hpf_err *err)
{
    (void)svc;
    hpf_notary_receipt r;
    hpf_day day;
    if (strncmp(msg->idem_key, "anchor:", 7) != 0 || hpf_day_parse(&day, msg->idem_key + 7) < 0)
        return hpf_err_set(err, HPF_EINTERNAL, "notary message %lld has no day in its key '%s'",
                           (long long)msg->id, msg->idem_key);
    int rc = hpf_notary_receipt_parse(&r, reply_json, err);
    return rc < 0 ? rc : hpf_checkpoint_record_anchor(db, day, reply_json, r.anchored_at, err);
}
