/*
 * The C ABI from C: compiled with -Wall -Wextra -Wpedantic -Werror against the
 * committed header, linked to the built library, run by tests/c_program.rs
 * under valgrind and, built again, under AddressSanitizer and
 * UndefinedBehaviorSanitizer; it starts the local authorization server and
 * passes its base URL as argv[1].
 *
 * Requests this program makes (the Rust side checks the server's counts):
 * Auth0 endpoint 3 (one-shot, client handle, wrong secret), Cobuilder 2
 * (one-shot, and one for eight threads sharing a handle); for the user flows,
 * Auth0 endpoint 7 more (a code exchanged, the same code again, a wrong
 * verifier, a code whose redirect names the right issuer, the loopback
 * login, a sign-in with offline_access and its refresh), 2 for serve-stale (a token, then its failed refresh), and 3
 * around a fork (the parent's token, the child's, the parent's after).
 *
 * For the user flows this program plays the browser: it follows the
 * authorization server's redirect by hand with a small HTTP GET.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include "bearer.h"
#include "check.h"
#include "bearer.h" /* twice: the include guard must hold */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECRET "demo-secret"
#define CANARY "canary-0f3c9a7d"

static char auth0_json[1024], cobuilder_json[1024], native_json[1024], second_json[1024];
static const char *base_url;


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

/* A token due for refresh whose endpoint has gone down: the call still gets
   it, and the failure is reported once through take_refresh_problem. */
static void test_serve_stale(void) {
    char config[1024], *first = NULL, *stale = NULL, *report = NULL, *problem = NULL;
    snprintf(config, sizeof config,
             "{\"client_id\":\"demo-client\",\"client_secret\":\"" SECRET "\","
             "\"audience\":\"https://beeapp.open-cosmos.com\",\"retries\":0,"
             "\"token_url\":\"%s/oauth/token?expires_in=4&fault=unavailable&fail_after=1\"}",
             base_url);
    bearer_client *client = NULL;
    CHECK(bearer_client_new(config, &client, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(client, &first, NULL) == BEARER_STATUS_OK);
    bearer_status refresh_status = BEARER_STATUS_INTERNAL;
    report = (char *)"untouched";
    CHECK(bearer_client_take_refresh_problem(client, &refresh_status, &report, NULL) ==
          BEARER_STATUS_OK);
    CHECK(report == NULL && refresh_status == BEARER_STATUS_OK);
    /* due at 3.4-3.6 s, valid until 3.92 s */
    nanosleep(&(struct timespec){.tv_sec = 3, .tv_nsec = 650 * 1000 * 1000}, NULL);
    CHECK(bearer_client_token(client, &stale, &problem) == BEARER_STATUS_OK);
    CHECK(problem == NULL && first && stale && strcmp(first, stale) == 0);
    CHECK(bearer_client_take_refresh_problem(client, &refresh_status, &report, NULL) ==
          BEARER_STATUS_OK);
    CHECK(refresh_status == BEARER_STATUS_UNAVAILABLE);
    CHECK(contains(report, "urn:bearer:problem:upstream-error"));
    CHECK(contains(report, "\"serving_cached_token_until\":"));
    CHECK(!contains(report, SECRET));
    bearer_string_free(report);
    /* Once per run of failures; the status is optional. */
    CHECK(bearer_client_take_refresh_problem(client, NULL, &report, NULL) == BEARER_STATUS_OK);
    CHECK(report == NULL);
    CHECK(bearer_client_take_refresh_problem(NULL, NULL, &report, &problem) ==
          BEARER_STATUS_INVALID_ARGUMENT);
    CHECK(contains(problem, "client"));
    bearer_string_free(problem);
    problem = NULL;
    CHECK(bearer_client_take_refresh_problem(client, &refresh_status, NULL, &problem) ==
          BEARER_STATUS_INVALID_ARGUMENT);
    bearer_string_free(problem);
    bearer_string_free(first);
    bearer_string_free(stale);
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

/*
 * GETs an http://127.0.0.1:PORT/... URL and returns its status; with
 * location != NULL, copies the Location header there (size bytes).
 */
static int http_get(const char *url, char *location, size_t size) {
    unsigned port = 0;
    int offset = 0;
    if (sscanf(url, "http://127.0.0.1:%u%n", &port, &offset) != 1) return -1;
    const char *target = url + offset;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    char request[4096], answer[8192];
    int length = snprintf(request, sizeof request,
                          "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                          target);
    if (write(fd, request, (size_t)length) != length) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t n;
    while (got < sizeof answer - 1 && (n = read(fd, answer + got, sizeof answer - 1 - got)) > 0)
        got += (size_t)n;
    answer[got] = '\0';
    close(fd);
    int status = -1;
    sscanf(answer, "HTTP/1.1 %d", &status);
    const char *header = strstr(answer, "\r\nLocation: ");
    if (location != NULL && header != NULL) {
        header += strlen("\r\nLocation: ");
        size_t span = strcspn(header, "\r");
        snprintf(location, size, "%.*s", (int)span, header);
    }
    return status;
}

/* Copies the string member `name` of a flat JSON object (no escapes in it). */
static int json_text(const char *json, const char *name, char *out, size_t size) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *at = json ? strstr(json, key) : NULL;
    if (at == NULL) return 0;
    at += strlen(key);
    snprintf(out, size, "%.*s", (int)strcspn(at, "\""), at);
    return 1;
}

/* The browser: opens the authorize URL and returns where it redirects. */
static int sign_in(const char *request_json, char *redirect, size_t size) {
    char url[2048];
    return json_text(request_json, "url", url, sizeof url) &&
           http_get(url, redirect, size) == 302;
}

static void test_authorization_code(void) {
    char *request = NULL, *json = NULL, *problem = NULL, redirect[2048];
    CHECK(bearer_authorize_start(native_json, &request, &problem) == BEARER_STATUS_OK);
    CHECK(contains(request, "code_challenge_method=S256"));
    CHECK(contains(request, "\"code_verifier\":\""));
    CHECK(sign_in(request, redirect, sizeof redirect));

    CHECK(bearer_authorize_complete(native_json, request, redirect, &json, &problem) ==
          BEARER_STATUS_OK);
    CHECK(contains(json, "\"id_token\":\""));
    bearer_string_free(json);

    /* A code works once. */
    json = NULL;
    CHECK(bearer_authorize_complete(native_json, request, redirect, &json, &problem) ==
          BEARER_STATUS_REJECTED);
    CHECK(json == NULL && contains(problem, "urn:bearer:problem:invalid-grant"));
    bearer_string_free(problem);

    /* A forged state never reaches the token endpoint. */
    char *state = strstr(redirect, "state=");
    if (state != NULL) state[6] = state[6] == 'A' ? 'B' : 'A';
    problem = NULL;
    CHECK(bearer_authorize_complete(native_json, request, redirect, &json, &problem) ==
          BEARER_STATUS_INVALID_ARGUMENT);
    CHECK(contains(problem, "urn:bearer:problem:invalid-callback"));
    bearer_string_free(problem);

    problem = NULL;
    CHECK(bearer_authorize_complete(native_json, "{}", redirect, &json, &problem) ==
          BEARER_STATUS_INVALID_ARGUMENT);
    bearer_string_free(problem);
    bearer_string_free(request);
}

static void test_wrong_verifier_and_declined_sign_in(void) {
    char *request = NULL, *json = NULL, *problem = NULL, redirect[2048], url[2048];
    CHECK(bearer_authorize_start(native_json, &request, NULL) == BEARER_STATUS_OK);
    CHECK(sign_in(request, redirect, sizeof redirect));
    /* The verifier no longer matches the challenge the server holds. */
    char *verifier = strstr(request, "\"code_verifier\":\"");
    if (verifier != NULL) memset(verifier + strlen("\"code_verifier\":\""), 'x', 43);
    CHECK(bearer_authorize_complete(native_json, request, redirect, &json, &problem) ==
          BEARER_STATUS_REJECTED);
    CHECK(contains(problem, "Failed PKCE verification"));
    bearer_string_free(problem);
    bearer_string_free(request);

    /* The user declines: the redirect carries error=access_denied. */
    request = NULL;
    problem = NULL;
    CHECK(bearer_authorize_start(native_json, &request, NULL) == BEARER_STATUS_OK);
    CHECK(json_text(request, "url", url, sizeof url));
    strncat(url, "&deny=1", sizeof url - strlen(url) - 1);
    CHECK(http_get(url, redirect, sizeof redirect) == 302);
    CHECK(bearer_authorize_complete(native_json, request, redirect, &json, &problem) ==
          BEARER_STATUS_REJECTED);
    CHECK(contains(problem, "urn:bearer:problem:authorization-denied"));
    CHECK(contains(problem, "\"status\":403"));
    bearer_string_free(problem);
    bearer_string_free(request);
}

static void test_implicit(void) {
    char config[1024], *request = NULL, *json = NULL, redirect[2048];
    snprintf(config, sizeof config,
             "{\"client_id\":\"demo-client\",\"grant_type\":\"implicit\","
             "\"redirect_uri\":\"http://127.0.0.1:9/callback\","
             "\"authorize_url\":\"%s/authorize\"}",
             base_url);
    CHECK(bearer_authorize_start(config, &request, NULL) == BEARER_STATUS_OK);
    CHECK(sign_in(request, redirect, sizeof redirect));
    CHECK(contains(redirect, "#access_token="));
    CHECK(bearer_authorize_complete(config, request, redirect, &json, NULL) == BEARER_STATUS_OK);
    CHECK(contains(json, "\"expires_in\":"));
    bearer_string_free(json);
    bearer_string_free(request);
}

/* Replaces the redirect's iss (its last parameter) with an attacker's. */
static int forge_iss(char *redirect, size_t size) {
    char *iss = strstr(redirect, "&iss=");
    if (iss == NULL) return 0;
    *iss = '\0';
    strncat(redirect, "&iss=https%3A%2F%2Fattacker.example", size - strlen(redirect) - 1);
    return 1;
}

/* RFC 9207: a redirect must name the configured issuer, in both flows. */
static void test_issuer(void) {
    const char *flows[] = {"authorization_code", "implicit"};
    for (int i = 0; i < 2; i++) {
        char config[1024], *request = NULL, *json = NULL, *problem = NULL, redirect[2048];
        snprintf(config, sizeof config,
                 "{\"client_id\":\"demo-client\",\"client_secret\":\"" SECRET "\","
                 "\"grant_type\":\"%s\",\"redirect_uri\":\"http://127.0.0.1:9/callback\","
                 "\"issuer\":\"%s/\",\"authorize_url\":\"%s/authorize?send_iss=1\","
                 "\"token_url\":\"%s/oauth/token\"}",
                 flows[i], base_url, base_url, base_url);
        CHECK(bearer_authorize_start(config, &request, NULL) == BEARER_STATUS_OK);
        CHECK(sign_in(request, redirect, sizeof redirect));
        CHECK(contains(redirect, "&iss=http%3A%2F%2F127.0.0.1%3A"));
        CHECK(bearer_authorize_complete(config, request, redirect, &json, NULL) ==
              BEARER_STATUS_OK);
        CHECK(contains(json, "\"access_token\":\""));
        bearer_string_free(json);
        bearer_string_free(request);

        /* The same answer claimed by another server is refused before any exchange. */
        request = NULL;
        json = NULL;
        CHECK(bearer_authorize_start(config, &request, NULL) == BEARER_STATUS_OK);
        CHECK(sign_in(request, redirect, sizeof redirect));
        CHECK(forge_iss(redirect, sizeof redirect));
        CHECK(bearer_authorize_complete(config, request, redirect, &json, &problem) ==
              BEARER_STATUS_INVALID_ARGUMENT);
        CHECK(json == NULL && contains(problem, "urn:bearer:problem:invalid-callback"));
        CHECK(contains(problem, "\"reason\":\"issuer_mismatch\""));
        bearer_string_free(problem);
        bearer_string_free(request);
    }
}

static void *browser(void *url) {
    char redirect[2048];
    if (http_get(url, redirect, sizeof redirect) != 302) return url;
    return http_get(redirect, NULL, 0) == 200 ? NULL : url;
}

static void test_loopback_login(void) {
    char config[1024];
    /* No grant_type: the loopback login is an authorization code flow. */
    snprintf(config, sizeof config,
             "{\"client_id\":\"native-client\","
             "\"authorize_url\":\"%s/authorize\",\"token_url\":\"%s/oauth/token\"}",
             base_url, base_url);
    bearer_login *login = NULL;
    char *url = NULL, *json = NULL, *problem = NULL;
    CHECK(bearer_login_start(config, &login, &url, &problem) == BEARER_STATUS_OK);
    CHECK(contains(url, "redirect_uri=http%3A%2F%2F127.0.0.1%3A"));
    pthread_t thread;
    pthread_create(&thread, NULL, browser, url);
    CHECK(bearer_login_wait(login, 10000, &json, &problem) == BEARER_STATUS_OK);
    void *failure = NULL;
    pthread_join(thread, &failure);
    CHECK(failure == NULL);
    CHECK(contains(json, "\"access_token\":\""));
    bearer_string_free(json);
    bearer_string_free(url);
    bearer_login_free(login);

    /* Nobody comes back: the wait ends at its timeout. */
    login = NULL;
    url = NULL;
    CHECK(bearer_login_start(config, &login, &url, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_login_wait(login, 100, &json, &problem) == BEARER_STATUS_TIMEOUT);
    CHECK(contains(problem, "urn:bearer:problem:timeout"));
    bearer_string_free(problem);
    bearer_string_free(url);
    bearer_login_free(login);
    bearer_login_free(NULL);
}

static void test_refresh(void) {
    char config[1024], *request = NULL, *json = NULL, redirect[2048], refresh[512];
    snprintf(config, sizeof config,
             "{\"client_id\":\"native-client\",\"grant_type\":\"authorization_code\","
             "\"scope\":\"openid offline_access\",\"redirect_uri\":\"http://127.0.0.1:9/cb\","
             "\"authorize_url\":\"%s/authorize\",\"token_url\":\"%s/oauth/token\"}",
             base_url, base_url);
    CHECK(bearer_authorize_start(config, &request, NULL) == BEARER_STATUS_OK);
    CHECK(sign_in(request, redirect, sizeof redirect));
    CHECK(bearer_authorize_complete(config, request, redirect, &json, NULL) == BEARER_STATUS_OK);
    CHECK(json_text(json, "refresh_token", refresh, sizeof refresh));
    bearer_string_free(json);
    bearer_string_free(request);

    snprintf(config, sizeof config,
             "{\"client_id\":\"native-client\",\"grant_type\":\"refresh_token\","
             "\"refresh_token\":\"%s\",\"token_url\":\"%s/oauth/token\"}",
             refresh, base_url);
    bearer_client *client = NULL;
    char *token = NULL;
    CHECK(bearer_client_new(config, &client, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(client, &token, NULL) == BEARER_STATUS_OK);
    CHECK(count_char(token, '.') == 2);
    bearer_string_free(token);
    bearer_client_free(client);
}

/* After fork() the child uses none of the parent's connections: the
   parent's client still gives its cached token there, a new client fetches
   on a connection of the child's own, and the parent's kept-alive
   connection still serves the parent afterwards. */
static int fork_child(bearer_client *parents, const char *parents_token) {
    int ok = 1;
    char *token = NULL, *fresh = NULL;
    bearer_client *own = NULL;
    ok &= bearer_client_token(parents, &token, NULL) == BEARER_STATUS_OK;
    ok &= token != NULL && strcmp(token, parents_token) == 0;
    ok &= bearer_client_new(second_json, &own, NULL) == BEARER_STATUS_OK;
    ok &= bearer_client_token(own, &fresh, NULL) == BEARER_STATUS_OK;
    ok &= fresh != NULL && strcmp(fresh, parents_token) != 0;
    bearer_string_free(token);
    bearer_string_free(fresh);
    bearer_client_free(own);
    bearer_client_free(parents);
    bearer_global_cleanup();
    return ok ? 0 : 1;
}

static void test_fork(void) {
    bearer_client *client = NULL, *after = NULL;
    char *token = NULL, *again = NULL;
    CHECK(bearer_client_new(second_json, &client, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(client, &token, NULL) == BEARER_STATUS_OK);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) exit(fork_child(client, token));
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(bearer_client_new(second_json, &after, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(after, &again, NULL) == BEARER_STATUS_OK);
    CHECK(again != NULL && token != NULL && strcmp(again, token) != 0);
    bearer_string_free(token);
    bearer_string_free(again);
    bearer_client_free(after);
    bearer_client_free(client);
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

    snprintf(second_json, sizeof second_json,
             "{\"client_id\":\"m2m-second\",\"client_secret\":\"m2m-second-secret\","
             "\"audience\":\"https://beeapp.open-cosmos.com\",\"token_url\":\"%s/oauth/token\"}",
             argv[1]);
    base_url = argv[1];
    snprintf(native_json, sizeof native_json,
             "{\"client_id\":\"native-client\",\"grant_type\":\"authorization_code\","
             "\"audience\":\"https://beeapp.open-cosmos.com\","
             "\"redirect_uri\":\"http://127.0.0.1:9/callback\","
             "\"authorize_url\":\"%s/authorize\",\"token_url\":\"%s/oauth/token\"}",
             argv[1], argv[1]);

    test_version();
    test_one_shot_both_shapes();
    test_client_handle();
    test_threads_share_a_client();
    test_problems();
    test_authorization_code();
    test_wrong_verifier_and_declined_sign_in();
    test_implicit();
    test_issuer();
    test_loopback_login();
    test_refresh();
    test_serve_stale();
    test_fork();

    bearer_global_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
