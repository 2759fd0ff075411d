# frozen_string_literal: true

require "setup"
require "base64"

# Client authentication without a shared secret, against the local server:
# private_key_jwt (RFC 7523) on the suite's server, mutual TLS (RFC 8705) on
# a second one started with tests/tls/server.pem.
module ClientAuthSupport
  KEYS = File.join(LocalServer::ROOT, "tests", "keys")
  TLS = LocalServer::TLS_DIR
  AUDIENCE = "https://beeapp.open-cosmos.com"

  # Every line of the test private keys that could identify one (the PEM
  # armour lines excepted), as tests/run.sh looks for them in the output.
  KEY_LINES = (Dir[File.join(KEYS, "*.key")] + [File.join(TLS, "client.key"), File.join(TLS, "self-signed.key")])
              .flat_map { |path| File.readlines(path, chomp: true) }
              .reject { |line| line.include?("-----") || line.length < 16 }
              .freeze

  def key(name) = File.join(KEYS, name)
  def tls(name) = File.join(TLS, name)

  # The payload of a JWT access token.
  def claims(token)
    payload = token.split(".").fetch(1)
    JSON.parse(Base64.urlsafe_decode64(payload + "=" * (-payload.length % 4)))
  end

  # Every way a caller might print or log the error.
  def renderings(error)
    [error.message, error.to_s, error.inspect, error.full_message(highlight: false),
     error.to_h.to_s, JSON.generate(error.to_h), error.extensions.to_s]
  end

  # Raises unless the block raises Bearer::ProblemError with +code+ and
  # +type+ and no rendering of it shows a line of a key; returns the error.
  def assert_problem(code:, type:)
    error = assert_raises(Bearer::ProblemError) { yield }
    assert_equal code, error.code
    assert_equal type, error.type
    assert_equal "#{error.title}: #{error.detail}", error.message
    renderings(error).each_with_index do |text, i|
      # No refute_includes: its failure message would print the key line.
      refute KEY_LINES.any? { |line| text.include?(line) }, "rendering #{i} shows a line of a private key"
    end
    error
  end

  def assert_invalid_config(key, &block)
    error = assert_problem(code: 2, type: "urn:bearer:problem:invalid-config", &block)
    assert_equal :invalid_config, error.code_name
    assert_equal key, error.extensions["key"]
    assert_equal "#/#{key}", error.instance
    error
  end

  def assert_unauthorized(&block)
    error = assert_problem(code: 3, type: "urn:bearer:problem:unauthorized", &block)
    assert_equal :rejected, error.code_name
    assert_equal 401, error.status
    error
  end
end

class PrivateKeyJwtTest < Minitest::Test
  include ClientAuthSupport

  def jwt_config(**overrides)
    { "client_id" => "jwt-client", "client_auth" => "private_key_jwt",
      "private_key_file" => key("rsa.key"), "audience" => AUDIENCE,
      "token_url" => "#{TestServer.base}/oauth/token" }.merge(overrides.transform_keys(&:to_s))
  end

  # A configuration of its own in the process-wide one-shot cache (whose key
  # is the whole configuration): a query on the token URL would change the
  # assertion's aud, so a unique key_id does it.
  def one_shot_config(**overrides)
    jwt_config(key_id: "kid-#{SecureRandom.hex(6)}", **overrides)
  end

  def token_for(config)
    Bearer::Client.open(config, &:token)
  end

  def test_rsa_key_pkcs8_and_pkcs1
    %w[rsa.key rsa-pkcs1.key].each do |file|
      token, delta = counting { token_for(jwt_config(private_key_file: key(file))) }
      assert jwt?(token), file
      assert_equal "jwt-client@clients", claims(token)["sub"], file
      assert_equal 1, delta["auth0"], file
    end
  end

  def test_ec_key_pkcs8_and_sec1
    %w[ec.key ec-sec1.key].each do |file|
      assert_equal "jwt-client@clients", claims(token_for(jwt_config(private_key_file: key(file))))["sub"], file
    end
    assert_equal "jwt-client@clients",
                 claims(token_for(jwt_config(private_key_file: key("ec.key"), assertion_alg: "ES256")))["sub"]
  end

  def test_ps256_and_rs256_named
    %w[PS256 RS256].each do |alg|
      assert_equal "jwt-client@clients", claims(token_for(jwt_config(assertion_alg: alg)))["sub"], alg
    end
  end

  def test_issuer_as_assertion_audience_with_key_id
    config = jwt_config(assertion_audience: "issuer", issuer: "#{TestServer.base}/", key_id: "test-kid")
    assert_equal "jwt-client@clients", claims(token_for(config))["sub"]
  end

  def test_assertion_audience_token_endpoint_named
    assert_equal "jwt-client@clients", claims(token_for(jwt_config(assertion_audience: "token_endpoint")))["sub"]
  end

  # The server refuses a jti it has seen: a second token needs a fresh assertion.
  def test_two_tokens_in_a_row_each_with_a_fresh_assertion
    Bearer::Client.open(jwt_config) do |client|
      (first, second), delta = counting do
        first = client.token
        assert client.token_refused(first)
        [first, client.token]
      end
      refute_equal first, second
      assert_equal 2, delta["auth0"]
      [first, second].each { |token| assert_equal "jwt-client@clients", claims(token)["sub"] }
    end
  end

  def test_one_shot_and_token_response
    config = one_shot_config
    token = Bearer.fetch_token(config)
    assert_equal "jwt-client@clients", claims(token)["sub"]
    assert_equal token, Bearer.fetch_token(JSON.generate(config))
    assert Bearer.token_refused(config, token)
    refute_equal token, Bearer.fetch_token(config)
    response = Bearer.fetch_token_response(config)
    assert_equal "Bearer", response.token_type
    assert_equal "jwt-client@clients", claims(response.token)["sub"]
  end

  def test_key_the_server_does_not_know_is_unauthorized
    [-> { token_for(jwt_config(private_key_file: key("other.key"))) },
     -> { Bearer.fetch_token(one_shot_config(private_key_file: key("other.key"))) }].each do |call|
      error = assert_unauthorized(&call)
      assert_equal 401, error.extensions["upstream_status"]
      assert_equal "invalid_client", error.extensions["error"]
      assert_equal "#{TestServer.base}/oauth/token", error.instance
    end
  end

  def test_encrypted_key_is_invalid_config
    error = assert_invalid_config("private_key_file") { Bearer::Client.new(jwt_config(private_key_file: key("encrypted.key"))) }
    assert_includes error.detail, "encrypted.key"
  end

  def test_missing_key_file_is_invalid_config
    error = assert_invalid_config("private_key_file") { Bearer::Client.new(jwt_config(private_key_file: key("missing.key"))) }
    assert_includes error.detail, "missing.key"
  end

  def test_public_keys_are_invalid_config
    %w[rsa.pub ec.pub].each do |file|
      error = assert_invalid_config("private_key_file") { Bearer::Client.new(jwt_config(private_key_file: key(file))) }
      assert_includes error.detail, file
    end
  end

  def test_algorithm_that_does_not_suit_the_key_is_invalid_config
    assert_invalid_config("assertion_alg") { Bearer::Client.new(jwt_config(assertion_alg: "ES256")) }
    assert_invalid_config("assertion_alg") do
      Bearer::Client.new(jwt_config(private_key_file: key("ec.key"), assertion_alg: "RS256"))
    end
  end

  def test_client_secret_next_to_private_key_jwt_is_invalid_config
    assert_invalid_config("client_secret") { Bearer::Client.new(jwt_config(client_secret: SECRET)) }
  end

  def test_the_one_shot_call_refuses_alike
    assert_invalid_config("private_key_file") { Bearer.fetch_token(jwt_config(private_key_file: key("encrypted.key"))) }
    assert_invalid_config("assertion_alg") { Bearer.fetch_token_response(jwt_config(assertion_alg: "ES256")) }
  end
end

class MutualTlsTest < Minitest::Test
  include ClientAuthSupport

  def server = TlsTestServer.server

  def mtls_config(**overrides)
    { "client_id" => "mtls-client", "client_auth" => "tls_client_auth",
      "client_cert_file" => tls("client.pem"), "client_key_file" => tls("client.key"),
      "audience" => AUDIENCE, "ca_file" => tls("ca.pem"),
      "token_url" => "#{server.mtls_base}/oauth/token" }.merge(overrides.transform_keys(&:to_s))
  end

  def self_signed_config(**overrides)
    mtls_config(client_id: "mtls-self-signed", client_auth: "self_signed_tls_client_auth",
                client_cert_file: tls("self-signed.pem"), client_key_file: tls("self-signed.key"), **overrides)
  end

  def token_for(config)
    Bearer::Client.open(config, &:token)
  end

  def test_tls_client_auth
    token = token_for(mtls_config)
    assert jwt?(token)
    assert_equal "mtls-client@clients", claims(token)["sub"]
  end

  def test_self_signed_tls_client_auth
    assert_equal "mtls-self-signed@clients", claims(token_for(self_signed_config))["sub"]
  end

  def test_one_shot
    config = mtls_config(token_url: "#{server.mtls_base}/oauth/token?#{unique}")
    assert_equal "mtls-client@clients", claims(Bearer.fetch_token(config))["sub"]
    assert_equal "mtls-client@clients", claims(Bearer.fetch_token_response(config).token)["sub"]
  end

  # The issuer is the HTTPS listener that asks no certificate: the token works
  # only if the discovery document's mtls_endpoint_aliases is followed.
  def test_issuer_follows_the_mtls_endpoint_alias
    config = mtls_config(issuer: "#{server.https_base}/")
    config.delete("token_url")
    Bearer::Client.open(config) do |client|
      assert_equal "mtls-client@clients", claims(client.token)["sub"]
      assert_equal "mtls-client@clients", claims(client.token_response.token)["sub"]
    end
  end

  def test_certificate_not_registered_for_the_client_is_unauthorized
    error = assert_unauthorized do
      token_for(mtls_config(client_cert_file: tls("self-signed.pem"), client_key_file: tls("self-signed.key")))
    end
    assert error.instance.start_with?(server.mtls_base), error.instance
  end

  def test_listener_that_asks_no_certificate_is_unauthorized
    error = assert_unauthorized { token_for(mtls_config(token_url: "#{server.https_base}/oauth/token")) }
    assert error.instance.start_with?(server.https_base), error.instance
  end

  def test_certificate_without_its_key_is_invalid_config
    config = mtls_config
    config.delete("client_key_file")
    assert_invalid_config("client_key_file") { Bearer::Client.new(config) }
    assert_invalid_config("client_key_file") { Bearer.fetch_token(config) }
  end
end
