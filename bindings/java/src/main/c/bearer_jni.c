/*
 * JNI shim between com.bearer.Native and libbearer.
 *
 * Why a C shim and not JNI inside the Rust library: the core stays free of
 * JNI, and every pointer below is declared with __typeof__ of the function in
 * include/bearer.h, so a change in the header breaks this file at compile
 * time. libbearer is not linked here: Java finds it (BEARER_LIBRARY, the copy
 * in the jar, the cargo target folder) and passes its path to open(), which
 * dlopen()s it.
 *
 * Handles (bearer_client *, bearer_login *, bearer_device *) cross as jlong; Java keeps them
 * in an object that frees them once, under a lock that no call holds.
 *
 * Strings cross as byte[] holding UTF-8 (Java decodes them), never through
 * NewStringUTF, whose "modified UTF-8" differs from real UTF-8. Every string
 * the library returns is copied, then freed with bearer_string_free. A failed
 * call throws the BearerException that BearerException.fromNative builds from
 * the status and the problem JSON.
 */
#include <jni.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bearer.h"

static __typeof__(bearer_version) *p_version;
static __typeof__(bearer_string_free) *p_string_free;
static __typeof__(bearer_global_cleanup) *p_global_cleanup;
static __typeof__(bearer_test_panic) *p_test_panic;
static __typeof__(bearer_client_new) *p_client_new;
static __typeof__(bearer_client_token) *p_client_token;
static __typeof__(bearer_client_token_response) *p_client_token_response;
static __typeof__(bearer_client_authorization_header) *p_client_authorization_header;
static __typeof__(bearer_client_take_refresh_problem) *p_client_take_refresh_problem;
static __typeof__(bearer_client_token_refused) *p_client_token_refused;
static __typeof__(bearer_client_free) *p_client_free;
static __typeof__(bearer_authorize_start) *p_authorize_start;
static __typeof__(bearer_authorize_complete) *p_authorize_complete;
static __typeof__(bearer_login_start) *p_login_start;
static __typeof__(bearer_login_wait) *p_login_wait;
static __typeof__(bearer_login_free) *p_login_free;
static __typeof__(bearer_device_start) *p_device_start;
static __typeof__(bearer_device_poll) *p_device_poll;
static __typeof__(bearer_device_cancel) *p_device_cancel;
static __typeof__(bearer_device_free) *p_device_free;
static __typeof__(bearer_fetch_token) *p_fetch_token;
static __typeof__(bearer_fetch_token_response) *p_fetch_token_response;
static __typeof__(bearer_token_refused) *p_token_refused;

static void *library;
static jclass exception_class;
static jmethodID from_native;

/* One row per function of bearer.h: name and where its pointer goes. */
#define SYMBOL(name) { "bearer_" #name, (void **)&p_##name }
static const struct { const char *name; void **slot; } symbols[] = {
    SYMBOL(version),
    SYMBOL(string_free),
    SYMBOL(global_cleanup),
    SYMBOL(test_panic),
    SYMBOL(client_new),
    SYMBOL(client_token),
    SYMBOL(client_token_response),
    SYMBOL(client_authorization_header),
    SYMBOL(client_take_refresh_problem),
    SYMBOL(client_token_refused),
    SYMBOL(client_free),
    SYMBOL(authorize_start),
    SYMBOL(authorize_complete),
    SYMBOL(login_start),
    SYMBOL(login_wait),
    SYMBOL(login_free),
    SYMBOL(device_start),
    SYMBOL(device_poll),
    SYMBOL(device_cancel),
    SYMBOL(device_free),
    SYMBOL(fetch_token),
    SYMBOL(fetch_token_response),
    SYMBOL(token_refused),
};
#define SYMBOL_COUNT (sizeof symbols / sizeof symbols[0])

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void)reserved;
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
    jclass local = (*env)->FindClass(env, "com/bearer/BearerException");
    if (local == NULL) return JNI_ERR;
    exception_class = (jclass)(*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    if (exception_class == NULL) return JNI_ERR;
    from_native = (*env)->GetStaticMethodID(env, exception_class, "fromNative",
                                            "(I[B)Lcom/bearer/BearerException;");
    return from_native == NULL ? JNI_ERR : JNI_VERSION_1_8;
}

/* A Java byte[] holding UTF-8 (without NUL), or NULL with an exception pending. */
static jbyteArray to_bytes(JNIEnv *env, const char *text) {
    size_t length = strlen(text);
    if (length > INT32_MAX) {
        (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/OutOfMemoryError"),
                         "bearer returned a string too long for a Java array");
        return NULL;
    }
    jbyteArray bytes = (*env)->NewByteArray(env, (jsize)length);
    if (bytes != NULL) {
        (*env)->SetByteArrayRegion(env, bytes, 0, (jsize)length, (const jbyte *)text);
    }
    return bytes;
}

/*
 * A NUL-terminated malloc'd copy of a Java byte[]; NULL for a null array
 * (the library reports that as invalid-argument). *failed is set when
 * memory ran out, with an exception pending.
 */
static char *from_bytes(JNIEnv *env, jbyteArray bytes, int *failed) {
    *failed = 0;
    if (bytes == NULL) return NULL;
    jsize length = (*env)->GetArrayLength(env, bytes);
    char *text = malloc((size_t)length + 1);
    if (text == NULL) {
        *failed = 1;
        (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/OutOfMemoryError"),
                         "no memory for the bearer configuration");
        return NULL;
    }
    (*env)->GetByteArrayRegion(env, bytes, 0, length, (jbyte *)text);
    text[length] = '\0';
    return text;
}

static int not_open(JNIEnv *env) {
    if (library != NULL) return 0;
    (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/IllegalStateException"),
                     "libbearer is not loaded");
    return 1;
}

/* The BearerException for status and problem, which it frees; NULL with an exception pending. */
static jobject new_problem(JNIEnv *env, bearer_status status, char *problem) {
    jbyteArray bytes = problem != NULL ? to_bytes(env, problem) : NULL;
    p_string_free(problem);
    if ((*env)->ExceptionCheck(env)) return NULL;
    jobject exception = (*env)->CallStaticObjectMethod(env, exception_class, from_native,
                                                       (jint)status, bytes);
    return (*env)->ExceptionCheck(env) ? NULL : exception;
}

/* Throws the BearerException for a failed call and frees the problem. */
static void throw_problem(JNIEnv *env, bearer_status status, char *problem) {
    jobject exception = new_problem(env, status, problem);
    if (exception != NULL) (*env)->Throw(env, (jthrowable)exception);
}

/* The value of a finished call as byte[], or NULL with an exception thrown. */
static jbyteArray finish(JNIEnv *env, bearer_status status, char *out, char *problem) {
    if (status != BEARER_STATUS_OK) {
        p_string_free(out);
        throw_problem(env, status, problem);
        return NULL;
    }
    p_string_free(problem);
    if (out == NULL) {
        (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/IllegalStateException"),
                         "bearer reported success without a value");
        return NULL;
    }
    jbyteArray bytes = to_bytes(env, out);
    p_string_free(out);
    return bytes;
}

/* Loads libbearer from path; NULL on success, else the reason as UTF-8 bytes. */
JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_open(JNIEnv *env, jclass cls, jbyteArray path) {
    (void)cls;
    if (library != NULL) return NULL;
    int failed;
    char *file = from_bytes(env, path, &failed);
    if (failed) return NULL;
    if (file == NULL) return to_bytes(env, "no path given");
    void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        free(file);
        return to_bytes(env, reason != NULL ? reason : "dlopen failed");
    }
    for (size_t i = 0; i < SYMBOL_COUNT; i++) {
        void *address = dlsym(handle, symbols[i].name);
        if (address == NULL) {
            char reason[512];
            snprintf(reason, sizeof reason, "%s: undefined symbol %s (library older than bindings?)",
                     file, symbols[i].name);
            for (size_t j = 0; j < SYMBOL_COUNT; j++) *symbols[j].slot = NULL;
            dlclose(handle);
            free(file);
            return to_bytes(env, reason);
        }
        *symbols[i].slot = address;
    }
    free(file);
    library = handle;
    return NULL;
}

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_version(JNIEnv *env, jclass cls) {
    (void)cls;
    if (not_open(env)) return NULL;
    return to_bytes(env, p_version()); /* static: never freed */
}

JNIEXPORT void JNICALL Java_com_bearer_Native_globalCleanup(JNIEnv *env, jclass cls) {
    (void)cls;
    if (not_open(env)) return;
    p_global_cleanup();
}

JNIEXPORT void JNICALL Java_com_bearer_Native_testPanic(JNIEnv *env, jclass cls) {
    (void)cls;
    if (not_open(env)) return;
    char *problem = NULL;
    bearer_status status = p_test_panic(&problem);
    if (status != BEARER_STATUS_OK) throw_problem(env, status, problem);
    else p_string_free(problem);
}

typedef bearer_status (*config_call)(const char *, char **, char **);

static jbyteArray call_with_config(JNIEnv *env, config_call call, jbyteArray config) {
    if (not_open(env)) return NULL;
    int failed;
    char *text = from_bytes(env, config, &failed);
    if (failed) return NULL;
    char *out = NULL, *problem = NULL;
    bearer_status status = call(text, &out, &problem);
    free(text);
    return finish(env, status, out, problem);
}

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_fetchToken(JNIEnv *env, jclass cls, jbyteArray config) {
    (void)cls;
    return call_with_config(env, p_fetch_token, config);
}

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_fetchTokenResponse(JNIEnv *env, jclass cls, jbyteArray config) {
    (void)cls;
    return call_with_config(env, p_fetch_token_response, config);
}

JNIEXPORT jlong JNICALL Java_com_bearer_Native_clientNew(JNIEnv *env, jclass cls, jbyteArray config) {
    (void)cls;
    if (not_open(env)) return 0;
    int failed;
    char *text = from_bytes(env, config, &failed);
    if (failed) return 0;
    bearer_client *client = NULL;
    char *problem = NULL;
    bearer_status status = p_client_new(text, &client, &problem);
    free(text);
    if (status != BEARER_STATUS_OK) {
        throw_problem(env, status, problem);
        return 0;
    }
    p_string_free(problem);
    return (jlong)(intptr_t)client;
}

typedef bearer_status (*client_call)(const bearer_client *, char **, char **);

static jbyteArray call_with_client(JNIEnv *env, client_call call, jlong client) {
    if (not_open(env)) return NULL;
    char *out = NULL, *problem = NULL;
    bearer_status status = call((const bearer_client *)(intptr_t)client, &out, &problem);
    return finish(env, status, out, problem);
}

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_clientToken(JNIEnv *env, jclass cls, jlong client) {
    (void)cls;
    return call_with_client(env, p_client_token, client);
}

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_clientTokenResponse(JNIEnv *env, jclass cls, jlong client) {
    (void)cls;
    return call_with_client(env, p_client_token_response, client);
}

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_clientAuthorizationHeader(JNIEnv *env, jclass cls, jlong client) {
    (void)cls;
    return call_with_client(env, p_client_authorization_header, client);
}

/*
 * The BearerException of a refresh that failed while the cached token was
 * served, returned (not thrown) with the status that refresh would have
 * returned; NULL when none.
 */
JNIEXPORT jobject JNICALL Java_com_bearer_Native_clientTakeRefreshProblem(JNIEnv *env, jclass cls, jlong client) {
    (void)cls;
    if (not_open(env)) return NULL;
    bearer_status refresh_status = BEARER_STATUS_OK;
    char *out = NULL, *problem = NULL;
    bearer_status status = p_client_take_refresh_problem((const bearer_client *)(intptr_t)client,
                                                         &refresh_status, &out, &problem);
    if (status != BEARER_STATUS_OK) {
        p_string_free(out);
        throw_problem(env, status, problem);
        return NULL;
    }
    p_string_free(problem);
    if (out == NULL) return NULL; /* nothing to report: not an error, unlike finish() */
    return new_problem(env, refresh_status, out);
}

/*
 * Compare-and-invalidate: whether the library dropped `token` (still the
 * cached one, outside the 2-second window). A null token is passed on as NULL,
 * which the library reports as its invalid-argument problem.
 */
JNIEXPORT jboolean JNICALL Java_com_bearer_Native_clientTokenRefused(JNIEnv *env, jclass cls, jlong client,
                                                                     jbyteArray token) {
    (void)cls;
    if (not_open(env)) return JNI_FALSE;
    int failed;
    char *text = from_bytes(env, token, &failed);
    if (failed) return JNI_FALSE;
    bool dropped = false;
    char *problem = NULL;
    bearer_status status = p_client_token_refused((const bearer_client *)(intptr_t)client, text, &dropped, &problem);
    free(text);
    if (status != BEARER_STATUS_OK) {
        throw_problem(env, status, problem);
        return JNI_FALSE;
    }
    p_string_free(problem);
    return dropped ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT void JNICALL Java_com_bearer_Native_clientFree(JNIEnv *env, jclass cls, jlong client) {
    (void)cls;
    if (not_open(env)) return;
    p_client_free((bearer_client *)(intptr_t)client);
}

/* The user flows. */

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_authorizeStart(JNIEnv *env, jclass cls, jbyteArray config) {
    (void)cls;
    return call_with_config(env, p_authorize_start, config);
}

JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_authorizeComplete(JNIEnv *env, jclass cls, jbyteArray config,
                                                                      jbyteArray request, jbyteArray redirect_url) {
    (void)cls;
    if (not_open(env)) return NULL;
    int failed;
    char *config_text = from_bytes(env, config, &failed);
    if (failed) return NULL;
    char *request_text = from_bytes(env, request, &failed);
    if (failed) {
        free(config_text);
        return NULL;
    }
    char *redirect_text = from_bytes(env, redirect_url, &failed);
    if (failed) {
        free(config_text);
        free(request_text);
        return NULL;
    }
    char *out = NULL, *problem = NULL;
    bearer_status status = p_authorize_complete(config_text, request_text, redirect_text, &out, &problem);
    free(config_text);
    free(request_text);
    free(redirect_text);
    return finish(env, status, out, problem);
}

/*
 * Two results: the handle is returned, the URL stored in url_out[0] (a
 * byte[][] of length 1). On failure nothing is kept: the handle, if any, is
 * freed before throwing.
 */
JNIEXPORT jlong JNICALL Java_com_bearer_Native_loginStart(JNIEnv *env, jclass cls, jbyteArray config,
                                                          jobjectArray url_out) {
    (void)cls;
    if (not_open(env)) return 0;
    if (url_out == NULL || (*env)->GetArrayLength(env, url_out) < 1) {
        (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/IllegalArgumentException"),
                         "loginStart needs a byte[1][] for the URL");
        return 0;
    }
    int failed;
    char *text = from_bytes(env, config, &failed);
    if (failed) return 0;
    bearer_login *login = NULL;
    char *url = NULL, *problem = NULL;
    bearer_status status = p_login_start(text, &login, &url, &problem);
    free(text);
    if (status != BEARER_STATUS_OK) {
        p_string_free(url);
        p_login_free(login);
        throw_problem(env, status, problem);
        return 0;
    }
    p_string_free(problem);
    if (url == NULL || login == NULL) {
        p_string_free(url);
        p_login_free(login);
        (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/IllegalStateException"),
                         "bearer reported success without a login or URL");
        return 0;
    }
    jbyteArray bytes = to_bytes(env, url);
    p_string_free(url);
    if (bytes != NULL) (*env)->SetObjectArrayElement(env, url_out, 0, bytes);
    if ((*env)->ExceptionCheck(env)) {
        p_login_free(login);
        return 0;
    }
    return (jlong)(intptr_t)login;
}

/* Blocks only the calling thread (a JNI call holds no global lock). */
JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_loginWait(JNIEnv *env, jclass cls, jlong login, jint timeout_ms) {
    (void)cls;
    if (not_open(env)) return NULL;
    char *out = NULL, *problem = NULL;
    unsigned int timeout = timeout_ms < 0 ? 0u : (unsigned int)timeout_ms;
    bearer_status status = p_login_wait((const bearer_login *)(intptr_t)login, timeout, &out, &problem);
    return finish(env, status, out, problem);
}

JNIEXPORT void JNICALL Java_com_bearer_Native_loginFree(JNIEnv *env, jclass cls, jlong login) {
    (void)cls;
    if (not_open(env)) return;
    p_login_free((bearer_login *)(intptr_t)login);
}

/*
 * The device authorization grant. As for loginStart: the handle is returned,
 * the JSON of the code to show the user stored in json_out[0] (a byte[][] of
 * length 1); on failure nothing is kept.
 */
JNIEXPORT jlong JNICALL Java_com_bearer_Native_deviceStart(JNIEnv *env, jclass cls, jbyteArray config,
                                                           jobjectArray json_out) {
    (void)cls;
    if (not_open(env)) return 0;
    if (json_out == NULL || (*env)->GetArrayLength(env, json_out) < 1) {
        (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/IllegalArgumentException"),
                         "deviceStart needs a byte[1][] for the JSON");
        return 0;
    }
    int failed;
    char *text = from_bytes(env, config, &failed);
    if (failed) return 0;
    bearer_device *device = NULL;
    char *json = NULL, *problem = NULL;
    bearer_status status = p_device_start(text, &device, &json, &problem);
    free(text);
    if (status != BEARER_STATUS_OK) {
        p_string_free(json);
        p_device_free(device);
        throw_problem(env, status, problem);
        return 0;
    }
    p_string_free(problem);
    if (json == NULL || device == NULL) {
        p_string_free(json);
        p_device_free(device);
        (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/IllegalStateException"),
                         "bearer reported success without a device handle or JSON");
        return 0;
    }
    jbyteArray bytes = to_bytes(env, json);
    p_string_free(json);
    if (bytes != NULL) (*env)->SetObjectArrayElement(env, json_out, 0, bytes);
    if ((*env)->ExceptionCheck(env)) {
        p_device_free(device);
        return 0;
    }
    return (jlong)(intptr_t)device;
}

/* Blocks only the calling thread until the user answers, the code expires or deviceCancel runs. */
JNIEXPORT jbyteArray JNICALL Java_com_bearer_Native_devicePoll(JNIEnv *env, jclass cls, jlong device) {
    (void)cls;
    if (not_open(env)) return NULL;
    char *out = NULL, *problem = NULL;
    bearer_status status = p_device_poll((const bearer_device *)(intptr_t)device, &out, &problem);
    return finish(env, status, out, problem);
}

JNIEXPORT void JNICALL Java_com_bearer_Native_deviceCancel(JNIEnv *env, jclass cls, jlong device) {
    (void)cls;
    if (not_open(env)) return;
    p_device_cancel((const bearer_device *)(intptr_t)device);
}

JNIEXPORT void JNICALL Java_com_bearer_Native_deviceFree(JNIEnv *env, jclass cls, jlong device) {
    (void)cls;
    if (not_open(env)) return;
    p_device_free((bearer_device *)(intptr_t)device);
}

/* bearer_token_refused: the one-shot cache's compare-and-invalidate. */
JNIEXPORT jboolean JNICALL Java_com_bearer_Native_tokenRefused(JNIEnv *env, jclass cls, jbyteArray config,
                                                               jbyteArray token) {
    (void)cls;
    if (not_open(env)) return JNI_FALSE;
    int failed;
    char *config_text = from_bytes(env, config, &failed);
    if (failed) return JNI_FALSE;
    char *token_text = from_bytes(env, token, &failed);
    if (failed) {
        free(config_text);
        return JNI_FALSE;
    }
    bool dropped = false;
    char *problem = NULL;
    bearer_status status = p_token_refused(config_text, token_text, &dropped, &problem);
    free(config_text);
    free(token_text);
    if (status != BEARER_STATUS_OK) {
        throw_problem(env, status, problem);
        return JNI_FALSE;
    }
    p_string_free(problem);
    return dropped ? JNI_TRUE : JNI_FALSE;
}
