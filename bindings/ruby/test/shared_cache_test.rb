# frozen_string_literal: true

require "setup"
require "tmpdir"

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
  # BEARER_CACHE is the given value, or unset.
  def child_token(config, bearer_cache: nil)
    out, err, status = ruby_subprocess(CHILD, env: { "BEARER_CACHE" => bearer_cache },
                                              stdin_data: JSON.generate(config))
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
end
