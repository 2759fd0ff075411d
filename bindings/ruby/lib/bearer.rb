# frozen_string_literal: true

require_relative "bearer/version"
require_relative "bearer/error"
require_relative "bearer/native"
require_relative "bearer/config"
require_relative "bearer/access_token"
require_relative "bearer/native_handle"
require_relative "bearer/client"
require_relative "bearer/authorization_request"
require_relative "bearer/loopback_login"
require_relative "bearer/device_login"

# OAuth 2.0 access tokens behind one cached call, over the bearer C library.
#
#   client = Bearer::Client.new(File.read("cobuilder_credentials.json"))
#   request["Authorization"] = client.authorization_header
#
# A user signs in with Bearer.authorize_start / Bearer.authorize_complete
# (web apps), Bearer::LoopbackLogin (native apps, scripts) or
# Bearer::DeviceLogin (devices without a browser, terminals).
#
# Failures raise Bearer::ProblemError carrying the library's RFC 9457 problem.
module Bearer
  module_function

  # A token for +config+ (Hash or JSON String) without keeping a client.
  # Tokens are still cached process-wide, keyed by the whole configuration,
  # so a script that calls this on every run of a loop makes one request.
  def fetch_token(config)
    Native.call_out(:bearer_fetch_token, Config.to_json_bytes(config))
  end

  # Like fetch_token, but the whole response as a Bearer::AccessToken.
  def fetch_token_response(config)
    AccessToken.from_json(Native.call_out(:bearer_fetch_token_response, Config.to_json_bytes(config)))
  end

  # Client#token_refused for the one-shot calls: an API refused +token+,
  # which fetch_token gave for +config+. The process-wide cache drops it only
  # if it is still current, at most once every two seconds. Returns whether
  # it was dropped.
  def token_refused(config, token)
    Native.call_refused(:bearer_token_refused, Config.to_json_bytes(config), Config.to_text_bytes(token, "token"))
  end

  # Starts a user's sign-in for +config+ (grant_type "authorization_code",
  # with PKCE, or "implicit"; a redirect_uri; an authorize_url or issuer).
  # Returns a Bearer::AuthorizationRequest: redirect the browser to its #url
  # and keep it (it is secret) until the browser comes back.
  def authorize_start(config)
    AuthorizationRequest.from_json(Native.call_out(:bearer_authorize_start, Config.to_json_bytes(config)))
  end

  # Finishes the sign-in from the URL the browser was redirected to:
  # +request+ is the Bearer::AuthorizationRequest, or its JSON (String or
  # Hash). Returns the Bearer::AccessToken (with #refresh_token and #id_token
  # when the server sent them). Raises ProblemError: invalid-callback (code
  # 1) for a wrong or missing state, authorization-denied (code 3) when the
  # user declined, invalid-grant (code 3) for a used code or wrong verifier.
  def authorize_complete(config, request, redirect_url)
    request = request.to_json if request.is_a?(AuthorizationRequest)
    AccessToken.from_json(Native.call_out(:bearer_authorize_complete, Config.to_json_bytes(config),
                                          Config.to_json_bytes(request, "request"),
                                          Config.to_text_bytes(redirect_url, "redirect_url")))
  end

  # The native library's version, e.g. "0.1.0".
  def version
    Native.bearer_version.dup.force_encoding(Encoding::UTF_8)
  end

  # Empties the process-wide one-shot cache and closes pooled connections.
  # Optional; clients keep working.
  def global_cleanup
    Native.bearer_global_cleanup
    nil
  end
end
