# frozen_string_literal: true

require "setup"
require "base64"

# The user flows end to end against the local server: this test plays the
# browser with Net::HTTP, which follows no redirect, so it reads the
# authorization server's 302 Location itself. Mirrors tests/flows.rs.
class FlowsTest < Minitest::Test
  # A redirect URI nobody listens on: the test reads the redirect itself.
  APP_REDIRECT = "http://127.0.0.1:9/callback"
  NATIVE_CLIENT = "native-client"
  AUDIENCE = "https://beeapp.open-cosmos.com"

  def code_config(**overrides)
    { "client_id" => NATIVE_CLIENT, "grant_type" => "authorization_code", "audience" => AUDIENCE,
      "redirect_uri" => APP_REDIRECT, "authorize_url" => "#{TestServer.base}/authorize",
      "token_url" => auth0_url }.merge(overrides.transform_keys(&:to_s))
  end

  def loopback_config(**overrides)
    code_config(**overrides).tap { |c| c.delete("redirect_uri") unless overrides.key?(:redirect_uri) }
  end

  # GET the authorize URL -> 302 -> the Location the browser would follow.
  def browse(url)
    response = Net::HTTP.get_response(URI(url))
    assert_equal "302", response.code, "a redirect back to the app"
    response["location"] or flunk "no Location"
  end

  def query_param(url, name)
    URI.decode_www_form(URI(url).query.to_s).assoc(name)&.last
  end

  def claims(jwt)
    JSON.parse(Base64.urlsafe_decode64(jwt.split(".")[1].then { |p| p + "=" * (-p.size % 4) }))
  end

  def assert_problem(code:, status:, type:)
    error = assert_raises(Bearer::ProblemError) { yield }
    assert_equal [code, status, type], [error.code, error.status, error.type], error.inspect
    assert_equal "#{error.title}: #{error.detail}", error.message
    error
  end

  # Signs the test user in with offline_access and returns the refresh token.
  def sign_in_for_refresh_token
    config = code_config(scope: "openid offline_access")
    request = Bearer.authorize_start(config)
    token = Bearer.authorize_complete(config, request, browse(request.url))
    token.refresh_token or flunk "offline_access gives a refresh token"
  end

  def refresh_config(refresh_token, query)
    { "client_id" => NATIVE_CLIENT, "grant_type" => "refresh_token", "refresh_token" => refresh_token,
      "token_url" => auth0_url(query) }
  end

  # --- authorization code with PKCE ---------------------------------------

  def test_code_flow_signs_the_user_in
    config = code_config
    request = Bearer.authorize_start(config)
    assert_kind_of Bearer::AuthorizationRequest, request
    url = request.url
    assert url.start_with?("#{TestServer.base}/authorize?"), url
    assert_equal "code", request.response_type
    assert_equal APP_REDIRECT, request.redirect_uri
    assert_equal "code", query_param(url, "response_type")
    assert_equal "S256", query_param(url, "code_challenge_method")
    assert_equal AUDIENCE, query_param(url, "audience")
    assert_equal request.state, query_param(url, "state")
    assert_equal 43, request.state.size, "256 bits of state"
    assert_kind_of String, request.code_verifier
    assert_kind_of String, request.nonce

    token, delta = counting { Bearer.authorize_complete(config, request, browse(url)) }
    assert_kind_of Bearer::AccessToken, token
    assert jwt?(token.token)
    assert_equal "Bearer", token.token_type
    assert_operator token.expires_in, :>, 0
    assert jwt?(token.id_token), "openid gives an ID token"
    assert_equal request.nonce, claims(token.id_token)["nonce"]
    assert_equal claims(token.token)["sub"], claims(token.id_token)["sub"]
    assert_nil token.refresh_token, "no offline_access, no refresh token"
    refute_includes token.params.keys, "id_token"
    assert_equal({ "auth0" => 1, "authorize" => 1 }, delta.slice("auth0", "authorize"))
  end

  def test_request_never_shows_its_secrets
    request = Bearer.authorize_start(code_config)
    secrets = [request.state, request.code_verifier, request.nonce]
    require "pp"
    [request.inspect, request.to_s, "#{request}", PP.pp(request, +""), [request].inspect].each do |shown|
      secrets.each { |secret| refute_includes shown, secret }
      assert_includes shown, APP_REDIRECT
    end
  end

  def test_request_json_round_trip
    config = code_config
    request = Bearer.authorize_start(config)
    json = request.to_json
    assert_equal Bearer::AuthorizationRequest::MEMBERS, JSON.parse(json).keys
    assert_equal request.to_h, JSON.parse(json)
    assert_equal JSON.parse(json), JSON.parse(JSON.generate("kept" => request))["kept"]

    restored = Bearer::AuthorizationRequest.from_json(json)
    assert_equal request, restored
    Bearer::AuthorizationRequest::MEMBERS.each { |m| assert_equal request.public_send(m), restored.public_send(m) }
    assert jwt?(Bearer.authorize_complete(config, restored, browse(restored.url)).token)

    # The JSON string itself is accepted too (straight from a session store).
    other = Bearer.authorize_start(config)
    assert jwt?(Bearer.authorize_complete(JSON.generate(config), other.to_json, browse(other.url)).token)
  end

  def test_from_json_refuses_garbage_without_repeating_it
    request = Bearer.authorize_start(code_config)
    truncated = request.to_json[0...-10]
    error = assert_raises(ArgumentError) { Bearer::AuthorizationRequest.from_json(truncated) }
    [request.state, request.code_verifier].each { |secret| refute_includes error.message, secret }
    assert_raises(ArgumentError) { Bearer::AuthorizationRequest.from_json("[1]") }
    assert_raises(TypeError) { Bearer::AuthorizationRequest.from_json(nil) }
    assert_raises(NoMethodError) { Bearer::AuthorizationRequest.new("{}", {}) }
  end

  def test_confidential_client_uses_its_secret_and_never_shows_it
    config = code_config(client_id: "demo-client", client_secret: SECRET, client_auth: "client_secret_basic")
    request = Bearer.authorize_start(config)
    redirect = browse(request.url)
    assert jwt?(Bearer.authorize_complete(config, request, redirect).token)
    error = assert_problem(code: 3, status: 403, type: "urn:bearer:problem:invalid-grant") do
      Bearer.authorize_complete(config, request, redirect)
    end
    [error.message, error.inspect, error.to_h.to_s].each do |shown|
      refute_includes shown, SECRET
      refute_includes shown, request.code_verifier
    end
  end

  # --- implicit --------------------------------------------------------------

  def test_implicit_flow_reads_the_token_from_the_fragment
    config = code_config(client_id: "demo-client", grant_type: "implicit").tap { |c| c.delete("token_url") }
    request = Bearer.authorize_start(config)
    assert_equal "token", request.response_type
    assert_equal "token", query_param(request.url, "response_type")
    assert_nil request.code_verifier
    (redirect, token), delta = counting do
      redirect = browse(request.url)
      [redirect, Bearer.authorize_complete(config, request, redirect)]
    end
    assert_includes redirect, "#access_token="
    assert jwt?(token.token)
    assert_equal "Bearer", token.token_type
    assert_operator token.expires_in, :>, 0
    assert_equal 0, delta["auth0"], "no token endpoint in the implicit flow"

    assert_problem(code: 1, status: 400, type: "urn:bearer:problem:invalid-callback") do
      Bearer.authorize_complete(config, request, redirect.sub("state=", "state=x"))
    end
  end

  # --- failures ----------------------------------------------------------------

  def test_wrong_or_missing_state_is_refused_before_any_exchange
    config = code_config
    request = Bearer.authorize_start(config)
    redirect = browse(request.url)
    _, delta = counting do
      error = assert_problem(code: 1, status: 400, type: "urn:bearer:problem:invalid-callback") do
        Bearer.authorize_complete(config, request, redirect.sub(request.state, "forged-state"))
      end
      assert_equal "state_mismatch", error.extensions["reason"]
      assert_equal :invalid_argument, error.code_name

      stateless = "#{APP_REDIRECT}?code=#{query_param(redirect, 'code')}"
      error = assert_problem(code: 1, status: 400, type: "urn:bearer:problem:invalid-callback") do
        Bearer.authorize_complete(config, request, stateless)
      end
      assert_includes error.detail, "no state"

      assert_problem(code: 1, status: 400, type: "urn:bearer:problem:invalid-callback") do
        Bearer.authorize_complete(config, request, URI(redirect.sub("127.0.0.1:9", "127.0.0.1:10")))
      end
    end
    assert_equal 0, delta["auth0"], "nothing was exchanged"
  end

  def test_a_code_works_once
    config = code_config
    request = Bearer.authorize_start(config)
    redirect = browse(request.url)
    Bearer.authorize_complete(config, request, redirect)
    error = assert_problem(code: 3, status: 403, type: "urn:bearer:problem:invalid-grant") do
      Bearer.authorize_complete(config, request, redirect)
    end
    assert_equal :rejected, error.code_name
    assert_equal "invalid_grant", error.extensions["error"]
    refute_includes error.to_h.to_s, query_param(redirect, "code"), "the code is redacted"
  end

  def test_a_wrong_verifier_fails_pkce
    config = code_config
    request = Bearer.authorize_start(config)
    redirect = browse(request.url)
    tampered = request.to_h.merge("code_verifier" => "x" * 43) # a Hash is accepted as the request too
    error = assert_problem(code: 3, status: 403, type: "urn:bearer:problem:invalid-grant") do
      Bearer.authorize_complete(config, tampered, redirect)
    end
    assert_equal "Failed PKCE verification", error.detail
  end

  def test_a_declined_sign_in_is_authorization_denied
    config = code_config
    request = Bearer.authorize_start(config)
    _, delta = counting do
      redirect = browse("#{request.url}&deny=1")
      assert_equal "access_denied", query_param(redirect, "error")
      error = assert_problem(code: 3, status: 403, type: "urn:bearer:problem:authorization-denied") do
        Bearer.authorize_complete(config, request, redirect)
      end
      assert_equal "access_denied", error.extensions["error"]
    end
    assert_equal 0, delta["auth0"]
  end

  def test_flow_inputs_are_checked
    config = code_config
    request = Bearer.authorize_start(config)
    assert_raises(TypeError) { Bearer.authorize_start(nil) }
    assert_raises(TypeError) { Bearer.authorize_complete(config, nil, APP_REDIRECT) }
    assert_raises(TypeError) { Bearer.authorize_complete(config, request, nil) }
    assert_raises(TypeError) { Bearer.authorize_complete(config, 42, APP_REDIRECT) }
    assert_raises(ArgumentError) { Bearer.authorize_complete(config, request, "#{APP_REDIRECT}\0") }

    assert_problem(code: 2, status: 400, type: "urn:bearer:problem:invalid-config") { Bearer.authorize_start("{") }
    error = assert_problem(code: 2, status: 400, type: "urn:bearer:problem:invalid-config") do
      Bearer.authorize_start(code_config.tap { |c| c.delete("redirect_uri") })
    end
    assert_equal "redirect_uri", error.extensions["key"]
    assert_problem(code: 2, status: 400, type: "urn:bearer:problem:insecure-url") do
      Bearer.authorize_start(code_config(redirect_uri: "http://example.com/callback"))
    end
    assert_problem(code: 1, status: 400, type: "urn:bearer:problem:invalid-argument") do
      Bearer.authorize_complete(config, "{}", APP_REDIRECT)
    end
    assert_problem(code: 1, status: 400, type: "urn:bearer:problem:invalid-argument") do
      Bearer.authorize_complete(config, request, "http://127.0.0.1:9/callback?\xff".b)
    end
  end

  # --- refresh through a client ----------------------------------------------

  def test_client_refreshes_and_follows_rotation
    first = sign_in_for_refresh_token
    client = Bearer::Client.new(refresh_config(first, "expires_in=2"))
    (a, b), delta = counting { [client.token_response, client.token_response] }
    assert_equal a.token, b.token, "cached while fresh"
    assert_equal 1, delta["refresh"]
    rotated = a.refresh_token
    assert_kind_of String, rotated
    refute_equal first, rotated, "the server rotated the refresh token"
    refute_includes a.inspect, rotated

    sleep 2.1
    c, delta = counting { client.token_response }
    refute_equal a.token, c.token
    assert_equal 1, delta["refresh"], "the rotated token worked"
    assert_equal "Bearer #{c.token}", client.authorization_header

    # The first refresh token was used up by the rotation.
    error = assert_problem(code: 3, status: 403, type: "urn:bearer:problem:invalid-grant") do
      Bearer::Client.open(refresh_config(first, "t=stale"), &:token)
    end
    refute_includes error.to_h.to_s, first
  ensure
    client&.close
  end

  def test_threads_sharing_a_refreshing_client_send_one_refresh
    client = Bearer::Client.new(refresh_config(sign_in_for_refresh_token, "stall_ms=200"))
    gate = Queue.new
    tokens, delta = counting do
      threads = Array.new(8) { Thread.new { gate.pop && client.token } }
      8.times { gate << :go }
      threads.map(&:value)
    end
    assert_equal 1, tokens.uniq.size
    assert_equal 1, delta["refresh"]
  ensure
    client&.close
  end

  # --- loopback login ----------------------------------------------------------

  def test_loopback_login_takes_the_browsers_redirect
    login = Bearer::LoopbackLogin.start(loopback_config)
    assert login.url.start_with?("#{TestServer.base}/authorize?"), login.url
    assert_match(%r{\Ahttp://127\.0\.0\.1:\d+/callback\z}, login.redirect_uri)
    assert_includes login.inspect, login.redirect_uri
    refute_includes login.inspect, query_param(login.url, "state")

    # The browser runs in another Ruby thread while this one waits: it only
    # gets to run because #wait releases the GVL.
    browser = Thread.new do
      favicon = Net::HTTP.get_response(URI(login.redirect_uri.sub("/callback", "/favicon.ico")))
      page = Net::HTTP.get_response(URI(browse(login.url)))
      [favicon.code, page.code, page.body]
    end
    token = login.wait(10)
    favicon, status, body = browser.value
    assert_equal "404", favicon, "a stray request is not the callback"
    assert_equal "200", status
    assert_includes body, "You are signed in"
    assert_kind_of Bearer::AccessToken, token
    assert jwt?(token.token)
    assert jwt?(token.id_token)

    error = assert_problem(code: 1, status: 400, type: "urn:bearer:problem:invalid-argument") { login.wait(0.01) }
    assert_equal :invalid_argument, error.code_name
  ensure
    login&.close
  end

  def test_loopback_login_times_out_and_stays_usable
    Bearer::LoopbackLogin.start(loopback_config(redirect_uri: "http://127.0.0.1:0/done")) do |login|
      assert login.redirect_uri.end_with?("/done")
      t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      error = assert_problem(code: 6, status: 504, type: "urn:bearer:problem:timeout") { login.wait(0.2) }
      elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
      assert_equal :timeout, error.code_name
      assert_operator elapsed, :>=, 0.19
      assert_operator elapsed, :<, 2
      # A timeout does not finish the login: the browser may still come back.
      browser = Thread.new { Net::HTTP.get_response(URI(browse(login.url))).code }
      assert jwt?(login.wait(10).token)
      assert_equal "200", browser.value
    end
  end

  def test_loopback_forged_callback_is_refused_and_the_login_goes_on
    login = Bearer::LoopbackLogin.start(loopback_config)
    # The forged request first, then the real browser: only the real
    # redirect ends the wait.
    browser = Thread.new do
      forged = Net::HTTP.get_response(URI("#{login.redirect_uri}?code=stolen&state=forged")).code
      [forged, Net::HTTP.get_response(URI(browse(login.url))).code]
    end
    token, delta = counting { login.wait(10) }
    assert_equal %w[400 200], browser.value
    assert jwt?(token.token)
    assert_equal 1, delta["auth0"], "only the real code is exchanged"
  ensure
    login&.close
  end

  def test_loopback_close_twice_and_use_after_close
    login = Bearer::LoopbackLogin.start(loopback_config)
    refute login.closed?
    assert_nil login.close
    assert login.closed?
    assert_nil login.close # twice is harmless
    error = assert_raises(Bearer::ClosedError) { login.wait(0.1) }
    assert_kind_of Bearer::Error, error
    assert_equal "Bearer::LoopbackLogin is closed", error.message
    assert_includes login.inspect, "closed"
    # The listener is gone: its port refuses connections.
    assert_raises(Errno::ECONNREFUSED) { Net::HTTP.get_response(URI(login.redirect_uri)) }
  end

  def test_loopback_block_form_closes_and_returns_the_value
    kept = nil
    value = Bearer::LoopbackLogin.start(loopback_config) { |login| (kept = login) && :done }
    assert_equal :done, value
    assert kept.closed?
    assert_raises(RuntimeError) { Bearer::LoopbackLogin.start(loopback_config) { |l| (kept = l) && raise("boom") } }
    assert kept.closed?
  end

  def test_loopback_unclosed_logins_are_freed_by_gc
    50.times { Bearer::LoopbackLogin.start(loopback_config) }
    GC.start
    pass
  end

  def test_loopback_inputs_are_checked
    Bearer::LoopbackLogin.start(loopback_config) do |login|
      assert_raises(ArgumentError) { login.wait(-1) }
      assert_raises(ArgumentError) { login.wait(Float::INFINITY) }
      assert_raises(ArgumentError) { login.wait(5_000_000) }
      assert_raises(TypeError) { login.wait("1") }
      assert_raises(TypeError) { login.wait(nil) }
    end
    assert_raises(NoMethodError) { Bearer::LoopbackLogin.new(loopback_config) }
    assert_raises(TypeError) { Bearer::LoopbackLogin.start(nil) }
    error = assert_problem(code: 2, status: 400, type: "urn:bearer:problem:invalid-config") do
      Bearer::LoopbackLogin.start(loopback_config(redirect_uri: "https://app.example.com/callback"))
    end
    assert_equal "redirect_uri", error.extensions["key"]
    error = assert_problem(code: 2, status: 400, type: "urn:bearer:problem:invalid-config") do
      Bearer::LoopbackLogin.start(loopback_config(grant_type: "implicit"))
    end
    assert_equal "grant_type", error.extensions["key"]
  end
end
