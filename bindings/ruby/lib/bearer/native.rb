# frozen_string_literal: true

require "ffi"
require_relative "error"

module Bearer
  # The C ABI of include/bearer.h, declared once. FUNCTIONS spells each
  # function as the header does (C types and parameter names) so the test
  # suite can compare it with the header and fail on any drift; the FFI
  # signatures are derived from it.
  module Native
    extend FFI::Library

    LIBRARY_NAME = "libbearer.so"

    # The checkout root (bindings/ruby/lib/bearer -> four levels up), used to
    # find target/release or target/debug when running from a clone.
    CHECKOUT_ROOT = File.expand_path("../../../..", __dir__)

    # Where the library is looked for, in order: BEARER_LIBRARY alone when it
    # is set (an explicit choice must not silently fall back to another copy),
    # else the copy packaged in the gem, then the cargo target folders.
    def self.candidates(env = ENV)
      explicit = env["BEARER_LIBRARY"]
      return [File.expand_path(explicit)] if explicit && !explicit.empty?

      [
        File.join(__dir__, "native", LIBRARY_NAME),
        File.join(CHECKOUT_ROOT, "target", "release", LIBRARY_NAME),
        File.join(CHECKOUT_ROOT, "target", "debug", LIBRARY_NAME)
      ]
    end

    # The first existing candidate, as an absolute path.
    # Raises LibraryNotFound naming every path tried.
    def self.locate(paths = candidates)
      paths.find { |path| File.file?(path) } or raise LibraryNotFound, paths
    end

    # Numbers as in the header; unknown numbers come back as Integers.
    BearerStatus = enum :bearer_status, [
      :ok, 0,
      :invalid_argument, 1,
      :invalid_config, 2,
      :rejected, 3,
      :rate_limited, 4,
      :unavailable, 5,
      :timeout, 6,
      :bad_response, 7,
      :internal, 8,
      :cancelled, 9
    ]

    # name => [return C type, [[param C type, param name], ...], blocking?]
    # blocking: true releases the GVL, so other Ruby threads run while a call
    # waits on the network (or on another thread's request, single-flight, or
    # on the browser's redirect to a loopback login).
    FUNCTIONS = {
      bearer_version: ["const char *", [], false],
      bearer_string_free: ["void", [["char *", "text"]], false],
      bearer_global_cleanup: ["void", [], false],
      bearer_test_panic: ["bearer_status", [["char **", "problem_out"]], false],
      bearer_client_new: ["bearer_status", [["const char *", "config_json"],
                                            ["bearer_client **", "client_out"],
                                            ["char **", "problem_out"]], true],
      bearer_client_token: ["bearer_status", [["const bearer_client *", "client"],
                                              ["char **", "token_out"],
                                              ["char **", "problem_out"]], true],
      bearer_client_token_response: ["bearer_status", [["const bearer_client *", "client"],
                                                       ["char **", "json_out"],
                                                       ["char **", "problem_out"]], true],
      bearer_client_authorization_header: ["bearer_status", [["const bearer_client *", "client"],
                                                             ["char **", "header_out"],
                                                             ["char **", "problem_out"]], true],
      bearer_client_take_refresh_problem: ["bearer_status", [["const bearer_client *", "client"],
                                                             ["bearer_status *", "refresh_status_out"],
                                                             ["char **", "refresh_problem_out"],
                                                             ["char **", "problem_out"]], false],
      bearer_client_token_refused: ["bearer_status", [["const bearer_client *", "client"],
                                                      ["const char *", "token"],
                                                      ["bool *", "dropped_out"],
                                                      ["char **", "problem_out"]], true],
      bearer_client_free: ["void", [["bearer_client *", "client"]], false],
      bearer_authorize_start: ["bearer_status", [["const char *", "config_json"],
                                                 ["char **", "request_out"],
                                                 ["char **", "problem_out"]], true],
      bearer_authorize_complete: ["bearer_status", [["const char *", "config_json"],
                                                    ["const char *", "request_json"],
                                                    ["const char *", "redirect_url"],
                                                    ["char **", "json_out"],
                                                    ["char **", "problem_out"]], true],
      bearer_login_start: ["bearer_status", [["const char *", "config_json"],
                                             ["bearer_login **", "login_out"],
                                             ["char **", "url_out"],
                                             ["char **", "problem_out"]], true],
      bearer_login_wait: ["bearer_status", [["const bearer_login *", "login"],
                                            ["unsigned int", "timeout_ms"],
                                            ["char **", "json_out"],
                                            ["char **", "problem_out"]], true],
      bearer_login_free: ["void", [["bearer_login *", "login"]], false],
      bearer_device_start: ["bearer_status", [["const char *", "config_json"],
                                              ["bearer_device **", "device_out"],
                                              ["char **", "json_out"],
                                              ["char **", "problem_out"]], true],
      bearer_device_poll: ["bearer_status", [["const bearer_device *", "device"],
                                             ["char **", "token_json_out"],
                                             ["char **", "problem_out"]], true],
      bearer_device_cancel: ["void", [["const bearer_device *", "device"]], false],
      bearer_device_free: ["void", [["bearer_device *", "device"]], false],
      bearer_fetch_token: ["bearer_status", [["const char *", "config_json"],
                                             ["char **", "token_out"],
                                             ["char **", "problem_out"]], true],
      bearer_fetch_token_response: ["bearer_status", [["const char *", "config_json"],
                                                      ["char **", "json_out"],
                                                      ["char **", "problem_out"]], true],
      bearer_token_refused: ["bearer_status", [["const char *", "config_json"],
                                               ["const char *", "token"],
                                               ["bool *", "dropped_out"],
                                               ["char **", "problem_out"]], true]
    }.freeze

    # C type -> FFI type. Inputs are passed as :string (FFI copies the bytes
    # and refuses embedded NULs); everything the library allocates is taken
    # as a raw :pointer so that it can be freed with bearer_string_free.
    FFI_TYPES = {
      "void" => :void,
      "bearer_status" => :bearer_status,
      "bearer_status *" => :pointer,
      "bool *" => :pointer,
      "const char *" => :string,
      "char *" => :pointer,
      "char **" => :pointer,
      "unsigned int" => :uint,
      "bearer_client *" => :pointer,
      "bearer_client **" => :pointer,
      "const bearer_client *" => :pointer,
      "bearer_login *" => :pointer,
      "bearer_login **" => :pointer,
      "const bearer_login *" => :pointer,
      "bearer_device *" => :pointer,
      "bearer_device **" => :pointer,
      "const bearer_device *" => :pointer
    }.freeze

    # The header's opaque handle types (typedef struct X X;), each passed as a
    # raw pointer and freed by its own bearer_*_free.
    OPAQUE_TYPES = %w[bearer_client bearer_login bearer_device].freeze

    # The resolved absolute path of the loaded library.
    PATH = locate
    ffi_lib PATH

    FUNCTIONS.each do |name, (ret, params, blocking)|
      attach_function name, params.map { |type, _| FFI_TYPES.fetch(type) }, FFI_TYPES.fetch(ret),
                      blocking: blocking
    end

    # bearer_version's static string is copied by FFI (:string) and never freed.
    # bearer_string_free is the only way library strings are released.

    # Calls +name+ with +args+ followed by an out pointer and a problem pointer.
    # Returns the out string (UTF-8; nil when the library wrote NULL), or
    # raises ProblemError. Both strings are
    # always freed, even when reading or parsing raises.
    def self.call_out(name, *args)
      out = FFI::MemoryPointer.new(:pointer)
      problem = FFI::MemoryPointer.new(:pointer)
      status = public_send(name, *args, out, problem)
      if status == :ok
        read_string(out.read_pointer)
      else
        raise ProblemError.from_json(read_string(problem.read_pointer), status)
      end
    ensure
      if out
        bearer_string_free(out.read_pointer)
        bearer_string_free(problem.read_pointer)
      end
    end

    # Calls bearer_client_take_refresh_problem: the ProblemError of a refresh
    # that failed while the cached token was served, with the status that
    # refresh would have returned, or nil. Raises ProblemError if the call fails.
    def self.take_refresh_problem(client)
      refresh_status = FFI::MemoryPointer.new(:int)
      json = call_out(:bearer_client_take_refresh_problem, client, refresh_status)
      json && ProblemError.from_json(json, refresh_status.read_int)
    end

    # Calls bearer_client_token_refused or bearer_token_refused (+name+) with
    # +args+ (the client or configuration, then the token): true when the
    # library dropped the token, false when it kept it (already replaced, or
    # within the two-second window). Raises ProblemError.
    def self.call_refused(name, *args)
      dropped = FFI::MemoryPointer.new(:bool)
      problem = FFI::MemoryPointer.new(:pointer)
      status = public_send(name, *args, dropped, problem)
      raise ProblemError.from_json(read_string(problem.read_pointer), status) unless status == :ok

      dropped.read(:bool)
    ensure
      bearer_string_free(problem.read_pointer) if problem
    end

    # Calls bearer_test_panic (status 8 and a problem), for tests of the error path.
    def self.call_test_panic
      problem = FFI::MemoryPointer.new(:pointer)
      status = bearer_test_panic(problem)
      raise ProblemError.from_json(read_string(problem.read_pointer), status) unless status == :ok
    ensure
      bearer_string_free(problem.read_pointer) if problem
    end

    # Calls bearer_login_start: returns [login pointer, url], or raises
    # ProblemError. The caller owns the pointer (wrap it at once).
    def self.login_start(config_json)
      login = FFI::MemoryPointer.new(:pointer)
      url = FFI::MemoryPointer.new(:pointer)
      problem = FFI::MemoryPointer.new(:pointer)
      status = bearer_login_start(config_json, login, url, problem)
      raise ProblemError.from_json(read_string(problem.read_pointer), status) unless status == :ok

      [login.read_pointer, read_string(url.read_pointer)]
    ensure
      if problem
        bearer_string_free(url.read_pointer)
        bearer_string_free(problem.read_pointer)
      end
    end

    # Calls bearer_device_start: returns [device pointer, JSON of the user
    # code and where to enter it], or raises ProblemError. The caller owns
    # the pointer (wrap it at once).
    def self.device_start(config_json)
      device = FFI::MemoryPointer.new(:pointer)
      json = FFI::MemoryPointer.new(:pointer)
      problem = FFI::MemoryPointer.new(:pointer)
      status = bearer_device_start(config_json, device, json, problem)
      raise ProblemError.from_json(read_string(problem.read_pointer), status) unless status == :ok

      [device.read_pointer, read_string(json.read_pointer)]
    ensure
      if problem
        bearer_string_free(json.read_pointer)
        bearer_string_free(problem.read_pointer)
      end
    end

    def self.read_string(pointer)
      return nil if pointer.null?

      pointer.read_string.force_encoding(Encoding::UTF_8)
    end
    private_class_method :read_string
  end
end
