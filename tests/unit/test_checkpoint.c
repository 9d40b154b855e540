/* Unit tests for trust/checkpoint: the Merkle tree against a direct recursive RFC 6962 tree
 * (SM3 straight from OpenSSL), the centre's days, verification codes, and checkpoints of a
 * chain whose entries are stamped on chosen days: made, verified, proved, and forged. */
#include "base/date.h"
#include "base/err.h"
#include "base/rand.h"
#include "store/db.h"
#include "store/migrate.h"
#include "trust/audit.h"
#include "trust/checkpoint.h"
#include "trust/sm2.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- an independent Merkle tree hash: RFC 6962 section 2.1, recursively ---- */

static void sm3(const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    cr_assert(EVP_Digest(p, n, out, &len, EVP_sm3(), NULL) == 1 && len == 32);
}

static void mth(unsigned char (*entry)[32], size_t n, unsigned char out[32])
{
    unsigned char buf[65];
    if (n == 0) {
        sm3("", 0, out);
    } else if (n == 1) {
        buf[0] = 0x00;
        memcpy(buf + 1, entry[0], 32);
        sm3(buf, 33, out);
    } else {
        size_t k = 1;
        while (k * 2 < n)
            k *= 2;
        buf[0] = 0x01;
        mth(entry, k, buf + 1);
        mth(entry + k, n - k, buf + 33);
        sm3(buf, 65, out);
    }
}

static void entry_of(size_t i, unsigned char out[32])
{
    char s[32];
    snprintf(s, sizeof s, "entry %zu", i);
    sm3(s, strlen(s), out);
}

Test(merkle, the_streaming_tree_equals_the_recursive_rfc6962_tree_for_1_to_70_leaves)
{
    unsigned char e[70][32], want[32], got[32];
    hpf_sm3 *h = hpf_sm3_new();
    hpf_merkle m;
    hpf_merkle_init(&m, h);
    hpf_merkle_root(&m, got);
    mth(e, 0, want);
    cr_assert_eq(memcmp(got, want, 32), 0, "empty tree: SM3 of nothing");
    for (size_t n = 1; n <= 70; n++) {
        entry_of(n - 1, e[n - 1]);
        hpf_merkle_add(&m, e[n - 1]);
        hpf_merkle_root(&m, got);
        mth(e, n, want);
        cr_assert_eq(memcmp(got, want, 32), 0, "%zu leaves", n);
        cr_assert_eq(m.leaves, (int64_t)n);
    }
    hpf_sm3_free(h);
}

Test(merkle, leaves_and_nodes_are_domain_separated)
{
    /* One leaf is SM3(0x00 || h), not h; two leaves are SM3(0x01 || l0 || l1). */
    unsigned char a[32], b[32], l[2][32], buf[65], want[32], got[32];
    entry_of(1, a);
    entry_of(2, b);
    hpf_sm3 *h = hpf_sm3_new();
    hpf_merkle m;
    hpf_merkle_init(&m, h);
    hpf_merkle_add(&m, a);
    hpf_merkle_root(&m, got);
    cr_assert_neq(memcmp(got, a, 32), 0);
    buf[0] = 0;
    memcpy(buf + 1, a, 32);
    sm3(buf, 33, l[0]);
    memcpy(buf + 1, b, 32);
    sm3(buf, 33, l[1]);
    cr_assert_eq(memcmp(got, l[0], 32), 0);
    hpf_merkle_add(&m, b);
    hpf_merkle_root(&m, got);
    buf[0] = 1;
    memcpy(buf + 1, l[0], 32);
    memcpy(buf + 33, l[1], 32);
    sm3(buf, 65, want);
    cr_assert_eq(memcmp(got, want, 32), 0);
    hpf_sm3_free(h);
}

/* ---- days ---- */

static hpf_day ymd(int y, int m, int d)
{
    return hpf_day_from_ymd(y, m, d);
}

Test(checkpoint, the_day_of_an_entry_is_its_date_in_asia_shanghai)
{
    cr_assert_eq(hpf_checkpoint_day_of("2026-11-14T15:59:59.999Z"), ymd(2026, 11, 14));
    cr_assert_eq(hpf_checkpoint_day_of("2026-11-14T16:00:00.000Z"), ymd(2026, 11, 15));
    cr_assert_eq(hpf_checkpoint_day_of("2026-12-31T23:30:00.000Z"), ymd(2027, 1, 1));
    cr_assert_eq(hpf_checkpoint_day_of("2026-11-14"), 0);
    cr_assert_eq(hpf_checkpoint_day_of("2026-02-30T01:00:00.000Z"), 0);
    cr_assert_eq(hpf_checkpoint_day_of("garbage at all, long enough"), 0);
}

Test(checkpoint, a_day_is_closed_two_minutes_after_midnight_in_the_centre)
{
    /* 2026-11-15 00:00 +08:00 is 2026-11-14 16:00 UTC. */
    int64_t midnight = (int64_t)ymd(2026, 11, 14) * 86400 + 16 * 3600;
    cr_assert_eq(hpf_checkpoint_closed_through(midnight - 1), ymd(2026, 11, 13));
    cr_assert_eq(hpf_checkpoint_closed_through(midnight + HPF_CHECKPOINT_SETTLE_S - 1),
                 ymd(2026, 11, 13));
    cr_assert_eq(hpf_checkpoint_closed_through(midnight + HPF_CHECKPOINT_SETTLE_S),
                 ymd(2026, 11, 14));
}

/* ---- verification codes ---- */

Test(vcode, a_code_is_the_seq_and_64_bits_of_the_hash_in_groups)
{
    char code[HPF_VCODE_LEN], hex[17];
    int64_t seq = 0;
    hpf_err err = HPF_ERR_INIT;
    const char *h = "89abcdef01234567aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    cr_assert_str_eq(hpf_vcode_format(code, 1234, h), "1234-89ab-cdef-0123-4567");
    cr_assert_eq(hpf_vcode_parse(code, &seq, hex, &err), 0);
    cr_assert_eq(seq, 1234);
    cr_assert_str_eq(hex, "89abcdef01234567");
    cr_assert_eq(hpf_vcode_parse("1234-89AB-CDEF-0123-4567", &seq, hex, &err), 0, "either case");
    cr_assert_str_eq(hex, "89abcdef01234567");
    const char *bad[] = {"",
                         "1234",
                         "0-89ab-cdef-0123-4567",
                         "01234-89ab-cdef-0123-4567",
                         "1234-89ab-cdef-0123",
                         "1234-89ab-cdef-0123-45678",
                         "1234-89ab-cdef-0123-456g",
                         "1234 89ab-cdef-0123-4567",
                         "99999999999999999999-89ab-cdef-0123-4567",
                         "-1-89ab-cdef-0123-4567"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_err_clear(&err);
        cr_assert_eq(hpf_vcode_parse(bad[i], &seq, hex, &err), HPF_EINVAL, "'%s'", bad[i]);
        cr_assert_str_eq(err.rule, "document.code_format");
        cr_assert_str_eq(err.field, "/code");
    }
}

/* ---- a chain with entries on chosen days ---- */

static char tmpdir[PATH_MAX];
static hpf_store *store;
static hpf_db *db;
static hpf_sm2_key *seal;

static void setup(void)
{
    hpf_err err = HPF_ERR_INIT;
    char url[PATH_MAX + 32];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hpf-cp-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(url, sizeof url, "sqlite:%s/hpf.db", tmpdir);
    cr_assert_eq(hpf_store_open(&store, url, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_store_conn(store, &db, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_migrate(db, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_sm2_generate(&seal, &err), 0);
    cr_assert_eq(hpf_db_begin(db, &err), 0);
    cr_assert_eq(hpf_sm2_key_register(db, seal, HPF_SM2_CENTRE, 0, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_db_commit(db, &err), 0);
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    hpf_sm2_free(seal);
    hpf_store_free(store);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

/* Append an entry stamped `at`, as the chain would (head first, then the linked entry). */
static int64_t add_entry(const char *at, const char *kind, int64_t ref_id)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_stmt *st;
    char prev[65], hash[65], payload[64];
    int64_t seq = 0;
    snprintf(payload, sizeof payload, "test/1|%lld", (long long)ref_id);
    cr_assert_eq(hpf_db_begin(db, &err), 0);
    cr_assert_eq(hpf_db_prepare(db, &st,
                                "UPDATE audit_head SET seq = seq + 1 WHERE id = 1"
                                " RETURNING seq, hash",
                                &err),
                 0);
    cr_assert_eq(hpf_stmt_step(st, &err), 1);
    seq = hpf_stmt_i64(st, 0);
    snprintf(prev, sizeof prev, "%s", hpf_stmt_text(st, 1));
    hpf_stmt_reset(st);
    cr_assert(hpf_audit_entry_hash(NULL, prev, seq, at, 0, kind, "member", ref_id, payload, hash));
    cr_assert_eq(hpf_db_prepare(db, &st,
                                "INSERT INTO audit_log(seq, at, actor, kind, ref_table, ref_id,"
                                " payload, prev_hash, hash) VALUES (?, ?, 0, ?, 'member', ?, ?, ?,"
                                " ?)",
                                &err),
                 0);
    hpf_stmt_bind_i64(st, 1, seq);
    hpf_stmt_bind_text(st, 2, at);
    hpf_stmt_bind_text(st, 3, kind);
    hpf_stmt_bind_i64(st, 4, ref_id);
    hpf_stmt_bind_text(st, 5, payload);
    hpf_stmt_bind_text(st, 6, prev);
    hpf_stmt_bind_text(st, 7, hash);
    cr_assert_eq(hpf_stmt_step(st, &err), 0, "%s", err.msg);
    hpf_stmt_reset(st);
    cr_assert_eq(hpf_db_commit(db, &err), 0);
    return seq;
}

/* Days 2026-01-01 (5 entries), 2026-01-02 (1), none on the 3rd, 2026-01-04 (7): the first
 * entry of each day opens a member account (a document), the others are events, except on the
 * 4th, where every entry is a document (a proof for every leaf of an odd-sized tree). */
static const struct {
    const char *day_utc; /* the UTC date on which the day's entries are stamped */
    int n;
} days[] = {{"2025-12-31T16:", 5}, {"2026-01-02T01:", 1}, {"2026-01-03T23:", 7}};

static int64_t doc_seq[3];

static void fill(void)
{
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < days[d].n; i++) {
            char at[40];
            snprintf(at, sizeof at, "%s%02d:00.000Z", days[d].day_utc, 10 + i);
            bool doc = i == 0 || d == 2;
            int64_t seq = add_entry(at, doc ? "member.opened" : "session.login", d * 10 + i);
            if (i == 0)
                doc_seq[d] = seq;
        }
}

static int run_through(hpf_day through, int64_t *written, hpf_err *err)
{
    hpf_checkpoint last;
    return hpf_checkpoint_run(db, seal, "320900", through, written, &last, err);
}

static int verify(hpf_checkpoint_stats *st, hpf_err *err)
{
    cr_assert_eq(hpf_db_begin_read(db, err), 0);
    int rc = hpf_checkpoint_verify(db, st, err);
    hpf_db_rollback(db);
    return rc;
}

static int64_t count(const char *sql)
{
    int64_t n = -1;
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_db_query_i64(db, &n, sql, &err), 0, "%s: %s", sql, err.msg);
    return n;
}

Test(checkpoint, one_checkpoint_per_closed_day_with_entries_in_contiguous_ranges, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t written = -1;
    fill();
    bool due = true;
    cr_assert_eq(hpf_checkpoint_due(db, ymd(2025, 12, 31), &due, &err), 0);
    cr_assert(!due, "no entries on or before 2025-12-31 (Shanghai)");
    cr_assert_eq(run_through(ymd(2026, 1, 3), &written, &err), 0, "%s", err.msg);
    cr_assert_eq(written, 2);
    cr_assert_eq(count("SELECT count(*) FROM audit_checkpoint"), 2);
    cr_assert_eq(count("SELECT last_seq FROM audit_checkpoint WHERE day = '2026-01-01'"), 5);
    cr_assert_eq(count("SELECT first_seq FROM audit_checkpoint WHERE day = '2026-01-02'"), 6);
    cr_assert_eq(count("SELECT last_seq FROM audit_checkpoint WHERE day = '2026-01-02'"), 6);
    /* Each checkpoint is on the chain; those entries are stamped now, after the test days. */
    cr_assert_eq(count("SELECT count(*) FROM audit_log WHERE kind = 'audit.checkpoint'"), 2);
    cr_assert_eq(run_through(ymd(2026, 1, 3), &written, &err), 0);
    cr_assert_eq(written, 0, "idempotent");
    cr_assert_eq(run_through(ymd(2026, 1, 4), &written, &err), 0, "%s", err.msg);
    cr_assert_eq(written, 1);
    cr_assert_eq(count("SELECT first_seq FROM audit_checkpoint WHERE day = '2026-01-04'"), 7);
    cr_assert_eq(count("SELECT last_seq FROM audit_checkpoint WHERE day = '2026-01-04'"), 13);
    cr_assert_eq(hpf_checkpoint_due(db, ymd(2026, 1, 5), &due, &err), 0);
    cr_assert(!due);

    hpf_checkpoint_stats st;
    cr_assert_eq(verify(&st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.checkpoints, 3);
    cr_assert_eq(st.leaves, 13);
    cr_assert_eq(st.first_day, ymd(2026, 1, 1));
    cr_assert_eq(st.last_day, ymd(2026, 1, 4));
}

/* Walk a proof up from the entry hash with SM3 straight from OpenSSL. */
static void walk(const hpf_document *d, char out[65])
{
    unsigned char v[32], s[32], buf[65];
    for (int i = 0; i < 32; i++)
        sscanf(d->entry_hash + 2 * i, "%2hhx", &s[i]);
    buf[0] = 0;
    memcpy(buf + 1, s, 32);
    sm3(buf, 33, v);
    for (int k = 0; k < d->nproof; k++) {
        for (int i = 0; i < 32; i++)
            sscanf(d->proof[k].hash + 2 * i, "%2hhx", &s[i]);
        buf[0] = 1;
        memcpy(buf + 1, d->proof[k].left ? s : v, 32);
        memcpy(buf + 33, d->proof[k].left ? v : s, 32);
        sm3(buf, 65, v);
    }
    hpf_hex(out, v, 32);
}

static int check(const char *code, hpf_document *d, hpf_err *err)
{
    cr_assert_eq(hpf_db_begin_read(db, err), 0);
    int rc = hpf_document_check(db, code, d, err);
    hpf_db_rollback(db);
    return rc;
}

Test(checkpoint, every_entry_of_a_checkpoint_has_a_proof_to_its_signed_root, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t written;
    fill();
    cr_assert_eq(run_through(ymd(2026, 1, 4), &written, &err), 0, "%s", err.msg);
    cr_assert_eq(written, 3);
    /* A code for every document; its proof recomputes to the root outside trust/checkpoint. */
    for (int d = 0; d < 3; d++) {
        char key[20], code[HPF_VCODE_LEN], root[65];
        hpf_document doc;
        snprintf(key, sizeof key, "%d", d);
        hpf_stmt *st;
        cr_assert_eq(hpf_db_prepare(db, &st, "SELECT hash FROM audit_log WHERE seq = ?", &err), 0);
        hpf_stmt_bind_i64(st, 1, doc_seq[d]);
        cr_assert_eq(hpf_stmt_step(st, &err), 1);
        hpf_vcode_format(code, doc_seq[d], hpf_stmt_text(st, 0));
        hpf_stmt_reset(st);
        cr_assert_eq(check(code, &doc, &err), 0, "%s: %s", code, err.msg);
        cr_assert(doc.authentic && doc.entry_ok && doc.checkpointed && doc.root_ok &&
                  doc.signature_ok);
        cr_assert_str_eq(doc.kind, "member_account");
        cr_assert_eq(doc.seq, doc_seq[d]);
        cr_assert_eq(doc.leaf_index, doc_seq[d] - doc.cp.first_seq);
        walk(&doc, root);
        cr_assert_str_eq(root, doc.cp.root);
        char text[256];
        hpf_checkpoint_text(&doc.cp, text, sizeof text);
        cr_assert_eq(hpf_sm2_verify(seal, text, strlen(text), doc.cp.signature, &err), 0);

        /* Another hash part, or a code that names an event: no document. */
        code[strlen(code) - 1] = code[strlen(code) - 1] == '0' ? '1' : '0';
        cr_assert_eq(check(code, &doc, &err), HPF_ENOTFOUND);
        cr_assert_str_eq(err.rule, "document.unknown");
    }
    /* Proofs for every leaf position of the 7-entry day (odd sizes promote nodes); an event is
     * no document. */
    for (int64_t seq = 2; seq <= 13; seq++) {
        hpf_stmt *st;
        char code[HPF_VCODE_LEN], root[65];
        hpf_document doc;
        cr_assert_eq(hpf_db_prepare(db, &st, "SELECT hash FROM audit_log WHERE seq = ?", &err), 0);
        hpf_stmt_bind_i64(st, 1, seq);
        cr_assert_eq(hpf_stmt_step(st, &err), 1);
        hpf_vcode_format(code, seq, hpf_stmt_text(st, 0));
        hpf_stmt_reset(st);
        int rc = check(code, &doc, &err);
        if (seq >= 7) {
            cr_assert_eq(rc, 0);
            cr_assert_eq(doc.leaf_index, seq - 7);
            cr_assert_eq(doc.nproof, seq == 13 ? 2 : 3, "the promoted last leaf is one level up");
            walk(&doc, root);
            cr_assert_str_eq(root, doc.cp.root, "seq %lld", (long long)seq);
        } else if (seq != 6) {
            cr_assert_eq(rc, HPF_ENOTFOUND, "seq %lld is an event, not a document", (long long)seq);
        }
    }
    cr_assert_eq(count("SELECT count(*) FROM audit_checkpoint"), 3);
}

Test(checkpoint, a_document_of_a_day_not_yet_checkpointed_has_no_proof, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_document doc;
    char code[HPF_VCODE_LEN];
    fill();
    hpf_stmt *st;
    cr_assert_eq(hpf_db_prepare(db, &st, "SELECT hash FROM audit_log WHERE seq = ?", &err), 0);
    hpf_stmt_bind_i64(st, 1, doc_seq[2]);
    cr_assert_eq(hpf_stmt_step(st, &err), 1);
    hpf_vcode_format(code, doc_seq[2], hpf_stmt_text(st, 0));
    hpf_stmt_reset(st);
    cr_assert_eq(check(code, &doc, &err), 0, "%s", err.msg);
    cr_assert(doc.authentic && doc.entry_ok && !doc.checkpointed);
    cr_assert_eq(doc.nproof, 0);
}

/* Forge a checkpoint with the immutability trigger dropped, as an attacker with the file would. */
static void forge(const char *sql)
{
    hpf_err err = HPF_ERR_INIT;
    char all[1024];
    snprintf(all, sizeof all,
             "DROP TRIGGER audit_checkpoint_immutable_u; DROP TRIGGER audit_checkpoint_immutable_d;"
             " %s",
             sql);
    cr_assert_eq(hpf_db_exec(db, all, &err), 0, "%s", err.msg);
}

static void forged_fails(const char *sql, const char *rule, const char *names)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_checkpoint_stats st;
    int64_t written;
    fill();
    cr_assert_eq(run_through(ymd(2026, 1, 4), &written, &err), 0, "%s", err.msg);
    cr_assert_eq(verify(&st, &err), 0, "%s", err.msg);
    forge(sql);
    cr_assert_eq(verify(&st, &err), HPF_ECONFLICT, "%s: verified", sql);
    cr_assert_str_eq(err.rule, rule, "%s: %s", sql, err.msg);
    cr_assert(strstr(err.msg, names) != NULL, "'%s' not in: %s", names, err.msg);
    cr_assert_geq(st.problems, 1);
}

Test(checkpoint, a_changed_root_is_named, .init = setup, .fini = teardown)
{
    forged_fails("UPDATE audit_checkpoint SET root = '" /* 64 hex */
                 "00000000000000000000000000000000000000000000000000000000000000ff'"
                 " WHERE day = '2026-01-02'",
                 "audit.checkpoint_root", "checkpoint of 2026-01-02");
}

Test(checkpoint, a_changed_signature_is_named, .init = setup, .fini = teardown)
{
    forged_fails("UPDATE audit_checkpoint SET signature = (SELECT signature FROM audit_checkpoint"
                 " WHERE day = '2026-01-01') WHERE day = '2026-01-04'",
                 "audit.checkpoint_signature", "checkpoint of 2026-01-04");
}

Test(checkpoint, a_deleted_checkpoint_is_missing_while_later_days_are_checkpointed, .init = setup,
     .fini = teardown)
{
    forged_fails("DELETE FROM audit_checkpoint WHERE day = '2026-01-02'",
                 "audit.checkpoint_missing",
                 "no checkpoint covers entries seq 6..6 (from 2026-01-02), while 2026-01-04");
}

Test(checkpoint, the_last_checkpoint_deleted_is_missing_by_its_chain_entry, .init = setup,
     .fini = teardown)
{
    forged_fails("DELETE FROM audit_checkpoint WHERE day = '2026-01-04'",
                 "audit.checkpoint_missing", "the checkpoint of 2026-01-04");
}

Test(checkpoint, a_checkpoint_resigned_by_a_key_of_the_forger_is_named, .init = setup,
     .fini = teardown)
{
    /* The forger cannot make the centre's signature: a key of their own is not a centre key. */
    hpf_err err = HPF_ERR_INIT;
    hpf_checkpoint_stats st;
    int64_t written;
    hpf_sm2_key *mine;
    char id[17], sig[HPF_SM2_SIG_HEX], sql[768];
    fill();
    cr_assert_eq(run_through(ymd(2026, 1, 4), &written, &err), 0, "%s", err.msg);
    cr_assert_eq(hpf_sm2_generate(&mine, &err), 0);
    cr_assert_eq(hpf_db_exec(db,
                             "INSERT INTO app_user(id, username, pw_hash, role, display_name)"
                             " VALUES (7, 'op', 'x', 'operator', 'op')",
                             &err),
                 0);
    cr_assert_eq(hpf_db_begin(db, &err), 0);
    cr_assert_eq(hpf_sm2_key_register(db, mine, HPF_SM2_OPERATOR, 7, id, &err), 0);
    cr_assert_eq(hpf_db_commit(db, &err), 0);
    const char *text = "hpf-checkpoint/1|320900|20260102|6|6|1|"
                       "00000000000000000000000000000000000000000000000000000000000000ff";
    cr_assert_eq(hpf_sm2_sign(mine, text, strlen(text), sig, &err), 0);
    snprintf(sql, sizeof sql,
             "UPDATE audit_checkpoint SET root = '0000000000000000000000000000000000000000000000"
             "0000000000000000ff', signature = '%s', key_id = '%s' WHERE day = '2026-01-02'",
             sig, id);
    forge(sql);
    cr_assert_eq(verify(&st, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "audit.checkpoint_root", "%s", err.msg);
    cr_assert_geq(st.problems, 3, "root, signature (not a centre key) and chain entry");
    hpf_sm2_free(mine);
}

Test(checkpoint, a_broken_chain_is_not_signed, .init = setup, .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    int64_t written;
    fill();
    cr_assert_eq(hpf_db_exec(db,
                             "DROP TRIGGER audit_log_immutable_u;"
                             " UPDATE audit_log SET payload = 'test/1|999' WHERE seq = 9",
                             &err),
                 0, "%s", err.msg);
    cr_assert_eq(run_through(ymd(2026, 1, 3), &written, &err), 0, "the 1st and 2nd are intact");
    cr_assert_eq(written, 2);
    cr_assert_eq(run_through(ymd(2026, 1, 4), &written, &err), HPF_ECONFLICT);
    cr_assert_str_eq(err.rule, "audit.entry_hash");
    cr_assert(strstr(err.msg, "seq 9") != NULL, "%s", err.msg);
    cr_assert_eq(count("SELECT count(*) FROM audit_checkpoint"), 2);
}

Test(checkpoint, entries_stamped_on_a_checkpointed_day_go_into_the_next_checkpoint, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_checkpoint_stats st;
    int64_t written;
    fill();
    cr_assert_eq(run_through(ymd(2026, 1, 4), &written, &err), 0);
    /* A late entry stamped on the 2nd (a clock that ran behind), after the checkpoints' own
     * entries, which are stamped now. */
    int64_t late = add_entry("2026-01-02T03:00:00.000Z", "session.login", 99);
    cr_assert_eq(late, 17);
    cr_assert_eq(run_through(ymd(2026, 1, 5), &written, &err), 0);
    cr_assert_eq(written, 0, "the next uncovered entry is stamped today");
    hpf_day today =
        hpf_checkpoint_closed_through((int64_t)time(NULL) + HPF_CHECKPOINT_SETTLE_S) + 1;
    cr_assert_eq(run_through(today, &written, &err), 0, "%s", err.msg);
    cr_assert_eq(written, 1);
    cr_assert_eq(count("SELECT max(first_seq) FROM audit_checkpoint"), 14);
    cr_assert_eq(count("SELECT max(last_seq) FROM audit_checkpoint"), late);
    cr_assert_eq(verify(&st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.checkpoints, 4);
    cr_assert_eq(st.last_day, today);
}

Test(checkpoint, each_checkpoint_is_queued_for_the_notary_and_its_receipt_kept_once, .init = setup,
     .fini = teardown)
{
    hpf_err err = HPF_ERR_INIT;
    hpf_checkpoint_stats st;
    int64_t written;
    fill();
    cr_assert_eq(run_through(ymd(2026, 1, 4), &written, &err), 0, "%s", err.msg);
    cr_assert_eq(count("SELECT count(*) FROM outbox WHERE peer = 'notary' AND topic ="
                       " 'notary.anchor' AND idem_key IN ('anchor:2026-01-01', 'anchor:2026-01-02',"
                       " 'anchor:2026-01-04')"),
                 3);
    cr_assert_eq(hpf_checkpoint_record_anchor(db, ymd(2026, 1, 2), "{\"receipt_id\":\"r1\"}",
                                              "2026-01-03T00:00:00Z", &err),
                 0, "%s", err.msg);
    /* A repeated reply changes nothing; the anchor columns are set once. */
    cr_assert_eq(hpf_checkpoint_record_anchor(db, ymd(2026, 1, 2), "{\"receipt_id\":\"r2\"}",
                                              "2026-01-04T00:00:00Z", &err),
                 0);
    cr_assert_eq(count("SELECT count(*) FROM audit_checkpoint WHERE anchor_receipt ="
                       " '{\"receipt_id\":\"r1\"}' AND anchored_at = '2026-01-03T00:00:00Z'"),
                 1);
    cr_assert_lt(hpf_db_exec(db,
                             "UPDATE audit_checkpoint SET anchor_receipt = 'x' WHERE day ="
                             " '2026-01-02'",
                             &err),
                 0, "an anchored checkpoint is immutable");
    cr_assert_lt(
        hpf_db_exec(db, "UPDATE audit_checkpoint SET root = 'x' WHERE day = '2026-01-01'", &err),
        0);
    cr_assert_eq(verify(&st, &err), 0, "%s", err.msg);
}
