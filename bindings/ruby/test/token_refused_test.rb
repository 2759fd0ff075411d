# frozen_string_literal: true

require "setup"

# Client#token_refused and Bearer.token_refused: compare-and-invalidate,
# at most one drop per client every two seconds.
class TokenRefusedTest < Minitest::Test
  def test_current_token_is_dropped_and_replaced
    Bearer::Client.open(auth0_config) do |client|
      old = client.token
      assert_equal true, client.token_refused(old)
      fresh, delta = counting { client.token }
      refute_equal old, fresh
      assert_equal 1, delta["auth0"]
    end
  end

  def test_a_token_already_replaced_is_not_dropped
    Bearer::Client.open(auth0_config) do |client|
      old = client.token
      assert client.token_refused(old)
      fresh = client.token
      assert_equal false, client.token_refused(old)
      assert_equal fresh, client.token
    end
  end

  def test_second_drop_within_two_seconds_is_refused_by_the_window
    Bearer::Client.open(auth0_config) do |client|
      assert client.token_refused(client.token)
      fresh = client.token
      assert_equal false, client.token_refused(fresh)
      same, delta = counting { client.token }
      assert_equal fresh, same
      assert_equal 0, delta["auth0"]
    end
  end

  def test_one_shot
    config = auth0_config
    old = Bearer.fetch_token(config)
    assert_equal true, Bearer.token_refused(config, old)
    fresh = Bearer.fetch_token(JSON.generate(config))
    refute_equal old, fresh
    assert_equal false, Bearer.token_refused(config, old)
    assert_equal fresh, Bearer.fetch_token(config)
  end

  def test_invalid_arguments
    Bearer::Client.open(auth0_config) do |client|
      assert_raises(TypeError) { client.token_refused(nil) }
      assert_raises(ArgumentError) { client.token_refused("a\0b") }
      client.close
      assert_raises(Bearer::ClosedError) { client.token_refused("x") }
    end
    assert_raises(TypeError) { Bearer.token_refused(auth0_config, nil) }
    assert_raises(TypeError) { Bearer.token_refused(nil, "x") }
    error = assert_raises(Bearer::ProblemError) { Bearer.token_refused("{", "x") }
    assert_equal :invalid_config, error.code_name
  end
end
