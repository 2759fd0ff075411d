# frozen_string_literal: true

# The local authorization server (target/release/bearer serve --port 0), for
# the suite (setup.rb) and the stress program (stress.rb).

require "json"
require "net/http"
require "securerandom"

# One `target/release/bearer serve --port 0`; the suite shares one
# (TestServer), and a test that needs to stop a server starts its own.
class LocalServer
  ROOT = File.expand_path("../../..", __dir__)
  BINARY = File.join(ROOT, "target", "release", "bearer")

  TLS_DIR = File.join(ROOT, "tests", "tls")

  # base: the plain HTTP listener. With tls: true the server also listens
  # with tests/tls/server.pem on https_base (no client certificate asked)
  # and on mtls_base (a client certificate required).
  attr_reader :base, :https_base, :mtls_base, :pid

  def initialize(tls: false)
    raise "missing #{BINARY}: run `cargo build --release` in #{ROOT}" unless File.executable?(BINARY)

    args = ["serve", "--port", "0"]
    args += ["--tls-cert", File.join(TLS_DIR, "server.pem"), "--tls-key", File.join(TLS_DIR, "server.key")] if tls
    reader, writer = IO.pipe
    @pid = Process.spawn(BINARY, *args, out: writer, err: File::NULL)
    writer.close
    line = reader.gets or raise "bearer serve printed nothing"
    @reader = reader # kept open so the server never writes to a closed pipe
    @base = line[%r{listening on (http://127\.0\.0\.1:\d+)}, 1] or raise "unexpected first line: #{line.inspect}"
    read_tls_listeners if tls
  end

  def stop
    return unless @pid

    Process.kill("TERM", @pid)
    Process.wait(@pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    @pid = nil
  end

  # Reads the lines up to the mutual-TLS listener's:
  # "https listening on https://127.0.0.1:Q", then
  # "mutual-TLS listening on https://127.0.0.1:R".
  def read_tls_listeners
    until @mtls_base
      line = @reader.gets or raise "bearer serve --tls-cert printed no mutual-TLS listener"
      @https_base ||= line[%r{\Ahttps listening on (https://127\.0\.0\.1:\d+)}, 1]
      @mtls_base = line[%r{\Amutual-TLS listening on (https://127\.0\.0\.1:\d+)}, 1]
    end
    raise "bearer serve --tls-cert printed no https listener" unless @https_base
  end
  private :read_tls_listeners

  # {"auth0" => N, "cobuilder" => M, "authorize" => ..., "refresh" => ..., ...}:
  # compare deltas of the keys a test means, since the server may add keys.
  def stats
    JSON.parse(Net::HTTP.get(URI("#{base}/_stats")))
  end
end

# The server the whole run shares.
module TestServer
  class << self
    def start
      @server = LocalServer.new
    end

    def stop
      @server&.stop
    end

    def base
      @server.base
    end

    def stats
      @server.stats
    end
  end
end

# A second server with the TLS listeners (mutual TLS), started by the first
# test that asks for it and stopped after the run.
module TlsTestServer
  def self.server
    @server ||= LocalServer.new(tls: true).tap { |server| Minitest.after_run { server.stop } }
  end
end

# Configurations against the local server, for tests and the stress program.
module BearerTestSupport
  SECRET = "demo-secret"
  COBUILDER_SECRET = "cobuilder-secret"

  # A fresh cache entry per call: the cache key includes the token URL.
  def unique
    "t=#{SecureRandom.hex(6)}"
  end

  def auth0_url(query = nil, base: TestServer.base)
    "#{base}/oauth/token?#{[query, unique].compact.join('&')}"
  end

  def cobuilder_url(query = nil)
    "#{TestServer.base}/authentication/api/v1/oauth2/token?#{[query, unique].compact.join('&')}"
  end

  def auth0_config(**overrides)
    { "client_id" => "demo-client", "client_secret" => SECRET,
      "audience" => "https://beeapp.open-cosmos.com", "grant_type" => "client_credentials",
      "token_url" => auth0_url }.merge(overrides.transform_keys(&:to_s))
  end

  def cobuilder_config(**overrides)
    { "clientId" => "cobuilder-client", "clientSecret" => COBUILDER_SECRET,
      "audienceUrl" => "https://api.cobuilder.com",
      "token_url" => cobuilder_url }.merge(overrides.transform_keys(&:to_s))
  end

  # Runs the block and returns [its value, token requests it caused per endpoint].
  def counting
    before = TestServer.stats
    value = yield
    after = TestServer.stats
    [value, after.to_h { |k, v| [k, v - before.fetch(k, 0)] }]
  end

  def jwt?(token)
    token.is_a?(String) && token.count(".") == 2 && token.start_with?("eyJ")
  end

  # Runs Ruby code in a child process with lib/ on the load path, with
  # stdin_data on its standard input.
  def ruby_subprocess(code, env: {}, chdir: Dir.pwd, stdin_data: "")
    require "open3"
    lib = File.expand_path("../lib", __dir__)
    Open3.capture3(env, RbConfig.ruby, "-I", lib, "-e", code, chdir: chdir, stdin_data: stdin_data)
  end
end
