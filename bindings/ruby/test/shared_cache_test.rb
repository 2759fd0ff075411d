# frozen_string_literal: true

require "setup"
require "tmpdir"
require "socket"

# The host tier: processes with the same credentials share one token through
# sealed files in a cache folder, so the server is asked once. Each process
# here is a fresh interpreter (the memory cache is per process), run one
# after the other.
class SharedCacheTest < Minitest::Test
  CHILD = <<~RUBY
    require "bearer"
    Bearer::Client.open($stdin.read) { |client| $stdout.write(client.token) }
  RUBY

  # A new Ruby process that makes a client from config and prints its token;
  # BEARER_CACHE is the given value, or unset; XDG_CACHE_HOME is the given
  # folder, or the caller's.
  def child_token(config, bearer_cache: nil, xdg_cache_home: nil)
    env = { "BEARER_CACHE" => bearer_cache }
    env["XDG_CACHE_HOME"] = xdg_cache_home if xdg_cache_home
    out, err, status = ruby_subprocess(CHILD, env: env, stdin_data: JSON.generate(config))
    assert status.success?, err
    assert jwt?(out), "the child printed no token"
    out
  end

  def assert_two_processes_share(config, **env)
    (first, second), delta = counting { [child_token(config, **env), child_token(config, **env)] }
    assert first == second, "the second process got a token of its own"
    assert_equal 1, delta["auth0"]
  end

  def test_two_processes_share_one_token_through_the_cache_folder
    Dir.mktmpdir("bearer-cache-") do |dir|
      folder = File.join(dir, "tokens")
      assert_two_processes_share(auth0_config(cache: "file:#{folder}"))
      assert_equal 0o700, File.stat(folder).mode & 0o777
    end
  end

  def test_bearer_cache_turns_sharing_on_without_touching_the_config
    config = auth0_config
    refute config.key?("cache")
    Dir.mktmpdir("bearer-cache-") do |dir|
      folder = File.join(dir, "tokens")
      assert_two_processes_share(config, bearer_cache: "file:#{folder}")
      refute_empty Dir.children(folder)
    end
  end

  # A real redis-server of the test's own on a free loopback port; yields
  # its URL and stops it by its PID when the block ends, passed or failed.
  def with_redis
    probe = TCPServer.new("127.0.0.1", 0)
    port = probe.addr[1]
    probe.close
    pid = Process.spawn("/usr/bin/redis-server", "--port", port.to_s, "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no",
                        in: File::NULL, out: File::NULL, err: File::NULL)
    begin
      wait_for_redis(port, pid)
      yield "redis://127.0.0.1:#{port}/0"
    ensure
      stop_redis(pid)
    end
  end

  def wait_for_redis(port, pid)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
      begin
        Socket.tcp("127.0.0.1", port, connect_timeout: 1) do |sock|
          sock.write("PING\r\n")
          return if sock.wait_readable(2) && sock.readpartial(64).start_with?("+PONG")
        end
      rescue SystemCallError, EOFError
        nil
      end
      flunk "redis-server exited early" if Process.waitpid(pid, Process::WNOHANG)
      sleep 0.05
    end
    flunk "redis-server did not answer PING within 10 s"
  end

  def stop_redis(pid)
    Process.kill("TERM", pid)
    Process.wait(pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  def test_two_processes_share_one_token_through_redis
    with_redis do |url|
      config = auth0_config(cache: url)
      Dir.mktmpdir("bearer-host-a-") do |host_a|
        Dir.mktmpdir("bearer-host-b-") do |host_b|
          # Each child a host of its own: no shared files, only Redis.
          (first, second), delta = counting do
            [child_token(config, xdg_cache_home: host_a), child_token(config, xdg_cache_home: host_b)]
          end
          assert first == second, "the second process got a token of its own"
          assert_equal 1, delta["auth0"]
        end
      end
    end
  end
end
