using System;
using System.Collections.Generic;

namespace Bearer
{
    /// <summary>
    /// A sign-in in progress, from <see cref="BearerClient.AuthorizeStart(string)"/>: send the
    /// browser to <see cref="Url"/>, keep the request until the browser comes back to
    /// <see cref="RedirectUri"/>, then pass it to <c>BearerClient.AuthorizeComplete</c>.
    /// <para>
    /// It is secret (the state, the PKCE verifier and the nonce prove that the callback
    /// answers this request), so keep it server side or in the user's session, e.g. as
    /// <see cref="ToJson"/>, and restore it with <see cref="FromJson"/>. <see cref="ToString"/>
    /// shows only the response type and the redirect URI.
    /// </para>
    /// </summary>
    public sealed class AuthorizationRequest
    {
        readonly string json;

        /// <summary>The authorize URL to open in the user's browser.</summary>
        public string Url { get; private set; }
        /// <summary>"code" (authorization code with PKCE) or "token" (implicit).</summary>
        public string ResponseType { get; private set; }
        /// <summary>Where the browser will come back.</summary>
        public string RedirectUri { get; private set; }
        /// <summary>The random state the callback must carry back (secret).</summary>
        public string State { get; private set; }
        /// <summary>The PKCE verifier (secret), or null in the implicit flow.</summary>
        public string CodeVerifier { get; private set; }
        /// <summary>The OpenID nonce the ID token must carry (secret), or null.</summary>
        public string Nonce { get; private set; }

        AuthorizationRequest(string json, Dictionary<string, object> obj)
        {
            this.json = json;
            Url = Str(obj, "url");
            ResponseType = Str(obj, "response_type");
            RedirectUri = Str(obj, "redirect_uri");
            State = Str(obj, "state");
            CodeVerifier = Str(obj, "code_verifier");
            Nonce = Str(obj, "nonce");
        }

        /// <summary>The request as the library wrote it (or as given to <see cref="FromJson"/>), unchanged:
        /// what to store, and what <c>AuthorizeComplete</c> passes back to the library.</summary>
        public string ToJson()
        {
            return json;
        }

        /// <summary>Restores a request kept as <see cref="ToJson"/>. Only the JSON shape is checked
        /// here; the library checks the members when the sign-in completes.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="json"/> is not a JSON object.</exception>
        public static AuthorizationRequest FromJson(string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            Dictionary<string, object> obj;
            try
            {
                obj = Json.ParseObject(json);
            }
            catch (FormatException e)
            {
                throw new ArgumentException("An authorization request is a JSON object: " + e.Message, "json", e);
            }
            return new AuthorizationRequest(json, obj);
        }

        internal static AuthorizationRequest Parse(string json)
        {
            return new AuthorizationRequest(json, Json.ParseObject(json));
        }

        static string Str(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) ? value as string : null;
        }

        /// <summary>A summary without the secrets (the URL is left out too: it carries the state and nonce).</summary>
        public override string ToString()
        {
            return "AuthorizationRequest(response_type=" + ResponseType + ", redirect_uri=" + RedirectUri
                + ", state, code_verifier, nonce: [REDACTED])";
        }
    }
}
