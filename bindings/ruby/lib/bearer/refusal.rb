# frozen_string_literal: true

require "strscan"

module Bearer
  # What Bearer::Faraday and Bearer::NetHTTP do with a response, written once:
  # is it a refusal of the token the request carried, and if so, which token
  # to send the request again with (once), if any.
  module Refusal
    module_function

    # True for a 401 that refuses the token: a Bearer challenge with
    # error="invalid_token", a Bearer challenge without an error, or no
    # WWW-Authenticate at all. A 401 naming another error (invalid_request),
    # or challenging only another scheme (Basic), is not a refusal; nor is
    # any other status (403 insufficient_scope included).
    def refused?(status, www_authenticate)
      return false unless status.to_i == 401
      return true if www_authenticate.nil? || www_authenticate.strip.empty?

      found, error = bearer_challenge(www_authenticate)
      found && (error.nil? || error == "invalid_token")
    end

    # After a response to a request that carried +token+: reports a refusal
    # to +client+ (Client#token_refused) and returns the token to send the
    # request again with, or nil to hand the response back. nil when it is
    # no refusal, when +retry_on_refusal+ is false, when +replay+ (called
    # only then; it rewinds a stream) says the body cannot be sent again, or
    # when the client's token is still the refused one (the two-second
    # window kept it). Raises ProblemError when no token can be had.
    def retry_token(client, token, status, www_authenticate, retry_on_refusal:, replay:)
      return nil unless refused?(status, www_authenticate)

      client.token_refused(token)
      return nil unless retry_on_refusal && replay.call

      fresh = client.token
      fresh == token ? nil : fresh
    end

    # Whether a request body can be sent a second time: none, a String, or a
    # stream that rewinds (a pipe or socket does not).
    def replayable?(body)
      return true if body.nil? || body.is_a?(String)
      return false unless body.respond_to?(:rewind)

      body.rewind
      true
    rescue IOError, SystemCallError
      false
    end

    TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.freeze
    private_constant :TOKEN

    # [whether a Bearer challenge is present, its error param or nil], from
    # a WWW-Authenticate value (several challenges may be joined by commas).
    def bearer_challenge(header)
      scanner = StringScanner.new(header)
      scheme = nil
      found = false
      error = nil
      until scanner.eos?
        scanner.skip(/[\s,]+/)
        break if scanner.eos?

        if scanner.scan(/(#{TOKEN})\s*=\s*/o)
          name = scanner[1].downcase
          value = scanner.scan(/"((?:[^"\\]|\\.)*)"/) ? scanner[1].gsub(/\\(.)/, '\1') : scanner.scan(/[^,\s]*/)
          error = value if scheme == "bearer" && name == "error"
        elsif scanner.scan(TOKEN)
          scheme = scanner.matched.downcase
          found ||= scheme == "bearer"
        else
          scanner.getch
        end
      end
      [found, error]
    end
  end
end
