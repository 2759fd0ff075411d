/*
 * Many threads share ONE client handle and call it as fast as they can,
 * mixing the token, the Authorization header and the token response, and
 * freeing every string. Run by tests/c_program.rs under AddressSanitizer and
 * UndefinedBehaviorSanitizer, and with fewer calls under valgrind; the Rust
 * side starts the local authorization server, passes the client's
 * configuration JSON, and checks the server's request count.
 *
 * usage: bearer_stress CONFIG_JSON THREADS CALLS [MIN_SECONDS]
 * Each thread makes CALLS calls, and goes on until MIN_SECONDS have passed
 * since the start (so that short-lived tokens expire during the run).
 * Prints "calls N errors N seconds S"; exits 0 only with zero errors.
 */
#define _POSIX_C_SOURCE 200809L

#include "bearer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 256

struct worker {
    pthread_t thread;
    int index;
    long calls;
    long errors;
};

static const bearer_client *client;
static long calls_each;
static double min_seconds;
static struct timespec started;
static pthread_barrier_t start_line;

static double seconds_since(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static int count_char(const char *text, char c) {
    int n = 0;
    for (; text && *text; text++) n += (*text == c);
    return n;
}

/* One call of kind i % 3; 1 when it succeeded with a well-formed answer. */
static int call(long i) {
    char *out = NULL, *problem = NULL;
    bearer_status status;
    int good;
    switch (i % 3) {
    case 0:
        status = bearer_client_token(client, &out, &problem);
        good = count_char(out, '.') == 2; /* a JWT */
        break;
    case 1:
        status = bearer_client_authorization_header(client, &out, &problem);
        good = out != NULL && strncmp(out, "Bearer ", 7) == 0 && count_char(out, '.') == 2;
        break;
    default:
        status = bearer_client_token_response(client, &out, &problem);
        good = out != NULL && strstr(out, "\"access_token\":\"") != NULL;
        break;
    }
    if (status != BEARER_STATUS_OK || problem != NULL || !good) {
        fprintf(stderr, "call %ld: status %d: %s\n", i, (int)status,
                problem ? problem : "(no problem)");
        good = 0;
    }
    bearer_string_free(out);
    bearer_string_free(problem);
    return good;
}

static void *work(void *arg) {
    struct worker *self = arg;
    pthread_barrier_wait(&start_line);
    /* Each thread starts at a different kind, so all three run at once. */
    for (long i = self->index; i - self->index < calls_each || seconds_since(&started) < min_seconds;
         i++) {
        self->calls++;
        if (!call(i)) self->errors++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s CONFIG_JSON THREADS CALLS [MIN_SECONDS]\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]);
    calls_each = atol(argv[3]);
    min_seconds = argc == 5 ? atof(argv[4]) : 0.0;
    if (threads < 1 || threads > MAX_THREADS || calls_each < 1) {
        fprintf(stderr, "THREADS is 1 to %d, CALLS at least 1\n", MAX_THREADS);
        return 2;
    }

    bearer_client *handle = NULL;
    char *problem = NULL;
    if (bearer_client_new(argv[1], &handle, &problem) != BEARER_STATUS_OK) {
        fprintf(stderr, "bearer_client_new: %s\n", problem ? problem : "(no problem)");
        bearer_string_free(problem);
        return 1;
    }
    client = handle;

    static struct worker workers[MAX_THREADS];
    pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; t++) {
        workers[t].index = t;
        if (pthread_create(&workers[t].thread, NULL, work, &workers[t]) != 0) {
            fprintf(stderr, "pthread_create failed at thread %d\n", t);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &started);
    pthread_barrier_wait(&start_line);
    long calls = 0, errors = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(workers[t].thread, NULL);
        calls += workers[t].calls;
        errors += workers[t].errors;
    }
    double seconds = seconds_since(&started);
    pthread_barrier_destroy(&start_line);

    bearer_client_free(handle);
    bearer_global_cleanup();
    printf("calls %ld errors %ld seconds %.3f\n", calls, errors, seconds);
    fflush(stdout); /* before LeakSanitizer's check at exit, which may end the process */
    return errors == 0 ? 0 : 1;
}
