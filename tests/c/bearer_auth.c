/*
 * Client authentication without a shared secret, and the device flow, from
 * C: private_key_jwt (RFC 7523), mutual TLS (RFC 8705) and the device
 * authorization grant (RFC 8628), each with its refusals. Run by
 * tests/c_program.rs under valgrind against a local server with HTTPS:
 * argv[1] its HTTP base URL, argv[2] its mutual-TLS base URL, argv[3] the
 * repository root (for tests/keys and tests/tls).
 *
 * Token requests at argv[1] (the Rust side checks them): 2 with RS256,
 * 1 with ES256, 1 with an unregistered key; at argv[2]: 1 mutual TLS and 1
 * with another client's certificate. The user's approval or refusal goes
 * to POST /_device with libcurl.
 */
#include "bearer.h"
#include "check.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_url, *mtls_url, *root;


static void jwt_config(char *out, size_t size, const char *key, const char *alg) {
    snprintf(out, size,
             "{\"client_id\":\"jwt-client\",\"client_auth\":\"private_key_jwt\","
             "\"private_key_file\":\"%s/tests/keys/%s\"%s%s%s,"
             "\"audience\":\"https://beeapp.open-cosmos.com\",\"token_url\":\"%s/oauth/token\"}",
             root, key, alg ? ",\"assertion_alg\":\"" : "", alg ? alg : "", alg ? "\"" : "",
             base_url);
}

static void test_private_key_jwt(void) {
    char config[2048];
    bearer_client *client = NULL;
    char *token = NULL, *problem = NULL;
    bool dropped = false;

    jwt_config(config, sizeof config, "rsa.key", NULL);
    CHECK(bearer_client_new(config, &client, NULL) == BEARER_STATUS_OK);
    CHECK(bearer_client_token(client, &token, NULL) == BEARER_STATUS_OK);
    /* A second request signs a fresh assertion (a replayed jti is refused). */
    CHECK(bearer_client_token_refused(client, token, &dropped, NULL) == BEARER_STATUS_OK);
    bearer_string_free(token);
    token = NULL;
    CHECK(dropped && bearer_client_token(client, &token, NULL) == BEARER_STATUS_OK);
    bearer_string_free(token);
    bearer_client_free(client);

    jwt_config(config, sizeof config, "ec.key", "ES256");
    CHECK(bearer_fetch_token(config, &token, NULL) == BEARER_STATUS_OK);
    bearer_string_free(token);

    /* A key the server does not know: its 401, without the key. */
    jwt_config(config, sizeof config, "other.key", NULL);
    CHECK(bearer_fetch_token(config, &token, &problem) == BEARER_STATUS_REJECTED);
    CHECK(contains(problem, "urn:bearer:problem:unauthorized"));
    CHECK(!contains(problem, "PRIVATE KEY"));
    bearer_string_free(problem);
    problem = NULL;

    /* Keys that cannot be used are configuration problems naming the key. */
    jwt_config(config, sizeof config, "encrypted.key", NULL);
    CHECK(bearer_client_new(config, &client, &problem) == BEARER_STATUS_INVALID_CONFIG);
    CHECK(contains(problem, "\"key\":\"private_key_file\"") && contains(problem, "encrypted"));
    bearer_string_free(problem);
    problem = NULL;
    jwt_config(config, sizeof config, "rsa.key", "ES256");
    CHECK(bearer_client_new(config, &client, &problem) == BEARER_STATUS_INVALID_CONFIG);
    CHECK(contains(problem, "\"key\":\"assertion_alg\""));
    bearer_string_free(problem);
}

static void mtls_config(char *out, size_t size, const char *client_id, const char *auth,
                        const char *cert) {
    snprintf(out, size,
             "{\"client_id\":\"%s\",\"client_auth\":\"%s\","
             "\"client_cert_file\":\"%s/tests/tls/%s.pem\",\"client_key_file\":\"%s/tests/tls/%s.key\","
             "\"ca_file\":\"%s/tests/tls/ca.pem\","
             "\"audience\":\"https://beeapp.open-cosmos.com\",\"token_url\":\"%s/oauth/token\"}",
             client_id, auth, root, cert, root, cert, root, mtls_url);
}

static void test_mutual_tls(void) {
    char config[2048];
    char *token = NULL, *problem = NULL;
    mtls_config(config, sizeof config, "mtls-client", "tls_client_auth", "client");
    CHECK(bearer_fetch_token(config, &token, NULL) == BEARER_STATUS_OK);
    bearer_string_free(token);
    /* Another client's certificate: the handshake works, the client does not. */
    mtls_config(config, sizeof config, "mtls-client", "tls_client_auth", "self-signed");
    CHECK(bearer_fetch_token(config, &token, &problem) == BEARER_STATUS_REJECTED);
    CHECK(contains(problem, "urn:bearer:problem:unauthorized"));
    bearer_string_free(problem);
    problem = NULL;
    /* A certificate without its key. */
    snprintf(config, sizeof config,
             "{\"client_id\":\"mtls-client\",\"client_auth\":\"tls_client_auth\","
             "\"client_cert_file\":\"%s/tests/tls/client.pem\",\"token_url\":\"%s/oauth/token\"}",
             root, mtls_url);
    CHECK(bearer_fetch_token(config, &token, &problem) == BEARER_STATUS_INVALID_CONFIG);
    CHECK(contains(problem, "\"key\":\"client_key_file\""));
    bearer_string_free(problem);
}

/* The user at the verification URI: POST /_device?user_code=...&action=... */
static void user_acts(const char *user_code, const char *action) {
    char url[512];
    snprintf(url, sizeof url, "%s/_device?user_code=%s&action=%s", base_url, user_code, action);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
    CHECK(curl_easy_perform(curl) == CURLE_OK);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    CHECK(status == 200);
    fclose(sink);
    curl_easy_cleanup(curl);
}

/* The user code from the start's JSON: "user_code":"ABCD-EFGH". */
static void user_code_of(const char *json, char *out, size_t size) {
    const char *at = strstr(json, "\"user_code\":\"");
    out[0] = '\0';
    if (at != NULL) snprintf(out, size, "%.9s", at + strlen("\"user_code\":\""));
}

static bearer_device *start_device(const char *query, char *user_code, size_t size) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"client_id\":\"native-client\",\"grant_type\":\"device_code\","
             "\"device_authorization_url\":\"%s/oauth/device/code?%s\","
             "\"token_url\":\"%s/oauth/token\",\"audience\":\"https://beeapp.open-cosmos.com\","
             "\"scope\":\"openid offline_access\"}",
             base_url, query, base_url);
    bearer_device *device = NULL;
    char *json = NULL;
    CHECK(bearer_device_start(config, &device, &json, NULL) == BEARER_STATUS_OK);
    CHECK(contains(json, "\"verification_uri\":") && !contains(json, "device_code"));
    user_code_of(json ? json : "", user_code, size);
    bearer_string_free(json);
    return device;
}

static void *cancel_soon(void *device) {
    bearer_device_cancel(device);
    return NULL;
}

static void test_device_flow(void) {
    char user_code[16];
    char *token_json = NULL, *problem = NULL;

    /* Approved before the first poll: the poll gets the tokens. */
    bearer_device *device = start_device("interval=0", user_code, sizeof user_code);
    user_acts(user_code, "approve");
    CHECK(bearer_device_poll(device, &token_json, NULL) == BEARER_STATUS_OK);
    CHECK(contains(token_json, "\"access_token\":") && contains(token_json, "\"refresh_token\":"));
    bearer_string_free(token_json);
    bearer_device_free(device);

    /* Declined. */
    device = start_device("interval=0", user_code, sizeof user_code);
    user_acts(user_code, "deny");
    CHECK(bearer_device_poll(device, &token_json, &problem) == BEARER_STATUS_REJECTED);
    CHECK(contains(problem, "urn:bearer:problem:authorization-denied"));
    bearer_string_free(problem);
    problem = NULL;
    bearer_device_free(device);

    /* Nobody approves within its second. */
    device = start_device("interval=0&expires_in=1", user_code, sizeof user_code);
    CHECK(bearer_device_poll(device, &token_json, &problem) == BEARER_STATUS_REJECTED);
    CHECK(contains(problem, "urn:bearer:problem:device-code-expired"));
    bearer_string_free(problem);
    problem = NULL;
    bearer_device_free(device);

    /* Cancelled from another thread while it waits out a 5 s interval. */
    device = start_device("interval=5", user_code, sizeof user_code);
    pthread_t canceller;
    pthread_create(&canceller, NULL, cancel_soon, device);
    CHECK(bearer_device_poll(device, &token_json, &problem) == BEARER_STATUS_CANCELLED);
    CHECK(contains(problem, "urn:bearer:problem:cancelled"));
    pthread_join(canceller, NULL);
    bearer_string_free(problem);
    bearer_device_free(device);
    bearer_device_cancel(NULL);
    bearer_device_free(NULL);
    CHECK(bearer_device_poll(NULL, &token_json, NULL) == BEARER_STATUS_INVALID_ARGUMENT);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s BASE_URL MTLS_BASE_URL REPOSITORY\n", argv[0]);
        return 2;
    }
    base_url = argv[1];
    mtls_url = argv[2];
    root = argv[3];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_private_key_jwt();
    test_mutual_tls();
    test_device_flow();
    bearer_global_cleanup();
    curl_global_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
