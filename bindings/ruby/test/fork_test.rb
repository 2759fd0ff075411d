# frozen_string_literal: true

require "setup"
require "base64"

# After Process.fork, a child uses none of its parent's pooled connections:
# the shape of Puma, Unicorn and Resque. Every token a process gets is for
# the client it asked as, while parent and children fetch at once.
class ForkTest < Minitest::Test
  ROUNDS = 3
  CHILDREN = 4
  CALLS = 20
  SECOND = { client_id: "m2m-second", client_secret: "m2m-second-secret" }.freeze

  # Whose token it is: the local server's client tokens say "<id>@clients".
  def holder(token)
    payload = token.split(".")[1]
    JSON.parse(Base64.urlsafe_decode64(payload + ("=" * (-payload.size % 4))))["sub"].delete_suffix("@clients")
  end

  # CALLS fresh clients, alternating between two credentials: how many calls
  # failed or got another client's token.
  def wrong_tokens(offset)
    Array.new(CALLS) do |call|
      config = (call + offset).odd? ? auth0_config(**SECOND) : auth0_config
      client = Bearer::Client.new(config)
      holder(client.token) == config["client_id"] ? 0 : 1
    rescue Bearer::ProblemError
      1
    ensure
      client&.close
    end.sum
  end

  def test_parent_and_forked_children_each_get_their_own_clients_tokens
    ROUNDS.times do |round|
      # One kept-alive connection in the shared pool, as the fork finds it.
      pooled = Bearer::Client.new(auth0_config)
      parents_token = pooled.token
      children = Array.new(CHILDREN) do |child|
        Process.fork do
          # The cached token stays valid in the child; exit! skips the
          # parent's at_exit hooks (minitest's, the server's).
          code = pooled.token == parents_token ? 0 : 100
          exit!([code + wrong_tokens(child), 255].min)
        rescue StandardError
          exit!(99)
        end
      end
      parent_wrong = wrong_tokens(1)
      codes = children.map { |pid| Process.wait2(pid)[1].exitstatus }
      assert_equal [0] * CHILDREN, codes, "round #{round}: children saw failures or others' tokens (100+: the cached token was lost)"
      assert_equal 0, parent_wrong, "round #{round}: the parent got another client's token"
      pooled.close
    end
  end

  def test_one_shot_calls_in_a_forked_child_fetch_on_connections_of_their_own
    config = auth0_config(token_url: auth0_url("opaque=1"))
    Bearer.fetch_token(config) # a pooled connection, and a one-shot client for config
    _, delta = counting do
      pid = Process.fork do
        exit!(Array.new(3) { Bearer.fetch_token(config) }.all? { |t| t.size > 10 } ? 0 : 1)
      rescue StandardError
        exit!(99)
      end
      assert_equal 0, Process.wait2(pid)[1].exitstatus
    end
    # Opaque tokens are not cached: three fetches on one new connection (the
    # other new one is the second look at the counters).
    assert_equal 3, delta["auth0"]
    assert_equal 2, delta["connections"]
  end
end
