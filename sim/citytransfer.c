/* hpf-sim, the national transfer platform and "the other centre" (异地转移接续, RULES 1.6):
 * POST /citytransfer/v1/messages takes the BDC9xx messages of peers/citytransfer.h. To a BDC901
 * contact letter it answers at once with the other centre's decision; by default the centre
 * transfers: FlowState 08 and the BDC905 transfer-out information, made deterministically from
 * the resident ID (the figures below; tests compute the same). BDC903 cancels a letter still in
 * 01; BDC904 answers where a letter stands (and completes a letter left in 01 or 02); a BDC905
 * from HPF (HPF is the sending centre) is kept and confirmed with FlowState 00.
 *
 * POST /_sim/citytransfer {mode, next}: the next `next` decisions (answers to 901 or 904) take
 * `mode` instead of the default: "complete" (08 + BDC905), "hold" (01: the sending centre has
 * not looked at it), "accept" (02: accepted, the money follows on a later 904), "refuse" (13),
 * "fail" (40). HTTP failures are POST /_sim/faults with peer "citytransfer". GET
 * /_sim/citytransfer lists the letters and the BDC905s received. State in memory, under s->mu. */
#include "base/money.h"
#include "sim.h"

#include <stdio.h>
#include <string.h>

#define CT_MAX 10000 /* letters and received messages kept; then 503 */

static json_t *letters;  /* ContactNo -> {ContactNo, CertNo, Name, ..., FlowState} */
static json_t *received; /* BDC905s from HPF, oldest first */
static char mode[12] = "complete";
static int64_t mode_next;

void sim_ct_init(void)
{
    letters = json_object();
    received = json_array();
}

void sim_ct_cleanup(void)
{
    json_decref(letters);
    json_decref(received);
    letters = received = NULL;
}

static bool digits(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n <= max && strspn(s, "0123456789") == n;
}

/* The figures of a resident ID: h = sum of (i+1) x value of character i (X counts 10). */
static int64_t id_hash(const char *cert)
{
    int64_t h = 0;
    for (size_t i = 0; cert[i]; i++) {
        int v = cert[i] >= '0' && cert[i] <= '9' ? cert[i] - '0' : 10;
        h += (int64_t)(i + 1) * v;
    }
    return h;
}

/* The other centre's BDC905 for a letter: 本金 = 1000.00 + (h x 7919 mod 9000000) fen,
 * 利息 = floor(本金 x 75 / 10000), SixMconFlag 1 when h is even, LoanNum h mod 3, no unsettled or
 * fraudulent loan, opened 2010-(h mod 12 + 1), paid up to 2026-10. */
static json_t *transfer_of(json_t *letter)
{
    const char *cert = json_string_value(json_object_get(letter, "CertNo"));
    int64_t h = id_hash(cert ? cert : "");
    hpf_fen principal = 100000 + (h * 7919) % 9000000;
    hpf_fen interest = principal * 75 / 10000;
    char p[24], i[24], t[24], oa[8];
    snprintf(oa, sizeof oa, "2010%02d", (int)(h % 12) + 1);
    return json_pack(
        "{s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s,"
        " s:s, s:s, s:s}",
        "TxCode", "BDC905", "TxFunc", "0", "ContactNo", json_object_get(letter, "ContactNo"),
        "Name", json_object_get(letter, "Name"), "CertType", json_object_get(letter, "CertType"),
        "CertNo", json_object_get(letter, "CertNo"), "OrAcctNo",
        json_object_get(letter, "OrAcctNo"), "TranAmt", hpf_money_fmt(t, principal + interest),
        "OrAcctAmt", hpf_money_fmt(p, principal), "Yinter", hpf_money_fmt(i, interest), "OAcctDate",
        oa, "PayEndDate", "202610", "SixMconFlag", h % 2 == 0 ? "1" : "2", "LoanNum",
        (json_int_t)(h % 3), "LoanEndFlag", "2", "FrLoanFlag", "2", "ContPhone", "051512329",
        "TranRstCode", "0");
}

/* The decision on a letter now: the override while it lasts, else `dflt`. */
static const char *decide(const char *dflt)
{
    if (mode_next > 0) {
        mode_next--;
        return mode;
    }
    return dflt;
}

/* Apply decision `d` to the letter; the answer's FlowState, and the transfer when it pays. */
static json_t *answer(const char *tx, json_t *letter, const char *d)
{
    const char *state = !strcmp(d, "hold")     ? "01"
                        : !strcmp(d, "accept") ? "02"
                        : !strcmp(d, "refuse") ? "13"
                        : !strcmp(d, "fail")   ? "40"
                                               : "08";
    json_object_set_new(letter, "FlowState", json_string(state));
    json_t *o = json_pack("{s:s, s:s, s:O, s:s}", "TxCode", tx, "RstCode", "0", "ContactNo",
                          json_object_get(letter, "ContactNo"), "FlowState", state);
    if (!strcmp(state, "08"))
        json_object_set_new(o, "Transfer", transfer_of(letter));
    else if (!strcmp(state, "13"))
        json_object_set_new(o, "RstMsg", json_string("转出审核不通过: 转出中心审核未通过"));
    else if (!strcmp(state, "40"))
        json_object_set_new(o, "RstMsg", json_string("转出失败: 转出中心账户状态异常"));
    return o;
}

static json_t *refusal(const char *tx, const char *contact, const char *state, const char *msg)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "TxCode", tx, "RstCode", "1", "ContactNo",
                     contact, "FlowState", state, "RstMsg", msg);
}

static void ct_post_locked(sim *s, hpf_http_req *req, hpf_http_resp *resp, json_t **in)
{
    const char *key = NULL, *tx, *contact;
    hpf_err e = HPF_ERR_INIT;
    if (sim_intercept(s, SIM_CITYTRANSFER, req, resp, &key))
        return;
    if (hpf_http_json_body(req, in, &e) < 0) {
        hpf_http_problem(req, resp, &e);
        return;
    }
    tx = json_string_value(json_object_get(*in, "TxCode"));
    contact = json_string_value(json_object_get(*in, "ContactNo"));
    if (!tx || !digits(contact, 16, 16)) {
        sim_problem(req, resp, HPF_EINVAL, "/ContactNo", "sim.citytransfer_format",
                    "want {TxCode: BDC901|903|904|905, ContactNo: 16 digits, ...}");
        return;
    }
    if (json_object_size(letters) >= CT_MAX || json_array_size(received) >= CT_MAX) {
        sim_problem(req, resp, HPF_EBUSY, NULL, "sim.full", "hpf-sim holds too many letters");
        return;
    }
    json_t *letter = json_object_get(letters, contact);
    json_t *out = NULL;
    if (!strcmp(tx, "BDC901")) {
        const char *fields[] = {"TxFunc", "InCenterCode", "OutCenterCode", "Name",    "CertType",
                                "CertNo", "OrUnitName",   "OrAcctNo",      "InAcctNo"};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (!json_is_string(json_object_get(*in, fields[i]))) {
                sim_problem(req, resp, HPF_EINVAL, fields[i], "sim.citytransfer_format",
                            "a BDC901 names TxFunc, the centres, Name, CertType, CertNo, "
                            "OrUnitName, OrAcctNo and InAcctNo");
                return;
            }
        if (letter) {
            sim_problem(req, resp, HPF_ECONFLICT, "/ContactNo", "sim.citytransfer_letter",
                        "this letter number was used already");
            return;
        }
        letter = json_deep_copy(*in);
        json_object_del(letter, "TxCode");
        json_object_set_new(letters, contact, letter);
        out = answer(tx, letter, decide("complete"));
    } else if (!strcmp(tx, "BDC903") || !strcmp(tx, "BDC904")) {
        if (!letter) {
            sim_problem(req, resp, HPF_EUNPROC, "/ContactNo", "sim.citytransfer_unknown",
                        "no such contact letter");
            return;
        }
        const char *st = json_string_value(json_object_get(letter, "FlowState"));
        if (!strcmp(tx, "BDC903")) {
            if (strcmp(st, "01") != 0) {
                out = refusal(tx, contact, st,
                              "撤销只能在联系函复核通过(01)状态下进行: the sending centre "
                              "accepted the letter");
            } else {
                json_object_set_new(letter, "FlowState", json_string("05"));
                out = json_pack("{s:s, s:s, s:s, s:s}", "TxCode", tx, "RstCode", "0", "ContactNo",
                                contact, "FlowState", "05");
            }
        } else if (!strcmp(st, "01") || !strcmp(st, "02") || !strcmp(st, "08")) {
            out = answer(tx, letter, decide("complete"));
        } else {
            out = json_pack("{s:s, s:s, s:s, s:s}", "TxCode", tx, "RstCode", "0", "ContactNo",
                            contact, "FlowState", st);
        }
    } else if (!strcmp(tx, "BDC905")) {
        json_array_append(received, *in);
        out = json_pack("{s:s, s:s, s:s, s:s}", "TxCode", tx, "RstCode", "0", "ContactNo", contact,
                        "FlowState", "00");
    } else {
        sim_problem(req, resp, HPF_EINVAL, "/TxCode", "sim.citytransfer_format",
                    "TxCode must be BDC901, BDC903, BDC904 or BDC905");
        return;
    }
    if (!out) {
        sim_problem(req, resp, HPF_EINTERNAL, NULL, "sim.internal", "cannot build the answer");
        return;
    }
    sim_remember(s, SIM_CITYTRANSFER, key, 200, out, NULL, resp);
}

void sim_ct_post(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    json_t *in = NULL;
    pthread_mutex_lock(&s->mu);
    ct_post_locked(s, req, resp, &in);
    pthread_mutex_unlock(&s->mu);
    json_decref(in);
}

/* POST /_sim/citytransfer {"mode": "hold", "next": 1} */
void sim_ct_mode(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    json_t *in = NULL;
    hpf_err e = HPF_ERR_INIT;
    const char *m = NULL;
    json_int_t n = -1;
    json_error_t je;
    if (hpf_http_json_body(req, &in, &e) < 0) {
        hpf_http_problem(req, resp, &e);
        return;
    }
    if (json_unpack_ex(in, &je, JSON_STRICT, "{s:s, s:I}", "mode", &m, "next", &n) < 0 || n < 0 ||
        n > 1000 ||
        (strcmp(m, "complete") && strcmp(m, "hold") && strcmp(m, "accept") && strcmp(m, "refuse") &&
         strcmp(m, "fail"))) {
        json_decref(in);
        sim_problem(req, resp, HPF_EINVAL, "", "sim.citytransfer_mode",
                    "want {mode: complete|hold|accept|refuse|fail, next: 0..1000}");
        return;
    }
    pthread_mutex_lock(&s->mu);
    snprintf(mode, sizeof mode, "%s", m);
    mode_next = n;
    pthread_mutex_unlock(&s->mu);
    hpf_http_json(resp, 200, json_pack("{s:s, s:I}", "mode", m, "next", n));
    json_decref(in);
}

/* GET /_sim/citytransfer: {letters: [...], received: [...]} */
void sim_ct_list(hpf_http_req *req, hpf_http_resp *resp, const void *udata)
{
    sim *s = (sim *)udata;
    (void)req;
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    pthread_mutex_lock(&s->mu);
    json_object_foreach(letters, k, v) json_array_append_new(arr, json_deep_copy(v));
    json_t *o = json_pack("{s:o, s:o, s:s, s:I}", "letters", arr, "received",
                          json_deep_copy(received), "mode", mode, "next", (json_int_t)mode_next);
    pthread_mutex_unlock(&s->mu);
    hpf_http_json(resp, 200, o);
}
