# frozen_string_literal: true

require "setup"

class ConcurrencyTest < Minitest::Test
  THREADS = 12

  def test_threads_share_one_client_and_one_request
    client = Bearer::Client.new(auth0_config(token_url: auth0_url("fault=stall&stall_ms=300")))
    start = Queue.new
    tokens, delta = counting do
      threads = Array.new(THREADS) do |i|
        Thread.new do
          start.pop
          case i % 3
          when 0 then client.token
          when 1 then client.authorization_header.delete_prefix("Bearer ")
          else client.token_response.token
          end
        end
      end
      THREADS.times { start << :go }
      threads.map(&:value)
    end
    assert_equal THREADS, tokens.size
    assert_equal 1, tokens.uniq.size
    assert jwt?(tokens.first)
    assert_equal({ "auth0" => 1, "cobuilder" => 0 }, delta.slice("auth0", "cobuilder"))
  ensure
    client&.close
  end

  def test_one_shot_from_threads_is_single_flight
    config = cobuilder_config(token_url: cobuilder_url("fault=stall&stall_ms=300"))
    tokens, delta = counting { Array.new(8) { Thread.new { Bearer.fetch_token(config) } }.map(&:value) }
    assert_equal 1, tokens.uniq.size
    assert_equal 1, delta["cobuilder"]
  end

  def test_threads_share_a_failure
    client = Bearer::Client.new(auth0_config(client_secret: "wrong", token_url: auth0_url("fault=stall&stall_ms=300")))
    errors = Array.new(8) do
      Thread.new do
        client.token
      rescue Bearer::ProblemError => e
        e
      end
    end.map(&:value)
    assert(errors.all? { |e| e.is_a?(Bearer::ProblemError) && e.status == 401 })
  ensure
    client&.close
  end

  # blocking: true releases the GVL: while one thread waits 500 ms on the
  # server, this thread keeps running Ruby code without a long pause.
  def test_calls_release_the_gvl
    client = Bearer::Client.new(auth0_config(token_url: auth0_url("fault=stall&stall_ms=500")))
    started = Time.now
    caller_thread = Thread.new do
      t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      client.token
      Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    end
    sleep 0.05 # lets the caller thread start its call
    counter = 0
    longest_pause = 0.0
    last = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    while caller_thread.alive?
      counter += 1
      now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      longest_pause = now - last if now - last > longest_pause
      last = now
      break if Time.now - started > 5
    end
    call_seconds = caller_thread.value
    puts format("\n  GVL: call took %.0f ms; meanwhile this thread counted to %d, longest pause %.1f ms",
                call_seconds * 1000, counter, longest_pause * 1000)
    assert_operator call_seconds, :>=, 0.45
    assert_operator counter, :>, 10_000
    assert_operator longest_pause, :<, 0.25
  ensure
    client&.close
  end
end
