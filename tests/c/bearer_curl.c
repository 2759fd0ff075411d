/*
 * bearer with libcurl, as the README shows it: the Authorization header on
 * every request, and on a 401 that refuses the token, compare-and-invalidate
 * (bearer_client_token_refused) and one retry with the new token. Run by
 * tests/c_program.rs under valgrind, with two local servers (two origins):
 * argv[1] the API and its token endpoint, argv[2] another origin, argv[3]
 * an empty folder for the host tier.
 *
 * Token requests at argv[1] (the Rust side checks them): 2 for the C ABI's
 * refusal, 2 for the one-shot's, 2 for two clients sharing the host tier,
 * 2 for an API that revoked the token, 2 for an API that refuses every
 * token; none for a 403, none for a redirect.
 */
#define _GNU_SOURCE /* strcasestr */
#include "bearer.h"
#include "check.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>



/* ---- the README's example starts here ---- */

struct answer {
    long status;
    bool challenged;    /* a WWW-Authenticate came */
    bool token_refused; /* its Bearer challenge is invalid_token, or has no error */
    char body[4096];
    size_t length;
};

static size_t on_header(char *line, size_t size, size_t count, void *data) {
    struct answer *answer = data;
    size_t length = size * count;
    const char *name = "WWW-Authenticate:";
    if (length > strlen(name) && strncasecmp(line, name, strlen(name)) == 0) {
        /* Only a Bearer challenge is about the token, and not when it names
           another error (invalid_request, ...). */
        char value[512];
        snprintf(value, sizeof value, "%.*s", (int)length, line);
        answer->challenged = true;
        answer->token_refused = strcasestr(value, "bearer") != NULL &&
                                (strstr(value, "error=") == NULL ||
                                 strstr(value, "error=\"invalid_token\"") != NULL);
    }
    return length;
}

static size_t on_body(char *chunk, size_t size, size_t count, void *data) {
    struct answer *answer = data;
    size_t length = size * count;
    size_t room = sizeof answer->body - 1 - answer->length;
    size_t kept = length < room ? length : room;
    memcpy(answer->body + answer->length, chunk, kept);
    answer->length += kept;
    answer->body[answer->length] = '\0';
    return length;
}

/* One request with the client's token; when the API refuses it, tells
   bearer and tries once more if that brought a new token. Returns the HTTP
   status, or -1 when no token could be had (then nothing is sent). */
static long api_request(CURL *curl, const bearer_client *client, const char *url,
                        const char *post_body, struct answer *answer) {
    char *header = NULL, *problem = NULL;
    for (int attempt = 0;; attempt++) {
        if (bearer_client_authorization_header(client, &header, &problem) !=
            BEARER_STATUS_OK) {
            fprintf(stderr, "no token: %s\n", problem); /* never has the secret */
            bearer_string_free(problem);
            return -1;
        }
        char line[8192];
        snprintf(line, sizeof line, "Authorization: %s", header);
        struct curl_slist *headers = curl_slist_append(NULL, line);
        memset(answer, 0, sizeof *answer);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, answer);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
        if (post_body != NULL) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body); /* replayable */
        } else {
            curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        }
        CURLcode sent = curl_easy_perform(curl);
        curl_slist_free_all(headers);
        memset(line, 0, sizeof line);
        if (sent != CURLE_OK) {
            bearer_string_free(header);
            return -1;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer->status);
        bool refusal = answer->status == 401 && (answer->token_refused || !answer->challenged);
        if (!refusal || attempt > 0) {
            bearer_string_free(header);
            return answer->status;
        }
        /* The token is what follows the scheme. */
        const char *refused = strchr(header, ' ') + 1;
        bool dropped = false;
        if (bearer_client_token_refused(client, refused, &dropped, &problem) !=
            BEARER_STATUS_OK) {
            bearer_string_free(problem);
        }
        char *next = NULL;
        bool new_token =
            bearer_client_authorization_header(client, &next, NULL) == BEARER_STATUS_OK &&
            strcmp(next, header) != 0;
        bearer_string_free(next);
        bearer_string_free(header);
        header = NULL;
        if (!new_token) {
            return answer->status; /* refused again within 2 s: no retry */
        }
    }
}

/* ---- the README's example ends here ---- */

static char auth0_json[1024];

static bearer_client *new_client(const char *config) {
    bearer_client *client = NULL;
    CHECK(bearer_client_new(config, &client, NULL) == BEARER_STATUS_OK);
    return client;
}

static int occurrences(const char *text, const char *part) {
    int n = 0;
    for (const char *at = text; (at = strstr(at, part)) != NULL; at += strlen(part)) n++;
    return n;
}

/* The C ABI: compare-and-invalidate, late refusals, bad arguments. */
static void test_token_refused(void) {
    bearer_client *client = new_client(auth0_json);
    char *first = NULL, *second = NULL, *problem = NULL;
    bool dropped = false;
    CHECK(bearer_client_token(client, &first, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token_refused(client, first, &dropped, NULL) == BEARER_STATUS_OK);
    CHECK(dropped);
    CHECK(bearer_client_token_refused(client, first, &dropped, NULL) == BEARER_STATUS_OK);
    CHECK(!dropped); /* already replaced */
    CHECK(bearer_client_token(client, &second, NULL) == BEARER_STATUS_OK);
    CHECK(first && second && strcmp(first, second) != 0);
    /* dropped_out may be NULL; refusing the new token within 2 s keeps it. */
    CHECK(bearer_client_token_refused(client, second, NULL, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token_refused(client, second, &dropped, NULL) == BEARER_STATUS_OK);
    CHECK(!dropped);
    CHECK(bearer_client_token_refused(client, NULL, &dropped, &problem) ==
          BEARER_STATUS_INVALID_ARGUMENT);
    CHECK(contains(problem, "token"));
    bearer_string_free(problem);
    problem = NULL;
    CHECK(bearer_client_token_refused(NULL, second, &dropped, &problem) ==
          BEARER_STATUS_INVALID_ARGUMENT);
    bearer_string_free(problem);
    bearer_string_free(first);
    bearer_string_free(second);
    bearer_client_free(client);

    /* The one-shot calls' cache. */
    char *one = NULL, *two = NULL;
    CHECK(bearer_fetch_token(auth0_json, &one, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_token_refused(auth0_json, one, &dropped, NULL) == BEARER_STATUS_OK);
    CHECK(dropped);
    CHECK(bearer_fetch_token(auth0_json, &two, NULL) == BEARER_STATUS_OK);
    CHECK(one && two && strcmp(one, two) != 0);
    CHECK(bearer_token_refused(auth0_json, one, &dropped, NULL) == BEARER_STATUS_OK);
    CHECK(!dropped);
    problem = NULL;
    CHECK(bearer_token_refused("{", two, &dropped, &problem) == BEARER_STATUS_INVALID_CONFIG);
    bearer_string_free(problem);
    bearer_string_free(one);
    bearer_string_free(two);
}

/* Two clients on one host tier, as two processes: one refusal, one new token. */
static void test_shared_tier(const char *base_url, const char *folder) {
    char config[1536];
    snprintf(config, sizeof config,
             "{\"client_id\":\"demo-client\",\"client_secret\":\"demo-secret\","
             "\"audience\":\"https://beeapp.open-cosmos.com\",\"token_url\":\"%s/oauth/token\","
             "\"cache\":\"file:%s\"}",
             base_url, folder);
    bearer_client *a = new_client(config), *b = new_client(config);
    char *first_a = NULL, *first_b = NULL, *next_a = NULL, *next_b = NULL;
    bool dropped = false;
    CHECK(bearer_client_token(a, &first_a, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(b, &first_b, NULL) == BEARER_STATUS_OK);
    CHECK(first_a && first_b && strcmp(first_a, first_b) == 0);
    CHECK(bearer_client_token_refused(a, first_a, &dropped, NULL) == BEARER_STATUS_OK);
    CHECK(dropped);
    CHECK(bearer_client_token_refused(b, first_b, &dropped, NULL) == BEARER_STATUS_OK);
    CHECK(!dropped); /* the other process dropped it */
    CHECK(bearer_client_token(b, &next_b, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(a, &next_a, NULL) == BEARER_STATUS_OK);
    CHECK(next_a && next_b && strcmp(next_a, next_b) == 0 && strcmp(next_a, first_a) != 0);
    bearer_string_free(first_a);
    bearer_string_free(first_b);
    bearer_string_free(next_a);
    bearer_string_free(next_b);
    bearer_client_free(a);
    bearer_client_free(b);
}

static void revoke(CURL *curl, const char *base_url) {
    char url[512];
    struct answer answer;
    memset(&answer, 0, sizeof answer);
    snprintf(url, sizeof url, "%s/_revoke", base_url);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    CHECK(curl_easy_perform(curl) == CURLE_OK);
}

static void test_curl(const char *base_url, const char *other_origin) {
    CURL *curl = curl_easy_init();
    struct answer answer;
    char url[512];
    bearer_client *client = new_client(auth0_json);

    snprintf(url, sizeof url, "%s/api/whoami", base_url);
    CHECK(api_request(curl, client, url, NULL, &answer) == 200);
    CHECK(contains(answer.body, "\"sub\":\"demo-client@clients\""));

    /* The token is revoked: one refusal, one new token, and the POST body
       goes again with the retry. */
    revoke(curl, base_url);
    CHECK(api_request(curl, client, url, "hello=api", &answer) == 200);
    CHECK(contains(answer.body, "\"body\":\"hello=api\""));
    CHECK(occurrences(answer.body, "\"authorization\"") == 2); /* a member, one header */

    /* 403 insufficient_scope is not about the token. */
    snprintf(url, sizeof url, "%s/api/admin", base_url);
    CHECK(api_request(curl, client, url, NULL, &answer) == 403);
    CHECK(!answer.token_refused || answer.status != 401);

    /* A redirect to another origin: curl sends it no custom Authorization. */
    snprintf(url, sizeof url, "%s/api/redirect?to=%s%%2Fapi%%2Fopen", base_url, other_origin);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    CHECK(api_request(curl, client, url, NULL, &answer) == 200);
    CHECK(contains(answer.body, "\"authorization\":false"));
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    bearer_client_free(client);

    /* An API that refuses every token: two attempts, then its 401. */
    client = new_client(auth0_json);
    snprintf(url, sizeof url, "%s/api/refuse", base_url);
    CHECK(api_request(curl, client, url, NULL, &answer) == 401);
    CHECK(answer.token_refused);
    bearer_client_free(client);
    curl_easy_cleanup(curl);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s BASE_URL OTHER_ORIGIN_URL CACHE_FOLDER\n", argv[0]);
        return 2;
    }
    snprintf(auth0_json, sizeof auth0_json,
             "{\"client_id\":\"demo-client\",\"client_secret\":\"demo-secret\","
             "\"audience\":\"https://beeapp.open-cosmos.com\",\"token_url\":\"%s/oauth/token\"}",
             argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_token_refused();
    test_shared_tier(argv[1], argv[3]);
    test_curl(argv[1], argv[2]);
    bearer_global_cleanup();
    curl_global_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
