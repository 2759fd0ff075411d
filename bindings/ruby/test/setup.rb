# frozen_string_literal: true

# Shared setup: loads the gem from lib/, starts one local authorization server
# (target/release/bearer serve --port 0) for the whole run and stops it after.

require "minitest/autorun"
require "json"
require "net/http"
require "securerandom"
require "rbconfig"
require "bearer"

require_relative "test_server"

TestServer.start
Minitest.after_run { TestServer.stop }

Minitest::Test.include(BearerTestSupport)
