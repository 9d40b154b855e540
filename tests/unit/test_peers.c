/* Unit tests for peers/: the SMS and notary message formats and the transport's settings checks
 * (no network: sending is covered by tests/api/outbox.test.mjs against hpf-sim). */
#include "base/err.h"
#include "peers/notary.h"
#include "peers/sms.h"
#include "peers/transport.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

Test(sms_message, builds_the_gateway_body_with_sorted_keys)
{
    hpf_err err = HPF_ERR_INIT;
    char *out = NULL;
    json_t *params = json_pack("{s:s}", "code", "123456");
    cr_assert_eq(hpf_sms_message(&out, "13800000000", "otp.login", params, "code 123456", &err), 0,
                 "%s", err.msg);
    cr_assert_str_eq(out, "{\"params\":{\"code\":\"123456\"},\"template\":\"otp.login\","
                          "\"text\":\"code 123456\",\"to\":\"13800000000\"}");
    free(out);
    /* no text: the gateway fills the template; no params: {} */
    cr_assert_eq(hpf_sms_message(&out, "+8613800000000", "ops.ping", NULL, NULL, &err), 0);
    cr_assert_str_eq(out, "{\"params\":{},\"template\":\"ops.ping\",\"to\":\"+8613800000000\"}");
    free(out);
    json_decref(params);
}

Test(sms_message, refuses_bad_fields_naming_them)
{
    hpf_err err = HPF_ERR_INIT;
    char *out = NULL;
    json_t *arr = json_array();
    cr_assert_eq(hpf_sms_message(&out, "1380", "otp", NULL, NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "to");
    cr_assert_eq(hpf_sms_message(&out, "1380000000a", "otp", NULL, NULL, &err), HPF_EINVAL);
    cr_assert_eq(hpf_sms_message(&out, "13800000000", "OTP", NULL, NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "template");
    cr_assert_eq(hpf_sms_message(&out, "13800000000", "otp", arr, NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "params");
    cr_assert_eq(hpf_sms_message(&out, "13800000000", "otp", NULL, "", &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "text");
    cr_assert_eq(hpf_sms_message(&out, "13800000000", "otp", NULL, "a\x01", &err), HPF_EINVAL);
    char long_text[1600];
    memset(long_text, 'x', 501);
    long_text[501] = '\0';
    cr_assert_eq(hpf_sms_message(&out, "13800000000", "otp", NULL, long_text, &err), HPF_EINVAL);
    /* 500 characters of three bytes each are fine: the limit counts characters */
    for (int i = 0; i < 500; i++)
        memcpy(long_text + 3 * i, "\xe7\xa0\x81", 3); /* 码 */
    long_text[1500] = '\0';
    cr_assert_eq(hpf_sms_message(&out, "13800000000", "otp", NULL, long_text, &err), 0);
    free(out);
    json_decref(arr);
}

static const hpf_notary_anchor good = {
    .centre = "320900",
    .day = "2026-11-15",
    .root = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    .signature = "MEUCIQDx+/=",
    .key_id = "centre-2026",
};

Test(notary_anchor, builds_the_request)
{
    hpf_err err = HPF_ERR_INIT;
    char *out = NULL;
    cr_assert_eq(hpf_notary_anchor_request(&out, &good, &err), 0, "%s", err.msg);
    cr_assert_str_eq(out,
                     "{\"centre\":\"320900\",\"day\":\"2026-11-15\",\"key_id\":\"centre-2026\","
                     "\"root\":\"66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4"
                     "ba8e0\",\"signature\":\"MEUCIQDx+/=\"}");
    free(out);
}

Test(notary_anchor, refuses_bad_fields_naming_them)
{
    hpf_err err = HPF_ERR_INIT;
    char *out = NULL;
    hpf_notary_anchor a = good;
    a.centre = "32090";
    cr_assert_eq(hpf_notary_anchor_request(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "centre");
    a = good;
    a.day = "2026-02-30";
    cr_assert_eq(hpf_notary_anchor_request(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "day");
    a = good;
    a.root = "xyz";
    cr_assert_eq(hpf_notary_anchor_request(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "root");
    a = good;
    a.signature = "a b";
    cr_assert_eq(hpf_notary_anchor_request(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "signature");
    a = good;
    a.key_id = "";
    cr_assert_eq(hpf_notary_anchor_request(&out, &a, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "key_id");
    cr_assert_null(out);
}

Test(notary_receipt, parses_a_reply_and_refuses_a_partial_one)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_notary_receipt r;
    cr_assert_eq(hpf_notary_receipt_parse(&r,
                                          "{\"receipt_id\":\"rcpt-000001-ab\",\"chain\":\"hpf-sim-"
                                          "notary\",\"block_height\":7,\"tx_hash\":\"8a9e\","
                                          "\"anchored_at\":\"2026-11-29T14:49:43.531Z\"}",
                                          &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(r.receipt_id, "rcpt-000001-ab");
    cr_assert_str_eq(r.chain, "hpf-sim-notary");
    cr_assert_eq(r.block_height, 7);
    cr_assert_str_eq(r.tx_hash, "8a9e");
    cr_assert_str_eq(r.anchored_at, "2026-11-29T14:49:43.531Z");
    cr_assert_eq(hpf_notary_receipt_parse(&r, "{\"receipt_id\":\"x\"}", &err), HPF_EINVAL);
    cr_assert_str_eq(err.rule, "notary.reply");
    cr_assert_str_eq(r.receipt_id, "");
    cr_assert_eq(hpf_notary_receipt_parse(&r,
                                          "{\"receipt_id\":\"x\",\"chain\":\"c\",\"block_height\":"
                                          "-1,\"tx_hash\":\"h\",\"anchored_at\":\"t\"}",
                                          &err),
                 HPF_EINVAL);
    cr_assert_eq(hpf_notary_receipt_parse(&r, "not json", &err), HPF_EINVAL);
}

Test(peers_settings, only_https_urls_and_readable_ca_files)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_peers *p = NULL;
    cr_assert_eq(hpf_peers_new(&p, "http://127.0.0.1:8444", NULL, &err), HPF_EINVAL);
    cr_assert_str_eq(err.field, "--peers");
    cr_assert_eq(hpf_peers_new(&p, "https://", NULL, &err), HPF_EINVAL);
    cr_assert_eq(hpf_peers_new(&p, "https://u:p@host", NULL, &err), HPF_EINVAL);
    cr_assert_eq(hpf_peers_new(&p, "https://host/?q=1", NULL, &err), HPF_EINVAL);
    cr_assert_eq(hpf_peers_new(&p, "https://127.0.0.1:8444", "/nonexistent/ca.pem", &err),
                 HPF_EINVAL);
    cr_assert_str_eq(err.field, "--peers-ca");
    cr_assert_null(p);
    cr_assert_eq(hpf_peers_new(&p, "https://127.0.0.1:8444/gw//", "", &err), 0, "%s", err.msg);
    cr_assert_str_eq(hpf_peers_url(p), "https://127.0.0.1:8444/gw");
    hpf_peers_free(p);
    cr_assert_str_eq(hpf_peers_path("sms"), "/sms/v1/messages");
    cr_assert_str_eq(hpf_peers_path("notary"), "/notary/v1/anchors");
    cr_assert_null(hpf_peers_path("bank"));
}
