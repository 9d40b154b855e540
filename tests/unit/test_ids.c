/* Unit tests for domain/ids: RULES §10.1-§10.4 vectors, account numbers (§6.1) and names. */
#include "base/date.h"
#include "base/err.h"
#include "domain/ids.h"

#include <criterion/criterion.h>

#include <string.h>

/* The business date of the tests. */
static hpf_day today(void)
{
    return hpf_day_from_ymd(2026, 11, 29);
}

static void expect_err(const hpf_err *err, int rc, int code, const char *field, const char *rule)
{
    cr_assert_eq(rc, code);
    cr_assert_eq(err->code, code);
    cr_assert_str_eq(err->field, field);
    cr_assert_str_eq(err->rule, rule);
}

/* An ID with a correct check character built from 17 digits, into out[19]. */
static void with_check(char out[19], const char *first17)
{
    memcpy(out, first17, 17);
    out[17] = hpf_id_check_char(first17);
    out[18] = '\0';
    cr_assert_neq(out[17], '\0');
}

/* ---- §10.1 resident ID ---- */

Test(id_validate, accepts_rules_vector_ending_in_x)
{
    char norm[19] = "";
    hpf_err err = HPF_ERR_INIT;
    cr_assert_eq(hpf_id_validate("11010519491231002X", today(), norm, &err), 0);
    cr_assert_str_eq(norm, "11010519491231002X");
    cr_assert_eq(hpf_id_check_char("11010519491231002"), 'X');
}

Test(id_validate, accepts_lower_case_x_and_normalises_it)
{
    char norm[19] = "";
    cr_assert_eq(hpf_id_validate("11010519491231002x", today(), norm, NULL), 0);
    cr_assert_str_eq(norm, "11010519491231002X");
}

Test(id_validate, accepts_rules_vector_born_in_1880)
{
    char norm[19] = "";
    cr_assert_eq(hpf_id_check_char("44052418800101001"), '4');
    cr_assert_eq(hpf_id_validate("440524188001010014", today(), norm, NULL), 0);
    cr_assert_str_eq(norm, "440524188001010014");
}

Test(id_validate, rejects_rules_vector_with_wrong_check_and_names_the_right_one)
{
    char norm[19] = "untouched";
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_id_validate("32090219900307123X", today(), norm, &err);
    expect_err(&err, rc, HPF_EINVAL, "/id_number", "id.check_digit");
    cr_assert(strstr(err.msg, "check character should be 2"), "message: %s", err.msg);
    cr_assert_str_eq(norm, "untouched");
    cr_assert_eq(hpf_id_check_char("32090219900307123"), '2');
    cr_assert_eq(hpf_id_validate("320902199003071232", today(), NULL, NULL), 0);
}

Test(id_validate, detects_every_single_digit_change)
{
    const char *good = "320902199003071232";
    for (size_t i = 0; i < 17; i++)
        for (char c = '0'; c <= '9'; c++) {
            if (c == good[i])
                continue;
            char id[19];
            memcpy(id, good, sizeof id);
            id[i] = c;
            hpf_err err = HPF_ERR_INIT;
            cr_assert_lt(hpf_id_validate(id, today(), NULL, &err), 0, "%s passed", id);
        }
}

Test(id_validate, rejects_wrong_length_and_characters_as_format)
{
    static const char *const bad[] = {
        "",
        "11010519491231002",   /* 17 */
        "11010519491231002XX", /* 19 */
        "1101051949123100X2",  /* X not last */
        "11010519491231002Y",
        "1101051949123100 2",
        "a1010519491231002X",
        "１1010519491231002", /* full-width digit */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_id_validate(bad[i], today(), NULL, &err);
        expect_err(&err, rc, HPF_EINVAL, "/id_number", "id.format");
    }
    hpf_err err = HPF_ERR_INIT;
    expect_err(&err, hpf_id_validate(NULL, today(), NULL, &err), HPF_EINVAL, "/id_number",
               "id.format");
}

Test(id_validate, rejects_birth_dates_that_are_not_real)
{
    static const char *const first17[] = {
        "32090219000229123", /* 1900 was not a leap year */
        "32090219900230123", /* 30 February */
        "32090219901301123", /* month 13 */
        "32090219900100123", /* day 0 */
        "32090217991231123", /* before 1800 */
    };
    for (size_t i = 0; i < sizeof first17 / sizeof first17[0]; i++) {
        char id[19];
        with_check(id, first17[i]);
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_id_validate(id, today(), NULL, &err);
        expect_err(&err, rc, HPF_EINVAL, "/id_number", "id.birth_date");
    }
    char id[19];
    with_check(id, "32090220000229123"); /* 2000 was a leap year */
    cr_assert_eq(hpf_id_validate(id, today(), NULL, NULL), 0);
}

Test(id_validate, accepts_birth_today_and_rejects_birth_tomorrow)
{
    char id[19];
    with_check(id, "32090220261129123");
    cr_assert_eq(hpf_id_validate(id, today(), NULL, NULL), 0);
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_id_validate(id, today() - 1, NULL, &err);
    expect_err(&err, rc, HPF_EINVAL, "/id_number", "id.birth_date");
}

Test(id_fields, reads_birth_date_and_sex)
{
    hpf_day birth = 0;
    cr_assert_eq(hpf_id_birth_date(&birth, "11010519491231002X"), 0);
    cr_assert_eq(birth, hpf_day_from_ymd(1949, 12, 31));
    cr_assert_eq(hpf_id_sex("11010519491231002X"), HPF_SEX_FEMALE); /* sequence 002: even */
    cr_assert_eq(hpf_id_sex("440524188001010014"), HPF_SEX_MALE);   /* sequence 001: odd */
    cr_assert_eq(hpf_id_birth_date(&birth, "320902199002301232"), HPF_EINVAL);
    cr_assert_eq(hpf_id_birth_date(&birth, "3209"), HPF_EINVAL);
    cr_assert_eq(hpf_id_sex("3209"), HPF_SEX_UNKNOWN);
}

Test(id_mask, keeps_four_characters_at_each_end)
{
    char out[19];
    hpf_id_mask(out, "11010519491231002X");
    cr_assert_str_eq(out, "1101**********002X");
    hpf_id_mask(out, "E12345678"); /* a passport number */
    cr_assert_str_eq(out, "E123*5678");
    hpf_id_mask(out, "12345678");
    cr_assert_str_eq(out, "********");
    hpf_id_mask(out, "1101051949123100201234");
    cr_assert_str_eq(out, "1101**********1234");
    hpf_id_mask(out, NULL);
    cr_assert_str_eq(out, "");
}

/* ---- §10.2 unified social credit code ---- */

Test(uscc_validate, accepts_rules_vectors)
{
    char norm[19] = "";
    cr_assert_eq(hpf_uscc_validate("9135052155323005XL", norm, NULL), 0);
    cr_assert_str_eq(norm, "9135052155323005XL");
    cr_assert_eq(hpf_uscc_check_char("9135052155323005X"), 'L');
    cr_assert_eq(hpf_uscc_validate("91350100M000100Y43", norm, NULL), 0);
    cr_assert_str_eq(norm, "91350100M000100Y43");
    cr_assert_eq(hpf_uscc_check_char("91350100M000100Y4"), '3');
}

Test(uscc_validate, accepts_lower_case_and_normalises_it)
{
    char norm[19] = "";
    cr_assert_eq(hpf_uscc_validate("91350100m000100y43", norm, NULL), 0);
    cr_assert_str_eq(norm, "91350100M000100Y43");
    cr_assert_eq(hpf_uscc_validate("9135052155323005xl", norm, NULL), 0);
    cr_assert_str_eq(norm, "9135052155323005XL");
}

Test(uscc_validate, rejects_rules_vector_and_names_the_right_check)
{
    hpf_err err = HPF_ERR_INIT;
    int rc = hpf_uscc_validate("913209007382718460", NULL, &err);
    expect_err(&err, rc, HPF_EINVAL, "/uscc", "uscc.check_digit");
    cr_assert(strstr(err.msg, "should be C"), "message: %s", err.msg);
    cr_assert_eq(hpf_uscc_check_char("91320900738271846"), 'C');
}

Test(uscc_check_char, uses_the_outer_mod_when_the_sum_is_a_multiple_of_31)
{
    /* Σ mod 31 = 0 here: without the outer mod the index would be 31, past the set. */
    cr_assert_eq(hpf_uscc_check_char("91320900MA100A000"), '0');
    cr_assert_eq(hpf_uscc_validate("91320900MA100A0000", NULL, NULL), 0);
}

Test(uscc_validate, rejects_characters_outside_the_set_and_bad_authority)
{
    static const char *const bad[] = {
        "9135052155323005X",   /* 17 */
        "9135052155323005XLL", /* 19 */
        "9135052155323005IL",  /* I */
        "9135052155323005OL",  /* O */
        "91350521S5323005XL",  /* S */
        "91350521V5323005XL",  /* V */
        "91350521Z5323005XL",  /* Z */
        "9135052155323005-L",  "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_uscc_validate(bad[i], NULL, &err);
        expect_err(&err, rc, HPF_EINVAL, "/uscc", "uscc.format");
    }
    /* A correct check character does not save a registration authority outside 1-9, A, N, Y. */
    char code[19] = "0135052155323005X?";
    code[17] = hpf_uscc_check_char(code);
    hpf_err err = HPF_ERR_INIT;
    expect_err(&err, hpf_uscc_validate(code, NULL, &err), HPF_EINVAL, "/uscc", "uscc.format");
    memcpy(code, "B", 1);
    code[17] = hpf_uscc_check_char(code);
    expect_err(&err, hpf_uscc_validate(code, NULL, &err), HPF_EINVAL, "/uscc", "uscc.format");
    memcpy(code, "N", 1);
    code[17] = hpf_uscc_check_char(code);
    cr_assert_eq(hpf_uscc_validate(code, NULL, NULL), 0);
}

Test(uscc_validate, detects_every_single_character_change)
{
    static const char set[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const char *good = "91350100M000100Y43";
    for (size_t i = 0; i < 18; i++)
        for (const char *c = set; *c; c++) {
            if (*c == good[i])
                continue;
            char code[19];
            memcpy(code, good, sizeof code);
            code[i] = *c;
            cr_assert_lt(hpf_uscc_validate(code, NULL, NULL), 0, "%s passed", code);
        }
}

Test(orgcode, checks_the_embedded_organisation_code)
{
    cr_assert_eq(hpf_orgcode_check_char("55323005"), 'X');
    cr_assert_eq(hpf_orgcode_check_char("M000100Y"), '4');
    cr_assert(hpf_orgcode_valid("9135052155323005XL" + 8));
    cr_assert(hpf_orgcode_valid("91350100M000100Y43" + 8));
    cr_assert(!hpf_orgcode_valid("913209007382718460" + 8)); /* 73827184 -> 3, not 6 */
    cr_assert_eq(hpf_orgcode_check_char("7382718"), '\0');
    cr_assert_eq(hpf_orgcode_check_char("m000100y"), '\0');
    cr_assert(!hpf_orgcode_valid("M000100Y"));
}

/* ---- §10.3 Luhn ---- */

Test(luhn, accepts_rules_vectors_and_computes_their_check_digits)
{
    cr_assert(hpf_luhn_valid("79927398713"));
    cr_assert_eq(hpf_luhn_check_digit("7992739871"), '3');
    cr_assert(hpf_luhn_valid("6217001234567890122"));
    cr_assert_eq(hpf_luhn_check_digit("621700123456789012"), '2');
}

Test(luhn, detects_every_single_digit_change)
{
    const char *good = "6217001234567890122";
    size_t n = strlen(good);
    for (size_t i = 0; i < n; i++)
        for (char c = '0'; c <= '9'; c++) {
            if (c == good[i])
                continue;
            char card[32];
            memcpy(card, good, n + 1);
            card[i] = c;
            cr_assert(!hpf_luhn_valid(card), "%s passed", card);
        }
}

Test(luhn, rejects_non_digits_and_too_short_input)
{
    cr_assert(!hpf_luhn_valid(""));
    cr_assert(!hpf_luhn_valid("0"));
    cr_assert(!hpf_luhn_valid("7992 7398 713"));
    cr_assert(!hpf_luhn_valid("7992739871a"));
    cr_assert(!hpf_luhn_valid(NULL));
    cr_assert(hpf_luhn_valid("00"));
    cr_assert_eq(hpf_luhn_check_digit(""), '\0');
    cr_assert_eq(hpf_luhn_check_digit("12a"), '\0');
    cr_assert_eq(hpf_luhn_check_digit("0"), '0');
}

/* ---- §10.4 mobile ---- */

Test(mobile, accepts_mainland_mobile_numbers)
{
    cr_assert(hpf_mobile_valid("13800138000"));
    cr_assert(hpf_mobile_valid("19912345678"));
    cr_assert(hpf_mobile_valid("13000000000"));
}

Test(mobile, rejects_other_shapes)
{
    static const char *const bad[] = {"12345678901",    "10800138000", "1380013800", "138001380001",
                                      "+8613800138000", "1380013800a", "",           "23800138000",
                                      "138 0013 8000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(!hpf_mobile_valid(bad[i]), "%s passed", bad[i]);
    cr_assert(!hpf_mobile_valid(NULL));
}

/* ---- §6.1 account numbers ---- */

Test(account, member_number_uses_the_gb11643_check)
{
    /* Same 17 digits as the RULES ID vector, so the same check character X. */
    char grzh[19];
    cr_assert_eq(hpf_acct_make_member(grzh, "110105", INT64_C(19491231002)), 0);
    cr_assert_str_eq(grzh, "11010519491231002X");
    cr_assert_eq(hpf_acct_validate(grzh, NULL), 0);
}

Test(account, employer_number_has_centre_branch_sequence_and_check)
{
    char dwzh[19];
    cr_assert_eq(hpf_acct_make_employer(dwzh, "320900", 1, 1), 0);
    cr_assert_eq(strlen(dwzh), 18);
    cr_assert(strncmp(dwzh, "32090001000000001", 17) == 0, "got %s", dwzh);
    cr_assert_eq(dwzh[17], hpf_id_check_char("32090001000000001"));
    cr_assert_eq(hpf_acct_validate(dwzh, NULL), 0);
}

Test(account, round_trips_across_the_sequence_ranges)
{
    static const int64_t member_seqs[] = {1, 2, 10, 123456789, HPF_ACCT_MEMBER_SEQ_MAX};
    static const int64_t employer_seqs[] = {1, 9, 4711, HPF_ACCT_EMPLOYER_SEQ_MAX};
    char out[19];
    for (size_t i = 0; i < sizeof member_seqs / sizeof member_seqs[0]; i++) {
        cr_assert_eq(hpf_acct_make_member(out, "320900", member_seqs[i]), 0);
        cr_assert_eq(hpf_acct_validate(out, NULL), 0, "%s", out);
    }
    for (size_t i = 0; i < sizeof employer_seqs / sizeof employer_seqs[0]; i++)
        for (int branch = 0; branch <= HPF_ACCT_BRANCH_MAX; branch += 33) {
            cr_assert_eq(hpf_acct_make_employer(out, "320900", branch, employer_seqs[i]), 0);
            cr_assert_eq(hpf_acct_validate(out, NULL), 0, "%s", out);
        }
    cr_assert_eq(hpf_acct_make_member(out, "320900", HPF_ACCT_MEMBER_SEQ_MAX), 0);
    cr_assert(strncmp(out, "32090099999999999", 17) == 0, "got %s", out);
}

Test(account, detects_a_flipped_digit_anywhere)
{
    char good[19];
    cr_assert_eq(hpf_acct_make_member(good, "320900", 12345), 0);
    for (size_t i = 0; i < 18; i++)
        for (char c = '0'; c <= '9'; c++) {
            if (c == good[i])
                continue;
            char s[19];
            memcpy(s, good, sizeof s);
            s[i] = c;
            hpf_err err = HPF_ERR_INIT;
            int rc = hpf_acct_validate(s, &err);
            expect_err(&err, rc, HPF_EINVAL, "", "account.check_digit");
        }
}

Test(account, detects_swapped_neighbours)
{
    char good[19];
    cr_assert_eq(hpf_acct_make_employer(good, "320900", 7, 987654321), 0);
    for (size_t i = 0; i + 1 < 17; i++) {
        if (good[i] == good[i + 1])
            continue;
        char s[19];
        memcpy(s, good, sizeof s);
        s[i] = good[i + 1];
        s[i + 1] = good[i];
        cr_assert_lt(hpf_acct_validate(s, NULL), 0, "%s passed", s);
    }
}

Test(account, refuses_out_of_range_parts)
{
    char out[19] = "untouched";
    cr_assert_eq(hpf_acct_make_member(out, "320900", 0), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_member(out, "320900", HPF_ACCT_MEMBER_SEQ_MAX + 1), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_member(out, "320900", -5), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_member(out, "32090", 1), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_member(out, "3209000", 1), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_member(out, "32090a", 1), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_member(out, NULL, 1), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_employer(out, "320900", -1, 1), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_employer(out, "320900", 100, 1), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_employer(out, "320900", 1, 0), HPF_EINVAL);
    cr_assert_eq(hpf_acct_make_employer(out, "320900", 1, HPF_ACCT_EMPLOYER_SEQ_MAX + 1),
                 HPF_EINVAL);
    cr_assert_str_eq(out, "untouched");
}

Test(account, reports_format_errors_for_the_caller_to_name)
{
    static const char *const bad[] = {"", "32090000000123451", "3209000000012345100",
                                      "32090000000a234510", "32090000000 234510"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_acct_validate(bad[i], &err);
        expect_err(&err, rc, HPF_EINVAL, "", "account.format");
    }
    hpf_err err = HPF_ERR_INIT;
    hpf_acct_validate("3209", &err);
    hpf_err_prefix_field(&err, "/grzh");
    cr_assert_str_eq(err.field, "/grzh");
}

Test(account, wants_an_upper_case_x)
{
    /* Find a sequence whose check character is X. */
    char out[19] = "";
    int64_t seq = 1;
    for (; seq < 100; seq++) {
        cr_assert_eq(hpf_acct_make_member(out, "320900", seq), 0);
        if (out[17] == 'X')
            break;
    }
    cr_assert_eq(out[17], 'X');
    cr_assert_eq(hpf_acct_validate(out, NULL), 0);
    out[17] = 'x';
    hpf_err err = HPF_ERR_INIT;
    expect_err(&err, hpf_acct_validate(out, &err), HPF_EINVAL, "", "account.check_digit");
}

/* ---- names ---- */

Test(name_validate, accepts_ordinary_names)
{
    static const char *const ok[] = {"张三", "欧阳娜娜",       "阿卜杜热合曼·买买提",
                                     "A",    "Mary Ann Smith", "盐城市某某科技有限公司"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hpf_err err = HPF_ERR_INIT;
        cr_expect_eq(hpf_name_validate(ok[i], "/name", &err), 0, "%s: %s", ok[i], err.msg);
    }
}

Test(name_validate, rejects_empty_padded_and_control_text)
{
    static const char *const bad[] = {
        "",
        " 张三",
        "张三 ",
        "\xe3\x80\x80张三", /* ideographic space */
        "张三\xc2\xa0",     /* no-break space */
        "张\t三",
        "张\n三",
        "张\x01三",
        "张\x7f三",
        "\xff",
        "\xc0\xaf",     /* overlong '/' */
        "\xe5\xbc",     /* truncated */
        "\xc2\x85",     /* C1 control NEL */
        "\xed\xa0\x80", /* surrogate */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hpf_err err = HPF_ERR_INIT;
        int rc = hpf_name_validate(bad[i], "/name", &err);
        expect_err(&err, rc, HPF_EINVAL, "/name", "name.format");
    }
    hpf_err err = HPF_ERR_INIT;
    expect_err(&err, hpf_name_validate(NULL, "/name", &err), HPF_EINVAL, "/name", "name.format");
}

Test(name_validate, counts_code_points_not_bytes)
{
    char buf[4 * 60 + 1];
    /* 50 CJK characters (150 bytes) pass; 51 do not. */
    size_t n = 0;
    for (int i = 0; i < 50; i++, n += 3)
        memcpy(buf + n, "张", 3);
    buf[n] = '\0';
    cr_assert_eq(hpf_name_validate(buf, "/name", NULL), 0);
    memcpy(buf + n, "张", 4); /* 3 bytes and the NUL */
    hpf_err err = HPF_ERR_INIT;
    expect_err(&err, hpf_name_validate(buf, "/name", &err), HPF_EINVAL, "/name", "name.format");
    /* 50 four-byte code points are 200 bytes and pass. */
    n = 0;
    for (int i = 0; i < 50; i++, n += 4)
        memcpy(buf + n, "\xf0\xa0\x80\x80", 4); /* U+20000, CJK extension B */
    buf[n] = '\0';
    cr_assert_eq(hpf_name_validate(buf, "/name", NULL), 0);
    /* 201 ASCII letters are refused without scanning the whole string. */
    memset(buf, 'a', 201);
    buf[201] = '\0';
    expect_err(&err, hpf_name_validate(buf, "/name", &err), HPF_EINVAL, "/name", "name.format");
}
