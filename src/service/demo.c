/* service/demo: the demo population (see demo.h). */
#include "service/demo.h"

#include "base/mem.h"
#include "domain/ids.h"
#include "service/accounts.h"
#include "service/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast, and the same on every machine. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t below(rng *r, uint32_t n)
{
    return (uint32_t)(next(r) % n);
}

static double unit_interval(rng *r)
{
    return (double)(next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double gauss(rng *r)
{
    double u1 = unit_interval(r), u2 = unit_interval(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Yancheng districts and counties (GB/T 2260), and a few neighbours for incomers. */
static const char *const areas[] = {
    "320902", "320903", "320904", "320921", "320922", "320923", "320924",
    "320925", "320981", "320902", "320903", "320102", "320583", "321002",
};

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "魏",
};
static const char *const given_m[] = {
    "伟",   "强",   "磊",   "军",   "勇",   "杰",   "涛",   "斌",   "超",   "明",
    "刚",   "平",   "辉",   "鹏",   "华",   "飞",   "鑫",   "波",   "宇",   "浩",
    "凯",   "健",   "俊",   "帆",   "帅",   "旭",   "宁",   "龙",   "林",   "阳",
    "建国", "志强", "海洋", "文博", "子轩", "浩然", "俊杰", "明辉", "永康", "家豪",
};
static const char *const given_f[] = {
    "芳",   "娜",   "敏",   "静",   "丽",   "艳",   "娟",   "霞",   "燕",   "玲",
    "婷",   "雪",   "慧",   "莹",   "琳",   "颖",   "倩",   "洁",   "悦",   "欣",
    "佳",   "晶",   "萍",   "红",   "梅",   "兰",   "蕾",   "薇",   "月",   "璐",
    "秀英", "丽华", "欣怡", "梓涵", "雨涵", "思琪", "晓燕", "美玲", "雅静", "诗雨",
};
static const char *const words[] = {
    "海盛", "瀚宇", "盐都", "黄海", "丹顶鹤", "麋鹿", "新洋", "东方", "中联", "华润",   "通达",
    "恒信", "金鹰", "银河", "大丰", "射阳",   "建湖", "阜宁", "滨海", "东台", "响水",   "盐阜",
    "瑞丰", "宏远", "鼎盛", "天成", "嘉禾",   "润泽", "长荣", "鑫源", "博远", "新时代",
};
static const char *const kinds[] = {
    "科技有限公司",     "建设工程有限公司",   "商贸有限公司",     "食品有限公司",
    "纺织有限公司",     "汽车零部件有限公司", "新能源有限公司",   "物流有限公司",
    "医药有限公司",     "机械制造有限公司",   "农业发展有限公司", "环保科技有限公司",
    "信息技术有限公司", "置业有限公司",       "电子有限公司",     "服饰有限公司",
};
static const char uscc_chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A set of generated ID numbers, so that no two members share one. */
typedef struct idset {
    uint64_t *slots;
    size_t cap;
} idset;

static bool idset_add(idset *s, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h |= 1; /* 0 marks an empty slot */
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == h)
            return false; /* hash equality is treated as a collision: regenerate */
        if (!s->slots[i]) {
            s->slots[i] = h;
            return true;
        }
    }
}

static void make_id(rng *r, idset *seen, hpf_day today, char out[19])
{
    for (;;) {
        int ty, tm, td;
        hpf_day_to_ymd(today, &ty, &tm, &td);
        /* ages 20..59 */
        hpf_day birth = hpf_day_from_ymd(ty - 60, tm, 1) + (hpf_day)below(r, 40 * 365);
        int y, m, d;
        hpf_day_to_ymd(birth, &y, &m, &d);
        char first[18];
        snprintf(first, sizeof first, "%s%04d%02d%02d%03u", areas[below(r, N(areas))], y, m, d,
                 below(r, 999) + 1);
        snprintf(out, 19, "%s%c", first, hpf_id_check_char(first));
        if (idset_add(seen, out))
            return;
    }
}

static void make_name(rng *r, bool male, char *out, size_t n)
{
    const char *const *g = male ? given_m : given_f;
    size_t ng = male ? N(given_m) : N(given_f);
    snprintf(out, n, "%s%s", surnames[below(r, N(surnames))], g[below(r, (uint32_t)ng)]);
}

/* A USCC for employer number i: 9 1 <division> <org code of 8 + check> <check>. The org code
 * is a bijection of i, so codes never repeat. */
static void make_uscc(rng *r, uint32_t i, char out[19])
{
    char first[18], org[9];
    uint64_t v = ((uint64_t)i * 7919u + 104729u) % 887503681u; /* 31^6 */
    org[0] = 'M';
    org[1] = 'A';
    for (int k = 7; k >= 2; k--) {
        org[k] = uscc_chars[v % 31];
        v /= 31;
    }
    org[8] = '\0';
    char oc = hpf_orgcode_check_char(org);
    snprintf(first, sizeof first, "91%s%s%c", areas[below(r, 9)], org, oc);
    snprintf(out, 19, "%s%c", first, hpf_uscc_check_char(first));
}

/* Employer sizes: Zipf-like (a few large, many small), each >= 1, summing to `members`. */
static int *employer_sizes(int employers, int members)
{
    int *size = hpf_xcalloc((size_t)employers, sizeof *size);
    double wsum = 0;
    for (int i = 0; i < employers; i++)
        wsum += 1.0 / pow(i + 1, 0.8);
    int left = members - employers;
    int given = 0;
    for (int i = 0; i < employers; i++) {
        size[i] = 1 + (int)((double)left * (1.0 / pow(i + 1, 0.8)) / wsum);
        given += size[i];
    }
    for (int i = 0; given < members; i = (i + 1) % employers, given++)
        size[i]++;
    return size;
}

static int check_empty(hpf_db *db, hpf_err *err)
{
    int64_t n = 0;
    int rc = hpf_db_query_i64(db, &n,
                              "SELECT (SELECT count(*) FROM app_user) + (SELECT count(*) FROM"
                              " employer)",
                              err);
    if (rc == 0 && n > 0)
        rc = hpf_err_set(err, HPF_ECONFLICT,
                         "the database already holds data; run the demo on a fresh --data-dir");
    return rc;
}

/* The base32 secret of an otpauth:// URI, for the demo's login lines (demo users have no
 * authenticator app: `hpf totp SECRET` computes their codes). */
static const char *uri_secret(char out[128], const char *uri)
{
    const char *s = strstr(uri, "secret=");
    s = s ? s + 7 : "";
    snprintf(out, 128, "%.*s", (int)strcspn(s, "&"), s);
    return out;
}

/* One demo login of `role` (an operator of `branch` when branch is set), printed as a login
 * line. The first operator line printed is the centre's: tests take the first line of a role. */
static int make_login(hpf_svc *svc, hpf_role role, const char *user, const char *pass,
                      const char *name, const char *branch, FILE *logins, hpf_err *err)
{
    hpf_db *db;
    int64_t id = 0;
    char uri[HPF_TOTP_URI_LEN], secret[128];
    int rc = svc_conn(svc, &db, err);
    if (rc < 0 || (rc = hpf_db_begin(db, err)) < 0)
        return rc;
    hpf_user_new un = {
        .role = role, .username = user, .password = pass, .display_name = name, .branch = branch};
    rc = hpf_user_create(svc, db, 0, &un, &id, uri, err);
    if (rc == 0)
        rc = hpf_db_commit(db, err);
    if (rc < 0) {
        hpf_db_rollback(db);
        return rc;
    }
    fprintf(logins, "login %s %s %s %s\n", hpf_role_name(role), user, pass,
            uri_secret(secret, uri));
    return 0;
}

static int make_staff(hpf_svc *svc, FILE *logins, hpf_err *err)
{
    int rc = make_login(svc, HPF_ROLE_OPERATOR, HPF_DEMO_OPERATOR_USER, HPF_DEMO_OPERATOR_PASS,
                        "演示柜员", NULL, logins, err);
    if (rc == 0)
        rc = make_login(svc, HPF_ROLE_OPERATOR, HPF_DEMO_BRANCH_OPERATOR_USER,
                        HPF_DEMO_OPERATOR_PASS, "建湖管理部柜员", HPF_DEMO_BRANCH, logins, err);
    if (rc == 0)
        rc = make_login(svc, HPF_ROLE_ADMIN, HPF_DEMO_ADMIN_USER, HPF_DEMO_ADMIN_PASS, "系统管理员",
                        NULL, logins, err);
    return rc;
}

int hpf_demo_run(hpf_svc *svc, const hpf_demo_opts *o, FILE *logins, FILE *progress, hpf_err *err)
{
    hpf_db *db;
    rng r = {.s = o->seed};
    hpf_day today = hpf_svc_today(svc);
    hpf_month now = hpf_month_of(today);
    hpf_month start = hpf_month_add(now, -o->months);
    /* Accounts open some weeks before the first remitted month. */
    hpf_day open_day = hpf_day_from_ymd(start / 100, start % 100, 1) - 20;
    hpf_actor op = {.role = HPF_ROLE_OPERATOR};
    idset seen = {.cap = 1};
    int *sizes = NULL;
    int rc;

    if (o->employers < 1 || o->members < o->employers || o->months < 0 || o->months > 60)
        return hpf_err_set(err, HPF_EINVAL,
                           "need employers >= 1, members >= employers and "
                           "months in 0..60");
    if ((rc = svc_conn(svc, &db, err)) < 0 || (rc = check_empty(db, err)) < 0)
        return rc;
    /* Bulk load: the demo can be rebuilt, so skip the per-commit fsync while filling. */
    if ((rc = hpf_db_bulk(db, true, err)) < 0)
        return rc;
    while (seen.cap < (size_t)o->members * 2)
        seen.cap <<= 1;
    seen.slots = hpf_xcalloc(seen.cap, sizeof *seen.slots);
    sizes = employer_sizes(o->employers, o->members);

    hpf_day saved = svc->business_date;
    svc->business_date = open_day;
    rc = make_staff(svc, logins, err);
    int opened = 0;
    /* Each service call is its own transaction; the loader batches them (as savepoints) into
     * one transaction per employer and per month, which is what makes it fast. */
    for (int e = 0; rc == 0 && e < o->employers; e++) {
        if ((rc = hpf_db_begin(db, err)) < 0)
            break;
        char uscc[19], name[256], agent[32], agent_name[64];
        make_uscc(&r, (uint32_t)e, uscc);
        snprintf(name, sizeof name, "盐城%s%s", words[below(&r, N(words))],
                 kinds[below(&r, N(kinds))]);
        snprintf(agent, sizeof agent, "agent%04d", e + 1);
        make_name(&r, below(&r, 2), agent_name, sizeof agent_name);
        /* Logins cost an argon2id hash each: only the first employers get an agent login. */
        bool with_agent = e < 3;
        int32_t ratio = 500 + 100 * (int32_t)below(&r, 8); /* 5%..12%, equal for both sides */
        char agent_uri[HPF_TOTP_URI_LEN] = "", secret[128];
        /* The employers are spread over the centre and its four county branches. */
        char branch[3] = {'0', (char)('0' + e % 5), '\0'};
        hpf_employer_new en = {.branch = branch,
                               .name = name,
                               .uscc = uscc,
                               .unit_ratio_bp = ratio,
                               .indiv_ratio_bp = ratio,
                               .agent_username = with_agent ? agent : NULL,
                               .agent_password = HPF_DEMO_AGENT_PASS,
                               .agent_name = agent_name,
                               .agent_totp_uri = agent_uri};
        hpf_employer emp;
        rc = hpf_employer_register(svc, &op, &en, &emp, err);
        if (rc < 0)
            break;
        if (with_agent)
            fprintf(logins, "login agent %s %s %s\n", agent, HPF_DEMO_AGENT_PASS,
                    uri_secret(secret, agent_uri));
        /* Employer-level pay: some firms pay more than others. */
        double firm = exp(0.25 * gauss(&r));
        for (int k = 0; rc == 0 && k < sizes[e]; k++) {
            char idn[19], mname[64], phone[12];
            make_id(&r, &seen, today, idn);
            bool male = ((idn[16] - '0') & 1) != 0;
            make_name(&r, male, mname, sizeof mname);
            snprintf(phone, sizeof phone, "1%c%09u", "3456789"[below(&r, 7)],
                     below(&r, 1000000000));
            /* Log-normal monthly pay around 6,000 yuan, in fen, floored at 1,500 yuan. */
            double pay = 600000.0 * firm * exp(0.45 * gauss(&r));
            hpf_fen wage = pay < 150000.0 ? 150000 : (hpf_fen)llround(pay);
            hpf_member_new mn = {.name = mname, .id_number = idn, .wage = wage, .phone = phone};
            hpf_member m;
            rc = hpf_member_open(svc, &op, emp.account_no, &mn, &m, err);
            if (rc == 0 && e < 2 && k == 0) {
                svc->business_date = saved;
                rc = hpf_member_register_login(svc, m.id_number, m.name, m.account_no,
                                               HPF_DEMO_MEMBER_PASS, err);
                svc->business_date = open_day;
                if (rc == 0)
                    fprintf(logins, "login member %s %s\n", m.id_number, HPF_DEMO_MEMBER_PASS);
            }
            opened++;
        }
        if (rc == 0)
            rc = hpf_db_commit(db, err);
        else
            hpf_db_rollback(db);
        if (progress && (e + 1) % 100 == 0)
            fprintf(progress, "demo: %d employers, %d members\n", e + 1, opened);
    }
    for (hpf_month p = start; rc == 0 && p < now; p = hpf_month_add(p, 1)) {
        svc->business_date = hpf_day_from_ymd(p / 100, p % 100, 15);
        /* The month as the centre's batch posts it (自动汇缴), in large transactions. */
        hpf_remit_batch_progress bp;
        rc = hpf_remit_batch(svc, &op, p, HPF_REMIT_BATCH_MAX, NULL, NULL, &bp, err);
        if (rc == 0 && bp.skipped)
            rc = hpf_err_set(err, HPF_EINTERNAL, "demo: %lld employers refused %04d-%02d: %s",
                             (long long)bp.skipped, (int)(p / 100), (int)(p % 100),
                             bp.first_refusal);
        if (progress && rc == 0)
            fprintf(progress, "demo: remitted %04d-%02d for %d employers\n", p / 100, p % 100,
                    o->employers);
        /* After June's remittances and the end of day of 30 June: the annual settlement, as the
         * centre runs it (RULES 2.4). */
        if (rc == 0 && p % 100 == 6) {
            hpf_settle_progress sp;
            svc->business_date = hpf_day_from_ymd(p / 100, 6, 30);
            rc = hpf_interest_settle(svc, &op, p / 100, 5000, NULL, NULL, &sp, err);
            if (progress && rc == 0)
                fprintf(progress, "demo: settled the interest of year %d: %lld accounts\n",
                        (int)(p / 100), (long long)sp.postings);
        }
    }
    svc->business_date = saved;
    hpf_err ignore = HPF_ERR_INIT;
    (void)hpf_db_bulk(db, false, &ignore);
    free(seen.slots);
    free(sizes);
    return rc;
}
