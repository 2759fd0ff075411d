# frozen_string_literal: true

require "setup"
require "bearer/net_http"
require "bearer/faraday"

# Bearer::NetHTTP and Bearer::Faraday against the local server's protected
# resource (/api/...), each test once per integration. Every test takes a
# fresh client (each has its own two-second window) and fetches its token
# before counting, so the deltas count only what the request caused.
class HttpIntegrationsTest < Minitest::Test
  # How each integration sends one request: [status, parsed JSON body or
  # raw body, WWW-Authenticate, Location].
  DRIVERS = {
    net_http: lambda do |client, method, url, body: nil, stream: nil, retry_on_refusal: true|
      uri = URI(url)
      Net::HTTP.start(uri.host, uri.port) do |http|
        http.extend(Bearer::NetHTTP.for(client, retry_on_refusal: retry_on_refusal))
        request = (method == :post ? Net::HTTP::Post : Net::HTTP::Get).new(uri)
        request["Content-Type"] = "text/plain" if method == :post
        request.body = body if body
        if stream
          request.body_stream = stream.first
          request["Content-Length"] = stream.last.to_s
        end
        response = http.request(request)
        [response.code.to_i, response.body, response["WWW-Authenticate"], response["Location"]]
      end
    end,
    faraday: lambda do |client, method, url, body: nil, stream: nil, retry_on_refusal: true|
      conn = Faraday.new do |f|
        f.request :bearer, client, retry_on_refusal: retry_on_refusal
        f.adapter :net_http
      end
      headers = method == :post ? { "Content-Type" => "text/plain" } : {}
      headers["Content-Length"] = stream.last.to_s if stream
      response = conn.run_request(method, url, stream ? stream.first : body, headers)
      [response.status, response.body, response.headers["WWW-Authenticate"], response.headers["Location"]]
    end
  }.freeze

  def send_with(name, client, method, path, base: TestServer.base, **options)
    status, body, challenge, location = DRIVERS.fetch(name).call(client, method, "#{base}#{path}", **options)
    json = begin
      JSON.parse(body)
    rescue JSON::ParserError, TypeError
      nil
    end
    [status, json, challenge, location]
  end

  def revoke
    Net::HTTP.post(URI("#{TestServer.base}/_revoke"), "", "Content-Type" => "text/plain")
  end

  # A fresh client that already holds a token.
  def warm_client(&block)
    Bearer::Client.open(auth0_config) do |client|
      client.token
      block.call(client)
    end
  end

  # A request body that can be read once: a pipe holding +text+.
  def read_once(text)
    reader, writer = IO.pipe
    writer.write(text)
    writer.close
    [reader, text.bytesize]
  end

  def self.each_integration(what, &body)
    DRIVERS.each_key do |name|
      define_method("test_#{name}_#{what}") { instance_exec(name, &body) }
    end
  end

  each_integration "attaches_one_authorization_header" do |name|
    warm_client do |client|
      (status, json), delta = counting { send_with(name, client, :get, "/api/whoami") }
      assert_equal 200, status
      assert_equal "demo-client@clients", json["sub"]
      assert_equal 1, json["headers"].count("authorization"), json["headers"].inspect
      assert_equal 0, delta["auth0"]
      assert_equal 1, delta["api"]
    end
  end

  each_integration "sends_nothing_without_a_token" do |name|
    Bearer::Client.open(auth0_config(client_secret: "wrong")) do |client|
      error = nil
      _, delta = counting do
        error = assert_raises(Bearer::ProblemError) { send_with(name, client, :get, "/api/whoami") }
      end
      assert_equal :rejected, error.code_name
      assert_equal({ "auth0" => 1, "api" => 0 }, delta.slice("auth0", "api"))
    end
  end

  each_integration "retries_once_with_a_new_token_after_revoke" do |name|
    warm_client do |client|
      old = client.token
      _, plain = send_with(name, client, :get, "/api/whoami?q=1")
      revoke
      (status, json), delta = counting { send_with(name, client, :get, "/api/whoami?q=1") }
      assert_equal 200, status
      assert_equal 1, json["headers"].count("authorization")
      # No retry marker: the retry carries the same headers and URL as a first attempt.
      assert_equal plain["headers"].sort, json["headers"].sort
      assert_equal plain["path"], json["path"]
      assert_equal({ "auth0" => 1, "api" => 2, "api_refused" => 1 }, delta.slice("auth0", "api", "api_refused"))
      refute_equal old, client.token
    end
  end

  each_integration "sixteen_concurrent_requests_after_revoke_make_one_token_request" do |name|
    warm_client do |client|
      revoke
      ready = Queue.new
      go = Queue.new
      statuses, delta = counting do
        threads = Array.new(16) do
          Thread.new do
            ready << true
            go.pop
            send_with(name, client, :get, "/api/whoami").first
          end
        end
        16.times { ready.pop }
        16.times { go << true }
        threads.map(&:value)
      end
      assert_equal [200] * 16, statuses
      assert_equal 1, delta["auth0"]
    end
  end

  each_integration "passes_403_insufficient_scope_through" do |name|
    warm_client do |client|
      (status, _, challenge), delta = counting { send_with(name, client, :get, "/api/admin") }
      assert_equal 403, status
      assert_includes challenge, 'error="insufficient_scope"'
      assert_equal({ "auth0" => 0, "api" => 1 }, delta.slice("auth0", "api"))
    end
  end

  each_integration "returns_the_401_of_the_retry" do |name|
    warm_client do |client|
      (status, json, challenge), delta = counting { send_with(name, client, :get, "/api/refuse") }
      assert_equal 401, status
      assert_equal "invalid_token", json["error"]
      assert_includes challenge, 'error="invalid_token"'
      assert_equal({ "auth0" => 1, "api" => 2 }, delta.slice("auth0", "api"))
    end
  end

  each_integration "replays_a_post_body" do |name|
    warm_client do |client|
      revoke
      body = "a body \u2603 to send twice"
      (status, json), delta = counting { send_with(name, client, :post, "/api/echo", body: body) }
      assert_equal 200, status
      assert_equal "POST", json["method"]
      assert_equal body, json["body"]
      assert_equal({ "auth0" => 1, "api" => 2 }, delta.slice("auth0", "api"))
    end
  end

  each_integration "returns_the_401_when_the_body_cannot_be_replayed" do |name|
    warm_client do |client|
      revoke
      (status, json), delta = counting do
        send_with(name, client, :post, "/api/echo", stream: read_once("read once"))
      end
      assert_equal 401, status
      assert_equal "invalid_token", json["error"]
      assert_equal 1, delta["api"]
      # The refusal was reported: the next request gets a new token.
      (status, json), delta = counting { send_with(name, client, :post, "/api/echo", body: "again") }
      assert_equal 200, status
      assert_equal "again", json["body"]
      assert_equal({ "auth0" => 1, "api" => 1 }, delta.slice("auth0", "api"))
    end
  end

  # Neither Net::HTTP nor Faraday (without faraday_middleware's
  # FollowRedirects) follows a redirect: the 302 comes back and the other
  # origin is never asked, so the token goes nowhere else.
  each_integration "does_not_send_the_token_to_another_origin" do |name|
    other = LocalServer.new
    begin
      target = "#{other.base}/api/open"
      before = other.stats
      warm_client do |client|
        status, _, _, location = send_with(name, client, :get, "/api/redirect?to=#{URI.encode_www_form_component(target)}")
        assert_equal 302, status
        assert_equal target, location
      end
      assert_equal 0, other.stats["api"] - before["api"]
      # What the user then does with the Location, with a plain client:
      json = JSON.parse(Net::HTTP.get(URI(target)))
      assert_equal false, json["authorization"]
    ensure
      other.stop
    end
  end

  # Net::HTTP's block form: the block sees the answer to the retry only, and
  # a connection not yet started starts and goes through the module too.
  def test_net_http_block_sees_only_the_final_response
    warm_client do |client|
      uri = URI(TestServer.base)
      http = Net::HTTP.new(uri.host, uri.port)
      http.extend(Bearer::NetHTTP.for(client))
      revoke
      seen = []
      response, delta = counting do
        http.request(Net::HTTP::Get.new("/api/whoami")) { |res| seen << [res.code, res.read_body] }
      end
      assert_equal "200", response.code
      assert_equal 1, seen.size
      assert_equal "200", seen.first.first
      assert_equal "demo-client@clients", JSON.parse(seen.first.last)["sub"]
      assert_equal({ "auth0" => 1, "api" => 2 }, delta.slice("auth0", "api"))
    end
  end

  each_integration "reports_but_does_not_retry_when_retry_is_off" do |name|
    warm_client do |client|
      old = client.token
      revoke
      (status, json), delta = counting { send_with(name, client, :get, "/api/whoami", retry_on_refusal: false) }
      assert_equal 401, status
      assert_equal "invalid_token", json["error"]
      assert_equal({ "auth0" => 0, "api" => 1 }, delta.slice("auth0", "api"))
      (status, json), delta = counting { send_with(name, client, :get, "/api/whoami", retry_on_refusal: false) }
      assert_equal 200, status
      assert_equal 1, json["headers"].count("authorization")
      assert_equal({ "auth0" => 1, "api" => 1 }, delta.slice("auth0", "api"))
      refute_equal old, client.token
    end
  end
end
