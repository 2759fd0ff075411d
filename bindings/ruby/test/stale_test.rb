# frozen_string_literal: true

require "setup"

# Serve-stale: a failed refresh of a still-valid token returns that token,
# and its problem waits in take_refresh_problem, once.
class StaleTest < Minitest::Test
  # A 4 s token is due for refresh 3.4-3.6 s after issue and served until
  # 3.92 s; 3.65 s is between the two.
  DUE = 3.65

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def sleep_until(moment)
    left = moment - now
    sleep(left) if left.positive?
  end

  def test_a_failed_refresh_serves_the_cached_token_and_reports_once
    own = LocalServer.new
    client = Bearer::Client.new(auth0_config(token_url: auth0_url("expires_in=4", base: own.base)))
    begin
      token = client.token
      issued = now
      expires_at = client.token_response.expires_at
      own.stop # the refresh that is due next cannot succeed
      sleep_until(issued + DUE)
      assert_equal token, client.token
      problem = client.take_refresh_problem
      assert_kind_of Bearer::ProblemError, problem
      assert_equal "urn:bearer:problem:unreachable", problem.type
      assert_equal :unavailable, problem.code_name
      assert_equal expires_at, problem.extensions["serving_cached_token_until"]
      assert_equal "#{problem.title}: #{problem.detail}", problem.message
      assert_nil client.take_refresh_problem

      sleep_until(issued + 4.1)
      expired = assert_raises(Bearer::ProblemError) { client.token }
      assert_equal "urn:bearer:problem:unreachable", expired.type
      assert_equal :unavailable, expired.code_name
    ensure
      client.close
      own.stop
    end
  end

  def test_a_healthy_client_has_no_refresh_problem
    client = Bearer::Client.new(auth0_config)
    assert jwt?(client.token)
    assert_nil client.take_refresh_problem
    client.close
    assert_raises(Bearer::ClosedError) { client.take_refresh_problem }
  end
end
