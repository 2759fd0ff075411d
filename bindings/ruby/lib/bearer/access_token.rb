# frozen_string_literal: true

module Bearer
  # A token response, shaped like OAuth2::AccessToken from the oauth2 gem:
  # #token, #token_type, #expires_in, #expires_at (unix seconds), #scope, and
  # #params for any other member (refresh_token, id_token, ...).
  class AccessToken
    attr_reader :token, :token_type, :expires_in, :expires_at, :scope, :params

    # Builds it from the library's token response JSON.
    def self.from_json(json)
      new(JSON.parse(json))
    end

    def initialize(hash)
      @hash = hash.freeze
      @token = hash["access_token"]
      @token_type = hash["token_type"]
      @expires_in = hash["expires_in"]
      @expires_at = hash["expires_at"]
      @scope = hash["scope"]
      @params = hash.reject { |key, _| %w[access_token token_type expires_in expires_at scope].include?(key) }.freeze
    end

    # A member by name ("access_token", :expires_in, ...).
    def [](key)
      @hash[key.to_s]
    end

    # Whether the token carries an expiry at all.
    def expires?
      !@expires_at.nil?
    end

    # Whether it has expired by the wall clock (the library's cache uses a
    # monotonic clock and renews early; this is for callers who keep a copy).
    def expired?
      expires? && @expires_at <= Time.now.to_i
    end

    # The value for an Authorization header: "Bearer eyJ...".
    def authorization_header
      "#{@token_type || 'Bearer'} #{@token}"
    end

    # The response as the library wrote it, string keys.
    def to_h
      @hash.dup
    end

    # Shows the token's length only, so that logging the object does not log
    # a credential.
    def inspect
      "#<#{self.class.name} token=[#{@token.to_s.bytesize} bytes] token_type=#{@token_type.inspect} " \
        "expires_in=#{@expires_in.inspect} expires_at=#{@expires_at.inspect}>"
    end
  end
end
