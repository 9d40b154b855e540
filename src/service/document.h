/*
 * service/document: verification codes of the documents the centre issues (a remittance
 * receipt, a member account opening, later certificates) and the public check of a code against
 * the audit chain and its signed checkpoints (trust/checkpoint.h). Anyone may check a code: the
 * answer holds no personal data, only where and when the document was recorded and the proof.
 */
#ifndef HPF_SERVICE_DOCUMENT_H
#define HPF_SERVICE_DOCUMENT_H

#include "service/svc.h"
#include "store/outbox.h"
#include "trust/checkpoint.h"
#include "trust/sm2.h"

#include <stddef.h>

/* The verification code of the document `type` with business key `key` (a remittance serial, a
 * member account number), for the response that issues or shows it. The caller has already
 * passed the scope check for that document. Reads the hot standby when there is one, and the
 * primary when the standby does not have the document yet. Returns 0, HPF_ENOTFOUND (the
 * document predates the audit chain: no code) or a database error. */
int hpf_doc_code(hpf_svc *svc, hpf_doc_type type, const char *key, char code[HPF_VCODE_LEN],
                 hpf_err *err);

/* Check a verification code (public). Reads the hot standby when there is one and asks the
 * primary when the standby does not know the code yet. Returns 0 with *out filled (out->authentic
 * says the verdict), HPF_EINVAL (rule document.code_format, field /code), HPF_ENOTFOUND (rule
 * document.unknown) or a database error. */
int hpf_doc_check(hpf_svc *svc, const char *code, hpf_document *out, hpf_err *err);

/* The centre's public seal keys, oldest first. Free with hpf_sm2_pubkeys_free. */
int hpf_doc_centre_keys(hpf_svc *svc, hpf_sm2_pubkey **items, size_t *n, hpf_err *err);

/* The outbox reply handler of topic "notary.anchor" (jobs/dispatch.h hpf_dispatch_handler):
 * keeps the notary's receipt with the checkpoint of the day named by the message's idempotency
 * key ("anchor:YYYY-MM-DD"), in the dispatcher's transaction. Returns 0, HPF_EINVAL (rule
 * notary.reply: not a receipt; the message is sent again later) or a database error. */
int hpf_doc_notary_reply(hpf_svc *svc, hpf_db *db, const hpf_outbox_msg *msg,
                         const char *reply_json, hpf_err *err);

#endif
