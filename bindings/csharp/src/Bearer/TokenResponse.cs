using System;
using System.Collections.Generic;

namespace Bearer
{
    /// <summary>
    /// The token response JSON of <c>bearer_client_token_response</c> /
    /// <c>bearer_fetch_token_response</c>, with its members typed. <see cref="ToString"/>
    /// shows the token's length only, so that logging a response does not leak it.
    /// </summary>
    public sealed class TokenResponse
    {
        /// <summary>The access token.</summary>
        public string AccessToken { get; private set; }
        /// <summary>Usually "Bearer".</summary>
        public string TokenType { get; private set; }
        /// <summary>Seconds the token has left, counted when this response was made.</summary>
        public long ExpiresIn { get; private set; }
        /// <summary>When the token expires.</summary>
        public DateTimeOffset ExpiresAt { get; private set; }
        /// <summary>The granted scope, or null when the server gave none.</summary>
        public string Scope { get; private set; }
        /// <summary>The refresh token (a sign-in with <c>offline_access</c>, or the current one of a
        /// refreshing client, which follows rotation), or null.</summary>
        public string RefreshToken { get; private set; }
        /// <summary>The OpenID ID token of a sign-in with the <c>openid</c> scope, or null.</summary>
        public string IdToken { get; private set; }
        /// <summary>The JSON exactly as the library wrote it.</summary>
        public string Json { get; private set; }

        internal static TokenResponse Parse(string json)
        {
            Dictionary<string, object> obj = Bearer.Json.ParseObject(json);
            var r = new TokenResponse { Json = json };
            r.AccessToken = Str(obj, "access_token");
            r.TokenType = Str(obj, "token_type");
            r.ExpiresIn = Num(obj, "expires_in");
            r.ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(Num(obj, "expires_at"));
            r.Scope = Str(obj, "scope");
            r.RefreshToken = Str(obj, "refresh_token");
            r.IdToken = Str(obj, "id_token");
            return r;
        }

        static string Str(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) ? value as string : null;
        }

        static long Num(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) && value is long ? (long)value : 0;
        }

        /// <summary>A summary without the token itself.</summary>
        public override string ToString()
        {
            return "TokenResponse(token_type=" + TokenType + ", expires_in=" + ExpiresIn
                + ", expires_at=" + ExpiresAt.ToUnixTimeSeconds()
                + (Scope != null ? ", scope=" + Scope : "")
                + ", access_token=[" + (AccessToken == null ? 0 : AccessToken.Length) + " chars]"
                + (RefreshToken != null ? ", refresh_token=[REDACTED]" : "")
                + (IdToken != null ? ", id_token=[REDACTED]" : "") + ")";
        }
    }
}
