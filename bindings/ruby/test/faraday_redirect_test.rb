# frozen_string_literal: true

require "setup"
require "bearer/faraday"

# Faraday follows no redirect by itself; users add faraday_middleware's
# FollowRedirects (Debian ruby-faraday-middleware, not needed here). This
# follower does what it does (a hop is the same env with the new URL and
# the response cleared), keeping Authorization unless told to drop it
# across origins, and stands on either side of the bearer middleware.
class FaradayRedirectTest < Minitest::Test
  class Follower < Faraday::Middleware
    def initialize(app, drop_authorization: false)
      super(app)
      @drop = drop_authorization
    end

    def call(env)
      response = @app.call(env)
      return response unless [301, 302, 303, 307, 308].include?(response.status)

      hop = env.dup
      hop.url = URI.join(env.url.to_s, response.headers["Location"])
      hop.method = :get
      hop.request_body = nil
      hop.status = hop.response = hop.response_headers = nil
      hop.request_headers.delete("Authorization") if @drop && hop.url.port != env.url.port
      @app.call(hop)
    end
  end

  def setup
    @other = LocalServer.new
  end

  def teardown
    @other.stop
  end

  def connection(client, follower_first:)
    Faraday.new(url: TestServer.base) do |f|
      if follower_first
        f.use Follower
        f.request :bearer, client
      else
        f.request :bearer, client
        f.use Follower, drop_authorization: true
      end
    end
  end

  def redirected(conn, target)
    response = conn.get("/api/redirect", to: target)
    [response.status, JSON.parse(response.body)]
  end

  # In front of the middleware, each hop passes through it: the hop to
  # another origin goes without the token, even from a follower that keeps
  # the header.
  def test_a_hop_to_another_origin_goes_without_the_token
    Bearer::Client.open(auth0_config) do |client|
      conn = connection(client, follower_first: true)
      status, json = redirected(conn, "#{@other.base}/api/open")
      assert_equal 200, status
      assert_equal false, json["authorization"]
      status, json = redirected(conn, "#{TestServer.base}/api/whoami")
      assert_equal 200, status, "the same origin keeps it"
      assert_equal 1, json["headers"].count("authorization")
    end
  end

  # Behind it (the usual order), the follower drops the header; a 401 from
  # the other origin then says nothing about the token: it comes back, and
  # nothing is reported.
  def test_a_401_from_another_origin_is_not_a_refusal
    Bearer::Client.open(auth0_config) do |client|
      token = client.token
      conn = connection(client, follower_first: false)
      status, json = redirected(conn, "#{@other.base}/api/open")
      assert_equal 200, status
      assert_equal false, json["authorization"]
      (status, json), delta = counting { redirected(conn, "#{@other.base}/api/whoami") }
      assert_equal 401, status
      assert_equal "unauthorized", json["error"]
      assert_equal({ "auth0" => 0, "api" => 1 }, delta.slice("auth0", "api"))
      assert_equal token, client.token
    end
  end
end
