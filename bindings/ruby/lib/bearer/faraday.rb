# frozen_string_literal: true

require "faraday"
require_relative "../bearer"
require_relative "refusal"

module Bearer
  # Faraday request middleware: loaded by `require "bearer/faraday"` only, so
  # `require "bearer"` never needs the faraday gem.
  #
  #   conn = Faraday.new(url: "https://api.example.com") do |f|
  #     f.request :bearer, client                   # a Bearer::Client
  #   end
  #   conn.get("/things")
  module Faraday
    # Sets Authorization (overwriting any) from the client's cached token on
    # every attempt. On a refusal (401 invalid_token, or a bare 401) it
    # reports the token (Client#token_refused) and sends the request once
    # more with the new token when the body can be sent again (none, a
    # String, or a stream that rewinds); with retry_on_refusal: false it
    # only reports. Everything else passes through, and so does a 401 from
    # another origin than the request's. Place it before response
    # middleware such as raise_error (whose 401 it also handles) and
    # faraday_middleware's follow_redirects, which then drops the header on
    # a redirect to another origin.
    class Middleware < ::Faraday::Middleware
      HEADER = "Authorization"
      ORIGIN = :bearer_origin

      def initialize(app, client, retry_on_refusal: true)
        super(app)
        @client = client
        @retry_on_refusal = retry_on_refusal
      end

      def call(env)
        # The origin the request started at. A redirect follower placed in
        # front of this middleware passes each hop through it with the same
        # env: a hop to another origin goes without the token.
        env[ORIGIN] ||= origin(env.url)
        unless env[ORIGIN] == origin(env.url)
          env.request_headers.delete(HEADER)
          return @app.call(env)
        end

        body = env.request_body # the adapter writes the response into env
        token = @client.token
        env.request_headers[HEADER] = "Bearer #{token}"
        begin
          response = @app.call(env)
          # A 401 from elsewhere (after a redirect, which went without the
          # token) says nothing about the token.
          return response unless origin(response.env.url) == env[ORIGIN]

          status = response.status
          challenge = response.headers["WWW-Authenticate"]
        rescue ::Faraday::UnauthorizedError => e
          raised = e
          status = 401
          challenge = e.response.is_a?(Hash) && e.response[:headers] ? e.response[:headers]["WWW-Authenticate"] : nil
        end
        fresh = Refusal.retry_token(@client, token, status, challenge,
                                    retry_on_refusal: @retry_on_refusal,
                                    replay: -> { Refusal.replayable?(body) })
        unless fresh
          raise raised if raised

          return response
        end

        @app.call(retry_env(env, body, fresh))
      end

      private

      def origin(url)
        url && [url.scheme&.downcase, url.host&.downcase, url.port]
      end

      # The request again, in an env of its own: the answer cleared, the
      # original body, the new token.
      def retry_env(env, body, token)
        env.dup.tap do |again|
          again.status = again.response = again.response_headers = again.response_body = again.reason_phrase = nil
          again.request_body = body
          again.request_headers = env.request_headers.dup
          again.request_headers[HEADER] = "Bearer #{token}"
        end
      end
    end
  end
end

::Faraday::Request.register_middleware(bearer: -> { Bearer::Faraday::Middleware })
