# frozen_string_literal: true

module Bearer
  # A token response, shaped like OAuth2::AccessToken from the oauth2 gem:
  # #token, #token_type, #expires_in, #expires_at (unix seconds), #scope,
  # #refresh_token and #id_token (after a user's sign-in), and #params for
  # any other member.
  class AccessToken
    NAMED = %w[access_token token_type expires_in expires_at scope refresh_token id_token].freeze
    private_constant :NAMED

    attr_reader :token, :token_type, :expires_in, :expires_at, :scope, :refresh_token, :id_token, :params

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
      @refresh_token = hash["refresh_token"]
      @id_token = hash["id_token"]
      @params = hash.reject { |key, _| NAMED.include?(key) }.freeze
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

    # Shows the tokens' lengths only, so that logging the object does not log
    # a credential.
    def inspect
      "#<#{self.class.name} token=[#{@token.to_s.bytesize} bytes] token_type=#{@token_type.inspect} " \
        "expires_in=#{@expires_in.inspect} expires_at=#{@expires_at.inspect}" \
        "#{@refresh_token && " refresh_token=[#{@refresh_token.bytesize} bytes]"}" \
        "#{@id_token && " id_token=[#{@id_token.bytesize} bytes]"}>"
    end
  end
end
