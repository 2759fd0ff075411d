# frozen_string_literal: true

require "setup"

class ErrorsTest < Minitest::Test
  # The secret of the wrong-secret, echo and throttling tests; the whole test
  # log is searched for it, so no assertion message may contain it.
  CANARY = "canary-SECRET-7f3a9c2e1b"

  # Every way a caller might print or log the error.
  def renderings(error)
    [error.message, error.to_s, error.inspect, error.full_message(highlight: false),
     error.to_h.to_s, JSON.generate(error.to_h), error.extensions.to_s]
  end

  def assert_problem(code:, status:, type:, secret: SECRET)
    error = assert_raises(Bearer::ProblemError) { yield }
    assert_kind_of Bearer::Error, error
    assert_kind_of StandardError, error
    assert_equal code, error.code
    assert_equal status, error.status
    assert_equal type, error.type
    assert_equal "#{error.title}: #{error.detail}", error.message
    assert_kind_of Hash, error.extensions
    # refute without the text: refute_includes would print the secret it finds.
    renderings(error).each_with_index { |text, i| refute text.include?(secret), "rendering #{i} has the secret" }
    error
  end

  def test_401_unauthorized
    [->(c) { Bearer.fetch_token(c) }, ->(c) { Bearer::Client.open(c, &:token) }].each do |call|
      error = assert_problem(code: 3, status: 401, type: "urn:bearer:problem:unauthorized", secret: CANARY) do
        call.call(auth0_config(client_secret: CANARY))
      end
      assert_equal :rejected, error.code_name
      assert_equal 401, error.extensions["upstream_status"]
      assert_equal "access_denied", error.extensions["error"]
      assert error.instance.end_with?("/oauth/token"), error.instance
    end
  end

  def test_401_secret_never_shown
    secret = "s3cr3t-#{SecureRandom.hex(8)}"
    assert_problem(code: 3, status: 401, type: "urn:bearer:problem:unauthorized", secret: secret) do
      Bearer::Client.open(auth0_config(client_secret: secret), &:authorization_header)
    end
  end

  def test_403_forbidden
    assert_problem(code: 3, status: 403, type: "urn:bearer:problem:forbidden") do
      Bearer.fetch_token(auth0_config(audience: "https://other"))
    end
  end

  def test_400_cobuilder_problem_passed_through
    error = assert_problem(code: 3, status: 400, type: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                           secret: COBUILDER_SECRET) do
      Bearer::Client.open(cobuilder_config(audienceUrl: "https://nope"), &:token_response)
    end
    assert_equal "Invalid audience", error.title
  end

  # retries 0: waiting out Retry-After (7 s) three times would test nothing more.
  def rate_limited_config
    auth0_config(client_secret: CANARY, retries: 0, token_url: auth0_url("fault=rate_limit"))
  end

  def test_429_rate_limited
    error = assert_problem(code: 4, status: 429, type: "urn:bearer:problem:rate-limited", secret: CANARY) do
      Bearer.fetch_token_response(rate_limited_config)
    end
    assert_equal :rate_limited, error.code_name
    assert_equal 7, error.extensions["retry_after"]
  end

  def test_429_opens_a_throttling_window
    Bearer::Client.open(rate_limited_config) do |client|
      took = nil
      _, delta = counting do
        assert_problem(code: 4, status: 429, type: "urn:bearer:problem:rate-limited", secret: CANARY) { client.token }
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        error = assert_problem(code: 4, status: 429, type: "urn:bearer:problem:rate-limited", secret: CANARY) do
          client.token
        end
        took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
        assert_includes 1..7, error.extensions["retry_after"]
      end
      assert_operator took, :<, 0.5, "the throttled call waited"
      assert_equal 1, delta["auth0"], "the throttled call reached the server"
    end
  end

  def test_server_echoing_the_request_does_not_leak_the_secret
    [->(c) { Bearer.fetch_token(c) }, ->(c) { Bearer::Client.open(c, &:token) }].each do |call|
      error = assert_raises(Bearer::ProblemError) do
        call.call(auth0_config(client_secret: CANARY, token_url: auth0_url("fault=echo")))
      end
      renderings(error).each_with_index { |text, i| refute text.include?(CANARY), "rendering #{i} has the secret" }
    end
  end

  def test_5xx_unavailable
    assert_problem(code: 5, status: 502, type: "urn:bearer:problem:upstream-error") do
      Bearer.fetch_token(auth0_config(token_url: auth0_url("fault=server_error")))
    end
  end

  def test_missing_key
    config = auth0_config.tap { |c| c.delete("client_secret") }
    [->(c) { Bearer.fetch_token(c) }, ->(c) { Bearer::Client.new(c) }].each do |call|
      error = assert_problem(code: 2, status: 400, type: "urn:bearer:problem:invalid-config") { call.call(config) }
      assert_equal "client_secret", error.extensions["key"]
      assert_equal "#/client_secret", error.instance
      assert_equal :invalid_config, error.code_name
    end
  end

  def test_bad_urls_touch_no_network
    _, delta = counting do
      assert_problem(code: 2, status: 400, type: "urn:bearer:problem:invalid-config") do
        Bearer::Client.new(auth0_config(token_url: "ftp://x/oauth/token"))
      end
      assert_problem(code: 2, status: 400, type: "urn:bearer:problem:insecure-url") do
        Bearer.fetch_token(auth0_config(token_url: "http://example.com/oauth/token"))
      end
    end
    assert_equal({ "auth0" => 0, "cobuilder" => 0 }, delta.slice("auth0", "cobuilder"))
  end

  def test_to_h
    error = assert_raises(Bearer::ProblemError) { Bearer.fetch_token("{") }
    assert_equal %w[type title status detail instance extensions code], error.to_h.keys
    assert_equal 2, error.to_h["code"]
  end

  # The library prints the panic to stderr, so run it in a child process.
  def test_internal_error_from_panic
    out, _err, status = ruby_subprocess(<<~RUBY)
      require "bearer"
      begin
        Bearer::Native.call_test_panic
      rescue Bearer::ProblemError => e
        puts [e.code, e.code_name, e.status, e.type].join(" ")
      end
    RUBY
    assert status.success?
    assert_equal "8 internal 500 urn:bearer:problem:internal", out.strip
  end

  def test_unknown_status_stays_a_number
    error = Bearer::ProblemError.from_json("not json", 42)
    assert_equal 42, error.code
    assert_equal 42, error.code_name
    assert_equal "about:blank", error.type
  end
end
