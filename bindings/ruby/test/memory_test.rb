# frozen_string_literal: true

require "setup"

# 100,000 calls through every path that returns a library string (token,
# header, token response, problem, authorization request, token_refused) must leave RSS flat: a leaked 1 KB string
# per call would add about 100 MB.
class MemoryTest < Minitest::Test
  CALLS = 100_000
  WARMUP = 10_000
  BOUND = 6 * 1024 * 1024

  def rss
    GC.start
    GC.start
    File.read("/proc/self/status")[/^VmRSS:\s+(\d+) kB/, 1].to_i * 1024
  end

  def test_memory_stays_flat
    client = Bearer::Client.new(auth0_config(token_url: auth0_url("expires_in=3600")))
    missing = JSON.generate(auth0_config.tap { |c| c.delete("client_secret") })
    one_shot = auth0_config(token_url: auth0_url("expires_in=3600"))
    # authorize_start makes no request (no issuer to discover).
    sign_in = { "client_id" => "native-client", "grant_type" => "authorization_code",
                "redirect_uri" => "http://127.0.0.1:9/callback", "authorize_url" => "#{TestServer.base}/authorize" }
    work = lambda do |i|
      case i % 8
      when 0 then client.token
      when 1 then client.authorization_header
      when 2 then client.token_response
      when 3 then Bearer.fetch_token(one_shot)
      when 4 then Bearer.authorize_start(sign_in).url
      when 5 then client.token_refused("not-the-current-token")
      when 6
        begin
          Bearer.token_refused("{", "x")
        rescue Bearer::ProblemError => e
          e.message
        end
      else
        begin
          Bearer.fetch_token(missing)
        rescue Bearer::ProblemError => e
          e.message
        end
      end
    end
    WARMUP.times(&work)
    before = rss
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    CALLS.times(&work)
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    after = rss
    growth = after - before
    puts format("\n  memory: %d calls (after %d warm-up) in %.1f s; VmRSS before %.1f MiB, after %.1f MiB, " \
                "growth %+.2f MiB (bound %d MiB)",
                CALLS, WARMUP, elapsed, before / 1048576.0, after / 1048576.0, growth / 1048576.0, BOUND / 1048576)
    assert_operator growth, :<, BOUND
  ensure
    client&.close
  end
end
