# frozen_string_literal: true

# A few thousand mixed calls through the gem, for bindings/valgrind.sh:
# clients made and closed, tokens, token responses, headers, one-shot
# fetches, every kind of error, authorize_start, token_refused, device
# sign-ins (approved, cancelled, misconfigured), and threads sharing one
# client. Prints what it did; exits 1 on any unexpected outcome.
#
#   BEARER_STRESS_CALLS=3000 ruby -Ilib -Itest test/stress.rb

require "socket"
require "bearer"
require_relative "test_server"

module Stress
  extend BearerTestSupport

  CANARY = "canary-SECRET-7f3a9c2e1b"
  THREADS = 4
  APP_REDIRECT = "http://127.0.0.1:9/callback"

  class << self
    def expect_problem(code, type_suffix)
      yield
      raise "no problem raised, expected #{type_suffix}"
    rescue Bearer::ProblemError => e
      raise "the secret crossed the boundary" if "#{e.message} #{e.to_h}".include?(CANARY)
      raise "code #{e.code_name}, expected #{code}: #{e.message}" unless e.code_name == code
      raise "type #{e.type}, expected *#{type_suffix}" unless e.type.end_with?(type_suffix)
    end

    def check(condition, what)
      raise what unless condition
    end

    def closed_port
      server = TCPServer.new("127.0.0.1", 0)
      server.addr[1]
    ensure
      server&.close
    end

    def run(calls)
      dead = "http://127.0.0.1:#{closed_port}/oauth/token"
      one_shot = cobuilder_config
      shared = Bearer::Client.new(auth0_config)
      native = { "client_id" => "native-client", "grant_type" => "authorization_code",
                 "audience" => "https://beeapp.open-cosmos.com", "redirect_uri" => APP_REDIRECT,
                 "authorize_url" => "#{TestServer.base}/authorize", "token_url" => auth0_url }
      ops = {
        "client" => [6, lambda {
          config = @cycles.to_i.even? ? auth0_config : cobuilder_config
          @cycles = @cycles.to_i + 1
          Bearer::Client.open(config) do |client|
            token = client.token
            check(jwt?(token) || !token.empty?, "empty token")
            check(client.token == token, "the client did not cache")
            check(client.authorization_header == "Bearer #{token}", "header")
            check(client.token_response.token == token, "token response")
          end
        }],
        "shared" => [3, lambda {
          token = shared.token
          check(shared.authorization_header == "Bearer #{token}", "header")
          check(shared.token_response.token == token, "token response")
        }],
        "one-shot" => [2, lambda {
          check(Bearer.fetch_token(one_shot) == Bearer.fetch_token_response(one_shot).token, "one-shot")
        }],
        "wrong-secret" => [1, lambda {
          config = auth0_config(client_secret: CANARY)
          expect_problem(:rejected, ":unauthorized") { Bearer.fetch_token(config) }
        }],
        "closed-port" => [2, lambda {
          config = auth0_config(token_url: dead, timeout_ms: 2000)
          expect_problem(:unavailable, ":unreachable") { Bearer::Client.new(config).token }
        }],
        "invalid-config" => [2, lambda {
          expect_problem(:invalid_config, ":invalid-config") { Bearer::Client.new('{"client_id": ') }
          bad_key = auth0_config(client_secrett: CANARY)
          expect_problem(:invalid_config, ":invalid-config") { Bearer.fetch_token(bad_key) }
        }],
        "refused" => [5, lambda {
          Bearer::Client.open(auth0_config) do |client|
            token = client.token
            check(client.token_refused(token) == true, "the current token was not dropped")
            fresh = client.token
            check(fresh != token, "no new token after a drop")
            check(client.token_refused(token) == false, "a replaced token was dropped")
          end
          expect_problem(:invalid_config, ":invalid-config") { Bearer.token_refused('{"client_id": ', "x") }
        }],
        "invalid-utf8" => [1, lambda {
          text = "{\"client_id\": \"\xFF\xFE\", \"client_secret\": \"#{CANARY}\"}".b
          expect_problem(:invalid_argument, ":invalid-argument") { Bearer.fetch_token(text) }
        }],
        "authorize" => [2, lambda {
          request = Bearer.authorize_start(native)
          check(request.url.start_with?("#{TestServer.base}/authorize?"), "authorize URL")
          forged = "#{APP_REDIRECT}?code=x&state=not-#{request.state}"
          expect_problem(:invalid_argument, ":invalid-callback") do
            Bearer.authorize_complete(native, request, forged)
          end
        }],
        "device" => [3, lambda {
          device = { "client_id" => "native-client", "audience" => "https://beeapp.open-cosmos.com",
                     "device_authorization_url" => "#{TestServer.base}/oauth/device/code?interval=0",
                     "token_url" => "#{TestServer.base}/oauth/token", "scope" => "openid offline_access" }
          Bearer::DeviceLogin.start(device) do |login|
            query = URI.encode_www_form(user_code: login.user_code, action: "approve")
            Net::HTTP.post(URI("#{TestServer.base}/_device?#{query}"), "", "Content-Type" => "text/plain")
            check(jwt?(login.poll["access_token"]), "device token")
          end
          Bearer::DeviceLogin.start(device) do |login|
            login.cancel
            expect_problem(:cancelled, ":cancelled") { login.poll }
          end
          expect_problem(:invalid_config, ":invalid-config") { Bearer::DeviceLogin.start("client_id" => "x") }
        }],
        "threads" => [THREADS * 10, lambda {
          errors = Queue.new
          THREADS.times.map do
            Thread.new do
              5.times do
                token = shared.token
                check(shared.authorization_header == "Bearer #{token}", "header in a thread")
              end
            rescue StandardError => e
              errors << e
            end
          end.each { |t| t.join(60) }
          raise errors.pop unless errors.empty?
        }]
      }
      mix = %w[client shared shared one-shot wrong-secret closed-port invalid-config invalid-utf8
               authorize shared client wrong-secret one-shot shared refused device]
      counts = Hash.new(0)
      failures = []
      done = 0
      i = 0
      while done < calls
        name = mix[i % mix.size]
        name = "threads" if i % (mix.size * 8) == mix.size * 4
        i += 1
        cost, op = ops.fetch(name)
        begin
          op.call
        rescue StandardError => e
          failures << "#{name}: #{e.class}: #{e.message}"
        end
        counts[name] += 1
        done += cost
      end
      ops.fetch("threads")[1].call
      done += THREADS * 10
      shared.close
      Bearer.global_cleanup
      summary = counts.sort.map { |k, v| "#{k} #{v}" }.join(", ")
      puts "ruby stress: #{done} calls (#{summary}), #{failures.size} unexpected"
      failures.first(10).each { |line| puts "  #{line}" }
      failures.empty?
    end
  end
end

TestServer.start
begin
  ok = Stress.run(Integer(ENV.fetch("BEARER_STRESS_CALLS", "3000")))
ensure
  TestServer.stop
end
exit(ok ? 0 : 1)
