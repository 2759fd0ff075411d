# frozen_string_literal: true

require "json"

module Bearer
  # Signing in on a device without a browser, or from a terminal: the device
  # authorization grant (RFC 8628). #start asks the server for a user code;
  # the user opens #verification_uri on another device and types #user_code
  # (or opens #verification_uri_complete, which carries it); #poll waits
  # until they approve, polling the token endpoint every #interval seconds.
  #
  #   Bearer::DeviceLogin.start(config) do |login|
  #     puts "Open #{login.verification_uri} and enter #{login.user_code}"
  #     login.poll                   # => the token response, a Hash
  #   end
  #
  # #poll releases the GVL and can be interrupted: #cancel or #close from
  # another thread, Ctrl-C, Thread#raise and Timeout all end it at once.
  # The handle is freed by #close or, at the latest, by the garbage
  # collector (FFI::AutoPointer).
  class DeviceLogin
    include NativeHandle

    # Asks the device authorization endpoint for a user code. +config+ (a
    # Hash or a JSON String) has grant_type "device_code", a client_id, and
    # a device_authorization_url or an issuer whose discovery document names
    # one. With a block, yields the login, closes it afterwards and returns
    # the block's value. Raises ProblemError (invalid-config naming
    # device_authorization_url when there is neither).
    def self.start(config)
      login = new(config)
      return login unless block_given?

      begin
        yield login
      ensure
        login.close
      end
    end

    # What the user needs: the code to type, where to type it, and that URL
    # with the code in it (nil when the server gave none).
    attr_reader :user_code, :verification_uri, :verification_uri_complete
    # Seconds until the user code expires; seconds between two polls.
    attr_reader :expires_in, :interval

    def initialize(config)
      pointer, json = Native.device_start(Config.to_json_bytes(config))
      adopt_handle(pointer, :bearer_device_free)
      @poll_lock = Mutex.new
      info = JSON.parse(json)
      @user_code = info["user_code"].freeze
      @verification_uri = info["verification_uri"].freeze
      @verification_uri_complete = info["verification_uri_complete"]&.freeze
      @expires_in = info["expires_in"]
      @interval = info["interval"]
    end
    private_class_method :new

    # Waits until the user approves and returns the token response as a
    # Hash with String keys ("access_token", "token_type", "expires_in",
    # "refresh_token" with the offline_access scope, "id_token" with
    # openid, ...); Bearer::AccessToken.new(hash) wraps it like the other
    # flows' results. Polls every #interval seconds, 5 s more after each
    # slow_down. Raises ProblemError: authorization-denied (code 3) when the
    # user declined, device-code-expired (code 3) when the code expired
    # first, cancelled (code 9, :cancelled) after #cancel or #close, and the
    # token endpoint's problems.
    #
    # The native poll runs on a thread of its own while this one waits for
    # it, so an exception raised into the waiting thread (Ctrl-C, Thread#raise,
    # Timeout) cancels the poll and is raised as usual. A cancelled login
    # stays cancelled: every later #poll raises cancelled. One poll at a
    # time: a second thread's #poll waits for the first to finish.
    def poll
      json = use do |handle|
        @poll_lock.synchronize { poll_on_a_thread(handle) }
      end
      AccessToken.from_json(json)
    end

    # Makes a #poll in progress (on another thread) raise the cancelled
    # problem at once, and every later #poll too. Does nothing once closed.
    def cancel
      use { |handle| Native.bearer_device_cancel(handle) }
      nil
    rescue ClosedError
      nil
    end

    # Cancels a poll in progress, waits for it to return, and frees the
    # handle. Calling it again does nothing.
    def close
      cancel
      super
    end

    def inspect
      "#<#{self.class.name} user_code=#{@user_code.inspect} verification_uri=#{@verification_uri.inspect}" \
        "#{closed? ? ' (closed)' : ''}>"
    end

    private

    def poll_on_a_thread(handle)
      worker = Thread.new do
        Thread.current.report_on_exception = false
        Native.call_out(:bearer_device_poll, handle)
      end
      begin
        worker.value
      ensure
        # Interrupted while the native poll still runs: end it, and wait, so
        # that the handle outlives the call.
        if worker.alive?
          Native.bearer_device_cancel(handle)
          # A second Ctrl-C must not cut this wait short: the poll ends soon.
          Thread.handle_interrupt(Object => :never) do
            worker.join
          rescue ProblemError
            nil # the cancelled problem; the interrupting exception goes on
          end
        end
      end
    end
  end
end
