# frozen_string_literal: true

require "json"

module Bearer
  # Base class of everything this gem raises on purpose.
  class Error < StandardError; end

  # The native library could not be found. The message lists every path tried,
  # because the usual cause is a wrong BEARER_LIBRARY or a missing cargo build.
  class LibraryNotFound < Error
    # Paths looked at, in order.
    attr_reader :paths

    def initialize(paths)
      @paths = paths.freeze
      super("libbearer not found; tried: #{paths.join(', ')} " \
            "(set BEARER_LIBRARY to its path or run `cargo build --release`)")
    end
  end

  # A client was used after #close. Raised instead of touching a freed handle.
  class ClosedError < Error
    def initialize(msg = "Bearer::Client is closed")
      super
    end
  end

  # A failure reported by the library as an RFC 9457 problem. All fields come
  # from the library, which has already scrubbed the secret from them, so the
  # message, #inspect and #to_h are safe to log.
  class ProblemError < Error
    # The BEARER_STATUS_* numbers, by name. Kept here for readable #code_name;
    # the drift test checks them against include/bearer.h.
    CODES = {
      ok: 0, invalid_argument: 1, invalid_config: 2, rejected: 3, rate_limited: 4,
      unavailable: 5, timeout: 6, bad_response: 7, internal: 8, cancelled: 9
    }.freeze

    attr_reader :type, :title, :status, :detail, :instance, :extensions, :code

    # Builds the error from the problem JSON and the status the call returned.
    # +code+ may be a Symbol (from the FFI enum) or an Integer (a status this
    # gem does not know yet, which is still a failure).
    def self.from_json(json, code)
      problem = begin
        JSON.parse(json)
      rescue JSON::ParserError, TypeError
        nil
      end
      problem = nil unless problem.is_a?(Hash)
      problem ||= { "type" => "about:blank", "title" => "Unreadable problem", "status" => 500,
                    "detail" => "bearer returned status #{code} without a readable problem",
                    "instance" => "", "extensions" => {} }
      new(problem, code)
    end

    def initialize(problem, code)
      @type = problem["type"]
      @title = problem["title"]
      @status = problem["status"]
      @detail = problem["detail"]
      @instance = problem["instance"]
      @extensions = (problem["extensions"] || {}).freeze
      @code = code.is_a?(Symbol) ? CODES.fetch(code) : Integer(code)
      super("#{@title}: #{@detail}")
    end

    # The status as a Symbol (:rejected, :rate_limited, ...), or the number
    # when it is one this gem does not name.
    def code_name
      CODES.key(@code) || @code
    end

    # The problem as the library wrote it, plus "code".
    def to_h
      { "type" => @type, "title" => @title, "status" => @status, "detail" => @detail,
        "instance" => @instance, "extensions" => @extensions, "code" => @code }
    end

    def inspect
      "#<#{self.class.name} code=#{@code} status=#{@status} type=#{@type.inspect} " \
        "message=#{message.inspect} instance=#{@instance.inspect} extensions=#{@extensions.inspect}>"
    end
  end
end
