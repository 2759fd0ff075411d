/*
 * The C ABI from C: compiled with -Wall -Wextra -Wpedantic -Werror against the
 * committed header, linked to the built library, run under valgrind by
 * tests/c_program.rs, which starts the local authorization server and passes
 * its base URL as argv[1].
 *
 * Requests this program makes (the Rust side checks the server's counts):
 * Auth0 endpoint 3 (one-shot, client handle, wrong secret), Cobuilder 2
 * (one-shot, and one for eight threads sharing a handle).
 */
#include "bearer.h"
#include "bearer.h" /* twice: the include guard must hold */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "demo-secret"
#define CANARY "canary-0f3c9a7d"

static int passed, failed;
static char auth0_json[1024], cobuilder_json[1024];

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

static int contains(const char *text, const char *part) {
    return text != NULL && strstr(text, part) != NULL;
}

static int count_char(const char *text, char c) {
    int n = 0;
    for (; text && *text; text++) n += (*text == c);
    return n;
}

static void test_version(void) {
    CHECK(strcmp(bearer_version(), BEARER_VERSION) == 0);
}

static void test_one_shot_both_shapes(void) {
    char *token = NULL, *again = NULL, *problem = NULL;
    CHECK(bearer_fetch_token(auth0_json, &token, &problem) == BEARER_STATUS_OK);
    CHECK(problem == NULL);
    CHECK(count_char(token, '.') == 2); /* a JWT */
    /* The process-wide cache answers the second call. */
    CHECK(bearer_fetch_token(auth0_json, &again, NULL) == BEARER_STATUS_OK);
    CHECK(token && again && strcmp(token, again) == 0);
    bearer_string_free(token);
    bearer_string_free(again);

    char *response = NULL;
    CHECK(bearer_fetch_token_response(auth0_json, &response, NULL) == BEARER_STATUS_OK);
    CHECK(contains(response, "\"token_type\":\"Bearer\""));
    CHECK(contains(response, "\"expires_at\":"));
    bearer_string_free(response);

    token = NULL;
    CHECK(bearer_fetch_token(cobuilder_json, &token, &problem) == BEARER_STATUS_OK);
    CHECK(count_char(token, '.') == 2);
    bearer_string_free(token);
    bearer_string_free(problem);
}

static void test_client_handle(void) {
    bearer_client *client = NULL;
    char *problem = NULL;
    CHECK(bearer_client_new(auth0_json, &client, &problem) == BEARER_STATUS_OK);
    CHECK(client != NULL && problem == NULL);

    char *first = NULL, *second = NULL, *header = NULL, *json = NULL;
    CHECK(bearer_client_token(client, &first, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(client, &second, NULL) == BEARER_STATUS_OK);
    CHECK(first && second && strcmp(first, second) == 0);
    CHECK(bearer_client_authorization_header(client, &header, NULL) == BEARER_STATUS_OK);
    CHECK(header && strncmp(header, "Bearer ", 7) == 0 && first &&
          strcmp(header + 7, first) == 0);
    CHECK(bearer_client_token_response(client, &json, NULL) == BEARER_STATUS_OK);
    CHECK(contains(json, "\"access_token\":\""));
    bearer_string_free(first);
    bearer_string_free(second);
    bearer_string_free(header);
    bearer_string_free(json);
    bearer_client_free(client);
}

static void *hammer(void *client) {
    for (int i = 0; i < 200; i++) {
        char *token = NULL;
        if (bearer_client_token(client, &token, NULL) != BEARER_STATUS_OK) return client;
        bearer_string_free(token);
    }
    return NULL;
}

static void test_threads_share_a_client(void) {
    bearer_client *client = NULL;
    CHECK(bearer_client_new(cobuilder_json, &client, NULL) == BEARER_STATUS_OK);
    /* The handle has its own cache: eight threads, one request between them. */
    pthread_t threads[8];
    for (int i = 0; i < 8; i++) pthread_create(&threads[i], NULL, hammer, client);
    for (int i = 0; i < 8; i++) {
        void *failure = NULL;
        pthread_join(threads[i], &failure);
        CHECK(failure == NULL);
    }
    bearer_client_free(client);
}

static void test_problems(void) {
    char wrong[1024], *token = NULL, *problem = NULL;
    const char *at = strstr(auth0_json, SECRET);
    snprintf(wrong, sizeof wrong, "%.*s%s%s", (int)(at - auth0_json), auth0_json, CANARY,
             at + strlen(SECRET));

    CHECK(bearer_fetch_token(wrong, &token, &problem) == BEARER_STATUS_REJECTED);
    CHECK(token == NULL);
    CHECK(contains(problem, "\"type\":\"urn:bearer:problem:unauthorized\""));
    CHECK(contains(problem, "\"status\":401"));
    CHECK(!contains(problem, CANARY));
    bearer_string_free(problem);

    problem = NULL;
    CHECK(bearer_fetch_token(NULL, &token, &problem) == BEARER_STATUS_INVALID_ARGUMENT);
    CHECK(contains(problem, "config_json must not be NULL"));
    bearer_string_free(problem);

    problem = NULL;
    CHECK(bearer_fetch_token(auth0_json, NULL, &problem) == BEARER_STATUS_INVALID_ARGUMENT);
    CHECK(contains(problem, "token_out must not be NULL"));
    bearer_string_free(problem);

    /* problem_out may be NULL: the status alone tells. */
    CHECK(bearer_fetch_token(NULL, &token, NULL) == BEARER_STATUS_INVALID_ARGUMENT);

    problem = NULL;
    CHECK(bearer_fetch_token("{\"client_id\":\"\xff\"}", &token, &problem) ==
          BEARER_STATUS_INVALID_ARGUMENT);
    CHECK(contains(problem, "not valid UTF-8"));
    bearer_string_free(problem);

    problem = NULL;
    CHECK(bearer_fetch_token("{\"client_id\":", &token, &problem) == BEARER_STATUS_INVALID_CONFIG);
    CHECK(contains(problem, "urn:bearer:problem:invalid-config"));
    bearer_string_free(problem);

    problem = NULL;
    CHECK(bearer_fetch_token("{\"client_id\":\"a\",\"client_secret\":\"" CANARY
                             "\",\"token_url\":\"http://example.com/oauth/token\"}",
                             &token, &problem) == BEARER_STATUS_INVALID_CONFIG);
    CHECK(contains(problem, "urn:bearer:problem:insecure-url"));
    CHECK(!contains(problem, CANARY));
    bearer_string_free(problem);

    bearer_client *client = NULL;
    problem = NULL;
    CHECK(bearer_client_new("{\"client_id\":\"a\",\"clientSecret\":\"b\"}", &client, &problem) ==
          BEARER_STATUS_INVALID_CONFIG);
    CHECK(client == NULL);
    bearer_string_free(problem);

    problem = NULL;
    CHECK(bearer_client_token(NULL, &token, &problem) == BEARER_STATUS_INVALID_ARGUMENT);
    CHECK(contains(problem, "client must not be NULL"));
    bearer_string_free(problem);

    problem = NULL;
    CHECK(bearer_test_panic(&problem) == BEARER_STATUS_INTERNAL);
    CHECK(contains(problem, "urn:bearer:problem:internal"));
    bearer_string_free(problem);

    bearer_string_free(NULL);
    bearer_client_free(NULL);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
        return 2;
    }
    snprintf(auth0_json, sizeof auth0_json,
             "{\"client_id\":\"demo-client\",\"client_secret\":\"" SECRET "\","
             "\"audience\":\"https://beeapp.open-cosmos.com\","
             "\"grant_type\":\"client_credentials\",\"token_url\":\"%s/oauth/token\"}",
             argv[1]);
    snprintf(cobuilder_json, sizeof cobuilder_json,
             "{\"clientId\":\"cobuilder-client\",\"clientSecret\":\"cobuilder-secret\","
             "\"audienceUrl\":\"https://api.cobuilder.com\","
             "\"token_url\":\"%s/authentication/api/v1/oauth2/token\"}",
             argv[1]);

    test_version();
    test_one_shot_both_shapes();
    test_client_handle();
    test_threads_share_a_client();
    test_problems();

    bearer_global_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
