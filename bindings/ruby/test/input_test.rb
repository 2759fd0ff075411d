# frozen_string_literal: true

require "setup"

class InputTest < Minitest::Test
  CALLS = {
    fetch_token: ->(c) { Bearer.fetch_token(c) },
    fetch_token_response: ->(c) { Bearer.fetch_token_response(c) },
    client_new: ->(c) { Bearer::Client.new(c) }
  }.freeze

  def each_call(&block)
    CALLS.each_value(&block)
  end

  def test_nil_is_a_type_error
    each_call { |call| assert_raises(TypeError) { call.call(nil) } }
  end

  def test_other_types_are_type_errors
    each_call do |call|
      assert_raises(TypeError) { call.call(42) }
      assert_raises(TypeError) { call.call([1, 2]) }
    end
  end

  def test_embedded_nul_is_an_argument_error
    each_call { |call| assert_raises(ArgumentError) { call.call("{\"client_id\":\"a\0b\"}") } }
  end

  def test_empty_and_malformed_are_invalid_config
    ["", "{", "[]", "null", "   "].each do |text|
      each_call do |call|
        error = assert_raises(Bearer::ProblemError) { call.call(text) }
        assert_equal 2, error.code, text.inspect
        assert_equal "urn:bearer:problem:invalid-config", error.type
        assert_equal 400, error.status
      end
    end
  end

  def test_empty_hash_is_invalid_config
    each_call do |call|
      error = assert_raises(Bearer::ProblemError) { call.call({}) }
      assert_equal 2, error.code
    end
  end

  def test_invalid_utf8_string_is_invalid_argument
    bad = JSON.generate(auth0_config).sub("demo-client", "demo-\xff-client".b).b
    refute bad.dup.force_encoding(Encoding::UTF_8).valid_encoding?
    [bad, bad.dup.force_encoding(Encoding::UTF_8)].each do |text|
      each_call do |call|
        error = assert_raises(Bearer::ProblemError) { call.call(text) }
        assert_equal 1, error.code
        assert_equal :invalid_argument, error.code_name
        assert_equal "urn:bearer:problem:invalid-argument", error.type
        assert_equal 400, error.status
      end
    end
  end

  def test_invalid_utf8_in_hash_value_is_invalid_argument
    config = auth0_config(client_id: "demo-\xff-client")
    each_call do |call|
      error = assert_raises(Bearer::ProblemError) { call.call(config) }
      assert_equal 1, error.code
      assert_equal "urn:bearer:problem:invalid-argument", error.type
    end
  end

  def test_hash_with_nested_values_and_escapes
    # extra_params goes through as an object; quotes and newlines survive.
    config = auth0_config(extra_params: { "organization" => "org \"1\"\n" })
    assert jwt?(Bearer.fetch_token(config))
  end

  def test_other_encodings_are_converted
    text = JSON.generate(auth0_config).encode(Encoding::UTF_16LE)
    assert jwt?(Bearer.fetch_token(text))
  end

  def test_closed_client_raises
    client = Bearer::Client.new(auth0_config)
    assert jwt?(client.token)
    assert_nil client.close
    assert client.closed?
    %i[token token_response authorization_header].each do |name|
      error = assert_raises(Bearer::ClosedError) { client.public_send(name) }
      assert_kind_of Bearer::Error, error
      assert_match(/closed/, error.message)
    end
    assert_nil client.close # twice is harmless
    assert_includes client.inspect, "closed"
  end

  def test_block_form_closes_on_exception
    kept = nil
    assert_raises(RuntimeError) do
      Bearer::Client.open(auth0_config) do |c|
        kept = c
        raise "boom"
      end
    end
    assert kept.closed?
  end

  def test_unclosed_clients_are_freed_by_gc
    200.times { Bearer::Client.new(auth0_config) }
    GC.start
    pass
  end

  def test_close_waits_for_calls_in_flight
    client = Bearer::Client.new(auth0_config(token_url: auth0_url("fault=stall&stall_ms=300")))
    caller_thread = Thread.new { client.token }
    deadline = Time.now + 2
    sleep 0.005 until client_active?(client) || Time.now > deadline
    assert client_active?(client), "the call never started"
    client.close
    assert jwt?(caller_thread.value)
    assert_raises(Bearer::ClosedError) { client.token }
  end

  private

  def client_active?(client)
    client.instance_variable_get(:@active).positive?
  end
end
