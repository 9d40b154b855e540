#include "trust/password.h"

#include "base/parse.h"
#include "base/rand.h"

#include <argon2.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define T_COST   2
#define M_COST   (19 * 1024)
#define PARALLEL 1
#define SALT_LEN 16
#define HASH_LEN 32

int hpf_password_hash(char out[HPF_PW_HASH_MAX], const char *pw, hpf_err *err)
{
    unsigned char salt[SALT_LEN];
    hpf_rand_bytes(salt, sizeof salt);
    int rc = argon2id_hash_encoded(T_COST, M_COST, PARALLEL, pw, strlen(pw), salt, sizeof salt,
                                   HASH_LEN, out, HPF_PW_HASH_MAX);
    if (rc != ARGON2_OK)
        return hpf_err_set(err, HPF_EINTERNAL, "argon2id: %s", argon2_error_message(rc));
    return 0;
}

bool hpf_password_verify(const char *encoded, const char *pw)
{
    return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}

static char dummy[HPF_PW_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    hpf_password_hash(dummy, "not-a-real-password-Xy1!", NULL);
}

void hpf_password_dummy_verify(const char *pw)
{
    pthread_once(&dummy_once, make_dummy);
    (void)hpf_password_verify(dummy, pw);
}

/* Case-insensitive (ASCII) substring search. */
static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] &&
               tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k]))
            k++;
        if (k == n)
            return true;
    }
    return false;
}

int hpf_password_check(const char *pw, const char *username, const char *field, hpf_err *err)
{
    size_t n = strlen(pw);
    if (n < 10 || n > 128)
        return hpf_err_field(err, HPF_EINVAL, field, "password.weak",
                             "password must be 10 to 128 characters long (it has %zu)", n);
    if (!hpf_text_ok(pw, n, false))
        return hpf_err_field(err, HPF_EINVAL, field, "password.weak",
                             "password must not contain control characters");
    int lower = 0, upper = 0, digit = 0, other = 0;
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        if (islower(*p))
            lower = 1;
        else if (isupper(*p))
            upper = 1;
        else if (isdigit(*p))
            digit = 1;
        else
            other = 1;
    }
    if (lower + upper + digit + other < 3) {
        char missing[64] = "";
        const char *names[] = {"lower-case", "upper-case", "digit", "symbol"};
        int have[] = {lower, upper, digit, other};
        for (int i = 0; i < 4; i++)
            if (!have[i]) {
                size_t m = strlen(missing);
                snprintf(missing + m, sizeof missing - m, "%s%s", m ? ", " : "", names[i]);
            }
        return hpf_err_field(err, HPF_EINVAL, field, "password.weak",
                             "password needs at least three of: lower-case, upper-case, digit, "
                             "symbol (missing: %s)",
                             missing);
    }
    if (username && strlen(username) >= 3 && contains_nocase(pw, username))
        return hpf_err_field(err, HPF_EINVAL, field, "password.weak",
                             "password must not contain the username");
    return 0;
}
