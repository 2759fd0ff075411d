# frozen_string_literal: true

require "setup"
require "timeout"

# Bearer::DeviceLogin, the device authorization grant (RFC 8628), against
# the local server's device endpoint; the test plays the user through
# POST /_device. interval=0 keeps every test fast but the slow_down one.
class DeviceLoginTest < Minitest::Test
  def device_config(query = "interval=0", **overrides)
    { "client_id" => "native-client", "grant_type" => "device_code",
      "device_authorization_url" => "#{TestServer.base}/oauth/device/code?#{query}",
      "token_url" => "#{TestServer.base}/oauth/token", "audience" => "https://beeapp.open-cosmos.com",
      "scope" => "openid offline_access" }.merge(overrides.transform_keys(&:to_s))
  end

  # The user's side: "approve", "deny" or "slow_down".
  def user(login, action)
    query = URI.encode_www_form(user_code: login.user_code, action: action)
    response = Net::HTTP.post(URI("#{TestServer.base}/_device?#{query}"), "", "Content-Type" => "text/plain")
    assert_equal "200", response.code, response.body
  end

  # Runs the block on another thread after +delay+ seconds.
  def later(delay = 0.2, &block)
    Thread.new do
      sleep delay
      block.call
    end
  end

  def elapsed
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    value = yield
    [value, Process.clock_gettime(Process::CLOCK_MONOTONIC) - started]
  end

  def assert_cancelled
    error = assert_raises(Bearer::ProblemError) { yield }
    assert_equal 9, error.code
    assert_equal :cancelled, error.code_name
    assert_equal "urn:bearer:problem:cancelled", error.type
    error
  end

  def test_start_gives_the_user_code_and_where_to_enter_it
    (login, delta) = counting { Bearer::DeviceLogin.start(device_config) }
    assert_match(/\A[A-Z]{4}-[A-Z]{4}\z/, login.user_code)
    assert_equal "#{TestServer.base}/activate", login.verification_uri
    assert_equal "#{TestServer.base}/activate?user_code=#{login.user_code}", login.verification_uri_complete
    assert_equal 900, login.expires_in
    assert_equal 0, login.interval
    assert_equal 1, delta["device"]
    assert_equal 0, delta["device_polls"]
    assert_includes login.inspect, login.user_code
    login.close
    assert login.closed?
    assert_includes login.inspect, "(closed)"
  end

  def test_approved_from_another_thread_while_polling
    Bearer::DeviceLogin.start(device_config) do |login|
      user_thread = later { user(login, "approve") }
      response, delta = counting { login.poll }
      user_thread.join
      assert_kind_of Bearer::AccessToken, response, "as LoopbackLogin#wait gives"
      assert jwt?(response["access_token"]), response.to_h.keys.inspect
      assert_kind_of String, response.refresh_token
      refute_empty response.refresh_token
      assert_equal "Bearer", response["token_type"]
      assert_operator delta["device_polls"], :>=, 1
      assert_equal response["access_token"], response.token
    end
  end

  def test_the_interval_the_server_gives_is_kept
    Bearer::DeviceLogin.start(device_config("interval=1")) do |login|
      assert_equal 1, login.interval
      user(login, "approve")
      response, seconds = elapsed { login.poll }
      assert jwt?(response["access_token"])
      assert_operator seconds, :<, 3
    end
  end

  def test_denied
    Bearer::DeviceLogin.start(device_config) do |login|
      user_thread = later { user(login, "deny") }
      error = assert_raises(Bearer::ProblemError) { login.poll }
      user_thread.join
      assert_equal 3, error.code
      assert_equal "urn:bearer:problem:authorization-denied", error.type
    end
  end

  def test_code_expires
    Bearer::DeviceLogin.start(device_config("interval=0&expires_in=1")) do |login|
      assert_equal 1, login.expires_in
      error, seconds = elapsed { assert_raises(Bearer::ProblemError) { login.poll } }
      assert_equal 3, error.code
      assert_equal "urn:bearer:problem:device-code-expired", error.type
      assert_operator seconds, :<, 5
    end
  end

  def test_cancel_from_another_thread_returns_at_once
    Bearer::DeviceLogin.start(device_config("interval=1")) do |login|
      canceller = later { login.cancel }
      _, seconds = elapsed { assert_cancelled { login.poll } }
      canceller.join
      assert_operator seconds, :<, 1.5
      # Cancelled for good: a later poll returns at once too.
      _, again = elapsed { assert_cancelled { login.poll } }
      assert_operator again, :<, 0.5
    end
  end

  def test_close_from_another_thread_cancels_the_poll
    login = Bearer::DeviceLogin.start(device_config("interval=1"))
    closer = later { login.close }
    _, seconds = elapsed { assert_cancelled { login.poll } }
    closer.join
    assert_operator seconds, :<, 1.5
    assert login.closed?
    assert_raises(Bearer::ClosedError) { login.poll }
    assert_nil login.cancel
    assert_nil login.close
  end

  # Thread#raise and Timeout reach a thread blocked in #poll: the native poll
  # is cancelled and the exception raised as usual.
  def test_timeout_and_thread_raise_cancel_the_poll
    Bearer::DeviceLogin.start(device_config("interval=1")) do |login|
      _, seconds = elapsed { assert_raises(Timeout::Error) { Timeout.timeout(0.3) { login.poll } } }
      assert_operator seconds, :<, 1.5
      assert_cancelled { login.poll }
    end
    Bearer::DeviceLogin.start(device_config("interval=1")) do |login|
      poller = Thread.new do
        Thread.current.report_on_exception = false
        login.poll
      end
      sleep 0.2
      poller.raise(Interrupt)
      assert_raises(Interrupt) { poller.value }
      assert_cancelled { login.poll }
    end
  end

  # While one thread polls (cancelled after 300 ms), this thread keeps
  # running Ruby code without a long pause.
  def test_the_gvl_is_released_while_polling
    Bearer::DeviceLogin.start(device_config("interval=1")) do |login|
      poller = Thread.new do
        Thread.current.report_on_exception = false
        login.poll
      end
      sleep 0.05 # lets the poller start its poll
      canceller = later(0.3) { login.cancel }
      counter = 0
      longest_pause = 0.0
      last = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      while poller.alive?
        counter += 1
        now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        longest_pause = now - last if now - last > longest_pause
        last = now
      end
      canceller.join
      assert_cancelled { poller.value }
      assert_operator counter, :>, 10_000
      assert_operator longest_pause, :<, 0.25
    end
  end

  def test_slow_down_adds_five_seconds
    Bearer::DeviceLogin.start(device_config) do |login|
      user(login, "slow_down")
      user(login, "approve")
      (response, seconds), delta = counting { elapsed { login.poll } }
      assert jwt?(response["access_token"])
      assert_operator seconds, :>=, 4.5
      assert_operator delta["device_polls"], :>=, 2
    end
  end

  # The discovery document names the device endpoint; the first poll goes
  # at once, so an approval before it is not delayed by the default 5 s.
  def test_issuer_discovery_names_the_device_endpoint
    config = device_config
    config.delete("device_authorization_url")
    config.delete("token_url")
    config["issuer"] = "#{TestServer.base}/"
    Bearer::DeviceLogin.start(config) do |login|
      assert_equal "#{TestServer.base}/activate", login.verification_uri
      assert_equal 5, login.interval
      user(login, "approve")
      response, seconds = elapsed { login.poll }
      assert jwt?(response["access_token"])
      assert_operator seconds, :<, 2
      # The device code is spent: the server refuses a second exchange.
      error = assert_raises(Bearer::ProblemError) { login.poll }
      assert_equal 3, error.code
    end
  end

  def test_without_a_device_authorization_url_or_issuer
    config = device_config
    config.delete("device_authorization_url")
    error = assert_raises(Bearer::ProblemError) { Bearer::DeviceLogin.start(config) }
    assert_equal 2, error.code
    assert_equal "urn:bearer:problem:invalid-config", error.type
    assert_equal "device_authorization_url", error.extensions["key"]
  end

  def test_invalid_input
    assert_raises(TypeError) { Bearer::DeviceLogin.start(nil) }
    assert_raises(ArgumentError) { Bearer::DeviceLogin.start("{\"a\0\": 1}") }
    error = assert_raises(Bearer::ProblemError) { Bearer::DeviceLogin.start("{") }
    assert_equal :invalid_config, error.code_name
    assert_raises(NoMethodError) { Bearer::DeviceLogin.new(device_config) }
  end

  def test_block_form_closes_also_on_an_exception
    kept = nil
    assert_raises(RuntimeError) do
      Bearer::DeviceLogin.start(device_config) do |login|
        kept = login
        raise "boom"
      end
    end
    assert kept.closed?
    assert_equal 42, Bearer::DeviceLogin.start(device_config) { 42 }
  end
end
