/*
 * ids: pure validators and constructors for the identifiers the fund handles (RULES §6.1, §10):
 * resident ID numbers (GB 11643, ISO 7064 MOD 11-2), unified social credit codes (GB 32100, with
 * the embedded GB 11714 organisation code), Luhn bank card numbers, mobile numbers, our own
 * employer (DWZH) and member (GRZH) account numbers, and personal or company names. No I/O and
 * no clock: "today" is passed in. Validators that take an hpf_err name the JSON field and a
 * stable rule id ("id.check_digit", ...) and say in the message what would have been right.
 */
#ifndef HPF_DOMAIN_IDS_H
#define HPF_DOMAIN_IDS_H

#include "base/date.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- Resident ID number (GB 11643-1999), 18 characters ---- */

/* Earliest birth year accepted in an ID. GB 11643 uses a 4-digit year precisely so that people
 * born in the 1800s fit, and its own example (RULES §10.1) is 440524188001010014, born
 * 1880-01-01; a floor of 1900 would reject that vector. */
#define HPF_ID_MIN_BIRTH_YEAR 1800

/* GB/T 2261.1 sex codes, as stored in XingBie. */
typedef enum { HPF_SEX_UNKNOWN = 0, HPF_SEX_MALE = 1, HPF_SEX_FEMALE = 2 } hpf_sex;

/*
 * Validate an 18-character resident ID: 17 digits then a digit or X (x accepted), a real birth
 * date (YYYYMMDD at offset 6) with year >= HPF_ID_MIN_BIRTH_YEAR and not after `today`, and the MOD
 * 11-2 check character. On success writes the normalised form (x -> X) to norm and returns 0;
 * otherwise returns HPF_EINVAL with field "/id_number" and rule "id.format", "id.birth_date" or
 * "id.check_digit" (the message names the expected character). norm may be NULL; it is written
 * only on success. The address code is not checked against GB/T 2260.
 */
int hpf_id_validate(const char *s, hpf_day today, char norm[19], hpf_err *err);

/* The ISO 7064 MOD 11-2 check character ('0'..'9' or 'X') for the first 17 characters of
 * `first17`, which must be digits; returns '\0' if any of them is not a digit (or the string is
 * shorter). Anything after the 17th character is ignored. */
char hpf_id_check_char(const char *first17);

/* The birth date of a valid ID (as accepted by hpf_id_validate). Returns 0 or HPF_EINVAL if the
 * date field is not a real date; out untouched on error. */
int hpf_id_birth_date(hpf_day *out, const char *id);

/* The sex of a valid ID from the parity of the sequence digit (offset 16): odd male, even female.
 * HPF_SEX_UNKNOWN if that character is not a digit. */
hpf_sex hpf_id_sex(const char *id);

/* Mask an ID for display and logs: the first 4 and last 4 characters are kept and the ones
 * between become '*' ("1101**********002X"). Strings of 8 characters or fewer become all '*';
 * longer than 18 are shown as 18 (4 + 10 '*' + 4). NULL gives "". */
void hpf_id_mask(char out[19], const char *id);

/* ---- Unified social credit code (GB 32100-2015), 18 characters ---- */

/*
 * Validate a USCC: 18 characters from "0123456789ABCDEFGHJKLMNPQRTUWXY" (lower case accepted),
 * registration authority (first character) one of 1-9, A, N, Y, and the mod-31 check
 * character. On success writes the upper-case form to norm (may be NULL) and returns 0;
 * otherwise HPF_EINVAL with field "/uscc" and rule "uscc.format" or "uscc.check_digit".
 * The embedded organisation code is not checked here (see hpf_orgcode_valid): some codes issued
 * by non-market registries do not carry a valid one.
 */
int hpf_uscc_validate(const char *s, char norm[19], hpf_err *err);

/* The USCC check character for the first 17 characters of `first17` (upper or lower case),
 * computed as (31 - (sum mod 31)) mod 31; '\0' if a character is outside the 31-char set. */
char hpf_uscc_check_char(const char *first17);

/* The GB 11714 organisation code check character ('0'..'9' or 'X') for the first 8 characters
 * of `first8` (digits and upper-case letters, A = 10 .. Z = 35); '\0' if one is neither. */
char hpf_orgcode_check_char(const char *first8);

/* True if `code9` starts with a 9-character organisation code whose 9th character is its check
 * character (the USCC carries one at offset 8: hpf_orgcode_valid(uscc + 8)). */
bool hpf_orgcode_valid(const char *code9);

/* ---- Bank card numbers (Luhn, ISO/IEC 7812-1) ---- */

/* True if `digits` is at least 2 ASCII digits and passes the Luhn check. Length rules for a
 * given card scheme are the caller's. */
bool hpf_luhn_valid(const char *digits);

/* The Luhn check digit ('0'..'9') to append to `prefix` (1 or more digits); '\0' if prefix is
 * empty or holds a non-digit. */
char hpf_luhn_check_digit(const char *prefix);

/* ---- Mobile phone numbers ---- */

/* True if `s` matches ^1[3-9][0-9]{9}$ (mainland mobile, no +86 prefix, no spaces). */
bool hpf_mobile_valid(const char *s);

/* ---- Fund account numbers (RULES §6.1 proposal) ---- */

/* Ranges of the sequence parts. Sequences start at 1. */
#define HPF_ACCT_BRANCH_MAX       99
#define HPF_ACCT_EMPLOYER_SEQ_MAX INT64_C(999999999)   /* 9 digits */
#define HPF_ACCT_MEMBER_SEQ_MAX   INT64_C(99999999999) /* 11 digits */

/* Build an employer account number DWZH = centre (6 digits) + branch (2) + sequence (9) + MOD
 * 11-2 check character, into out[19]. Returns 0, or HPF_EINVAL (out untouched) if centre6 is not
 * exactly 6 digits, branch is outside 0..99 or seq outside 1..HPF_ACCT_EMPLOYER_SEQ_MAX. */
int hpf_acct_make_employer(char out[19], const char *centre6, int branch, int64_t seq);

/* Build a member account number GRZH = centre (6) + sequence (11) + check character, into
 * out[19]. Returns 0 or HPF_EINVAL as above (seq 1..HPF_ACCT_MEMBER_SEQ_MAX). */
int hpf_acct_make_member(char out[19], const char *centre6, int64_t seq);

/*
 * Check the shape of a DWZH or GRZH: 17 digits then the MOD 11-2 check character ('X' upper case
 * only: we issue these numbers). The two kinds have the same shape, so this does not tell them
 * apart. Returns 0 or HPF_EINVAL with rule "account.format" or "account.check_digit" and an empty
 * field: the caller names it, e.g. hpf_err_prefix_field(err, "/grzh").
 */
int hpf_acct_validate(const char *s, hpf_err *err);

/* ---- Names ---- */

#define HPF_NAME_MAX_CHARS 50

/*
 * Validate a person's or an organisation's name: valid UTF-8 without control characters,
 * 1..HPF_NAME_MAX_CHARS code points, and no leading or trailing space (ASCII space, U+00A0 or the
 * ideographic space U+3000). Returns 0 or HPF_EINVAL with the given field and rule "name.format".
 */
int hpf_name_validate(const char *s, const char *field, hpf_err *err);

#endif
