/* A tiny test framework: each check names the profile requirement it
 * verifies, so a failure points at the spec. A test file calls
 * TEST_RUN(fn) for each test function and returns TEST_DONE(). */
#ifndef MBWS_TEST_H
#define MBWS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;
static const char *test_current = "";

#define CHECK(req, cond)                                                                  \
    do {                                                                                  \
        test_checks++;                                                                    \
        if (!(cond)) {                                                                    \
            test_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] %s: check failed: %s\n", __FILE__, __LINE__, req, \
                    test_current, #cond);                                                 \
        }                                                                                 \
    } while (0)

#define CHECK_EQ(req, got, want)                                                          \
    do {                                                                                  \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
        test_checks++;                                                                    \
        if (g_ != w_) {                                                                   \
            test_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] %s: %s is %llu, want %llu\n", __FILE__, __LINE__,  \
                    req, test_current, #got, g_, w_);                                     \
        }                                                                                 \
    } while (0)

#define CHECK_MEM(req, got, got_len, want, want_len)                                      \
    do {                                                                                  \
        test_checks++;                                                                    \
        if ((size_t)(got_len) != (size_t)(want_len) ||                                    \
            memcmp((got), (want), (size_t)(want_len)) != 0) {                             \
            test_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] %s: %s differs from %s\n", __FILE__, __LINE__, req, \
                    test_current, #got, #want);                                           \
        }                                                                                 \
    } while (0)

#define TEST_RUN(fn)        \
    do {                    \
        test_current = #fn; \
        fn();               \
    } while (0)

/* Prints the plain closing line that CI reads, and the exit status. */
#define TEST_DONE()                                                                   \
    (printf("%s: %d checks, %d passed, %d failed\n", __FILE__, test_checks,           \
            test_checks - test_failures, test_failures),                              \
     test_failures ? 1 : 0)

#endif
