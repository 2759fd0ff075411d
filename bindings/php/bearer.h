typedef enum {
  BEARER_STATUS_OK = 0,
  BEARER_STATUS_INVALID_ARGUMENT = 1,
  BEARER_STATUS_INVALID_CONFIG = 2,
  BEARER_STATUS_REJECTED = 3,
  BEARER_STATUS_RATE_LIMITED = 4,
  BEARER_STATUS_UNAVAILABLE = 5,
  BEARER_STATUS_TIMEOUT = 6,
  BEARER_STATUS_BAD_RESPONSE = 7,
  BEARER_STATUS_INTERNAL = 8,
  BEARER_STATUS_CANCELLED = 9,
} bearer_status;

typedef struct bearer_client bearer_client;

typedef struct bearer_device bearer_device;

typedef struct bearer_login bearer_login;

const char *bearer_version(void);

void bearer_string_free(char *text);

void bearer_global_cleanup(void);

bearer_status bearer_test_panic(char **problem_out);

bearer_status bearer_client_new(const char *config_json,
                                bearer_client **client_out,
                                char **problem_out);

bearer_status bearer_client_token(const bearer_client *client,
                                  char **token_out,
                                  char **problem_out);

bearer_status bearer_client_token_response(const bearer_client *client,
                                           char **json_out,
                                           char **problem_out);

bearer_status bearer_client_authorization_header(const bearer_client *client,
                                                 char **header_out,
                                                 char **problem_out);

bearer_status bearer_client_take_refresh_problem(const bearer_client *client,
                                                 bearer_status *refresh_status_out,
                                                 char **refresh_problem_out,
                                                 char **problem_out);

bearer_status bearer_client_token_refused(const bearer_client *client,
                                          const char *token,
                                          bool *dropped_out,
                                          char **problem_out);

void bearer_client_free(bearer_client *client);

bearer_status bearer_device_start(const char *config_json,
                                  bearer_device **device_out,
                                  char **json_out,
                                  char **problem_out);

bearer_status bearer_device_poll(const bearer_device *device,
                                 char **token_json_out,
                                 char **problem_out);

void bearer_device_cancel(const bearer_device *device);

void bearer_device_free(bearer_device *device);

bearer_status bearer_authorize_start(const char *config_json,
                                     char **request_out,
                                     char **problem_out);

bearer_status bearer_authorize_complete(const char *config_json,
                                        const char *request_json,
                                        const char *redirect_url,
                                        char **json_out,
                                        char **problem_out);

bearer_status bearer_login_start(const char *config_json,
                                 bearer_login **login_out,
                                 char **url_out,
                                 char **problem_out);

bearer_status bearer_login_wait(const bearer_login *login,
                                unsigned int timeout_ms,
                                char **json_out,
                                char **problem_out);

void bearer_login_free(bearer_login *login);

bearer_status bearer_fetch_token(const char *config_json,
                                 char **token_out,
                                 char **problem_out);

bearer_status bearer_fetch_token_response(const char *config_json,
                                          char **json_out,
                                          char **problem_out);

bearer_status bearer_token_refused(const char *config_json,
                                   const char *token,
                                   bool *dropped_out,
                                   char **problem_out);
