# frozen_string_literal: true

require "setup"
require "bearer/refusal"

# Which 401s are refusals of the token (shared by both integrations), and
# that the Faraday integration stays optional.
class RefusalTest < Minitest::Test
  def test_refusals
    refused = [
      [401, nil], [401, ""], [401, 'Bearer realm="api"'], [401, "Bearer"],
      [401, 'Bearer realm="api", error="invalid_token", error_description="expired"'],
      [401, 'bearer error=invalid_token'],
      [401, 'Basic realm="x", Bearer realm="api", error="invalid_token"'],
      [401, 'Bearer realm="a, b", error="invalid_token"']
    ]
    refused.each { |status, header| assert Bearer::Refusal.refused?(status, header), header.inspect }
  end

  def test_not_refusals
    kept = [
      [200, nil], [403, 'Bearer realm="api", error="insufficient_scope", scope="admin"'], [500, nil],
      [401, 'Bearer realm="api", error="invalid_request"'],
      [401, 'Bearer error="insufficient_scope"'],
      [401, 'Basic realm="x"'],
      [401, 'Bearer realm="api", error="invalid_request", Basic realm="error=\"invalid_token\""']
    ]
    kept.each { |status, header| refute Bearer::Refusal.refused?(status, header), "#{status} #{header.inspect}" }
  end

  def test_replayable_bodies
    assert Bearer::Refusal.replayable?(nil)
    assert Bearer::Refusal.replayable?("text")
    assert Bearer::Refusal.replayable?(StringIO.new("text").tap(&:read))
    reader, writer = IO.pipe
    refute Bearer::Refusal.replayable?(reader)
    refute Bearer::Refusal.replayable?(Object.new)
  ensure
    reader&.close
    writer&.close
  end

  def test_require_bearer_does_not_load_faraday
    out, err, status = ruby_subprocess('require "bearer"; require "bearer/net_http"; ' \
                                       'print defined?(::Faraday).inspect, " ", $LOADED_FEATURES.grep(/faraday/).size')
    assert status.success?, err
    assert_equal "nil 0", out
  end

  # With raise_error inside it (added after), the middleware still sees the
  # refusal, retries, and the caller gets the retry's answer.
  def test_faraday_handles_the_401_that_raise_error_raises
    require "bearer/faraday"
    Bearer::Client.open(auth0_config) do |client|
      conn = Faraday.new(url: TestServer.base) do |f|
        f.request :bearer, client
        f.response :raise_error
      end
      client.token
      Net::HTTP.post(URI("#{TestServer.base}/_revoke"), "", "Content-Type" => "text/plain")
      response, delta = counting { conn.get("/api/whoami") }
      assert_equal 200, response.status
      assert_equal 1, delta["auth0"]
      error = assert_raises(Faraday::UnauthorizedError) { conn.get("/api/refuse") }
      assert_equal 401, error.response[:status]
    end
  end
end
