# frozen_string_literal: true

require "json"

module Bearer
  # A sign-in in progress (authorization code with PKCE, or implicit), from
  # Bearer.authorize_start: send the browser to #url, keep the request (its
  # #to_json, e.g. in the user's server-side session) and hand it to
  # Bearer.authorize_complete when the browser comes back.
  #
  # #state, #code_verifier and #nonce are secrets: anyone holding them can
  # finish the sign-in. #inspect therefore shows only #response_type and
  # #redirect_uri (not even #url, whose query carries the state).
  class AuthorizationRequest
    # The members of the library's request JSON, in its order.
    MEMBERS = %w[url response_type redirect_uri state code_verifier nonce].freeze

    # +url+: where to send the browser; +response_type+: "code" or "token";
    # +code_verifier+ (PKCE) and +nonce+ (OpenID) are nil when not used.
    attr_reader(*MEMBERS.map(&:to_sym))

    # Restores a request from its #to_json. Raises ArgumentError when +json+
    # is not a JSON object; the message never repeats the text, which holds
    # secrets. Whether the members make sense is checked by
    # Bearer.authorize_complete (the library's invalid-argument problem).
    def self.from_json(json)
      raise TypeError, "json must be a String, not #{json.nil? ? 'nil' : json.class}" unless json.is_a?(String)

      hash = begin
        JSON.parse(json)
      rescue JSON::ParserError
        raise ArgumentError, "not an authorization request: malformed JSON"
      end
      raise ArgumentError, "not an authorization request: not a JSON object" unless hash.is_a?(Hash)

      new(json, hash)
    end

    # Use Bearer.authorize_start or AuthorizationRequest.from_json.
    def initialize(json, hash)
      @json = json.dup.force_encoding(Encoding::UTF_8).freeze
      @hash = hash.freeze
      MEMBERS.each { |name| instance_variable_set(:"@#{name}", hash[name]) }
    end
    private_class_method :new

    # The request as the library wrote it, for storage; from_json reads it
    # back. Also what JSON.generate writes for it inside another document.
    def to_json(*)
      @json
    end

    # The members, string keys.
    def to_h
      @hash.dup
    end

    def ==(other)
      other.is_a?(AuthorizationRequest) && other.to_h == @hash
    end
    alias eql? ==

    def hash
      @hash.hash
    end

    # No secret: only the response type and where the browser comes back.
    def inspect
      "#<#{self.class.name} response_type=#{@response_type.inspect} redirect_uri=#{@redirect_uri.inspect}>"
    end
    alias to_s inspect
  end
end
