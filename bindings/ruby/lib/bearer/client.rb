# frozen_string_literal: true

module Bearer
  # A configuration and its cached token, backed by one native handle.
  #
  # One client may be shared by any number of threads: when its token is
  # missing or stale, concurrent callers share one request (the library does
  # the single-flight). Calls release the GVL while they wait.
  #
  # The handle is freed by #close, or by the garbage collector when the
  # client is unreachable. #close waits for calls in flight on other threads,
  # so a handle is never freed under a running call (see NativeHandle).
  class Client
    include NativeHandle

    # Builds a client, yields it and closes it, returning the block's value.
    # Without a block it is the same as new.
    def self.open(config)
      client = new(config)
      return client unless block_given?

      begin
        yield client
      ensure
        client.close
      end
    end

    # +config+: the credentials as a Hash (Symbol or String keys) or a JSON
    # String, in either seed shape. No request is made until a token is asked
    # for. Raises ProblemError for an invalid configuration.
    def initialize(config)
      json = Config.to_json_bytes(config)
      out = FFI::MemoryPointer.new(:pointer)
      problem = FFI::MemoryPointer.new(:pointer)
      status = Native.bearer_client_new(json, out, problem)
      unless status == :ok
        begin
          raise ProblemError.from_json(problem.read_pointer.read_string.force_encoding(Encoding::UTF_8), status)
        ensure
          Native.bearer_string_free(problem.read_pointer)
        end
      end
      adopt_handle(out.read_pointer, :bearer_client_free)
    end

    # A valid access token: the cached one while fresh, else a new one.
    def token
      use { |handle| Native.call_out(:bearer_client_token, handle) }
    end

    # The whole token response as a Bearer::AccessToken (#token, #expires_in,
    # #expires_at, #to_h, ...).
    def token_response
      AccessToken.from_json(use { |handle| Native.call_out(:bearer_client_token_response, handle) })
    end

    # The Authorization header value, "Bearer eyJ...".
    def authorization_header
      use { |handle| Native.call_out(:bearer_client_authorization_header, handle) }
    end

    # Why the last refresh failed while the cached token was served, as a
    # Bearer::ProblemError (returned, not raised), or nil. A token due for
    # refresh but still valid is returned by #token even when its refresh
    # fails (serve-stale); the failure is kept here, once per run of
    # failures. Its extensions carry "serving_cached_token_until" (unix
    # seconds); its code is the status the failed refresh would have
    # returned (e.g. 5, :unavailable).
    def take_refresh_problem
      use { |handle| Native.take_refresh_problem(handle) }
    end

    # Tells the client that an API refused +token+ (a 401 with
    # error="invalid_token", or a bare 401): the cached token is dropped only
    # if it is still +token+, at most once every two seconds, so the next
    # #token is a new one. Returns true when it was dropped, false when it
    # was kept (already replaced, or within the window). Bearer::Faraday and
    # Bearer::NetHTTP call it for you.
    def token_refused(token)
      token = Config.to_text_bytes(token, "token")
      use { |handle| Native.call_refused(:bearer_client_token_refused, handle, token) }
    end

    def inspect
      "#<#{self.class.name}#{closed? ? ' (closed)' : ''}>"
    end
  end
end
