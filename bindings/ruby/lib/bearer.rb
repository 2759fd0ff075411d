# frozen_string_literal: true

require_relative "bearer/version"
require_relative "bearer/error"
require_relative "bearer/native"
require_relative "bearer/config"
require_relative "bearer/access_token"
require_relative "bearer/client"

# OAuth 2.0 access tokens behind one cached call, over the bearer C library.
#
#   client = Bearer::Client.new(File.read("cobuilder_credentials.json"))
#   request["Authorization"] = client.authorization_header
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
