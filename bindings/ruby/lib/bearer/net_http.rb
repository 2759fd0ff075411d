# frozen_string_literal: true

require "net/http"
require_relative "../bearer"
require_relative "refusal"

module Bearer
  # Net::HTTP with the client's token: extend a connection with a module
  # that overrides #request (so #get, #post and friends go through it too).
  #
  #   Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https") do |http|
  #     http.extend(Bearer::NetHTTP.for(client))
  #     http.request(request)
  #   end
  #
  # Sets Authorization (overwriting any) on every attempt. On a refusal (401
  # invalid_token, or a bare 401) it reports the token
  # (Client#token_refused) and sends the request once more with the new
  # token when the body can be sent again (#body a String or nil, or a
  # #body_stream that rewinds); with retry_on_refusal: false it only
  # reports. Everything else passes through. A Net::HTTP object talks to one
  # origin and follows no redirect, so the token goes nowhere else.
  module NetHTTP
    HEADER = "Authorization"

    # A module to extend one Net::HTTP object with.
    def self.for(client, retry_on_refusal: true)
      raise TypeError, "client must be a Bearer::Client, not #{client.class}" unless client.respond_to?(:token_refused)

      Module.new do
        define_method(:request) do |req, body = nil, &block|
          # Net::HTTP#request starts the connection and calls #request again.
          return super(req, body, &block) unless started?

          token = client.token
          req[HEADER] = "Bearer #{token}"
          fresh = nil
          response = super(req, body) do |res|
            fresh = Refusal.retry_token(client, token, res.code, res["WWW-Authenticate"],
                                        retry_on_refusal: retry_on_refusal,
                                        replay: -> { Refusal.replayable?(req.body_stream || req.body) })
            block&.call(res) unless fresh
          end
          return response unless fresh

          req[HEADER] = "Bearer #{fresh}"
          super(req, nil, &block)
        end
      end
    end
  end
end
