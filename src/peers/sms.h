/*
 * peers/sms: the message format of the SMS gateway peer (POST /sms/v1/messages through
 * peers/transport). A service that sends a text (a one-time code) builds the body here and
 * enqueues it in the outbox for peer "sms"; what the text says is the service's business.
 *
 *   request  {"to": "13800000000", "template": "otp.login", "params": {...}, "text": "..."}
 *            (text is optional: a gateway fills the registered template with the params)
 *   reply    {"message_id": "...", "accepted_at": "RFC 3339"}
 */
#ifndef HPF_PEERS_SMS_H
#define HPF_PEERS_SMS_H

#include "base/err.h"

#include <jansson.h>

#define HPF_SMS_TEXT_MAX 500 /* characters of one message */

/* Build the request body into *out (malloc'd JSON text; free() it). `to`: 5..20 digits with an
 * optional leading '+'; `template_id`: 1..64 characters of a-z 0-9 . _ -; `params`: a JSON
 * object (borrowed) or NULL for {}; `text`: NULL (the gateway fills the template with params)
 * or 1..HPF_SMS_TEXT_MAX characters of UTF-8 without control bytes. Returns 0 or HPF_EINVAL
 * naming the field (to, template, params, text). */
int hpf_sms_message(char **out, const char *to, const char *template_id, const json_t *params,
                    const char *text, hpf_err *err);

#endif
