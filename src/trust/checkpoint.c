/* trust/checkpoint: daily Merkle checkpoints, verification codes, inclusion proofs (see
 * checkpoint.h). */
#include "trust/checkpoint.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/rand.h"
#include "peers/notary.h"
#include "store/outbox.h"
#include "trust/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define PAGE_ROWS                                                                                  \
    20000 /* entries per page of a range scan (the PostgreSQL driver holds a page)                 \
           */

static bool unhex32(unsigned char out[HPF_SM3_LEN], const char *hex)
{
    if (strlen(hex) != 2 * HPF_SM3_LEN)
        return false;
    for (int i = 0; i < 2 * HPF_SM3_LEN; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return true;
}

/* ---- Merkle trees ---- */

static void node_hash(hpf_sm3 *h, const unsigned char left[HPF_SM3_LEN],
                      const unsigned char right[HPF_SM3_LEN], unsigned char out[HPF_SM3_LEN])
{
    static const unsigned char tag = 0x01;
    hpf_sm3_update(h, &tag, 1);
    hpf_sm3_update(h, left, HPF_SM3_LEN);
    hpf_sm3_update(h, right, HPF_SM3_LEN);
    hpf_sm3_final(h, out);
}

static void leaf_hash(hpf_sm3 *h, const unsigned char entry[HPF_SM3_LEN],
                      unsigned char out[HPF_SM3_LEN])
{
    static const unsigned char tag = 0x00;
    hpf_sm3_update(h, &tag, 1);
    hpf_sm3_update(h, entry, HPF_SM3_LEN);
    hpf_sm3_final(h, out);
}

void hpf_merkle_init(hpf_merkle *m, hpf_sm3 *sm3)
{
    memset(m, 0, sizeof *m);
    m->sm3 = sm3;
}

/* The stack holds complete subtrees of strictly decreasing size; a new leaf merges with equal
 * ones below it, like a carry in binary counting. That is the level-by-level tree with the odd
 * node promoted, which is RFC 6962's tree (split at the largest power of two below n). */
void hpf_merkle_add(hpf_merkle *m, const unsigned char entry_hash[HPF_SM3_LEN])
{
    leaf_hash(m->sm3, entry_hash, m->node[m->n]);
    m->level[m->n++] = 0;
    while (m->n >= 2 && m->level[m->n - 1] == m->level[m->n - 2]) {
        unsigned char up[HPF_SM3_LEN];
        node_hash(m->sm3, m->node[m->n - 2], m->node[m->n - 1], up);
        memcpy(m->node[m->n - 2], up, HPF_SM3_LEN);
        m->level[m->n - 2]++;
        m->n--;
    }
    m->leaves++;
}

void hpf_merkle_root(const hpf_merkle *m, unsigned char out[HPF_SM3_LEN])
{
    if (m->n == 0) {
        hpf_sm3_final(m->sm3, out); /* the hash of nothing */
        return;
    }
    unsigned char acc[HPF_SM3_LEN], up[HPF_SM3_LEN];
    memcpy(acc, m->node[m->n - 1], HPF_SM3_LEN);
    for (int i = m->n - 2; i >= 0; i--) {
        node_hash(m->sm3, m->node[i], acc, up);
        memcpy(acc, up, HPF_SM3_LEN);
    }
    memcpy(out, acc, HPF_SM3_LEN);
}

/* ---- days and texts ---- */

size_t hpf_checkpoint_text(const hpf_checkpoint *c, char *out, size_t n)
{
    char day[9];
    int len = snprintf(out, n, "%s|%s|%s|%lld|%lld|%lld|%s", HPF_CHECKPOINT_TAG, c->centre,
                       hpf_day_fmt_compact(day, c->day), (long long)c->first_seq,
                       (long long)c->last_seq, (long long)c->leaves, c->root);
    return len < 0 ? 0 : (size_t)len;
}

/* The chain entry's payload: the signed fields, then the key and the signature. */
static void entry_payload(const hpf_checkpoint *c, char *out, size_t n)
{
    char day[9];
    snprintf(out, n, "checkpoint/1|%s|%s|%lld|%lld|%lld|%s|%s|%s", c->centre,
             hpf_day_fmt_compact(day, c->day), (long long)c->first_seq, (long long)c->last_seq,
             (long long)c->leaves, c->root, c->key_id, c->signature);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

hpf_day hpf_checkpoint_day_of(const char *at)
{
    /* YYYY-MM-DDTHH:MM:SS */
    if (strlen(at) < 19 || at[4] != '-' || at[7] != '-' || at[10] != 'T' || at[13] != ':' ||
        at[16] != ':')
        return 0;
    int y = digits(at, 4), mo = digits(at + 5, 2), d = digits(at + 8, 2);
    int h = digits(at + 11, 2), mi = digits(at + 14, 2), s = digits(at + 17, 2);
    if (y < 1900 || mo < 0 || d < 0 || !hpf_date_valid(y, mo, d) || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || s < 0 || s > 60)
        return 0;
    int64_t secs = (int64_t)hpf_day_from_ymd(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    secs += HPF_CENTRE_UTC_OFFSET_S;
    return (hpf_day)(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
}

hpf_day hpf_checkpoint_closed_through(int64_t now)
{
    int64_t local = now - HPF_CHECKPOINT_SETTLE_S + HPF_CENTRE_UTC_OFFSET_S;
    return (hpf_day)(local / 86400) - 1;
}

/* The UTC timestamp at which `day` ends in the centre's time zone, in the audit format. */
static void day_end(hpf_day day, char out[32])
{
    int64_t t = ((int64_t)day + 1) * 86400 - HPF_CENTRE_UTC_OFFSET_S;
    int y, m, d;
    hpf_day_to_ymd((hpf_day)(t / 86400), &y, &m, &d);
    int64_t s = t % 86400;
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", y, m, d, (int)(s / 3600),
             (int)(s / 60 % 60), (int)(s % 60));
}

/* ---- reading the chain ---- */

#define FULL_COLS "seq, at, actor, kind, ref_table, ref_id, payload, prev_hash, hash"

typedef int (*row_fn)(void *ctx, hpf_stmt *st, hpf_err *err);

/* Call fn for every entry with first <= seq <= last, in seq order, a page at a time. Full rows
 * have FULL_COLS, light ones seq and hash. */
static int scan(hpf_db *db, int64_t first, int64_t last, bool full, row_fn fn, void *ctx,
                hpf_err *err)
{
    int64_t after = first - 1;
    for (;;) {
        hpf_stmt *st;
        int rc = hpf_db_prepare(db, &st,
                                full ? "SELECT " FULL_COLS " FROM audit_log WHERE seq > ? AND"
                                       " seq <= ? ORDER BY seq LIMIT ?"
                                     : "SELECT seq, hash FROM audit_log WHERE seq > ? AND"
                                       " seq <= ? ORDER BY seq LIMIT ?",
                                err);
        if (rc < 0)
            return rc;
        hpf_stmt_bind_i64(st, 1, after);
        hpf_stmt_bind_i64(st, 2, last);
        hpf_stmt_bind_i64(st, 3, PAGE_ROWS);
        int64_t got = 0;
        while ((rc = hpf_stmt_step(st, err)) == 1) {
            got++;
            after = hpf_stmt_i64(st, 0);
            if ((rc = fn(ctx, st, err)) < 0)
                break;
        }
        hpf_stmt_reset(st);
        if (rc < 0)
            return rc;
        if (got < PAGE_ROWS)
            return 0;
    }
}

/* One text column of one entry, or found = false. */
static int entry_text(hpf_db *db, const char *sql, int64_t seq, char *out, size_t n, bool *found,
                      hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_i64(st, 1, seq);
    rc = hpf_stmt_step(st, err);
    *found = rc == 1;
    if (rc == 1)
        snprintf(out, n, "%s", hpf_stmt_text(st, 0));
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

#define AT_OF   "SELECT at FROM audit_log WHERE seq = ?"
#define HASH_OF "SELECT hash FROM audit_log WHERE seq = ?"

/* The root of a range as it is stored, with the chain checked on the way when `check`. */
typedef struct rootx {
    hpf_merkle m;
    int64_t expect; /* next seq */
    bool gap;
    bool check;
    hpf_sm3 *sm3;
    char prev[65];    /* hash of the entry before */
    int64_t bad;      /* first entry that fails the check, 0 = none */
    const char *rule; /* its rule */
} rootx;

static int root_row(void *p, hpf_stmt *st, hpf_err *err)
{
    (void)err;
    rootx *x = p;
    int64_t seq = hpf_stmt_i64(st, 0);
    const char *hash = hpf_stmt_text(st, x->check ? 8 : 1);
    unsigned char raw[HPF_SM3_LEN];
    if (seq != x->expect && !x->gap)
        x->gap = true;
    x->expect = seq + 1;
    if (x->check && !x->bad) {
        char re[65];
        if (x->gap) {
            x->bad = seq, x->rule = "audit.entry_missing";
        } else if (strcmp(hpf_stmt_text(st, 7), x->prev) != 0) {
            x->bad = seq, x->rule = "audit.chain_link";
        } else if (!hpf_audit_entry_hash(x->sm3, x->prev, seq, hpf_stmt_text(st, 1),
                                         hpf_stmt_i64(st, 2), hpf_stmt_text(st, 3),
                                         hpf_stmt_text(st, 4), hpf_stmt_i64(st, 5),
                                         hpf_stmt_text(st, 6), re) ||
                   strcmp(re, hash) != 0) {
            x->bad = seq, x->rule = "audit.entry_hash";
        }
        snprintf(x->prev, sizeof x->prev, "%.64s", hash);
    }
    if (!unhex32(raw, hash))
        memset(raw, 0xff, sizeof raw); /* a forged hash: the root then cannot match */
    hpf_merkle_add(&x->m, raw);
    return 0;
}

/* ---- making checkpoints ---- */

static int last_checkpoint(hpf_db *db, hpf_day *day, int64_t *last_seq, hpf_err *err)
{
    hpf_stmt *st;
    *day = 0;
    *last_seq = 0;
    int rc = hpf_db_prepare(
        db, &st, "SELECT day, last_seq FROM audit_checkpoint ORDER BY last_seq DESC LIMIT 1", err);
    if (rc < 0)
        return rc;
    rc = hpf_stmt_step(st, err);
    if (rc == 1) {
        if (hpf_day_parse(day, hpf_stmt_text(st, 0)) < 0)
            *day = 0;
        *last_seq = hpf_stmt_i64(st, 1);
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The next day to checkpoint and its first seq; *due false when there is none up to through. */
static int next_day(hpf_db *db, hpf_day through, hpf_day *day, int64_t *first, bool *due,
                    hpf_err *err)
{
    hpf_day last_day;
    int64_t last_seq;
    char at[64];
    bool found;
    *due = false;
    int rc = last_checkpoint(db, &last_day, &last_seq, err);
    if (rc == 0)
        rc = entry_text(db, AT_OF, last_seq + 1, at, sizeof at, &found, err);
    if (rc < 0 || !found)
        return rc;
    hpf_day d = hpf_checkpoint_day_of(at);
    if (d <= last_day) /* stamped on a day already checkpointed: into the next one */
        d = last_day + 1;
    *day = d;
    *first = last_seq + 1;
    *due = d <= through;
    return 0;
}

int hpf_checkpoint_due(hpf_db *db, hpf_day through, bool *due, hpf_err *err)
{
    hpf_day day;
    int64_t first;
    return next_day(db, through, &day, &first, due, err);
}

/* Wait for appenders in flight: they hold the head's row lock until they commit, and this
 * takes it (and lets go at once). Whatever they stamped before now is then committed. */
static int barrier(hpf_db *db, hpf_err *err)
{
    hpf_stmt *st;
    int rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_prepare(db, &st, "UPDATE audit_head SET seq = seq WHERE id = 1", err);
    if (rc == 0) {
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc >= 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0)
        hpf_db_rollback(db);
    return rc < 0 ? rc : 0;
}

/* Cut day `day` from `first` on and compute its root, in one read snapshot. */
static int build(hpf_db *db, hpf_day day, int64_t first, hpf_checkpoint *cp, hpf_err *err)
{
    char end[32], prev[65] = ZERO_HASH;
    bool found = true;
    hpf_stmt *st;
    int64_t last = 0;
    rootx x = {.expect = first, .check = true, .sm3 = hpf_sm3_new()};
    int rc = hpf_db_begin_read(db, err);
    if (rc < 0)
        goto out;
    if (first > 1 && (rc = entry_text(db, HASH_OF, first - 1, prev, sizeof prev, &found, err)) < 0)
        goto done;
    if (!found) {
        rc = hpf_err_field(err, HPF_ECONFLICT, "", "audit.entry_missing",
                           "entry seq %lld, the last one checkpointed, is missing",
                           (long long)first - 1);
        goto done;
    }
    day_end(day, end);
    if ((rc = hpf_db_prepare(db, &st,
                             "SELECT seq FROM audit_log WHERE seq >= ? AND at >= ? ORDER BY seq"
                             " LIMIT 1",
                             err)) < 0)
        goto done;
    hpf_stmt_bind_i64(st, 1, first);
    hpf_stmt_bind_text(st, 2, end);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        last = hpf_stmt_i64(st, 0) - 1;
    hpf_stmt_reset(st);
    if (rc == 0)
        rc = hpf_db_query_i64(db, &last, "SELECT COALESCE(MAX(seq), 0) FROM audit_log", err);
    if (rc < 0)
        goto done;
    if (last < first) { /* the next entry's time is not one: do not guess where its day is */
        rc = hpf_err_field(err, HPF_ECONFLICT, "", "audit.entry_hash",
                           "entry seq %lld carries no readable time; not checkpointing it",
                           (long long)first);
        goto done;
    }
    snprintf(x.prev, sizeof x.prev, "%s", prev);
    hpf_merkle_init(&x.m, x.sm3);
    if ((rc = scan(db, first, last, true, root_row, &x, err)) < 0)
        goto done;
    if (!x.bad && x.expect != last + 1)
        x.bad = x.expect, x.rule = "audit.entry_missing";
    if (x.bad) {
        rc = hpf_err_field(err, HPF_ECONFLICT, "", x.rule,
                           "the audit chain is broken at seq %lld (%s): not signing a checkpoint "
                           "of it; run hpf audit verify",
                           (long long)x.bad, x.rule);
        goto done;
    }
    unsigned char root[HPF_SM3_LEN];
    hpf_merkle_root(&x.m, root);
    *cp = (hpf_checkpoint){
        .day = day, .first_seq = first, .last_seq = last, .leaves = last - first + 1};
    hpf_hex(cp->root, root, sizeof root);
    rc = 0;
done:
    hpf_db_rollback(db);
out:
    hpf_sm3_free(x.sm3);
    return rc;
}

/* Store a signed checkpoint and its chain entry in one transaction. Returns 1 when stored, 0
 * when another writer checkpointed that range first, or an error. */
static int store(hpf_db *db, const hpf_sm2_key *seal, const hpf_checkpoint *cp, hpf_err *err)
{
    char day[11], payload[512];
    hpf_stmt *st;
    int64_t covered = 0;
    int rc = hpf_db_begin(db, err);
    if (rc < 0)
        return rc;
    rc = hpf_db_query_i64(db, &covered, "SELECT COALESCE(MAX(last_seq), 0) FROM audit_checkpoint",
                          err);
    if (rc == 0 && covered != cp->first_seq - 1) {
        hpf_db_rollback(db);
        return 0;
    }
    /* The key is recorded when the server starts; recording it again here keeps the foreign key
     * true for a key file that was swapped since (rotation). */
    if (rc == 0)
        rc = hpf_sm2_key_register(db, seal, HPF_SM2_CENTRE, 0, NULL, err);
    if (rc == 0)
        rc = hpf_db_prepare(db, &st,
                            "INSERT INTO audit_checkpoint(day, centre, first_seq, last_seq, leaves,"
                            " root, signature, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                            " ?)",
                            err);
    if (rc == 0) {
        hpf_stmt_bind_text(st, 1, hpf_day_fmt(day, cp->day));
        hpf_stmt_bind_text(st, 2, cp->centre);
        hpf_stmt_bind_i64(st, 3, cp->first_seq);
        hpf_stmt_bind_i64(st, 4, cp->last_seq);
        hpf_stmt_bind_i64(st, 5, cp->leaves);
        hpf_stmt_bind_text(st, 6, cp->root);
        hpf_stmt_bind_text(st, 7, cp->signature);
        hpf_stmt_bind_text(st, 8, cp->key_id);
        hpf_stmt_bind_text(st, 9, cp->created_at);
        rc = hpf_stmt_step(st, err);
        hpf_stmt_reset(st);
    }
    if (rc == 0) {
        char ymd[9];
        int64_t ref = 0;
        (void)hpf_parse_i64(&ref, hpf_day_fmt_compact(ymd, cp->day), 0, 99999999);
        entry_payload(cp, payload, sizeof payload);
        rc = hpf_audit_event(db, 0, HPF_AUDIT_CHECKPOINT, "audit_checkpoint", ref, payload, err);
    }
    if (rc == 0) {
        /* Anchor the root outside the database (the notary), through the outbox: the message
         * commits with the checkpoint or not at all; the reply fills in anchor_receipt. */
        char *body = NULL, key[32];
        hpf_notary_anchor a = {.centre = cp->centre,
                               .day = day,
                               .root = cp->root,
                               .signature = cp->signature,
                               .key_id = cp->key_id};
        snprintf(key, sizeof key, "anchor:%s", day);
        rc = hpf_notary_anchor_request(&body, &a, err);
        if (rc == 0)
            rc = hpf_outbox_enqueue(db, "notary", "notary.anchor", key, body, NULL, err);
        free(body);
    }
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        if (rc == HPF_ECONFLICT) { /* a unique key: the same day or range, written meanwhile */
            hpf_err_clear(err);
            return 0;
        }
        return rc;
    }
    return 1;
}

int hpf_checkpoint_run(hpf_db *db, const hpf_sm2_key *seal, const char *centre, hpf_day through,
                       int64_t *written, hpf_checkpoint *last, hpf_err *err)
{
    bool waited = false, due;
    hpf_day day;
    int64_t first;
    int rc;
    *written = 0;
    if (!hpf_sm2_has_private(seal))
        return hpf_err_set(err, HPF_EINVAL, "a checkpoint needs the centre's private seal key");
    while ((rc = next_day(db, through, &day, &first, &due, err)) == 0 && due) {
        if (!waited) {
            if ((rc = barrier(db, err)) < 0)
                return rc;
            waited = true;
            continue; /* look again: entries that were in flight are there now */
        }
        hpf_checkpoint cp;
        char text[256];
        if ((rc = build(db, day, first, &cp, err)) < 0)
            return rc;
        char now[64];
        snprintf(cp.centre, sizeof cp.centre, "%s", centre);
        hpf_log_now(now);
        snprintf(cp.created_at, sizeof cp.created_at, "%.31s", now);
        hpf_checkpoint_text(&cp, text, sizeof text);
        if ((rc = hpf_sm2_sign(seal, text, strlen(text), cp.signature, err)) < 0)
            return rc;
        hpf_sm2_fingerprint(seal, NULL, cp.key_id);
        if ((rc = store(db, seal, &cp, err)) < 0)
            return rc;
        if (rc == 1) {
            char d[11];
            (*written)++;
            if (last)
                *last = cp;
            hpf_log(HPF_LOG_INFO, "checkpoint.signed",
                    "checkpoint of %s: entries %lld..%lld, root %.16s, key %s", hpf_day_fmt(d, day),
                    (long long)cp.first_seq, (long long)cp.last_seq, cp.root, cp.key_id);
        }
    }
    return rc;
}

/* ---- verifying checkpoints ---- */

typedef struct ventry {
    int64_t seq, ref;
    char *payload;
    bool matched;
} ventry;

typedef struct vkey {
    char id[HPF_SM2_KEY_ID_LEN + 1];
    hpf_sm2_key *key; /* NULL: not a recorded centre key */
    char why[96];
} vkey;

typedef struct vx {
    hpf_db *db;
    hpf_checkpoint_stats *st;
    hpf_err *err;
    hpf_problems pr; /* ordered by day */
    ventry *entries;
    size_t nentries;
    vkey *keys;
    size_t nkeys;
    hpf_sm3 *sm3;
} vx;

static int load_entries(vx *v)
{
    hpf_stmt *st;
    size_t cap = 0;
    int rc = hpf_db_prepare(v->db, &st,
                            "SELECT seq, ref_id, payload FROM audit_log WHERE ref_table ="
                            " 'audit_checkpoint' AND kind = '" HPF_AUDIT_CHECKPOINT "'"
                            " ORDER BY ref_id, seq",
                            v->err);
    if (rc < 0)
        return rc;
    while ((rc = hpf_stmt_step(st, v->err)) == 1) {
        if (v->nentries == cap) {
            cap = cap ? 2 * cap : 64;
            v->entries = hpf_xrealloc(v->entries, cap * sizeof *v->entries);
        }
        v->entries[v->nentries++] = (ventry){.seq = hpf_stmt_i64(st, 0),
                                             .ref = hpf_stmt_i64(st, 1),
                                             .payload = hpf_xstrdup(hpf_stmt_text(st, 2))};
    }
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static const vkey *key_for(vx *v, const char *id)
{
    for (size_t i = 0; i < v->nkeys; i++)
        if (!strcmp(v->keys[i].id, id))
            return &v->keys[i];
    v->keys = hpf_xrealloc(v->keys, (v->nkeys + 1) * sizeof *v->keys);
    vkey *k = &v->keys[v->nkeys++];
    *k = (vkey){.key = NULL};
    snprintf(k->id, sizeof k->id, "%.16s", id);
    char owner[16] = "";
    hpf_err e = HPF_ERR_INIT;
    if (hpf_sm2_key_lookup(v->db, id, &k->key, owner, NULL, &e) < 0)
        snprintf(k->why, sizeof k->why, "no key %.16s is recorded", id);
    else if (strcmp(owner, HPF_SM2_CENTRE) != 0) {
        snprintf(k->why, sizeof k->why, "key %.16s is not a centre key", id);
        hpf_sm2_free(k->key);
        k->key = NULL;
    }
    return k;
}

static void check_one(vx *v, const hpf_checkpoint *cp, const char *day_s, int64_t *expect,
                      hpf_day *prev_day)
{
    /* The range: right after the previous one, on a later day. */
    if (cp->first_seq > *expect) {
        char at[64] = "";
        bool found;
        hpf_day d = cp->day;
        if (entry_text(v->db, AT_OF, *expect, at, sizeof at, &found, v->err) == 0 && found &&
            hpf_checkpoint_day_of(at))
            d = hpf_checkpoint_day_of(at);
        char ds[11];
        hpf_problem(
            &v->pr, d < cp->day ? d : cp->day, "audit.checkpoint_missing",
            "no checkpoint covers entries seq %lld..%lld (from %s), while %s is checkpointed: "
            "a checkpoint was deleted",
            (long long)*expect, (long long)cp->first_seq - 1, hpf_day_fmt(ds, d), day_s);
    } else if (cp->first_seq < *expect || cp->day <= *prev_day || cp->leaves < 1 ||
               cp->leaves != cp->last_seq - cp->first_seq + 1) {
        hpf_problem(
            &v->pr, cp->day, "audit.checkpoint_range",
            "checkpoint of %s (seq %lld..%lld, %lld leaves) overlaps the one before or is out "
            "of order: a checkpoint was inserted or changed",
            day_s, (long long)cp->first_seq, (long long)cp->last_seq, (long long)cp->leaves);
    }
    if (cp->last_seq + 1 > *expect)
        *expect = cp->last_seq + 1;
    if (cp->day > *prev_day)
        *prev_day = cp->day;

    /* The root, from the entry hashes as they are. */
    rootx x = {.expect = cp->first_seq};
    hpf_merkle_init(&x.m, v->sm3);
    hpf_err e = HPF_ERR_INIT;
    if (scan(v->db, cp->first_seq, cp->last_seq, false, root_row, &x, &e) < 0) {
        hpf_problem(&v->pr, cp->day, "audit.checkpoint_root",
                    "checkpoint of %s: cannot read its entries: %s", day_s, e.msg);
    } else {
        unsigned char root[HPF_SM3_LEN];
        char hex[65];
        hpf_merkle_root(&x.m, root);
        hpf_hex(hex, root, sizeof root);
        v->st->leaves += x.m.leaves;
        if (x.m.leaves != cp->leaves || x.gap || strcmp(hex, cp->root) != 0)
            hpf_problem(
                &v->pr, cp->day, "audit.checkpoint_root",
                "checkpoint of %s (seq %lld..%lld): its root %.16s... does not recompute from "
                "the chain (%lld entries give %.16s...): the checkpoint or its entries were "
                "changed",
                day_s, (long long)cp->first_seq, (long long)cp->last_seq, cp->root,
                (long long)x.m.leaves, hex);
    }

    /* The signature. */
    const vkey *k = key_for(v, cp->key_id);
    char text[256];
    hpf_checkpoint_text(cp, text, sizeof text);
    if (!k->key)
        hpf_problem(&v->pr, cp->day, "audit.checkpoint_signature",
                    "checkpoint of %s: its signature cannot be checked: %s", day_s, k->why);
    else if (hpf_sm2_verify(k->key, text, strlen(text), cp->signature, &e) < 0)
        hpf_problem(&v->pr, cp->day, "audit.checkpoint_signature",
                    "checkpoint of %s: its signature does not verify with centre key %s: the "
                    "checkpoint was changed",
                    day_s, cp->key_id);

    /* Its entry in the chain. */
    char ymd[9], want[512];
    int64_t ref = 0;
    (void)hpf_parse_i64(&ref, hpf_day_fmt_compact(ymd, cp->day), 0, 99999999);
    entry_payload(cp, want, sizeof want);
    size_t lo = 0, hi = v->nentries;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->entries[mid].ref < ref)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool seen = false;
    for (size_t i = lo; i < v->nentries && v->entries[i].ref == ref; i++) {
        ventry *en = &v->entries[i];
        if (seen)
            continue; /* a second entry for the day stays unmatched: reported below */
        seen = en->matched = true;
        if (strcmp(en->payload, want) != 0)
            hpf_problem(
                &v->pr, cp->day, "audit.checkpoint_entry",
                "checkpoint of %s differs from its chain entry seq %lld: the checkpoint was "
                "changed",
                day_s, (long long)en->seq);
    }
    if (!seen)
        hpf_problem(
            &v->pr, cp->day, "audit.checkpoint_entry",
            "checkpoint of %s has no chain entry: it was written outside the checkpoint job "
            "(inserted)",
            day_s);
}

#define CP_COLS                                                                                    \
    "day, centre, first_seq, last_seq, leaves, root, signature, key_id, created_at,"               \
    " COALESCE(anchored_at, ''), COALESCE(anchor_receipt, '')"

static void read_cp(hpf_stmt *st, hpf_checkpoint *cp)
{
    *cp = (hpf_checkpoint){.day = 0};
    if (hpf_day_parse(&cp->day, hpf_stmt_text(st, 0)) < 0)
        cp->day = 0;
    snprintf(cp->centre, sizeof cp->centre, "%s", hpf_stmt_text(st, 1));
    cp->first_seq = hpf_stmt_i64(st, 2);
    cp->last_seq = hpf_stmt_i64(st, 3);
    cp->leaves = hpf_stmt_i64(st, 4);
    snprintf(cp->root, sizeof cp->root, "%s", hpf_stmt_text(st, 5));
    snprintf(cp->signature, sizeof cp->signature, "%s", hpf_stmt_text(st, 6));
    snprintf(cp->key_id, sizeof cp->key_id, "%s", hpf_stmt_text(st, 7));
    snprintf(cp->created_at, sizeof cp->created_at, "%s", hpf_stmt_text(st, 8));
    snprintf(cp->anchored_at, sizeof cp->anchored_at, "%s", hpf_stmt_text(st, 9));
    snprintf(cp->anchor_receipt, sizeof cp->anchor_receipt, "%s", hpf_stmt_text(st, 10));
}

int hpf_checkpoint_verify(hpf_db *db, hpf_checkpoint_stats *stats, hpf_err *err)
{
    vx v = {.db = db, .st = stats, .err = err, .sm3 = hpf_sm3_new()};
    v.pr = (hpf_problems){.err = err, .count = &stats->problems};
    hpf_checkpoint *page = hpf_xcalloc(1000, sizeof *page);
    int64_t expect = 1, after = INT64_MIN;
    hpf_day prev_day = 0;
    memset(stats, 0, sizeof *stats);
    int rc = load_entries(&v);
    while (rc == 0) {
        hpf_stmt *st;
        size_t n = 0;
        if ((rc = hpf_db_prepare(db, &st,
                                 "SELECT " CP_COLS " FROM audit_checkpoint WHERE last_seq > ?"
                                 " ORDER BY last_seq LIMIT 1000",
                                 err)) < 0)
            break;
        hpf_stmt_bind_i64(st, 1, after);
        while ((rc = hpf_stmt_step(st, err)) == 1)
            read_cp(st, &page[n++]);
        hpf_stmt_reset(st);
        if (rc < 0)
            break;
        for (size_t i = 0; i < n; i++) {
            char ds[11];
            hpf_day_fmt(ds, page[i].day);
            check_one(&v, &page[i], ds, &expect, &prev_day);
            stats->checkpoints++;
            if (!stats->first_day)
                stats->first_day = page[i].day;
            stats->last_day = page[i].day;
            snprintf(stats->last_root, sizeof stats->last_root, "%s", page[i].root);
            after = page[i].last_seq;
        }
        if (n < 1000)
            break;
    }
    /* Chain entries of checkpoints that have no row: the row was deleted. */
    for (size_t i = 0; rc == 0 && i < v.nentries; i++) {
        ventry *en = &v.entries[i];
        if (en->matched)
            continue;
        hpf_day d = 0;
        char ymd[16];
        snprintf(ymd, sizeof ymd, "%08lld", (long long)en->ref);
        if (hpf_day_parse_compact(&d, ymd) < 0)
            d = 0;
        char ds[11];
        hpf_problem(
            &v.pr, d, "audit.checkpoint_missing",
            "chain entry seq %lld records the checkpoint of %s, which audit_checkpoint does not "
            "hold (deleted)",
            (long long)en->seq, d ? hpf_day_fmt(ds, d) : ymd);
    }
    for (size_t i = 0; i < v.nentries; i++)
        free(v.entries[i].payload);
    free(v.entries);
    for (size_t i = 0; i < v.nkeys; i++)
        hpf_sm2_free(v.keys[i].key);
    free(v.keys);
    free(page);
    hpf_sm3_free(v.sm3);
    if (rc < 0)
        return rc;
    return v.pr.have ? HPF_ECONFLICT : 0;
}

/* ---- verification codes ---- */

char *hpf_vcode_format(char out[HPF_VCODE_LEN], int64_t seq, const char *hash)
{
    snprintf(out, HPF_VCODE_LEN, "%lld-%.4s-%.4s-%.4s-%.4s", (long long)seq, hash, hash + 4,
             hash + 8, hash + 12);
    return out;
}

int hpf_vcode_parse(const char *code, int64_t *seq, char hex16[17], hpf_err *err)
{
    static const char msg[] = "a verification code looks like 1234-89ab-cdef-0123-4567";
    size_t nd = strspn(code, "0123456789");
    char num[20];
    if (nd == 0 || nd >= sizeof num || code[0] == '0')
        return hpf_err_field(err, HPF_EINVAL, "/code", "document.code_format", "%s", msg);
    memcpy(num, code, nd);
    num[nd] = '\0';
    if (hpf_parse_i64(seq, num, 1, INT64_MAX) < 0)
        return hpf_err_field(err, HPF_EINVAL, "/code", "document.code_format", "%s", msg);
    const char *p = code + nd;
    int k = 0;
    for (int g = 0; g < 4; g++) {
        if (*p++ != '-')
            return hpf_err_field(err, HPF_EINVAL, "/code", "document.code_format", "%s", msg);
        for (int i = 0; i < 4; i++, p++) {
            char c = *p;
            if (c >= 'A' && c <= 'F')
                c = (char)(c - 'A' + 'a');
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return hpf_err_field(err, HPF_EINVAL, "/code", "document.code_format", "%s", msg);
            hex16[k++] = c;
        }
    }
    hex16[16] = '\0';
    if (*p)
        return hpf_err_field(err, HPF_EINVAL, "/code", "document.code_format", "%s", msg);
    return 0;
}

/* The documents: the audit kind of the entry that records each, its public name, and how to
 * find that entry from the business key. */
static const struct doc_kind {
    hpf_doc_type type;
    const char *audit_kind, *name, *sql;
} doc_kinds[] = {
    {HPF_DOC_REMITTANCE, HPF_AUDIT_REMITTANCE_POSTED, "remittance",
     "SELECT a.seq, a.hash FROM remittance r JOIN audit_log a ON a.ref_table = 'remittance'"
     " AND a.ref_id = r.id WHERE r.serial = ? AND a.kind = '" HPF_AUDIT_REMITTANCE_POSTED "'"
     " ORDER BY a.seq LIMIT 1"},
    {HPF_DOC_MEMBER_ACCOUNT, HPF_AUDIT_MEMBER_OPENED, "member_account",
     "SELECT a.seq, a.hash FROM member m JOIN audit_log a ON a.ref_table = 'member'"
     " AND a.ref_id = m.id WHERE m.account_no = ? AND a.kind = '" HPF_AUDIT_MEMBER_OPENED "'"
     " ORDER BY a.seq LIMIT 1"},
};
#define NDOC (sizeof doc_kinds / sizeof doc_kinds[0])

int hpf_vcode_lookup(hpf_db *db, hpf_doc_type type, const char *key, char out[HPF_VCODE_LEN],
                     hpf_err *err)
{
    const struct doc_kind *k = NULL;
    for (size_t i = 0; i < NDOC; i++)
        if (doc_kinds[i].type == type)
            k = &doc_kinds[i];
    if (!k)
        return hpf_err_set(err, HPF_EINTERNAL, "no verification code for document type %d",
                           (int)type);
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st, k->sql, err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, key);
    rc = hpf_stmt_step(st, err);
    if (rc == 1)
        hpf_vcode_format(out, hpf_stmt_i64(st, 0), hpf_stmt_text(st, 1));
    else if (rc == 0)
        rc = hpf_err_field(err, HPF_ENOTFOUND, "", "document.unknown",
                           "no audit entry records this %s", k->name);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* ---- documents and proofs ---- */

/* The sibling ranges of leaf m in [lo, hi), innermost first (RFC 6962 PATH). */
typedef struct span {
    int64_t lo, hi;
    int step; /* its place in the proof */
} span;

static void path(int64_t m, int64_t lo, int64_t hi, span *sp, bool *left, int *n)
{
    if (hi - lo <= 1)
        return;
    int64_t k = 1;
    while (k < (hi - lo) - k) /* the largest power of two below the size */
        k *= 2;
    if (m < lo + k) {
        path(m, lo, lo + k, sp, left, n);
        sp[*n] = (span){lo + k, hi, *n};
        left[*n] = false;
    } else {
        path(m, lo + k, hi, sp, left, n);
        sp[*n] = (span){lo, lo + k, *n};
        left[*n] = true;
    }
    (*n)++;
}

typedef struct proofx {
    int64_t first; /* seq of leaf 0 */
    span sp[HPF_PROOF_MAX];
    int nsp, cur; /* spans sorted by lo; the one being filled */
    hpf_merkle m;
    hpf_document *doc;
} proofx;

static int proof_row(void *p, hpf_stmt *st, hpf_err *err)
{
    (void)err;
    proofx *x = p;
    int64_t i = hpf_stmt_i64(st, 0) - x->first;
    if (x->cur >= x->nsp || i < x->sp[x->cur].lo)
        return 0; /* the leaf itself */
    unsigned char raw[HPF_SM3_LEN], root[HPF_SM3_LEN];
    if (!unhex32(raw, hpf_stmt_text(st, 1)))
        memset(raw, 0xff, sizeof raw);
    hpf_merkle_add(&x->m, raw);
    if (i == x->sp[x->cur].hi - 1) {
        hpf_merkle_root(&x->m, root);
        hpf_hex(x->doc->proof[x->sp[x->cur].step].hash, root, sizeof root);
        hpf_merkle_init(&x->m, x->m.sm3);
        x->cur++;
    }
    return 0;
}

/* The inclusion proof of doc->seq in doc->cp, and whether it leads to the signed root. */
static int prove(hpf_db *db, hpf_document *doc, hpf_sm3 *sm3, hpf_err *err)
{
    proofx x = {.first = doc->cp.first_seq, .doc = doc};
    bool left[HPF_PROOF_MAX];
    int64_t m = doc->seq - doc->cp.first_seq;
    doc->leaf_index = m;
    path(m, 0, doc->cp.leaves, x.sp, left, &x.nsp);
    doc->nproof = x.nsp;
    for (int i = 0; i < x.nsp; i++) {
        doc->proof[i].left = left[i];
        snprintf(doc->proof[i].hash, sizeof doc->proof[i].hash, "%s", ZERO_HASH);
    }
    /* Fill the siblings in leaf order: sort the spans by where they start. */
    for (int i = 1; i < x.nsp; i++)
        for (int j = i; j > 0 && x.sp[j - 1].lo > x.sp[j].lo; j--) {
            span t = x.sp[j];
            x.sp[j] = x.sp[j - 1];
            x.sp[j - 1] = t;
        }
    hpf_merkle_init(&x.m, sm3);
    int rc = scan(db, doc->cp.first_seq, doc->cp.last_seq, false, proof_row, &x, err);
    if (rc < 0)
        return rc;
    /* Walk up from the leaf. */
    unsigned char v[HPF_SM3_LEN], s[HPF_SM3_LEN], up[HPF_SM3_LEN];
    if (!unhex32(s, doc->entry_hash))
        return 0;
    leaf_hash(sm3, s, v);
    for (int i = 0; i < doc->nproof; i++) {
        if (!unhex32(s, doc->proof[i].hash))
            return 0;
        if (doc->proof[i].left)
            node_hash(sm3, s, v, up);
        else
            node_hash(sm3, v, s, up);
        memcpy(v, up, sizeof v);
    }
    char hex[65];
    hpf_hex(hex, v, sizeof v);
    doc->root_ok = x.cur == x.nsp && strcmp(hex, doc->cp.root) == 0;
    return 0;
}

static bool same_prefix(const char *hash, const char *hex16)
{
    unsigned char d = 0;
    if (strlen(hash) < 16)
        return false;
    for (int i = 0; i < 16; i++) /* constant time: the answer must not tell how much matched */
        d |= (unsigned char)(hash[i] ^ hex16[i]);
    return d == 0;
}

int hpf_document_check(hpf_db *db, const char *code, hpf_document *out, hpf_err *err)
{
    int64_t seq;
    char hex16[17];
    hpf_stmt *st;
    *out = (hpf_document){.seq = 0};
    int rc = hpf_vcode_parse(code, &seq, hex16, err);
    if (rc < 0)
        return rc;
    if ((rc = hpf_db_prepare(db, &st, "SELECT " FULL_COLS " FROM audit_log WHERE seq = ?", err)) <
        0)
        return rc;
    hpf_stmt_bind_i64(st, 1, seq);
    rc = hpf_stmt_step(st, err);
    const struct doc_kind *k = NULL;
    char prev[65] = "";
    hpf_sm3 *sm3 = hpf_sm3_new();
    if (rc == 1) {
        for (size_t i = 0; i < NDOC; i++)
            if (!strcmp(doc_kinds[i].audit_kind, hpf_stmt_text(st, 3)))
                k = &doc_kinds[i];
        const char *hash = hpf_stmt_text(st, 8);
        if (k && same_prefix(hash, hex16)) {
            char re[65];
            out->seq = seq;
            out->kind = k->name;
            snprintf(out->recorded_at, sizeof out->recorded_at, "%s", hpf_stmt_text(st, 1));
            snprintf(out->entry_hash, sizeof out->entry_hash, "%s", hash);
            snprintf(prev, sizeof prev, "%s", hpf_stmt_text(st, 7));
            out->entry_ok =
                hpf_audit_entry_hash(sm3, prev, seq, hpf_stmt_text(st, 1), hpf_stmt_i64(st, 2),
                                     hpf_stmt_text(st, 3), hpf_stmt_text(st, 4),
                                     hpf_stmt_i64(st, 5), hpf_stmt_text(st, 6), re) &&
                !strcmp(re, hash);
        }
    }
    hpf_stmt_reset(st);
    if (rc >= 0 && !out->kind)
        rc = hpf_err_field(err, HPF_ENOTFOUND, "/code", "document.unknown",
                           "no document has this verification code");
    /* The entry must also link to the one before it. */
    if (rc >= 0 && out->entry_ok) {
        char before[65] = ZERO_HASH;
        bool found = true;
        if (seq > 1)
            rc = entry_text(db, HASH_OF, seq - 1, before, sizeof before, &found, err);
        if (rc >= 0)
            out->entry_ok = found && !strcmp(before, prev);
    }
    /* The checkpoint that covers it, if its day is checkpointed yet. */
    if (rc >= 0) {
        rc = hpf_db_prepare(db, &st,
                            "SELECT " CP_COLS " FROM audit_checkpoint WHERE last_seq >= ?"
                            " ORDER BY last_seq LIMIT 1",
                            err);
        if (rc == 0) {
            hpf_stmt_bind_i64(st, 1, seq);
            rc = hpf_stmt_step(st, err);
            if (rc == 1) {
                read_cp(st, &out->cp);
                out->checkpointed = out->cp.first_seq <= seq && out->cp.leaves >= 1 &&
                                    out->cp.leaves == out->cp.last_seq - out->cp.first_seq + 1;
            }
            hpf_stmt_reset(st);
        }
    }
    if (rc >= 0 && out->checkpointed) {
        rc = prove(db, out, sm3, err);
        hpf_sm2_key *key = NULL;
        char owner[16] = "", text[256];
        hpf_err e = HPF_ERR_INIT;
        hpf_checkpoint_text(&out->cp, text, sizeof text);
        if (rc >= 0 && hpf_sm2_key_lookup(db, out->cp.key_id, &key, owner, NULL, &e) == 0)
            out->signature_ok = !strcmp(owner, HPF_SM2_CENTRE) &&
                                hpf_sm2_verify(key, text, strlen(text), out->cp.signature, &e) == 0;
        hpf_sm2_free(key);
    }
    hpf_sm3_free(sm3);
    if (rc < 0)
        return rc;
    out->authentic = out->entry_ok && (!out->checkpointed || (out->root_ok && out->signature_ok));
    return 0;
}

/* ---- anchoring ---- */

int hpf_checkpoint_record_anchor(hpf_db *db, hpf_day day, const char *receipt_json,
                                 const char *anchored_at, hpf_err *err)
{
    char d[11];
    hpf_stmt *st;
    int rc = hpf_db_prepare(db, &st,
                            "UPDATE audit_checkpoint SET anchor_receipt = ?, anchored_at = ?"
                            " WHERE day = ? AND anchor_receipt IS NULL",
                            err);
    if (rc < 0)
        return rc;
    hpf_stmt_bind_text(st, 1, receipt_json);
    hpf_stmt_bind_text(st, 2, anchored_at);
    hpf_stmt_bind_text(st, 3, hpf_day_fmt(d, day));
    rc = hpf_stmt_step(st, err);
    hpf_stmt_reset(st);
    return rc < 0 ? rc : 0;
}
