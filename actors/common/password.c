/* Password rule and Argon2id hashing. */
#include "actors/common/password.h"

#include <ctype.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "bus/config.h"

#define MIN_LEN 12
#define MAX_LEN 128

/* Words behind most leaked passwords that would pass the composition rule ("Password123!",
 * "Qw3rty!23456"): a password whose letters, after undoing common substitutions, are one of
 * these (optionally repeated) is refused. */
static const char *common_words[] = {
    "password", "passw", "pass", "qwerty", "qwertyuiop", "asdf", "asdfgh", "zxcvbn", "azerty",
    "welcome", "letmein", "admin", "administrator", "iloveyou", "loveyou", "monkey", "dragon",
    "football", "baseball", "soccer", "hockey", "sunshine", "princess", "master", "shadow",
    "superman", "batman", "trustno", "starwars", "whatever", "freedom", "secret", "login",
    "changeme", "default", "abc", "abcd", "abcdef", "test", "tester", "testing", "user",
    "root", "hello", "hellothere", "summer", "winter", "spring", "autumn", "january",
    "statuswatch", "company", "computer", "internet", "michael", "charlie", "jordan",
    "pokemon", "mustang", "access", "flower", "cheese", "killer", "hunter", "ranger",
    "orange", "banana", "apple", "secure", "security", "private", "myspace", "facebook",
    "google", "linkedin", "ninja", "jesus", "love", "lovely", "money", "qazwsx", "zaq",
    "xsw", "zaqxsw", "qwe", "qweasd", "asd", "zxc", "aaa", "abc",
};

/* ------------------------------------------------------------------ breached passwords */

extern const char sw_common_passwords_txt[]; /* password_list.c */

static const char **breached;
static size_t n_breached;
static pthread_once_t breached_once = PTHREAD_ONCE_INIT;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Indexes the embedded list once: pointers into a copy with each newline made a NUL, sorted. */
static void breached_init(void)
{
    size_t n = 0, len = strlen(sw_common_passwords_txt);
    for (size_t i = 0; i < len; i++)
        n += sw_common_passwords_txt[i] == '\n';
    char *copy = malloc(len + 1);
    const char **idx = calloc(n + 1, sizeof(*idx));
    if (!copy || !idx) {
        free(copy);
        free(idx);
        return; /* the composition rule and the word list below still apply */
    }
    memcpy(copy, sw_common_passwords_txt, len + 1);
    for (char *line = copy, *nl = NULL; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        if (*line)
            idx[n_breached++] = line;
    }
    qsort(idx, n_breached, sizeof(*idx), cmp_str);
    breached = idx;
}

static bool is_breached(const char *candidate)
{
    pthread_once(&breached_once, breached_init);
    if (!*candidate || !breached)
        return false;
    return bsearch(&candidate, breached, n_breached, sizeof(*breached), cmp_str) != NULL;
}

/* Lowercased, and with symbols around it, then everything after its last letter, trimmed:
 * "Password123!" is looked up as "password123!", "password123" and "password". */
static bool breached_forms(const char *pw)
{
    char low[MAX_LEN + 1];
    size_t n = 0;
    for (const char *p = pw; *p && n < MAX_LEN; p++)
        low[n++] = (char)tolower((unsigned char)*p);
    low[n] = '\0';
    if (is_breached(low))
        return true;
    char *start = low, *end = low + n;
    while (end > start && !isalnum((unsigned char)end[-1]))
        end--;
    while (start < end && !isalnum((unsigned char)*start))
        start++;
    *end = '\0';
    if (is_breached(start))
        return true;
    while (end > start && !isalpha((unsigned char)end[-1]))
        end--;
    *end = '\0';
    return is_breached(start);
}

static bool in_common_list(const char *word)
{
    size_t wl = strlen(word);
    if (!wl)
        return true; /* no letters at all: digits and symbols only */
    for (size_t i = 0; i < sizeof(common_words) / sizeof(common_words[0]); i++) {
        size_t n = strlen(common_words[i]);
        /* the word itself, or the word repeated ("passwordpassword") */
        if (wl % n == 0) {
            bool all = true;
            for (size_t k = 0; k < wl && all; k += n)
                all = strncmp(word + k, common_words[i], n) == 0;
            if (all)
                return true;
        }
        /* a common word followed by a short tail ("welcome" + "ioa" from "Welcom3!2024"):
         * the word makes up at least half of what is left */
        if (n >= 4 && strncmp(word, common_words[i], n) == 0 && 2 * n >= wl)
            return true;
    }
    return false;
}

/* The password with digits and symbols trimmed from both ends, lowercased, and common
 * substitutions inside undone: "P@ssw0rd1234!" -> "password", "W3lc0me2024" -> "welcome". */
static void skeleton(char *out, size_t len, const char *pw)
{
    const char *start = pw, *end = pw + strlen(pw);
    size_t o = 0;
    while (start < end && !isalpha((unsigned char)*start))
        start++;
    while (end > start && !isalpha((unsigned char)end[-1]))
        end--;
    for (const char *p = start; p < end && o + 1 < len; p++) {
        char ch = *p;
        switch (ch) {
        case '@': case '4': ch = 'a'; break;
        case '0': ch = 'o'; break;
        case '1': case '!': ch = 'i'; break;
        case '3': ch = 'e'; break;
        case '$': case '5': ch = 's'; break;
        case '7': ch = 't'; break;
        default: break;
        }
        if (isalpha((unsigned char)ch))
            out[o++] = (char)tolower((unsigned char)ch);
    }
    out[o] = '\0';
}

/* Every character with substitutions undone, then letters only ("Welcom3!2024" ->
 * "welcomeioa"), so a substituted first or last letter is still seen. */
static void substituted(char *out, size_t len, const char *pw)
{
    size_t o = 0;
    for (const char *p = pw; *p && o + 1 < len; p++) {
        char ch = *p;
        switch (ch) {
        case '@': case '4': ch = 'a'; break;
        case '0': ch = 'o'; break;
        case '1': case '!': ch = 'i'; break;
        case '3': ch = 'e'; break;
        case '$': case '5': ch = 's'; break;
        case '7': ch = 't'; break;
        default: break;
        }
        if (isalpha((unsigned char)ch))
            out[o++] = (char)tolower((unsigned char)ch);
    }
    out[o] = '\0';
}

/* Letters only, lowercased, without undoing substitutions (Welcome2024! -> welcome). */
static void letters(char *out, size_t len, const char *pw)
{
    size_t o = 0;
    for (const char *p = pw; *p && o + 1 < len; p++)
        if (isalpha((unsigned char)*p))
            out[o++] = (char)tolower((unsigned char)*p);
    out[o] = '\0';
}

bool password_check(const char *pw, const char *email, json_t *errors)
{
    size_t before = json_array_size(errors);
    size_t n = strlen(pw);
    bool upper = false, lower = false, digit = false, special = false;

    for (const char *p = pw; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isupper(ch))
            upper = true;
        else if (islower(ch))
            lower = true;
        else if (isdigit(ch))
            digit = true;
        else if (ch >= 0x20 && ch != 0x7f)
            special = true; /* punctuation, space and any non-ASCII character */
    }
    if (n < MIN_LEN)
        json_array_append_new(errors, json_string("This password is too short. It must contain "
                                                  "at least 12 characters."));
    if (n > MAX_LEN)
        json_array_append_new(errors, json_string("This password is too long. It must contain "
                                                  "at most 128 characters."));
    if (!upper)
        json_array_append_new(errors,
                              json_string("Password must contain at least one uppercase letter."));
    if (!lower)
        json_array_append_new(errors,
                              json_string("Password must contain at least one lowercase letter."));
    if (!digit)
        json_array_append_new(errors, json_string("Password must contain at least one number."));
    if (!special)
        json_array_append_new(
            errors, json_string("Password must contain at least one special character."));

    if (n <= MAX_LEN) {
        char a[MAX_LEN + 1], b[MAX_LEN + 1], full[MAX_LEN + 1];
        skeleton(a, sizeof(a), pw);
        letters(b, sizeof(b), pw);
        substituted(full, sizeof(full), pw);
        /* Known from breaches (exactly, or under the usual decorations), or built on one of
         * the words behind most of them. */
        if (breached_forms(pw) || is_breached(a) || is_breached(b) || is_breached(full) ||
            in_common_list(a) || in_common_list(b) || in_common_list(full))
            json_array_append_new(errors, json_string("This password is too common."));
        if (email) {
            char local[128];
            snprintf(local, sizeof(local), "%.*s", (int)strcspn(email, "@"), email);
            letters(local, sizeof(local), local);
            if (strlen(local) >= 4 && strstr(b, local))
                json_array_append_new(
                    errors, json_string("The password is too similar to the email address."));
        }
    }
    return json_array_size(errors) == before;
}

static sem_t hash_slots;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_slots_init(void)
{
    long n = sw_config_long("SW_PWHASH_CONCURRENCY", 2, 1, 64, NULL);
    sem_init(&hash_slots, 0, (unsigned)n);
}

bool password_hash(char out[PASSWORD_HASH_LEN], const char *password)
{
    pthread_once(&hash_once, hash_slots_init);
    sem_wait(&hash_slots);
    int rc = crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sem_post(&hash_slots);
    return rc == 0;
}

static char dummy_hash[PASSWORD_HASH_LEN];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_hash_init(void)
{
    unsigned char rnd[24];
    char pw[49];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
    password_hash(dummy_hash, pw);
}

bool password_verify(const char *stored, const char *password)
{
    pthread_once(&hash_once, hash_slots_init);
    if (!stored) {
        /* An unknown account: verify against a hash made with the same limits, so the reply
         * takes as long as for a wrong password. */
        pthread_once(&dummy_once, dummy_hash_init);
        stored = dummy_hash;
        sem_wait(&hash_slots);
        int ignored = crypto_pwhash_str_verify(stored, password, strlen(password));
        sem_post(&hash_slots);
        (void)ignored;
        return false;
    }
    sem_wait(&hash_slots);
    int rc = crypto_pwhash_str_verify(stored, password, strlen(password));
    sem_post(&hash_slots);
    return rc == 0;
}
