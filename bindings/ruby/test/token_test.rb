# frozen_string_literal: true

require "setup"

class TokenTest < Minitest::Test
  def test_version
    assert_equal "0.1.0", Bearer.version
    assert_equal Encoding::UTF_8, Bearer.version.encoding
  end

  def test_one_shot_auth0_hash_and_json_string
    config = auth0_config
    token = Bearer.fetch_token(config)
    assert jwt?(token), token
    assert_equal Encoding::UTF_8, token.encoding
    # Same configuration as a JSON string: the process-wide cache answers.
    same, delta = counting { Bearer.fetch_token(JSON.generate(config)) }
    assert_equal token, same
    assert_equal 0, delta["auth0"]
  end

  def test_one_shot_cobuilder
    token, delta = counting { Bearer.fetch_token(cobuilder_config) }
    assert jwt?(token), token
    assert_equal 1, delta["cobuilder"]
  end

  def test_one_shot_is_cached_process_wide
    config = auth0_config
    (first, second), delta = counting { [Bearer.fetch_token(config), Bearer.fetch_token(config)] }
    assert_equal first, second
    assert_equal({ "auth0" => 1, "cobuilder" => 0 }, delta.slice("auth0", "cobuilder"))
  end

  def test_one_shot_token_response
    response = Bearer.fetch_token_response(auth0_config(scope: "read:things"))
    assert_kind_of Bearer::AccessToken, response
    assert jwt?(response.token)
    assert_equal "Bearer", response.token_type
    assert_equal "read:things", response.scope
    assert_in_delta 86_400, response.expires_in, 5
    assert_in_delta Time.now.to_i + response.expires_in, response.expires_at, 5
  end

  def test_client_auth0_symbol_keys
    config = auth0_config.transform_keys(&:to_sym)
    Bearer::Client.open(config) do |client|
      token = client.token
      assert jwt?(token)
      assert_equal "Bearer #{token}", client.authorization_header
    end
  end

  def test_client_cobuilder_json_string
    Bearer::Client.open(JSON.generate(cobuilder_config)) do |client|
      token = client.token
      assert jwt?(token)
      assert_equal "Bearer #{token}", client.authorization_header
      response = client.token_response
      assert_equal token, response.token
      assert_equal token, response["access_token"]
      assert_equal "Bearer #{token}", response.authorization_header
      refute response.expired?
    end
  end

  def test_client_token_response_fields
    Bearer::Client.open(auth0_config(token_url: auth0_url("expires_in=3600"))) do |client|
      response = client.token_response
      hash = response.to_h
      assert_equal %w[access_token token_type expires_in expires_at], hash.keys
      assert_equal client.token, response.token
      assert_equal "Bearer", hash["token_type"]
      assert_in_delta 3600, response.expires_in, 5
      assert_kind_of Integer, response.expires_at
      assert_empty response.params
      refute_includes response.inspect, response.token
    end
  end

  def test_client_caches_one_request
    client = Bearer::Client.new(auth0_config)
    (first, second, header), delta = counting { [client.token, client.token, client.authorization_header] }
    assert_equal first, second
    assert_equal "Bearer #{first}", header
    assert_equal({ "auth0" => 1, "cobuilder" => 0 }, delta.slice("auth0", "cobuilder"))
  ensure
    client&.close
  end

  def test_no_request_until_asked
    _, delta = counting { Bearer::Client.new(auth0_config).close }
    assert_equal 0, delta["auth0"]
  end

  def test_open_returns_block_value_and_closes
    kept = nil
    value = Bearer::Client.open(auth0_config) { |c| (kept = c) && :done }
    assert_equal :done, value
    assert kept.closed?
  end

  def test_global_cleanup_keeps_clients_working
    Bearer::Client.open(auth0_config) do |client|
      token = client.token
      assert_nil Bearer.global_cleanup
      assert_equal token, client.token
    end
  end
end
