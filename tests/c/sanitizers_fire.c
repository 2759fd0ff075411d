/*
 * Deliberately wrong, to test the harness: built and run exactly like the
 * sanitized C programs, each mode must end with its sanitizer's report, or
 * the sanitized runs prove nothing. The bugs depend on argc so that the
 * compiler cannot see them (-Werror) nor fold them away.
 *
 * usage: sanitizers_fire heap-overflow | undefined | leak
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    volatile size_t size = 16;
    volatile int big = INT_MAX;
    if (strcmp(argv[1], "heap-overflow") == 0) {
        char *bytes = malloc(size);
        if (bytes == NULL) return 2;
        memset(bytes, 'x', size + 1); /* one byte past the end */
        printf("%c\n", bytes[0]);
        free(bytes);
    } else if (strcmp(argv[1], "undefined") == 0) {
        printf("%d\n", big + 1); /* signed overflow */
    } else if (strcmp(argv[1], "leak") == 0) {
        char *bytes = malloc(size);
        if (bytes == NULL) return 2;
        bytes[0] = 'x';
        printf("%c\n", bytes[0]);
        bytes = NULL; /* the only pointer is gone */
    } else {
        return 2;
    }
    return 0;
}
