/* The checks the C test programs count: each failure names its line, and
   the program prints "N passed, M failed" at the end. */
#ifndef BEARER_TEST_CHECK_H
#define BEARER_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (cond) {                                                           \
            passed++;                                                         \
        } else {                                                              \
            failed++;                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
        }                                                                     \
    } while (0)

static inline int contains(const char *text, const char *part) {
    return text != NULL && strstr(text, part) != NULL;
}

#endif
