# frozen_string_literal: true

require "uri"

module Bearer
  # A native app's or a script's sign-in (RFC 8252): the library listens on
  # 127.0.0.1, the user opens #url in a browser, and #wait takes the one
  # redirect, answers the browser with a short page and exchanges the code.
  #
  #   Bearer::LoopbackLogin.start(config) do |login|
  #     puts "Open #{login.url}"
  #     login.wait(120)            # => Bearer::AccessToken
  #   end
  #
  # #wait releases the GVL: other Ruby threads run while it waits. The
  # listener is closed by #close or, at the latest, by the garbage collector
  # (FFI::AutoPointer).
  class LoopbackLogin
    include NativeHandle

    # How long #wait waits by default, in seconds (as `bearer login`).
    DEFAULT_TIMEOUT = 300
    # The longest wait the C ABI takes: an unsigned int of milliseconds.
    MAX_TIMEOUT_MS = 0xFFFF_FFFF

    # Starts listening and builds the authorize URL (authorization code with
    # PKCE). Without a redirect_uri in +config+ the port is ephemeral and the
    # path /callback; http://127.0.0.1:PORT/path chooses them. With a block,
    # yields the login, closes it afterwards and returns the block's value.
    # Raises ProblemError for a bad configuration or a port it cannot bind.
    def self.start(config)
      login = new(config)
      return login unless block_given?

      begin
        yield login
      ensure
        login.close
      end
    end

    # The authorize URL to open in the user's browser.
    attr_reader :url

    def initialize(config)
      pointer, @url = Native.login_start(Config.to_json_bytes(config))
      adopt_handle(pointer, :bearer_login_free)
      @url.freeze
    end
    private_class_method :new

    # Where the browser will come back to, http://127.0.0.1:PORT/path (read
    # from #url).
    def redirect_uri
      query = URI(@url).query or return nil
      URI.decode_www_form(query).assoc("redirect_uri")&.last
    end

    # Waits up to +timeout+ seconds for the browser's redirect and returns
    # the Bearer::AccessToken. Raises ProblemError: timeout (code 6) when no
    # redirect came in time (the login stays usable: wait again), the
    # problems of Bearer.authorize_complete for a bad or declined redirect,
    # and invalid-argument (code 1) once the login has finished.
    #
    # Only the calling thread blocks (the GVL is released), but the wait is
    # one native call: Ctrl-C, Thread#raise and #close from another thread
    # take effect when it returns, so choose a timeout you can afford.
    def wait(timeout = DEFAULT_TIMEOUT)
      raise TypeError, "timeout must be a number of seconds, not #{timeout.class}" unless timeout.is_a?(Numeric)

      ms = (timeout * 1000).ceil if timeout.real? && timeout.finite?
      unless ms && ms.between?(0, MAX_TIMEOUT_MS)
        raise ArgumentError, "timeout must be between 0 and #{MAX_TIMEOUT_MS / 1000} seconds, not #{timeout}"
      end

      AccessToken.from_json(use { |handle| Native.call_out(:bearer_login_wait, handle, ms) })
    end

    def inspect
      "#<#{self.class.name} redirect_uri=#{redirect_uri.inspect}#{closed? ? ' (closed)' : ''}>"
    end
  end
end
