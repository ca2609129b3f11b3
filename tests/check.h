/* A minimal test harness: CHECK records failures with file:line, and
   check_done() prints "N passed, N failed" and gives the exit code. */
#ifndef OT_TESTS_CHECK_H
#define OT_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_pass_, check_fail_;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) check_pass_++;                                               \
        else {                                                                 \
            check_fail_++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (cond) check_pass_++;                                               \
        else {                                                                 \
            check_fail_++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* |a - b| <= atol + rtol * |b|, NaN == NaN. */
static inline int check_close(double a, double b, double rtol, double atol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

#define CHECK_CLOSE(a, b, rtol, atol) \
    CHECK_MSG(check_close((a), (b), (rtol), (atol)), "%.9g vs %.9g", (double)(a), (double)(b))

static inline int check_done(void) {
    printf("%d passed, %d failed\n", check_pass_, check_fail_);
    return check_fail_ ? 1 : 0;
}

#endif
